"""Speed and memory of `harvester run` against the sandbox archives, and astroquery as a peer.

    python bench/bench.py [--mast N] [--pds M] [--repeat K] [--out bench/RESULTS.md]
    python bench/bench.py --profile          # one cProfile'd backfill -> bench/PROFILE.txt

A script, not a test (pytest never collects bench/). The sandbox archives run in their own
process (multiprocessing, spawn); every harvest and the astroquery peer run as their own
subprocess, whose wall time is taken around the process and whose peak RSS comes from
os.wait4 (ru_maxrss, KiB on Linux). Each figure is the median of K repeats, each into a fresh
catalog. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section  # noqa: E402  (bench/ is a folder of scripts)
from sandbox_process import SandboxProcess as SharedSandbox  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER_SCRIPT = HERE / "peer_astroquery.py"
PYTHON = sys.executable

# The MAST source's default query (harvester/sources/mast.py); page sizes are read from there too.
MAST_COLLECTIONS = ["JWST", "HST", "TESS", "SWIFT"]
MAST_PATTERNS = ["%3I%", "%2025%N1%"]
ASTROQUERY_PAGE = 50000  # astroquery.mast.conf.pagesize

# Targets from the issue.
# Targets from issue 15.
TARGET_THROUGHPUT_RATIO = 1.0
TARGET_RSS_RATIO = 0.5
TARGET_RERUN_REQUESTS = 2
TARGET_RERUN_EXTRA_S = 0.3

HARVEST_TIMEOUT = 900.0

# What `harvester run` imports besides harvester.cli (informational third baseline).
RUN_MODULES = ("harvester.cli.main, harvester.engine, harvester.http, harvester.sources.mast, "
               "harvester.sources.pds, catalog.store, requests, tenacity")
RUN_IMPORTS = "python -c 'import <modules a run loads>'"


# ---------------------------------------------------------------- the sandbox, in its own process


class SandboxProcess(SharedSandbox):
    def __init__(self, mast: int, pds: int, seed: int) -> None:
        super().__init__("harvester.sandbox:generate_scenario", {"mast": mast, "pds": pds, "seed": seed})

    def request_counts(self) -> dict[str, int]:
        counts = self.path_counts()
        return {"mast": counts.get("/mast", 0), "pds": counts.get("/pds", 0)}


# ---------------------------------------------------------------- measured subprocesses


@dataclass
class ProcResult:
    argv: list[str]
    wall_s: float
    maxrss_kib: int
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float = 0.0  # user + system time of the child


def run_measured(argv: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None,
                 timeout: float = HARVEST_TIMEOUT) -> ProcResult:
    """Run argv as a child; wall time around the process, peak RSS from os.wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        reaped = threading.Event()

        def kill_if_running() -> None:
            if not reaped.is_set():
                proc.kill()

        timer = threading.Timer(timeout, kill_if_running)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            reaped.set()
            timer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ProcResult(argv, wall, int(usage.ru_maxrss), proc.returncode,
                          out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                          usage.ru_utime + usage.ru_stime)


def harvester_env(clock: str) -> dict[str, str]:
    """As tests/harvest_helpers.run_cli: no HARVESTER_* from outside, the scenario's clock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    env["HARVESTER_NOW"] = clock
    return env


def config_text(base_urls: dict[str, str], catalog: str, *, mast_page: int, pds_page: int) -> str:
    """Every value is the project's default except the URLs, the rate limit and the page sizes."""
    return f"""# written by bench/bench.py; everything not set here is the project's default
[catalog]
path = "{catalog}"

[http]
rate_limit = 1000          # the sandbox is local; the default of 2/s would measure sleeping

[sources.mast]
base_url = "{base_urls['mast']}"
page_size = {mast_page}

[sources.pds]
base_url = "{base_urls['pds']}"
page_size = {pds_page}
"""


_SUMMARY = re.compile(r"^(?P<source>[\w.-]+): (?P<status>\w+): .*?, (?P<seconds>[\d.]+) s(?: - .*)?$")


def summary_seconds(stdout: str) -> dict[str, float]:
    """Per-source seconds from the CLI's summary lines (the harvester's own monotonic clock)."""
    found = {}
    for line in stdout.splitlines():
        match = _SUMMARY.match(line.strip())
        if match:
            found[match["source"]] = float(match["seconds"])
    return found


def read_runs(catalog: str, after_id: int = 0) -> tuple[dict[str, dict[str, Any]], int, int]:
    """Runs newer than after_id by source, the products count, and the newest run id."""
    conn = sqlite3.connect(catalog)
    conn.row_factory = sqlite3.Row
    try:
        runs = {r["source"]: dict(r) for r in conn.execute(
            "SELECT id, source, status, requests, pages, records, skipped, new, updated, "
            "released, rejected, error FROM runs WHERE id > ? ORDER BY id", (after_id,))}
        products = conn.execute("SELECT count(*) FROM products").fetchone()[0]
        last = conn.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0]
    finally:
        conn.close()
    return runs, products, last


@dataclass
class Sample:
    """One measured run (a harvest or the peer)."""

    kind: str
    wall_s: float
    maxrss_kib: int
    ok: bool
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: int = 0
    sandbox_requests: dict[str, int] = field(default_factory=dict)
    sandbox_cpu_s: float | None = None
    source_seconds: dict[str, float] = field(default_factory=dict)
    peer: dict[str, Any] = field(default_factory=dict)
    problem: str = ""
    cpu_s: float = 0.0  # the harvester process's user + system time (the sandbox's is apart)


