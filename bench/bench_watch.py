"""Speed of the release watch on a large catalog: 1,000,000 products, 200 expected observations.

    python bench/bench_watch.py                       # 1,000,000 products, 5 repeats (~2 min)
    python bench/bench_watch.py --products 100000 --repeat 3 --out /tmp/quick.md

A script, not a test. The catalog is generated directly in SQLite (INSERT ... SELECT over a
recursive counter, so a million rows take seconds, not a harvest), through the project's own
migrations, with the shapes of real products: about 80 (archive, mission, instrument) groups
named as the sources name them (MAST, PDS, PSA, MPC stations, CNSA, ESO, IRSA, HEASARC, CADC),
observation times over 2025-05..2026-11, release latencies per archive, 12% exclusive, and a
daily run per source. The campaign is the packaged one (49 entries) plus synthetic entries on
random groups and windows up to 200.

Measured, each the median of K runs (all runs listed), with the clock at 2026-11-21:
  - the after-harvest hook (what every `harvester run` adds): load campaign + policies, replace
    `expected`, match, statuses, silence, store, events, in one transaction; in-process;
  - the read-only `gaps` evaluation with latency statistics, in-process;
  - `harvester gaps --format json` as a subprocess (interpreter start included), beside
    `python -c 'import harvester.cli.main'`;
  - what the watch's two indexes on products cost a backfill: pages of new products stored with
    catalog.store.commit_page into an empty catalog, with and without them.
The issue names no peer for the watch, so none is measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from results import write_section  # noqa: E402  (bench/ is a folder of scripts)

CLOCK = "2026-11-21T00:00:00Z"
TARGET_S = 2.0
START_JD, SPAN_DAYS = 2460796.5, 535.0  # observations start 2025-05-01 .. 2026-10-18
FIRST_HARVEST = "2025-07-02T00:00:00.000Z"

# (archive, mission, instruments, relative weight, max duration days, latency scale days, states a release date)
GROUPS = [
    ("mast", "HST", ["WFC3/UVIS", "WFC3/IR", "STIS", "ACS/WFC"], 8, 0.1, 3, True),
    ("mast", "JWST", ["NIRSPEC/IFU", "NIRCAM", "MIRI/IFU", "NIRISS"], 6, 0.3, 60, True),
    ("mast", "TESS", ["Photometer"], 3, 27.0, 10, True),
    ("mast", "SWIFT", ["UVOT", "XRT"], 3, 0.8, 7, True),
    ("pds", "MRO", ["HIRISE", "CTX", "CRISM"], 5, 0.01, 130, False),
    ("pds", "MAVEN", ["IUVS", "NGIMS"], 3, 0.05, 120, False),
    ("pds", "MARS2020", ["MASTCAMZ", "NAVCAM_RIGHT", "NAVCAM_LEFT", "SUPERCAM"], 4, 0.01, 200, False),
    ("pds", "PSYCHE", ["MI"], 1, 0.01, 210, False),
    ("pds", "LUCY", ["LLORRI", "LEISA"], 1, 0.01, 280, False),
    ("pds", "CLIPPER", ["UVS", "EIS"], 1, 0.2, 400, False),
    ("psa", "TGO", ["CASSIS", "NOMAD", "ACS"], 4, 0.01, 180, True),
    ("psa", "MEX", ["HRSC", "OMEGA", "SPICAM"], 3, 0.02, 250, True),
    ("psa", "JUICE", ["JANUS", "NAVCAM", "MAJIS", "UVS", "SWI"], 3, 0.05, 190, True),
    ("mpc", "MPC", ["W68", "M22", "T05", "T08", "I41", "X05", "F51", "G96", "703", "568", "309",
                    "Z84", "J04", "K91", "Q62", "E10", "W84", "V00", "807", "L01"], 25, 0.0, 1, False),
    ("cnsa", "Tianwen-1", ["HiRIC", "MoRIC", "MMS"], 2, 0.01, 180, True),
    ("eso", "FORS2", ["FORS2"], 1, 0.05, 300, True),
    ("eso", "MUSE", ["MUSE"], 1, 0.05, 365, True),
    ("eso", "XSHOOTER", ["XSHOOTER"], 1, 0.05, 365, True),
    ("eso", "UVES", ["UVES"], 1, 0.05, 365, True),
    ("irsa", "SPHEREx", ["SPHEREx"], 4, 0.01, 10, True),
    ("irsa", "IRTF", ["SpeX"], 1, 0.05, 500, True),
    ("heasarc", "SWIFT", ["UVOT", "XRT"], 2, 0.8, 7, True),
    ("heasarc", "XRISM", ["XTEND", "RESOLVE"], 1, 1.5, 300, True),
    ("heasarc", "XMM-NEWTON", ["EPIC-PN", "RGS"], 1, 1.0, 350, True),
    ("cadc", "GEMINI", ["GMOS-S", "GMOS-N"], 1, 0.02, 180, True),
    ("cadc", "CFHT", ["MegaPrime"], 1, 0.02, 365, True),
]
ARCHIVES = sorted({g[0] for g in GROUPS})
OBSCORE = {"eso", "irsa", "heasarc", "cadc"}


# ---------------------------------------------------------------- the catalog


def group_rows() -> list[tuple]:
    rows = []
    for archive, mission, instruments, weight, duration, latency, stated in GROUPS:
        for instrument in instruments:
            rows.append((archive, mission, instrument, weight / len(instruments), duration, latency,
                         int(stated)))
    return rows


def build_catalog(path: Path, products: int, seed: int) -> float:
    """A catalog of `products` generated rows, through the project's migrations; returns seconds."""
    from catalog import Catalog
    from catalog.migrations.m003_watch import ARRIVALS_FROM_PRODUCTS

    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    Catalog.open(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                           "AND tbl_name = 'products' AND sql IS NOT NULL").fetchall()
    conn.execute("BEGIN")
    for name, _ in indexes:  # a bulk load builds each index once, sorted, at the end
        conn.execute(f"DROP INDEX {name}")
    groups = group_rows()
    conn.execute("CREATE TEMP TABLE groups (gid INTEGER PRIMARY KEY, archive, mission, instrument, "
                 "weight, duration, latency, stated)")
    conn.executemany("INSERT INTO groups VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [(i, *g) for i, g in enumerate(groups)])
    rng = random.Random(seed)
    slots = rng.choices(range(len(groups)), weights=[g[3] for g in groups], k=4096)
    conn.execute("CREATE TEMP TABLE slots (slot INTEGER PRIMARY KEY, gid INTEGER)")
    conn.executemany("INSERT INTO slots VALUES (?, ?)", list(enumerate(slots)))
    conn.execute(f"""
        CREATE TEMP TABLE base AS
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {products})
        SELECT i, abs(random()) % 4096 AS slot,
               (abs(random()) % 1000000) / 1e6 AS r1, (abs(random()) % 1000000) / 1e6 AS r2,
               (abs(random()) % 999999 + 1) / 1e6 AS r3, (abs(random()) % 1000000) / 1e6 AS r4
        FROM n""")
    clock_jd = conn.execute("SELECT julianday(?)", (CLOCK,)).fetchone()[0]
    conn.execute(f"""
        CREATE TEMP TABLE shaped AS
        SELECT b.i, g.archive, g.mission, g.instrument, g.stated,
               {START_JD} + b.r1 * {SPAN_DAYS} AS t0,
               {START_JD} + b.r1 * {SPAN_DAYS} + b.r2 * g.duration AS t1,
               {START_JD} + b.r1 * {SPAN_DAYS} + b.r2 * g.duration - g.latency * ln(b.r3) AS pub,
               b.r4
        FROM base b JOIN slots s ON s.slot = b.slot JOIN groups g ON g.gid = s.gid""")
    iso = "strftime('%Y-%m-%dT%H:%M:%fZ', {})"
    conn.execute(f"""
        INSERT INTO products (product_key, archive, native_id, source, mission, instrument,
            target_name, matched_by, product_type, obs_start, obs_end, release_date, access,
            first_seen, last_seen, updated_at, first_public, content_hash)
        SELECT archive || ':' || i, archive, CAST(i AS TEXT), archive, mission, instrument,
            '3I/ATLAS', 'alias:3I/ATLAS', 'image', {iso.format('t0')}, {iso.format('t1')},
            CASE WHEN exclusive THEN {iso.format('t1 + 365')}
                 WHEN stated THEN {iso.format('pub')} END,
            CASE WHEN exclusive THEN 'exclusive' ELSE 'public' END,
            seen, seen, seen,
            CASE WHEN exclusive THEN NULL ELSE {iso.format('pub')} END, 'bench'
        FROM (SELECT *, (r4 < 0.12 OR pub > {clock_jd}) AS exclusive,
                     max({iso.format('min(pub, t1 + 2)')}, '{FIRST_HARVEST}') AS seen
              FROM shaped)""")
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("DELETE FROM watch_arrivals")  # the bulk load made no `new` events to absorb
    conn.execute(ARRIVALS_FROM_PRODUCTS)
    runs = [(archive, archive, day) for archive in ARCHIVES for day in _days()]
    conn.executemany("INSERT INTO runs (source, archive, started_at, finished_at, status) "
                     "VALUES (?, ?, ?, ?, 'ok')", [(s, a, d, d) for s, a, d in runs])
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


def _days() -> list[str]:
    first = datetime(2025, 7, 2, 6, tzinfo=UTC).timestamp()
    last = datetime(2026, 11, 21, tzinfo=UTC).timestamp()
    return [datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            for t in range(int(first), int(last), 86400)]


# ---------------------------------------------------------------- campaign and config


def write_campaign(path: Path, total: int, seed: int) -> int:
    """The packaged campaign plus synthetic observations on random groups; returns the count."""
    packaged = (ROOT / "config" / "campaign.toml").read_text()
    count = sum(line.startswith("[[observation]]") for line in packaged.splitlines())
    rng = random.Random(seed)
    groups = group_rows()
    extra = []
    for n in range(max(total - count, 0)):
        archive, mission, instrument, *_ = rng.choice(groups)
        start = datetime.fromtimestamp(
            datetime(2025, 6, 1, tzinfo=UTC).timestamp() + rng.random() * 520 * 86400, UTC).date()
        end = datetime.fromordinal(start.toordinal() + rng.randint(0, 10)).date()
        extra.append(f'[[observation]]\nid = "synthetic-{n:03d}"\nplatform = "{mission}"\n'
                     f'archive = "{archive}"\nmission = "{mission}"\ninstrument = "{instrument}"\n'
                     f"obs_start = {start}\nobs_end = {end}\n")
    path.write_text(packaged + "\n" + "\n".join(extra))
    return count + len(extra)


def write_config(path: Path, catalog: Path, campaign: Path) -> None:
    from harvester.sources import known_kinds

    kinds = set(known_kinds())
    blocks = [f'[catalog]\npath = "{catalog}"\n', f'[watch]\ncampaign = "{campaign}"\n']
    for archive in ARCHIVES:
        kind = "obscore" if archive in OBSCORE else archive
        if kind in kinds:
            blocks.append(f'[sources.{archive}]\nkind = "{kind}"\nbase_url = "http://127.0.0.1:9/{archive}"\n')
    path.write_text("\n".join(blocks))


# ---------------------------------------------------------------- measurements


def time_hook(config_path: Path, repeat: int) -> tuple[list[float], list[int]]:
    from catalog import Catalog
    from harvester.config import load_config
    from harvester.watch.hook import after_harvest

    config = load_config(str(config_path))
    walls, events = [], []
    for _ in range(repeat):
        catalog = Catalog.open(config.catalog.path)
        before = catalog.conn.execute("SELECT count(*) FROM events").fetchone()[0]
        started = time.perf_counter()
        after_harvest(catalog, config, None)
        walls.append(time.perf_counter() - started)
        events.append(catalog.conn.execute("SELECT count(*) FROM events").fetchone()[0] - before)
        catalog.close()
    return walls, events


def time_report(config_path: Path, repeat: int) -> tuple[list[float], dict]:
    from harvester.config import load_config
    from harvester.timeutil import parse_iso
    from harvester.watch.report import build_report

    config = load_config(str(config_path))
    walls, report = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        report = build_report(config.catalog.path, config, parse_iso(CLOCK), with_latency=True)
        walls.append(time.perf_counter() - started)
    facts = {"expected": len(report.statuses), "counts": report.counts(),
             "latency_groups": len(report.latency), "sources": len(report.sources),
             "matched": sum(len(s.matches) for s in report.statuses)}
    return walls, facts


def time_cli(config_path: Path, repeat: int) -> tuple[list[float], list[float]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    env["HARVESTER_NOW"] = CLOCK
    gaps, imports = [], []
    for _ in range(repeat):
        for argv, sink in (([sys.executable, "-m", "harvester.cli", "gaps", "--config", str(config_path),
                             "--format", "json"], gaps),
                           ([sys.executable, "-c", "import harvester.cli.main"], imports)):
            started = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
            sink.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"{shlex.join(argv)} failed: {done.stderr.strip()[-500:]}")
    return gaps, imports


def time_inserts(workdir: Path, pages: int, page_size: int, repeat: int) -> dict[str, list[float]]:
    """Seconds to store `pages` pages of new products, with and without the watch's indexes."""
    from catalog import Catalog
    from catalog.store import commit_page, start_run

    walls: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(repeat):
        for variant in ("with", "without"):
            path = workdir / f"insert-{variant}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            catalog = Catalog.open(path)
            if variant == "without":
                for (name,) in catalog.conn.execute("SELECT name FROM sqlite_master WHERE type = "
                                                    "'index' AND name LIKE 'idx_products_watch_%'").fetchall():
                    catalog.conn.execute(f"DROP INDEX {name}")
            run_id = start_run(catalog, "mast", "mast", CLOCK)
            started = time.perf_counter()
            for page in range(pages):
                commit_page(catalog, source="mast", archive="mast", run_id=run_id, now=CLOCK,
                            products=[_product(page * page_size + i) for i in range(page_size)],
                            cursor={"page": page}, records=page_size, skipped=0, requests=page + 1)
            walls[variant].append(time.perf_counter() - started)
            catalog.close()
    return walls


def _product(n: int) -> dict:
    day = 1 + n % 28
    return {"product_key": f"mast:{n}", "archive": "mast", "native_id": str(n), "version": None,
            "mission": ("HST", "JWST", "TESS")[n % 3], "instrument": ("WFC3/UVIS", "NIRSPEC/IFU",
                                                                      "Photometer")[n % 3],
            "target_name": "3I/ATLAS", "matched_by": "alias:3I/ATLAS", "product_type": "image",
            "processing_level": "calibrated", "obs_start": f"2025-10-{day:02d}T01:00:00.000Z",
            "obs_end": f"2025-10-{day:02d}T02:00:00.000Z",
            "release_date": f"2025-11-{day:02d}T00:00:00.000Z", "access": "public",
            "public_since": f"2025-11-{day:02d}T00:00:00.000Z", "url": None, "size_bytes": 1000,
            "program": "17942", "title": "bench", "extra": "{}", "raw": "{}", "content_hash": f"h{n}"}


# ---------------------------------------------------------------- report


def med(values: list[float]) -> float:
    return statistics.median(values)


def runs(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def report_text(args: argparse.Namespace, facts: dict, build_s: float, hook: tuple, gaps: list[float],
                cli: tuple, inserts: dict, rows: int) -> str:
    hook_walls, hook_events = hook
    verdict = "met" if med(hook_walls) < TARGET_S and med(gaps) < TARGET_S else "NOT met"
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    ratio = med(inserts["with"]) / med(inserts["without"])
    stored = args.insert_pages * args.insert_page_size
    figures = [
        ("after-harvest hook (reload campaign, match, statuses, silence, store, events; one "
         "transaction)", hook_walls, f" (events appended: {', '.join(map(str, hook_events))})"),
        ("`gaps` evaluation, read-only, with latency statistics (in-process)", gaps, ""),
        ("`harvester gaps --format json` (subprocess, interpreter start included)", cli[0], ""),
        ("`python -c 'import harvester.cli.main'` (baseline)", cli[1], ""),
        (f"store {stored:,} new products ({args.insert_pages} pages, commit_page) with the watch's "
         "2 indexes", inserts["with"], ""),
        ("the same without them", inserts["without"], ""),
    ]
    table = "| figure | median | runs |\n| --- | --- | --- |\n" + "\n".join(
        f"| {label} | {med(values):.2f} s | {runs(values)}{note} |" for label, values, note in figures)
    return f"""## Release watch (`bench/bench_watch.py`)

Command: `{shlex.join(['python', 'bench/bench_watch.py', *sys.argv[1:]])}`
Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()},
SQLite {sqlite3.sqlite_version}; clock {CLOCK}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.

Catalog: {rows:,} products generated in SQLite through the project's migrations
({len(group_rows())} archive/mission/instrument groups over {len(ARCHIVES)} archives, 12% exclusive,
a daily run per source) in {build_s:.0f} s; {facts['expected']} expected observations (the packaged
campaign plus synthetic ones on random groups and windows), {facts['matched']:,} matched
products, {facts['latency_groups']} latency groups, {facts['sources']} sources.
Statuses: {', '.join(f'{v} {k}' for k, v in sorted(facts['counts'].items()))}.

Target: the watch over 1,000,000 products with 200 expected observations in under {TARGET_S:g} s:
**{verdict}** (medians of {args.repeat}, warm page cache).

{table}

The watch's two indexes make storing new products {100 * (ratio - 1):.0f}% slower ({ratio:.2f}x)
and buy the evaluation its speed: matching walks (archive, mission, instrument, obs_start,
obs_end) and percentiles walk an expression index on the latency (without them each of those
query families scans the table: about 1-2 s at a million products). Each source's publication
history is a small table the hook keeps up from the run's `new` events, so it needs no index on
products. The first hook run appends the events of the first evaluation (observations overdue, sources silent);
the reruns find the same states and append none.

No peer: the issue names none for the watch, and no tool we know computes it.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--expected", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cli-repeat", type=int, default=3)
    parser.add_argument("--insert-pages", type=int, default=5)
    parser.add_argument("--insert-page-size", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="Keep the generated catalog here (default: a temporary folder).")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    os.environ["HARVESTER_NOW"] = CLOCK
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        catalog, campaign, config = workdir / "watch.db", workdir / "campaign.toml", workdir / "bench.toml"
        print(f"building {args.products:,} products in {catalog} ...", flush=True)
        build_s = build_catalog(catalog, args.products, args.seed)
        write_campaign(campaign, args.expected, args.seed)
        write_config(config, catalog, campaign)
        rows = sqlite3.connect(catalog).execute("SELECT count(*) FROM products").fetchone()[0]
        print(f"built in {build_s:.1f} s; timing the hook ...", flush=True)
        hook = time_hook(config, args.repeat)
        print(f"hook {runs(hook[0])}; timing gaps ...", flush=True)
        gaps, facts = time_report(config, args.repeat)
        print(f"gaps {runs(gaps)}; timing the CLI ...", flush=True)
        cli = time_cli(config, args.cli_repeat)
        print(f"cli {runs(cli[0])}; timing inserts ...", flush=True)
        inserts = time_inserts(workdir, args.insert_pages, args.insert_page_size, 3)
        text = report_text(args, facts, build_s, hook, gaps, cli, inserts, rows)
    write_section(args.out, "watch", text)
    print(text)


if __name__ == "__main__":
    main()
