"""The cost of a no-change poll per source: requests and milliseconds.

    python bench/bench_poll.py [--reruns R] [--baseline-runs K] [--sources a,b] [--out bench/RESULTS.md]

A script, not a test (pytest never collects bench/). For every source of the shipped config
(config/harvester.toml) whose kind is in the registry (`harvester.sources.known_kinds()`) and
that the sandbox stands in for, against the sandbox's DEFAULT scenario served from its own
process (multiprocessing, spawn): one backfill `harvester run --source NAME` into a shared
catalog, then R no-change reruns of each source, interleaved, each a fresh subprocess. A rerun's
requests come from the catalog's `runs` table, cross-checked against the sandbox's request log;
its time is the wall time around the process, with the interpreter-start baselines measured in
the same run (as bench/bench.py does). Kinds without a config block or a sandbox archive are
listed as skipped, so the script needs no change as sources are added. Writes the "poll"
section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section  # noqa: E402
from sandbox_process import SandboxProcess as SharedSandbox  # noqa: E402

from bench import (  # noqa: E402  (bench/ is a folder of scripts)
    PYTHON,
    code_fingerprint,
    fmt,
    git_facts,
    harvester_env,
    machine_facts,
    med,
    python_baselines,
    read_runs,
    run_measured,
)

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------- the sandbox, in its own process


class DefaultSandbox(SharedSandbox):
    def __init__(self) -> None:
        super().__init__("harvester.sandbox:default_scenario", name="poll-sandbox", start_timeout=120)


# ---------------------------------------------------------------- which sources, with what config


@dataclass
class Plan:
    sources: dict[str, str] = field(default_factory=dict)      # name -> kind, to measure
    disabled: list[str] = field(default_factory=list)          # measured, though off when shipped
    skipped: dict[str, str] = field(default_factory=dict)      # kind or name -> why not measured


def plan_sources(base_urls: dict[str, str], only: list[str] | None) -> tuple[Plan, dict[str, Any]]:
    """The sources to measure, and the shipped config's raw TOML they come from."""
    from harvester.config import default_config_path, load_config, read_toml
    from harvester.sources import known_kinds

    config = load_config(str(default_config_path()))
    plan = Plan()
    for kind in known_kinds():
        names = [n for n, s in config.sources.items() if s.kind == kind]
        if not names:
            plan.skipped[kind] = "no block of this kind in config/harvester.toml"
        for name in names:
            if only and name not in only:
                continue
            if name not in base_urls and kind not in base_urls:
                plan.skipped[name] = f"the sandbox has no archive for kind {kind!r}"
                continue
            plan.sources[name] = kind
            if not config.sources[name].enabled:
                plan.disabled.append(name)
    return plan, read_toml(default_config_path())


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def config_text(shipped: dict[str, Any], plan: Plan, base_urls: dict[str, str], catalog: str) -> str:
    """The shipped config's target, http and source blocks, with only the catalog, the rate
    limit and the base URLs changed."""
    lines = ["# written by bench/bench_poll.py: the shipped config/harvester.toml, except the catalog,",
             "# [http] rate_limit (the sandbox is local; 2/s would measure sleeping) and the base URLs",
             "[catalog]", f"path = {json.dumps(catalog)}", ""]
    http = dict(shipped.get("http", {}), rate_limit=1000)
    for table, values in (("target", shipped.get("target", {})), ("http", http)):
        lines.append(f"[{table}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
        lines.append("")
    for name, kind in plan.sources.items():
        block = dict(shipped["sources"][name])
        block["base_url"] = base_urls.get(name, base_urls.get(kind))
        lines.append(f"[sources.{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in block.items()]
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- measuring


@dataclass
class Poll:
    source: str
    kind: str
    wall_s: float
    ok: bool
    run: dict[str, Any]
    logged: int
    problem: str = ""


def poll(sandbox: DefaultSandbox, config: Path, catalog: str, source: str, kind: str, env: dict[str, str],
         workdir: Path, *, expect_no_change: bool) -> Poll:
    after = read_runs(catalog)[2] if Path(catalog).exists() else 0
    sandbox.clear_requests()
    argv = [PYTHON, "-m", "harvester.cli", "run", "--config", str(config), "--source", source]
    proc = run_measured(argv, env=env, cwd=str(workdir), timeout=600)
    runs = read_runs(catalog, after)[0] if Path(catalog).exists() else {}
    run = runs.get(source, {})
    sample = Poll(source, kind, proc.wall_s, proc.returncode == 0 and run.get("status") == "ok", run,
                  sandbox.requests_logged())
    if not sample.ok:
        sample.problem = (f"exit {proc.returncode}; {run.get('status')} {run.get('error') or ''}; "
                          f"{proc.stderr.strip()[-300:]}")
    elif run.get("requests") != sample.logged:
        sample.ok = False
        sample.problem = f"runs.requests {run.get('requests')} but the sandbox logged {sample.logged}"
    elif expect_no_change and (run.get("new") or run.get("updated") or run.get("released")):
        sample.ok = False
        sample.problem = f"not a no-change poll: {run.get('new')} new, {run.get('updated')} updated"
    return sample


def measure(sandbox: DefaultSandbox, plan: Plan, shipped: dict[str, Any], reruns: int,
            workdir: Path) -> tuple[dict[str, Poll], dict[str, list[Poll]], str]:
    catalog = str(workdir / "poll.db")
    config = workdir / "poll.toml"
    text = config_text(shipped, plan, sandbox.base_urls, catalog)
    config.write_text(text)
    env = harvester_env(sandbox.clock)
    backfills = {}
    for name, kind in plan.sources.items():
        backfills[name] = poll(sandbox, config, catalog, name, kind, env, workdir, expect_no_change=False)
        print(f"backfill {name}: {backfills[name].run.get('requests')} requests, "
              f"{backfills[name].run.get('new')} new, {backfills[name].wall_s:.2f} s"
              + (f" PROBLEM {backfills[name].problem}" if not backfills[name].ok else ""), flush=True)
    samples: dict[str, list[Poll]] = {name: [] for name in plan.sources}
    for round_no in range(1, reruns + 1):
        # Round-robin, so drift in the machine's load falls on every source alike.
        for name, kind in plan.sources.items():
            samples[name].append(poll(sandbox, config, catalog, name, kind, env, workdir, expect_no_change=True))
        print(f"round {round_no}/{reruns}: " + ", ".join(
            f"{n} {s[-1].run.get('requests')} req {s[-1].wall_s * 1000:.0f} ms" for n, s in samples.items()),
            flush=True)
    text = text.replace(catalog, "/tmp/harvester-poll-XXXX/poll.db")
    for url in sandbox.base_urls.values():
        text = text.replace(url, url.replace(sandbox.url, "http://127.0.0.1:PORT"))
    return backfills, samples, text


# ---------------------------------------------------------------- the report


def report(*, command: str, started: datetime, elapsed_s: float, facts: dict[str, str], load_end: str,
           code: dict[str, str], sandbox: DefaultSandbox, plan: Plan, config_shown: str,
           baselines: dict[str, list[float]], backfills: dict[str, Poll],
           samples: dict[str, list[Poll]], reruns: int) -> tuple[str, list[str]]:
    held = ", ".join(f"{archive} {n}" for archive, n in sandbox.info["products"].items())
    base_pass = med(baselines["python -c pass"])
    base_import = med(baselines["python -c 'import harvester.cli.main'"])
    problems = [f"{p.source} backfill: {p.problem}" for p in backfills.values() if not p.ok]
    problems += [f"{p.source} rerun: {p.problem}" for polls in samples.values() for p in polls if not p.ok]
    if code["start"] != code["end"]:
        problems.append(f"the project's code changed during the run ({code['start']} -> {code['end']})")
    lines = ["## Poll: the cost of a no-change poll per source", "",
             f"Written by `bench/bench_poll.py` on {started:%Y-%m-%d %H:%M} UTC in {elapsed_s / 60:.1f} min. "
             "Command:", "", "```sh", command, "```", "",
             f"- **Machine:** nproc {facts['nproc']} ({facts['cpu']}); Python {facts['python']}, SQLite "
             f"{facts['sqlite']}; {facts['bytecode']}. Load average at the start {facts['load']}, at the end "
             f"{load_end}.",
             f"- **Code measured:** {code['git']}; fingerprint {code['start']}"
             + (" (unchanged during the run)." if code["start"] == code["end"] else " (CHANGED during the run)."),
             f"- **Scenario:** the packaged default scenario (`default_scenario()`: {held} records), clock "
             f"{sandbox.clock} (`HARVESTER_NOW` of every run), served by the sandbox in its own process.",
             f"- **Method:** one backfill per source (`harvester run --source NAME`) into one catalog, then "
             f"{reruns} no-change reruns of each source, round-robin, each a fresh subprocess. Requests are "
             "`runs.requests` and equal the sandbox's own log (else listed below as a problem). Wall is taken "
             "around the process (interpreter start, imports, config, catalog open, lock, the after-harvest "
             "hooks included); **beyond start** subtracts the median of `python -c 'import harvester.cli.main'` "
             "measured in the same run. Medians, with min..max.",
             f"- **Baselines** (median of {len(baselines['python -c pass'])}): `python -c pass` "
             f"{base_pass * 1000:.0f} ms, `python -c 'import harvester.cli.main'` {base_import * 1000:.0f} ms.",
             "- **Once a day, not per poll:** a backfill's requests include the lookups a source makes at "
             "most once per day and keeps in its cursor: PDS its target context products "
             "(`context_refresh_hours`), PSA `TAP_SCHEMA.columns` (`columns_refresh_hours`), MAST its "
             "name-free queries (`queries_every_hours`). The reruns run at the backfill's clock, so they "
             "show the poll between two such lookups.",
             "- **Noise:** the machine is shared (see the load averages); wall times swing with it, "
             "request counts do not. Compare requests across runs, and milliseconds only within one.",
             "", "| source (kind) | backfill: requests / products | poll requests | poll wall, ms | "
             "beyond start, ms | records re-read |", "| --- | --- | --- | --- | --- | --- |"]
    for name, kind in plan.sources.items():
        polls = [p for p in samples[name] if p.ok]
        back = backfills[name]
        label = f"`{name}` ({kind})" if name != kind else f"`{name}`"
        if name in plan.disabled:
            label += ", off in the shipped config"
        if not polls:
            lines.append(f"| {label} | {back.run.get('requests', 'n/a')} / {back.run.get('new', 'n/a')} | "
                         "failed | | | |")
            continue
        walls = [p.wall_s * 1000 for p in polls]
        requests = [p.run["requests"] for p in polls]
        records = [p.run.get("records", 0) for p in polls]
        lines.append(
            f"| {label} | {back.run.get('requests')} / {back.run.get('new')} | "
            f"{fmt(med(requests), 0)} ({min(requests)}..{max(requests)}) | "
            f"{med(walls):.0f} ({min(walls):.0f}..{max(walls):.0f}) | {med(walls) - base_import * 1000:.0f} | "
            f"{fmt(int(med(records)))} |")
    lines.append("")
    if plan.skipped:
        lines.append("Not measured: " + "; ".join(f"`{k}`: {why}" for k, why in plan.skipped.items()) + ".")
        lines.append("")
    lines += ["The config of every run (port and paths vary):", "", "```toml", config_shown.strip(), "```", ""]
    if problems:
        lines += ["### Problems during the run", ""] + [f"- {p}" for p in problems] + [""]
    return "\n".join(lines), problems


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=7, help="no-change polls per source (medians reported)")
    parser.add_argument("--baseline-runs", type=int, default=7, help="runs of each interpreter-start baseline")
    parser.add_argument("--sources", default="", help="comma-separated source names (default: every one)")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"), help="results file (its 'poll' section)")
    args = parser.parse_args(argv)
    if args.reruns < 1 or args.baseline_runs < 1:
        parser.error("--reruns and --baseline-runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    typed = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python bench/bench_poll.py", *(shlex.quote(a) for a in typed)])
    if not typed:
        command += f"    # the defaults: --reruns {args.reruns} --baseline-runs {args.baseline_runs}"
    started, t0 = datetime.now(UTC), time.perf_counter()
    facts = machine_facts()
    code = {"git": git_facts(), "start": code_fingerprint()}
    workdir = Path(tempfile.mkdtemp(prefix="harvester-poll-"))
    sandbox = DefaultSandbox()
    try:
        only = [s for s in args.sources.split(",") if s] or None
        plan, shipped = plan_sources(sandbox.base_urls, only)
        print(f"sandbox {sandbox.url}, clock {sandbox.clock}; measuring {', '.join(plan.sources) or 'nothing'}"
              + (f"; skipped {', '.join(plan.skipped)}" if plan.skipped else ""), flush=True)
        if not plan.sources:
            print("no source to measure")
            return 1
        baselines = python_baselines(args.baseline_runs)
        backfills, samples, config_shown = measure(sandbox, plan, shipped, args.reruns, workdir)
        code["end"] = code_fingerprint()
        text, problems = report(
            command=command, started=started, elapsed_s=time.perf_counter() - t0, facts=facts,
            load_end=machine_facts()["load"], code=code, sandbox=sandbox, plan=plan, config_shown=config_shown,
            baselines=baselines, backfills=backfills, samples=samples, reruns=args.reruns)
        write_section(Path(args.out), "poll", text)
        print(text)
        print(f"written to {args.out}")
        return 1 if problems else 0
    finally:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