class Bench:
    def __init__(self, sandbox: SandboxProcess, workdir: Path) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        self.env = harvester_env(sandbox.clock)
        self._serial = 0

    def new_catalog(self, mast_page: int, pds_page: int) -> tuple[str, str]:
        self._serial += 1
        catalog = str(self.workdir / f"catalog-{self._serial}.db")
        config = self.workdir / f"bench-{self._serial}.toml"
        config.write_text(config_text(self.sandbox.base_urls, catalog, mast_page=mast_page,
                                      pds_page=pds_page))
        return str(config), catalog

    @staticmethod
    def drop_catalog(catalog: str) -> None:
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(catalog + suffix).unlink(missing_ok=True)

    def harvest(self, kind: str, config: str, catalog: str, sources: Sequence[str] = ()) -> Sample:
        after = read_runs(catalog)[2] if Path(catalog).exists() else 0
        argv = [PYTHON, "-m", "harvester.cli", "run", "--config", config]
        for name in sources:
            argv += ["--source", name]
        self.sandbox.clear_requests()
        cpu_before = self.sandbox.cpu_seconds()
        proc = run_measured(argv, env=self.env, cwd=str(self.workdir))
        cpu_after = self.sandbox.cpu_seconds()
        sample = Sample(kind=kind, wall_s=proc.wall_s, maxrss_kib=proc.maxrss_kib,
                        ok=proc.returncode == 0, cpu_s=proc.cpu_s,
                        sandbox_requests=self.sandbox.request_counts(),
                        source_seconds=summary_seconds(proc.stdout))
        if cpu_before is not None and cpu_after is not None:
            sample.sandbox_cpu_s = cpu_after - cpu_before
        if Path(catalog).exists():
            sample.runs, sample.products, _ = read_runs(catalog, after)
        bad = [f"{s}: {r['status']} {r['error'] or ''}".strip()
               for s, r in sample.runs.items() if r["status"] != "ok"]
        if proc.returncode != 0 or bad or not sample.runs:
            sample.ok = False
            sample.problem = (f"exit {proc.returncode}; {'; '.join(bad)}; "
                              f"{proc.stderr.strip()[-500:]}")
        # The runs table must agree with what the archives saw.
        for source, run in sample.runs.items():
            seen = sample.sandbox_requests.get(source, 0)  # bench configs name sources by kind
            if run["requests"] != seen:
                sample.ok = False
                sample.problem += (f" {source}: runs.requests {run['requests']} but the sandbox "
                                   f"logged {seen} requests")
        return sample

    def peer(self) -> Sample:
        argv = [PYTHON, str(PEER_SCRIPT), "--mast-url", self.sandbox.base_urls["mast"],
                "--collections", ",".join(MAST_COLLECTIONS), "--patterns", ",".join(MAST_PATTERNS)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
        self.sandbox.clear_requests()
        cpu_before = self.sandbox.cpu_seconds()
        proc = run_measured(argv, env=env, cwd=str(self.workdir))
        cpu_after = self.sandbox.cpu_seconds()
        sample = Sample(kind="peer", wall_s=proc.wall_s, maxrss_kib=proc.maxrss_kib,
                        ok=proc.returncode == 0, sandbox_requests=self.sandbox.request_counts())
        if cpu_before is not None and cpu_after is not None:
            sample.sandbox_cpu_s = cpu_after - cpu_before
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode == 0 and lines:
            sample.peer = json.loads(lines[-1])
        else:
            sample.ok = False
            sample.problem = f"exit {proc.returncode}; {proc.stderr.strip()[-800:]}"
        return sample


def python_baselines(count: int) -> dict[str, list[float]]:
    """Wall time of a bare interpreter, and of one that imports the CLI module."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    commands = {"python -c pass": [PYTHON, "-c", "pass"],
                "python -c 'import harvester.cli.main'": [PYTHON, "-c", "import harvester.cli.main"],
                RUN_IMPORTS: [PYTHON, "-c", "import " + RUN_MODULES]}
    walls: dict[str, list[float]] = {name: [] for name in commands}
    walls.update({f"cpu: {name}": [] for name in commands})
    for _ in range(count):
        for name, argv in commands.items():
            proc = run_measured(argv, env=env, timeout=60)
            walls[name].append(proc.wall_s)
            walls[f"cpu: {name}"].append(proc.cpu_s)
    return walls


# ---------------------------------------------------------------- the plan


def project_page_sizes() -> tuple[int, int]:
    """The page sizes a config without page_size gets (the sources' Settings defaults)."""
    from harvester.sources import mast, pds

    return mast.Settings().page_size, pds.Settings().page_size


@dataclass(frozen=True)
class Variant:
    """A page-size variant: `pdsN` runs both sources, `mastN` runs `--source mast` only."""

    name: str
    mast_page: int
    pds_page: int
    mast_only: bool

    @property
    def label(self) -> str:
        peer = " (astroquery's page size)" if self.mast_page == ASTROQUERY_PAGE else ""
        if self.mast_only:
            return f"MAST {self.mast_page}{peer}"
        return f"MAST {self.mast_page} / PDS {self.pds_page}"


def parse_variants(spec: str, mast_default: int, pds_default: int) -> tuple[list[Variant], list[str]]:
    """`pds500,mast50000` -> variants; those equal to the defaults are skipped (and named)."""
    variants: list[Variant] = []
    skipped: list[str] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        match = re.fullmatch(r"(mast|pds)(\d+)", item)
        if not match or int(match[2]) < 1:
            raise ValueError(f"not a variant: {item!r} (use mastN or pdsN)")
        size = int(match[2])
        if match[1] == "mast":
            variant = Variant(item, size, pds_default, True)
        else:
            variant = Variant(item, mast_default, size, False)
        if (variant.mast_page, variant.pds_page) == (mast_default, pds_default):
            skipped.append(item)
        elif variant not in variants:
            variants.append(variant)
    return variants, skipped


def default_round(bench: Bench, mast_page: int, pds_page: int, reruns: int) -> list[Sample]:
    """(a) full backfill, (b) reruns on it, (c) harvester --source mast and the peer."""
    samples = []
    config, catalog = bench.new_catalog(mast_page, pds_page)
    samples.append(bench.harvest("backfill", config, catalog))
    samples.extend(bench.harvest("rerun", config, catalog) for _ in range(reruns))
    bench.drop_catalog(catalog)
    config, catalog = bench.new_catalog(mast_page, pds_page)
    samples.append(bench.harvest("backfill_mast", config, catalog, ["mast"]))
    bench.drop_catalog(catalog)
    samples.append(bench.peer())
    return samples


def variant_round(bench: Bench, variant: Variant, reruns: int) -> list[Sample]:
    config, catalog = bench.new_catalog(variant.mast_page, variant.pds_page)
    if variant.mast_only:
        samples = [bench.harvest("backfill_mast", config, catalog, ["mast"])]
        samples += [bench.harvest("rerun_mast", config, catalog, ["mast"]) for _ in range(reruns)]
    else:
        samples = [bench.harvest("backfill", config, catalog)]
        samples += [bench.harvest("rerun", config, catalog) for _ in range(reruns)]
    bench.drop_catalog(catalog)
    return samples


def warm_up(bench: Bench, mast_page: int, pds_page: int) -> float:
    """One unmeasured backfill + rerun + peer: the sandbox caches each query's result set (page
    size is not part of the key), so no measured run pays for the sandbox's first filtering."""
    started = time.perf_counter()
    config, catalog = bench.new_catalog(mast_page, pds_page)
    bench.harvest("warm-up", config, catalog)
    bench.harvest("warm-up", config, catalog)
    bench.drop_catalog(catalog)
    bench.peer()
    return time.perf_counter() - started


# ---------------------------------------------------------------- figures


def med(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def div(a: float, b: float) -> float:
    return a / b if b else float("nan")


def fmt(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    if value != value:  # nan
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def runs_of(values: Sequence[float | int | None], digits: int = 2) -> str:
    return ", ".join(fmt(v, digits) for v in values)


def mib(kib: float) -> float:
    return kib / 1024.0


def by_kind(samples: list[Sample], kind: str) -> list[Sample]:
    return [s for s in samples if s.kind == kind]


def source_field(samples: list[Sample], source: str, key: str) -> list[int]:
    return [s.runs.get(source, {}).get(key, 0) for s in samples]


def per_source(samples: list[Sample], key: str, sources: Sequence[str]) -> str:
    parts = []
    for source in sources:
        values = source_field(samples, source, key)
        parts.append(f"{source} {fmt(int(med(values)))}")
    return " / ".join(parts)


def stored_of(sample: Sample) -> int:
    return sample.products


def fetched_of(sample: Sample, source: str = "mast") -> int:
    return int(sample.runs.get(source, {}).get("records", 0))


@dataclass
class Row:
    figure: str
    median: str
    runs: str = ""


def machine_facts() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    try:
        import astroquery

        aq = astroquery.__version__
    except ImportError:
        aq = "not installed"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu or platform.processor() or "unknown",
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "astroquery": aq,
        "load": load,
        "bytecode": "PYTHONDONTWRITEBYTECODE=1 (the project's .py files are compiled on every start)"
        if os.environ.get("PYTHONDONTWRITEBYTECODE") else "bytecode caching on",
    }


def code_fingerprint() -> str:
    """A hash of the project's code and config, to notice the code changing during a run."""
    digest = hashlib.sha256()
    for sub in ("harvester", "catalog", "config"):
        for path in sorted((ROOT / sub).rglob("*")):
            if path.suffix in (".py", ".toml", ".json") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def git_facts() -> str:
    """HEAD and uncommitted changes to the measured code (read-only git commands)."""
    def git(*args: str) -> str:
        try:
            # rstrip only: a porcelain line starts with a status column that may be a space.
            return subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True,
                                  text=True, timeout=30).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "harvester", "catalog", "config")
    changed = ", ".join(line[3:] for line in dirty.splitlines())
    return f"commit {head}" + (f" with uncommitted changes to {changed}" if changed else " (clean)")


def rerun_verdict(wall_extra: float, cpu_extra: float) -> str:
    if wall_extra <= TARGET_RERUN_EXTRA_S:
        return "**met**"
    if cpu_extra <= TARGET_RERUN_EXTRA_S:
        return "**NOT met** in wall time; met in the harvester's CPU"
    return "**NOT met**"


def write_results(path: Path, *, args: argparse.Namespace, variants: dict[str, Variant], command: str,
                  facts_start: dict[str, str], facts_end: dict[str, str], code: dict[str, str], sandbox: SandboxProcess,
                  baselines: dict[str, list[float]], results: dict[str, list[Sample]],
                  started: datetime, elapsed_s: float, problems: list[str]) -> str:
    k = args.repeat
    default = results["default"]
    backfill = by_kind(default, "backfill")
    rerun = by_kind(default, "rerun")
    mast_only = by_kind(default, "backfill_mast")
    peers = by_kind(default, "peer")
    both = ("mast", "pds")

    base_pass = med(baselines["python -c pass"])
    base_import = med(baselines["python -c 'import harvester.cli.main'"])

    bf_wall = [s.wall_s for s in backfill]
    bf_rate = [stored_of(s) / s.wall_s for s in backfill]
    rr_wall = [s.wall_s for s in rerun]
    mo_wall = [s.wall_s for s in mast_only]
    mo_rows_rate = [fetched_of(s) / s.wall_s for s in mast_only]
    mo_stored_rate = [stored_of(s) / s.wall_s for s in mast_only]
    peer_wall = [s.wall_s for s in peers]
    peer_rows = [int(s.peer.get("rows_total", 0)) for s in peers]
    peer_rate = [div(r, w) for r, w in zip(peer_rows, peer_wall, strict=True)]
    peer_query_rate = [int(s.peer.get("rows_total", 0)) / s.peer["query_s"]
                       for s in peers if s.peer.get("query_s")]

    # Ratios in the same round: harvester --source mast vs the peer of that round.
    tput_ratio = [div(h, p) for h, p in zip(mo_rows_rate, peer_rate, strict=True)]
    tput_ratio_stored = [div(h, p) for h, p in zip(mo_stored_rate, peer_rate, strict=True)]
    rss_ratio = [div(h.maxrss_kib, p.maxrss_kib) for h, p in zip(mast_only, peers, strict=True)]
    full_rss_ratio = [div(h.maxrss_kib, p.maxrss_kib) for h, p in zip(backfill, peers, strict=True)]

    harvester_records = [fetched_of(s) for s in mast_only]
    rows_equal = all(p == h for p, h in zip(peer_rows, harvester_records, strict=True)) and all(
        int(s.peer.get("union_obsids", -1)) == h
        for s, h in zip(peers, harvester_records, strict=True))
    peer_patterns = peers[-1].peer.get("rows", {}) if peers else {}

    rr_requests = {src: source_field(rerun, src, "requests") for src in both}
    rr_req_med = {src: med(v) for src, v in rr_requests.items()}
    rr_extra_pass = med(rr_wall) - base_pass
    rr_extra_import = med(rr_wall) - base_import
    # What the harvester itself spends: its CPU beyond the import's, without the sandbox's
    # (which shares the two cores, and answers the look-back windows' thousands of rows).
    rr_cpu = [s.cpu_s for s in rerun]
    rr_cpu_extra = med(rr_cpu) - med(baselines["cpu: python -c 'import harvester.cli.main'"])

    lines: list[str] = []
    add = lines.append
    add("# Benchmark results")
    add("")
    add(f"Written by `bench/bench.py` on {started:%Y-%m-%d %H:%M} UTC; the whole benchmark took "
        f"{elapsed_s / 60:.1f} min. Command:")
    add("")
    add("```sh")
    add(command)
    add("```")
    add("")
    add(f"- **Machine:** nproc {facts_start['nproc']} ({facts_start['cpu']}), "
        f"{facts_start['platform']}; Python {facts_start['python']}, SQLite {facts_start['sqlite']}, "
        f"astroquery {facts_start['astroquery']}; {facts_start['bytecode']}. Load average (1/5/15 min) at the start "
        f"{facts_start['load']}, at the end {facts_end['load']}.")
    same = code["start"] == code["end"]
    add(f"- **Code measured:** {code['git']}; fingerprint of harvester/, catalog/, config/ "
        f"{code['start']}" + (" (unchanged during the run)." if same else
                              f", **changed to {code['end']} during the run: figures mix versions**."))
    add(f"- **Scenario:** `generate_scenario(mast={args.mast}, pds={args.pds}, seed={args.seed})`, "
        f"clock {sandbox.clock} (passed to every harvest as `HARVESTER_NOW`). The sandbox runs in "
        f"its own process (multiprocessing, spawn); it built and started in "
        f"{sandbox.info['build_s']:.1f} s.")
    add("- **Config:** the project's defaults (look-back MAST 30 d, PDS 7 d; collections, patterns "
        "and aliases as shipped), except `[http] rate_limit = 1000` and the sandbox base URLs. "
        f"Page sizes: main figures MAST {args.mast_page} / PDS {args.pds_page} "
        "(the defaults); variants below. The config of each run (port and paths vary):")
    add("")
    add("```toml")
    add(config_text({"mast": "http://127.0.0.1:PORT/mast", "pds": "http://127.0.0.1:PORT/pds/api/search/1"},
                    "/tmp/harvester-bench-XXXX/catalog-N.db", mast_page=args.mast_page,
                    pds_page=args.pds_page).strip())
    add("```")
    add("")
    add(f"- **Method:** every figure is the **median of {k} runs** (all runs listed), each "
        "harvest a fresh subprocess `python -m harvester.cli run --config bench.toml` into a fresh "
        f"catalog; after each backfill {args.reruns} no-change rerun(s) on the catalog it filled, each "
        "a sample (so rerun medians are over K x reruns samples). Wall time is taken around "
        "the process, so it includes interpreter start and imports; peak RSS is `ru_maxrss` from "
        "`os.wait4` on the child. Requests per source come from the catalog's `runs` table and were "
        "cross-checked against the sandbox's own request log. Rounds are interleaved "
        "(default, then the variants, K times). "
        + (f"An unmeasured warm-up (backfill, rerun, peer; {args.warmup_s:.0f} s) ran first, so "
           "no measured run pays for the sandbox computing a query's result set the first time."
           if args.warmup_s is not None else "No warm-up round (`--no-warmup`)."))
    add("")

    # ---- targets
    add("## Targets from the issue")
    add("")
    add("| target | measured (median) | met? |")
    add("| --- | --- | --- |")
    tput = med(tput_ratio)
    add(f"| backfill throughput at least {TARGET_THROUGHPUT_RATIO:g}x astroquery's (MAST rows/s, "
        f"`--source mast` vs the peer, same rows) | {tput:.2f}x ({fmt(med(mo_rows_rate), 0)} vs "
        f"{fmt(med(peer_rate), 0)} rows/s) | {'**met**' if tput >= TARGET_THROUGHPUT_RATIO else '**NOT met**'} |")
    rss = med(rss_ratio)
    add(f"| backfill peak RSS at most {TARGET_RSS_RATIO:g}x astroquery's | {rss:.3f}x "
        f"({mib(med([s.maxrss_kib for s in mast_only])):.0f} vs "
        f"{mib(med([s.maxrss_kib for s in peers])):.0f} MiB) | "
        f"{'**met**' if rss <= TARGET_RSS_RATIO else '**NOT met**'} |")
    req_ok = all(v <= TARGET_RERUN_REQUESTS for v in rr_req_med.values())
    req_one = all(v <= 1 for v in rr_req_med.values())
    add(f"| no-change rerun: one request per source, two at most | "
        f"{', '.join(f'{s} {fmt(int(v))}' for s, v in rr_req_med.items())} | "
        f"{'**met**' if req_ok else '**NOT met**'}"
        f"{' (one each)' if req_one else (' (two at most; not one each)' if req_ok else '')} |")
    add(f"| no-change rerun at most {TARGET_RERUN_EXTRA_S:g} s beyond `import harvester.cli` | "
        f"wall: {rr_extra_import:.2f} s beyond `import harvester.cli.main` ({rr_extra_pass:.2f} s "
        f"beyond `python -c pass`; rerun wall {med(rr_wall):.2f} s); the harvester's own CPU: "
        f"{rr_cpu_extra:.2f} s beyond the import's | "
        f"{rerun_verdict(rr_extra_import, rr_cpu_extra)} |")
    add("")

    # ---- main figures
    rows: list[Row] = []
    rows.append(Row("(a) full backfill: wall time, s", fmt(med(bf_wall)), runs_of(bf_wall)))
    rows.append(Row("(a) products stored in the catalog", fmt(int(med([stored_of(s) for s in backfill]))),
                    runs_of([stored_of(s) for s in backfill])))
    rows.append(Row("(a) products/s (stored / wall)", fmt(med(bf_rate), 0), runs_of(bf_rate, 0)))
    rows.append(Row("(a) peak RSS of the harvester, MiB", fmt(mib(med([s.maxrss_kib for s in backfill])), 1),
                    runs_of([mib(s.maxrss_kib) for s in backfill], 1)))
    rows.append(Row("(a) HTTP requests (runs table)", per_source(backfill, "requests", both),
                    "sandbox log: " + per_source_log(backfill)))
    rows.append(Row("(a) records read", per_source(backfill, "records", both)))
    rows.append(Row("(a) per-source seconds (CLI summary line)", per_source_seconds(backfill, both)))
    rows.append(Row("(a) sandbox CPU during the run, s", fmt(med_opt([s.sandbox_cpu_s for s in backfill])),
                    runs_of([s.sandbox_cpu_s for s in backfill])))
    rows.append(Row("(b) no-change rerun: wall time, s", fmt(med(rr_wall)), runs_of(rr_wall)))
    rows.append(Row("(b) HTTP requests (runs table)", per_source(rerun, "requests", both),
                    "sandbox log: " + per_source_log(rerun)))
    rows.append(Row("(b) records re-read (look-back windows)", per_source(rerun, "records", both)))
    rows.append(Row("(b) new / updated / released", " / ".join(
        fmt(int(med([sum(r[key] for r in s.runs.values()) for s in rerun])))
        for key in ("new", "updated", "released"))))
    rows.append(Row("(b) sandbox CPU during the rerun, s", fmt(med_opt([s.sandbox_cpu_s for s in rerun])),
                    runs_of([s.sandbox_cpu_s for s in rerun])))
    rows.append(Row("(b) peak RSS, MiB", fmt(mib(med([s.maxrss_kib for s in rerun])), 1),
                    runs_of([mib(s.maxrss_kib) for s in rerun], 1)))
    rows.append(Row("(b) baseline `python -c pass`, s", fmt(base_pass, 3),
                    runs_of(baselines["python -c pass"], 3)))
    rows.append(Row("(b) baseline `python -c 'import harvester.cli.main'`, s", fmt(base_import, 3),
                    runs_of(baselines["python -c 'import harvester.cli.main'"], 3)))
    rows.append(Row("(b) for reference: `python -c 'import <what a run loads>'`, s",
                    fmt(med(baselines[RUN_IMPORTS]), 3),
                    f"{runs_of(baselines[RUN_IMPORTS], 3)}; modules: {RUN_MODULES}"))
    rows.append(Row("(b) rerun beyond `python -c pass`, s", fmt(rr_extra_pass)))
    rows.append(Row("(b) rerun beyond `import harvester.cli.main`, s", fmt(rr_extra_import)))
    rows.append(Row("(b) rerun CPU of the harvester process (user + sys), s", fmt(med(rr_cpu), 3),
                    runs_of(rr_cpu, 3)))
    rows.append(Row("(b) CPU of `python -c 'import harvester.cli.main'`, s",
                    fmt(med(baselines["cpu: python -c 'import harvester.cli.main'"]), 3)))
    rows.append(Row("(b) rerun CPU beyond the import's, s", fmt(rr_cpu_extra, 3)))
    rows.append(Row("(c) harvester `--source mast` backfill: wall, s", fmt(med(mo_wall)), runs_of(mo_wall)))
    rows.append(Row("(c) harvester MAST rows read (runs.records) / stored",
                    f"{fmt(int(med(harvester_records)))} / {fmt(int(med([stored_of(s) for s in mast_only])))}"))
    rows.append(Row("(c) harvester MAST rows/s (read / wall)", fmt(med(mo_rows_rate), 0),
                    runs_of(mo_rows_rate, 0)))
    rows.append(Row("(c) harvester MAST products/s (stored / wall)", fmt(med(mo_stored_rate), 0),
                    runs_of(mo_stored_rate, 0)))
    rows.append(Row("(c) harvester MAST peak RSS, MiB", fmt(mib(med([s.maxrss_kib for s in mast_only])), 1),
                    runs_of([mib(s.maxrss_kib) for s in mast_only], 1)))
    rows.append(Row("(c) harvester MAST requests", per_source(mast_only, "requests", ("mast",))))
    rows.append(Row("(c) astroquery peer: wall, s (process)", fmt(med(peer_wall)), runs_of(peer_wall)))
    rows.append(Row("(c) astroquery: import / query time in the process, s",
                    f"{fmt(med([s.peer.get('import_s', float('nan')) for s in peers]))} / "
                    f"{fmt(med([s.peer.get('query_s', float('nan')) for s in peers]))}"))
    rows.append(Row("(c) astroquery rows (per pattern; union of obsids)",
                    " + ".join(f"`{p}` {fmt(int(n))}" for p, n in peer_patterns.items())
                    + f" = {fmt(int(med(peer_rows)))}; union "
                    f"{fmt(int(med([int(s.peer.get('union_obsids', 0)) for s in peers])))}",
                    "equal to the harvester's MAST runs.records in every round: "
                    + ("yes" if rows_equal else "**NO**")))
    rows.append(Row("(c) astroquery rows/s (rows / process wall)", fmt(med(peer_rate), 0), runs_of(peer_rate, 0)))
    rows.append(Row("(c) astroquery rows/s (rows / query time only)", fmt(med(peer_query_rate), 0),
                    runs_of(peer_query_rate, 0)))
    rows.append(Row("(c) astroquery peak RSS, MiB", fmt(mib(med([s.maxrss_kib for s in peers])), 1),
                    runs_of([mib(s.maxrss_kib) for s in peers], 1)))
    rows.append(Row("(c) astroquery requests (sandbox log, incl. columnsconfig)",
                    fmt(int(med([s.sandbox_requests.get("mast", 0) for s in peers])))))
    rows.append(Row("(c) ratio: harvester / astroquery throughput (rows read/s)", f"{tput:.2f}x",
                    runs_of(tput_ratio)))
    rows.append(Row("(c) ratio: harvester products stored/s / astroquery rows/s",
                    f"{med(tput_ratio_stored):.2f}x", runs_of(tput_ratio_stored)))
    rows.append(Row("(c) ratio: harvester / astroquery peak RSS (`--source mast`)", f"{rss:.3f}x",
                    runs_of(rss_ratio, 3)))
    rows.append(Row("(c) ratio: full two-source backfill peak RSS / astroquery's",
                    f"{med(full_rss_ratio):.3f}x", runs_of(full_rss_ratio, 3)))
    add(f"## Figures: MAST {args.mast_page} / PDS {args.pds_page} (the project's default page sizes)")
    add("")
    add("| figure | median | runs / notes |")
    add("| --- | --- | --- |")
    for row in rows:
        add(f"| {row.figure} | {row.median} | {row.runs} |")
    add("")

    # ---- variants
    variant_rows = []
    for name, samples in results.items():
        if name == "default" or not samples:
            continue
        label = variants[name].label
        for kind in ("backfill", "backfill_mast", "rerun", "rerun_mast"):
            chosen = by_kind(samples, kind)
            if not chosen:
                continue
            sources = ("mast",) if kind.endswith("_mast") else both
            walls = [s.wall_s for s in chosen]
            if kind.startswith("backfill"):
                rates = [stored_of(s) / s.wall_s for s in chosen]
                rate = f"{fmt(med(rates), 0)} products/s"
                if kind == "backfill_mast":
                    read_rates = [fetched_of(s) / s.wall_s for s in chosen]
                    peer_rss = med([s.maxrss_kib for s in peers])
                    rate += (f"; {fmt(med(read_rates), 0)} rows/s = "
                             f"{div(med(read_rates), med(peer_rate)):.2f}x astroquery's; peak RSS "
                             f"{div(med([s.maxrss_kib for s in chosen]), peer_rss):.3f}x astroquery's")
            else:
                rate = f"{med(walls) - base_import:.2f} s beyond `import harvester.cli.main`"
            variant_rows.append(
                f"| {label} | {kind.replace('_mast', ' `--source mast`')} | {fmt(med(walls))} "
                f"({runs_of(walls)}) | {rate} | {fmt(mib(med([s.maxrss_kib for s in chosen])), 1)} | "
                f"{per_source(chosen, 'requests', sources)} | {per_source(chosen, 'records', sources)} |")
    if variant_rows:
        add("## Page-size variants")
        add("")
        add("| config | run | wall s, median (runs) | rate / cost | peak RSS MiB | requests | records |")
        add("| --- | --- | --- | --- | --- | --- | --- |")
        lines.extend(variant_rows)
        add("")

    # ---- notes
    add("## Notes")
    add("")
    add("- **Which throughput.** Both sides are timed as whole processes (interpreter start and "
        "imports included: astroquery's import of astropy is most of a second). The harvester "
        "reads the same MAST rows as astroquery (`%3I%` and `%2025%N1%` free-text on "
        "`target_name`, the four collections, no release filter on a first run), then also "
        "normalizes them, drops decoy names and stores products, events and raw JSON in SQLite: "
        "its rows/s counts rows read, its products/s counts products stored (decoys are read but "
        "not stored). astroquery's query-only rate is listed for reference.")
    add("- **Rerun requests.** MAST needs one query per target pattern (two patterns), so two "
        "MAST requests is its floor. The no-change rerun re-reads the look-back windows: MAST rows "
        "with `t_obs_release` from the cursor minus 30 days on, which includes every row still "
        "under exclusive access (release in the future); PDS products harvested within 7 days "
        "before the newest harvest time stored. Those re-read records are what costs requests and "
        "time when nothing changed; how many requests they take depends on the page sizes (see the "
        "variants).")
    add("- **Sandbox CPU** is the CPU the sandbox process spent while the run was going (it "
        "serves from a second core on this machine, but the harvester waits for each page, so it "
        "adds to the harvester's wall time). The sandbox caches a query's result set, so only the "
        "first run of a new query pays for filtering every row: the warm-up takes that.")
    add("- **Where the time goes:** `python bench/bench.py --profile` writes a cProfile of one "
        "default backfill and its no-change rerun to `bench/PROFILE.txt`.")
    add("- **Caveat:** on a 2-core machine with other work running, wall times move by a few "
        "per cent between runs; the load averages above say how busy the machine was.")
    if problems:
        add("")
        add("## Problems during the run")
        add("")
        for problem in problems:
            add(f"- {problem}")
    add("")
    text = "\n".join(lines)
    title = "## Harvest: MAST and PDS backfill, no-change rerun, astroquery peer"
    write_section(path, "harvest", text.replace("# Benchmark results", title, 1))
    return text


def per_source_log(samples: list[Sample]) -> str:
    return " / ".join(f"{src} {fmt(int(med([s.sandbox_requests.get(src, 0) for s in samples])))}"
                      for src in ("mast", "pds"))


def per_source_seconds(samples: list[Sample], sources: Sequence[str]) -> str:
    return " / ".join(f"{src} {fmt(med([s.source_seconds.get(src, float('nan')) for s in samples]), 1)}"
                      for src in sources)


def med_opt(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return med(present) if present else None


# ---------------------------------------------------------------- profile mode


def profile_once(bench: Bench, out: Path, lines: int) -> None:
    """cProfile one default-config backfill, then the no-change rerun on its catalog."""
    config, catalog = bench.new_catalog(*project_page_sizes())
    parts = []
    for label in ("full backfill", "no-change rerun"):
        argv = [PYTHON, "-m", "cProfile", "-s", "cumtime", "-m", "harvester.cli", "run", "--config", config]
        proc = run_measured(argv, env=bench.env, cwd=str(bench.workdir))
        command = " ".join(shlex.quote(a) for a in ["python", *argv[1:]])
        head = proc.stdout.splitlines()[:lines + 10]
        parts.append(f"## {label}: {command}\n## wall {proc.wall_s:.1f} s under cProfile, "
                     f"peak RSS {mib(proc.maxrss_kib):.0f} MiB, exit {proc.returncode}\n" + "\n".join(head))
        print(f"profiled {label}: {proc.wall_s:.1f} s", flush=True)
    bench.drop_catalog(catalog)
    out.write_text(f"# written by bench/bench.py --profile; HARVESTER_NOW={bench.sandbox.clock}, "
                   f"{code_fingerprint()}\n\n" + "\n\n".join(parts) + "\n")
    print(f"profile written to {out}")


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mast", type=int, default=100_000, help="MAST rows in the scenario")
    parser.add_argument("--pds", type=int, default=50_000, help="PDS products in the scenario")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (medians reported)")
    parser.add_argument("--seed", type=int, default=0, help="scenario seed")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"), help="where to write the results")
    parser.add_argument("--variants", default="pds500,pds2000,mast5000,mast50000",
                        help="comma-separated page-size variants besides the project defaults: pdsN runs "
                             "a full backfill + rerun with PDS page_size N, mastN a `--source mast` "
                             "backfill + rerun with MAST page_size N; one equal to the defaults is "
                             "skipped; '' for none")
    parser.add_argument("--reruns", type=int, default=3,
                        help="no-change reruns after each backfill (each one a sample; default 3)")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="skip the unmeasured warm-up round")
    parser.add_argument("--baseline-runs", type=int, default=7,
                        help="runs of each interpreter-start baseline")
    parser.add_argument("--profile", action="store_true",
                        help="only run one cProfile'd default backfill and write --profile-out")
    parser.add_argument("--profile-out", default=str(HERE / "PROFILE.txt"))
    parser.add_argument("--profile-lines", type=int, default=40)
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.reruns < 1:
        parser.error("--repeat and --reruns must be at least 1")
    args.mast_page, args.pds_page = project_page_sizes()
    try:
        args.variant_list, args.variants_skipped = parse_variants(args.variants, args.mast_page,
                                                                  args.pds_page)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    typed = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python bench/bench.py", *(shlex.quote(a) for a in typed)])
    if not typed:
        command += (f"    # the defaults: --mast {args.mast} --pds {args.pds} --repeat {args.repeat} "
                    f"--reruns {args.reruns} --variants {args.variants}")
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    facts_start = machine_facts()
    code = {"git": git_facts(), "start": code_fingerprint()}
    workdir = Path(tempfile.mkdtemp(prefix="harvester-bench-"))
    print(f"sandbox: building {args.mast:,} MAST + {args.pds:,} PDS products ...", flush=True)
    sandbox = SandboxProcess(args.mast, args.pds, args.seed)
    try:
        print(f"sandbox: {sandbox.url} (pid {sandbox.process.pid}), clock {sandbox.clock}, "
              f"built in {sandbox.info['build_s']:.1f} s", flush=True)
        bench = Bench(sandbox, workdir)
        if args.profile:
            profile_once(bench, Path(args.profile_out), args.profile_lines)
            return 0
        baselines = python_baselines(args.baseline_runs)
        print("baselines: " + ", ".join(f"{k} {med(v):.3f} s" for k, v in baselines.items()), flush=True)
        print(f"project default page sizes: MAST {args.mast_page}, PDS {args.pds_page}; variants: "
              f"{', '.join(v.name for v in args.variant_list) or 'none'}"
              + (f" (skipped, equal to the defaults: {', '.join(args.variants_skipped)})"
                 if args.variants_skipped else ""), flush=True)
        variants = {v.name: v for v in args.variant_list}
        args.warmup_s = None
        if args.warmup:
            args.warmup_s = warm_up(bench, args.mast_page, args.pds_page)
            print(f"warm-up (unmeasured backfill, rerun, peer): {args.warmup_s:.0f} s", flush=True)
        names = ["default", *variants]
        results: dict[str, list[Sample]] = {name: [] for name in names}
        problems: list[str] = []
        for round_no in range(1, args.repeat + 1):
            for name in names:
                round_start = time.perf_counter()
                if name == "default":
                    samples = default_round(bench, args.mast_page, args.pds_page, args.reruns)
                else:
                    samples = variant_round(bench, variants[name], args.reruns)
                results[name].extend(samples)
                summary = ", ".join(f"{s.kind} {s.wall_s:.2f} s {mib(s.maxrss_kib):.0f} MiB" for s in samples)
                print(f"round {round_no}/{args.repeat} {name}: {summary} "
                      f"[{time.perf_counter() - round_start:.0f} s, total "
                      f"{time.perf_counter() - t0:.0f} s]", flush=True)
                for sample in samples:
                    if not sample.ok:
                        problems.append(f"round {round_no} {name} {sample.kind}: {sample.problem}")
                        print(f"  PROBLEM: {problems[-1]}", flush=True)
        elapsed = time.perf_counter() - t0
        code["end"] = code_fingerprint()
        if code["end"] != code["start"]:
            problems.append("the project's code changed during the run (fingerprint "
                            f"{code['start']} -> {code['end']}); rerun the benchmark")
        text = write_results(Path(args.out), args=args, variants=variants, command=command,
                             facts_start=facts_start, facts_end=machine_facts(), code=code,
                             sandbox=sandbox, baselines=baselines, results=results, started=started,
                             elapsed_s=elapsed, problems=problems)
        print(text)
        print(f"written to {args.out} ({elapsed / 60:.1f} min)")
        return 1 if problems else 0
    finally:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
