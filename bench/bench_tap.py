"""TAP sources against the sandbox: a PSA backfill of 50,000 granules, pyvo as the peer fetching
the same rows, and the no-change rerun cost of PSA and of one ObsCore source.

    python bench/bench_tap.py [--psa N] [--obscore M] [--repeat K] [--reruns R] [--out bench/RESULTS.md]

A script, not a test. The sandbox runs in its own process (multiprocessing, spawn); every harvest
and every peer run is its own subprocess, timed around the process, with peak RSS from os.wait4.
The peer (this file run with --peer) is pyvo's `TAPService.run_sync` sending the very ADQL the
PSA source sends (same keyset pages, MAXREC = the source's page_size) and reading every row of
every answer; it stores nothing, so the ratio is the harvester's whole run (fetch, parse,
normalize, store) against fetch and parse alone. Harvests and peer runs alternate in each round,
so drift hits both; each figure is the median of K rounds, all runs listed. Writes the "tap"
section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))
from results import write_section  # noqa: E402  (bench/ is a folder of scripts)
from sandbox_process import SandboxProcess as SharedSandbox  # noqa: E402

PYTHON = sys.executable
TIMEOUT = 900.0
OBSCORE_SOURCE = "eso"


# ---------------------------------------------------------------- the sandbox, in its own process


class SandboxProcess(SharedSandbox):
    def __init__(self, psa: int, obscore: int, seed: int) -> None:
        super().__init__("harvester.sandbox.generate_tap:generate_tap_scenario",
                         {"psa": psa, "obscore": obscore, "seed": seed}, name="bench-tap-sandbox")

    def request_counts(self) -> dict[str, int]:
        counts = self.path_counts()
        return {"psa": counts.get("/psa-tap", 0), OBSCORE_SOURCE: counts.get("/obscore", 0)}


# ---------------------------------------------------------------- measured subprocesses


@dataclass
class Sample:
    kind: str
    wall_s: float
    maxrss_kib: int
    ok: bool
    stdout: str = ""
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: int = 0
    sandbox_requests: dict[str, int] = field(default_factory=dict)
    peer: dict[str, Any] = field(default_factory=dict)
    problem: str = ""


def run_measured(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, int, int, str, str]:
    """(wall seconds, peak RSS KiB, exit status, stdout, stderr) of argv as a child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        reaped = threading.Event()
        timer = threading.Timer(TIMEOUT, lambda: None if reaped.is_set() else proc.kill())
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            reaped.set()
            timer.cancel()
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return (wall, int(usage.ru_maxrss), os.waitstatus_to_exitcode(status),
                out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def clean_env(clock: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    if clock:
        env["HARVESTER_NOW"] = clock
    return env


def config_text(base_urls: dict[str, str], catalog: str, psa_format: str) -> str:
    return f"""# written by bench/bench_tap.py; everything not set here is the project's default
[catalog]
path = "{catalog}"

[http]
rate_limit = 1000          # the sandbox is local; the default of 2/s would measure sleeping

[sources.psa]
base_url = "{base_urls['psa']}"
format = "{psa_format}"

[sources.{OBSCORE_SOURCE}]
kind = "obscore"
base_url = "{base_urls[OBSCORE_SOURCE]}"
"""


def read_runs(catalog: str, after_id: int) -> tuple[dict[str, dict[str, Any]], int, int]:
    conn = sqlite3.connect(catalog)
    conn.row_factory = sqlite3.Row
    try:
        runs = {r["source"]: dict(r) for r in conn.execute(
            "SELECT id, source, status, requests, pages, records, new, released, rejected, error "
            "FROM runs WHERE id > ? ORDER BY id", (after_id,))}
        products = conn.execute("SELECT count(*) FROM products").fetchone()[0]
        last = conn.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0]
    finally:
        conn.close()
    return runs, products, last


_SUMMARY = re.compile(r"^(?P<source>[\w.-]+): (?P<status>\w+): .*?, (?P<seconds>[\d.]+) s(?: - .*)?$")


def summary_seconds(stdout: str) -> dict[str, float]:
    return {m["source"]: float(m["seconds"]) for m in map(_SUMMARY.match, stdout.splitlines()) if m}


class Bench:
    def __init__(self, sandbox: SandboxProcess, workdir: Path) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        self.env = clean_env(sandbox.clock)
        self._serial = 0

    def new_catalog(self, psa_format: str) -> tuple[str, str]:
        self._serial += 1
        catalog = str(self.workdir / f"catalog-{self._serial}.db")
        config = self.workdir / f"bench-{self._serial}.toml"
        config.write_text(config_text(self.sandbox.base_urls, catalog, psa_format))
        return str(config), catalog

    def drop(self, catalog: str) -> None:
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(catalog + suffix).unlink(missing_ok=True)

    def harvest(self, kind: str, config: str, catalog: str, source: str) -> Sample:
        after = read_runs(catalog, 0)[2] if Path(catalog).exists() else 0
        self.sandbox.clear_requests()
        wall, rss, status, out, err = run_measured(
            [PYTHON, "-m", "harvester.cli", "run", "--config", config, "--source", source],
            self.env, str(self.workdir))
        sample = Sample(kind=kind, wall_s=wall, maxrss_kib=rss, ok=status == 0, stdout=out,
                        sandbox_requests=self.sandbox.request_counts())
        if Path(catalog).exists():
            sample.runs, sample.products, _ = read_runs(catalog, after)
        run = sample.runs.get(source)
        if status != 0 or run is None or run["status"] != "ok":
            sample.ok = False
            sample.problem = f"exit {status}; {run and run['error']}; {err.strip()[-400:]}"
        elif run["requests"] != sample.sandbox_requests.get(source):
            sample.ok = False
            sample.problem = (f"{source}: runs.requests {run['requests']} but the sandbox logged "
                              f"{sample.sandbox_requests.get(source)}")
        return sample

    def peer(self, page_size: int) -> Sample:
        from harvester.sources.psa import Settings

        query = _bare_psa(Settings()).query(None, None)
        spec = {"url": self.sandbox.base_urls["psa"], "table": query.table, "where": query.where,
                "order": query.order, "maxrec": page_size}
        self.sandbox.clear_requests()
        wall, rss, status, out, err = run_measured([PYTHON, str(Path(__file__).resolve()), "--peer",
                                                    json.dumps(spec)], clean_env(), str(self.workdir))
        sample = Sample(kind="peer", wall_s=wall, maxrss_kib=rss, ok=status == 0,
                        sandbox_requests=self.sandbox.request_counts())
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if status == 0 and lines:
            sample.peer = json.loads(lines[-1])
        else:
            sample.ok = False
            sample.problem = f"peer exit {status}; {err.strip()[-600:]}"
        return sample


def _bare_psa(settings: Any) -> Any:
    """A PsaSource with only settings, enough to build its query (no HTTP, no catalog)."""
    from harvester.sources.psa import PsaSource

    source = PsaSource.__new__(PsaSource)
    source.settings = settings
    return source


# ---------------------------------------------------------------- the peer (run as a subprocess)


def peer_main(spec_json: str) -> int:
    """pyvo fetching every row the PSA source fetches, with the same ADQL and MAXREC."""
    import warnings

    import pyvo
    import requests

    from harvester.sources.tap import TapQuery

    spec = json.loads(spec_json)
    query = TapQuery(table=spec["table"], where=spec["where"], order=spec["order"])
    session = requests.Session()
    session.trust_env = False
    service = pyvo.dal.TAPService(spec["url"], session=session)
    rows = requests_made = 0
    after = None
    started = time.perf_counter()
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = service.run_sync(query.adql(after), maxrec=spec["maxrec"])
        requests_made += 1
        table = result.to_table()
        rows += len(table)
        if len(table) < spec["maxrec"] and result.status[0] != "OVERFLOW":
            break
        last = table[-1]
        after = [str(last[c]) for c in spec["order"]]
    print(json.dumps({"rows": rows, "requests": requests_made, "pyvo": pyvo.__version__,
                      "seconds": time.perf_counter() - started}))
    return 0


# ---------------------------------------------------------------- the plan


def one_round(bench: Bench, page_size: int, reruns: int, with_votable: bool) -> list[Sample]:
    samples = []
    config, catalog = bench.new_catalog("json")
    samples.append(bench.harvest("backfill", config, catalog, "psa"))
    samples.append(bench.peer(page_size))
    for _ in range(reruns):
        samples.append(bench.harvest("rerun", config, catalog, "psa"))
    samples.append(bench.harvest("obscore-backfill", config, catalog, OBSCORE_SOURCE))
    for _ in range(reruns):
        samples.append(bench.harvest("obscore-rerun", config, catalog, OBSCORE_SOURCE))
    bench.drop(catalog)
    if with_votable:
        config, catalog = bench.new_catalog("votable")
        samples.append(bench.harvest("backfill-votable", config, catalog, "psa"))
        bench.drop(catalog)
    return samples


def med(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def runs_of(values: Sequence[float], digits: int = 2) -> str:
    return ", ".join(fmt(v, digits) for v in values)


def mib(kib: float) -> float:
    return kib / 1024.0


def machine_facts() -> dict[str, str]:
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    versions = {}
    for name in ("pyvo", "astropy"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = "not installed"
    return {"nproc": str(os.cpu_count()), "platform": platform.platform(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "pyvo": versions["pyvo"], "astropy": versions["astropy"], "load": load}


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "harvester", "catalog", "config"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit} ({'uncommitted changes in harvester/, catalog/ or config/' if dirty else 'clean'})"


def write_results(path: Path, *, args: argparse.Namespace, command: str, facts: tuple[dict, dict],
                  sandbox: SandboxProcess, samples: list[Sample], page_size: int, started: datetime,
                  elapsed_s: float, problems: list[str]) -> str:
    def kind(name: str) -> list[Sample]:
        return [s for s in samples if s.kind == name and s.ok]

    backfills, peers = kind("backfill"), kind("peer")
    votables, reruns = kind("backfill-votable"), kind("rerun")
    ob_backfills, ob_reruns = kind("obscore-backfill"), kind("obscore-rerun")
    fetched = [s.runs["psa"]["records"] for s in backfills]
    rates = [s.runs["psa"]["records"] / s.wall_s for s in backfills]
    peer_rates = [s.peer["rows"] / s.wall_s for s in peers]
    ratios = [h / p for h, p in zip(rates, peer_rates, strict=False)]
    start, end = facts
    lines = [
        "## TAP: ESA PSA backfill, pyvo peer, no-change reruns of PSA and ObsCore",
        "",
        f"Written by `bench/bench_tap.py` on {started:%Y-%m-%d %H:%M} UTC; it took "
        f"{elapsed_s / 60:.1f} min. Command:",
        "",
        "```sh",
        command,
        "```",
        "",
        f"- **Machine:** nproc {start['nproc']}, {start['platform']}; Python {start['python']}, SQLite "
        f"{start['sqlite']}, pyvo {start['pyvo']}, astropy {start['astropy']}. Load average (1/5/15 min) "
        f"at the start {start['load']}, at the end {end['load']} (the machine is shared: other work "
        "ran alongside, so absolute times are noisy; the ratio is measured round by round).",
        f"- **Code measured:** commit {git_commit()}.",
        f"- **Scenario:** `generate_tap_scenario(psa={args.psa}, obscore={args.obscore}, seed={args.seed})`, "
        f"clock {sandbox.clock} (`HARVESTER_NOW` of every harvest); PSA granules in deliveries of 50 "
        "sharing a creation date, about 10% decoys, 20% embargoed six months, 2% under the 2099 "
        f"placeholder. The sandbox runs in its own process; it built in {sandbox.info['build_s']:.1f} s.",
        f"- **Config:** the project's defaults (PSA `page_size` {page_size}, `format = \"json\"`, "
        "look-back 7 d; ObsCore look-back 30 d) except `[http] rate_limit = 1000` and the sandbox URLs; "
        f"the ObsCore source is `[sources.{OBSCORE_SOURCE}]` (`kind = \"obscore\"`, VOTable answers).",
        f"- **Method:** {args.repeat} round(s); each: a PSA backfill into a fresh catalog "
        "(`harvester run --source psa`, a subprocess), the pyvo peer (a subprocess), "
        f"{args.reruns} no-change PSA rerun(s), an ObsCore backfill and {args.reruns} no-change "
        "ObsCore rerun(s) on the same catalog" + (", and a PSA backfill with `format = \"votable\"`"
        if args.votable else "") + ". Wall time is around the whole process (interpreter start and "
        "imports included); peak RSS is `ru_maxrss` from `os.wait4`. Requests come from the catalog's "
        "`runs` table and were checked against the sandbox's own request log. **Peer:** pyvo's "
        "`TAPService.run_sync` with the very ADQL of the PSA source (same keyset pages, `maxrec` = "
        f"{page_size}), VOTable answers read into an astropy table; it stores nothing, so the ratio "
        "sets the harvester's whole run (fetch, parse, normalize, store in SQLite with events) "
        "against fetch and parse alone.",
        "",
        "| figure | median | runs / notes |",
        "| --- | --- | --- |",
        f"| PSA backfill: wall time, s | {fmt(med([s.wall_s for s in backfills]))} | "
        f"{runs_of([s.wall_s for s in backfills])} |",
        f"| rows fetched (runs.records) / products stored | {fmt(med(fetched), 0)} / "
        f"{fmt(med([s.products for s in backfills]), 0)} | decoys are fetched, matched and skipped |",
        f"| rows fetched per second (harvester) | {fmt(med(rates), 0)} | {runs_of(rates, 0)} |",
        f"| HTTP requests (runs table) | {fmt(med([s.runs['psa']['requests'] for s in backfills]), 0)} | "
        f"sandbox log: {runs_of([s.sandbox_requests['psa'] for s in backfills], 0)} |",
        f"| peak RSS of the harvester, MiB | {fmt(med([mib(s.maxrss_kib) for s in backfills]), 1)} | "
        f"{runs_of([mib(s.maxrss_kib) for s in backfills], 1)} |",
        f"| harvester's own PSA seconds (summary line) | "
        f"{fmt(med([summary_seconds(s.stdout).get('psa', float('nan')) for s in backfills]))} | "
        "no interpreter start |",
        f"| peer (pyvo): wall time, s | {fmt(med([s.wall_s for s in peers]))} | "
        f"{runs_of([s.wall_s for s in peers])} |",
        f"| peer: rows, requests | {fmt(med([s.peer['rows'] for s in peers]), 0)}, "
        f"{fmt(med([s.peer['requests'] for s in peers]), 0)} | sandbox log: "
        f"{runs_of([s.sandbox_requests['psa'] for s in peers], 0)} |",
        f"| peer: rows per second | {fmt(med(peer_rates), 0)} | {runs_of(peer_rates, 0)} |",
        f"| peer's own seconds (fetch and parse, no imports) | {fmt(med([s.peer['seconds'] for s in peers]))} | "
        f"{runs_of([s.peer['seconds'] for s in peers])} |",
        f"| peer: peak RSS, MiB | {fmt(med([mib(s.maxrss_kib) for s in peers]), 1)} | "
        f"{runs_of([mib(s.maxrss_kib) for s in peers], 1)} |",
        f"| **throughput ratio harvester / pyvo** (same rows, same round) | **{fmt(med(ratios))}x** | "
        f"{runs_of(ratios)} |",
    ]
    if votables:
        lines.append(f"| PSA backfill with `format = \"votable\"`: wall, s | "
                     f"{fmt(med([s.wall_s for s in votables]))} | {runs_of([s.wall_s for s in votables])} |")
    rerun_records = [s.runs["psa"]["records"] for s in reruns]
    lines += [
        f"| **PSA no-change rerun**: requests | {fmt(med([s.runs['psa']['requests'] for s in reruns]), 0)} | "
        f"rows re-read: {fmt(med(rerun_records), 0)} (created, modified or released within the 7-day "
        "look-back; nothing new, nothing changed) |",
        f"| PSA no-change rerun: wall, ms | {fmt(1000 * med([s.wall_s for s in reruns]), 0)} | "
        f"{runs_of([1000 * s.wall_s for s in reruns], 0)}; harvester's own: "
        f"{fmt(1000 * med([summary_seconds(s.stdout).get('psa', float('nan')) for s in reruns]), 0)} ms |",
        f"| ObsCore backfill ({OBSCORE_SOURCE}, {args.obscore} rows): wall, s; requests | "
        f"{fmt(med([s.wall_s for s in ob_backfills]))}; "
        f"{fmt(med([s.runs[OBSCORE_SOURCE]['requests'] for s in ob_backfills]), 0)} | |",
        f"| **ObsCore no-change rerun**: requests | "
        f"{fmt(med([s.runs[OBSCORE_SOURCE]['requests'] for s in ob_reruns]), 0)} | rows re-read: "
        f"{fmt(med([s.runs[OBSCORE_SOURCE]['records'] for s in ob_reruns]), 0)} (release dates in the "
        "30-day look-back or the future) |",
        f"| ObsCore no-change rerun: wall, ms | {fmt(1000 * med([s.wall_s for s in ob_reruns]), 0)} | "
        f"{runs_of([1000 * s.wall_s for s in ob_reruns], 0)}; harvester's own: "
        f"{fmt(1000 * med([summary_seconds(s.stdout).get(OBSCORE_SOURCE, float('nan')) for s in ob_reruns]), 0)}"
        " ms |",
        "",
        "The harvest config (port and paths vary):",
        "",
        "```toml",
        config_text({"psa": "http://127.0.0.1:PORT/psa-tap/tap",
                     OBSCORE_SOURCE: f"http://127.0.0.1:PORT/obscore/{OBSCORE_SOURCE}/tap"},
                    "/tmp/harvester-bench-tap-XXXX/catalog-N.db", "json").rstrip(),
        "```",
    ]
    if problems:
        lines += ["", "**Problems:**", ""] + [f"- {p}" for p in problems]
    text = "\n".join(lines) + "\n"
    write_section(path, "tap", text)
    return text


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--psa", type=int, default=50_000, help="PSA granules in the scenario")
    parser.add_argument("--obscore", type=int, default=2_000, help="rows of the ObsCore service")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (medians reported)")
    parser.add_argument("--reruns", type=int, default=3, help="no-change reruns per source per round")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-votable", dest="votable", action="store_false",
                        help="skip the PSA backfill with format = \"votable\"")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    parser.add_argument("--peer", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.reruns < 1:
        parser.error("--repeat and --reruns must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.peer:
        return peer_main(args.peer)
    from harvester.sources.psa import Settings

    page_size = Settings().page_size
    typed = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python bench/bench_tap.py", *(shlex.quote(a) for a in typed)])
    if not typed:
        command += (f"    # the defaults: --psa {args.psa} --obscore {args.obscore} --repeat {args.repeat} "
                    f"--reruns {args.reruns}")
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    facts_start = machine_facts()
    workdir = Path(tempfile.mkdtemp(prefix="harvester-bench-tap-"))
    print(f"sandbox: building {args.psa:,} PSA granules + {args.obscore:,} ObsCore rows ...", flush=True)
    sandbox = SandboxProcess(args.psa, args.obscore, args.seed)
    try:
        bench = Bench(sandbox, workdir)
        samples: list[Sample] = []
        problems: list[str] = []
        # Unmeasured warm-up: the sandbox computes each query's rows once per query shape.
        one_round(bench, page_size, 1, with_votable=False)
        for round_no in range(1, args.repeat + 1):
            batch = one_round(bench, page_size, args.reruns, with_votable=args.votable)
            samples += batch
            print(f"round {round_no}/{args.repeat}: "
                  + ", ".join(f"{s.kind} {s.wall_s:.2f} s" for s in batch), flush=True)
            problems += [f"round {round_no} {s.kind}: {s.problem}" for s in batch if not s.ok]
        text = write_results(Path(args.out), args=args, command=command, facts=(facts_start, machine_facts()),
                             sandbox=sandbox, samples=samples, page_size=page_size, started=started,
                             elapsed_s=time.perf_counter() - t0, problems=problems)
        print(text)
        print(f"written to the \"tap\" section of {args.out}")
        return 1 if problems else 0
    finally:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
