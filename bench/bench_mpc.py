"""MPC astrometry: a backfill of N observations from the sandbox, and what a no-change poll costs
with and without the short-circuit. Writes the "mpc" section of bench/RESULTS.md.

    python bench/bench_mpc.py [--observations 20000] [--repeat 3] [--polls 3] [--out bench/RESULTS.md]

get-obs answers the whole observation set every time, so a poll that finds nothing new still
receives it, unless the server answers 304 to If-None-Match. Three ways to poll are measured
on the catalog each backfill filled:
  304    the default: If-None-Match with the stored ETag; the sandbox answers 304, no body
  hash   conditional_requests = false (a server without ETags): the whole answer comes, its
         SHA-256 equals the stored one, nothing is parsed or normalized
  full   `--full` (the cursor ignored): the answer parsed, every observation normalized and
         compared with the catalog: what every poll would cost without the short-circuit

The sandbox runs in its own process (spawn). Each harvest is a fresh subprocess running this
script with --child, which times `harvester.engine.harvest` itself (perf_counter, so the
figure excludes interpreter start; the after-harvest hooks of the watch and alerts are left
out) and prints the run results; wall time and peak RSS
(os.wait4) are taken around the process. Requests come from the runs and are checked against
the sandbox's own log. Medians of all samples, all listed.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from sandbox_process import SandboxProcess as SharedSandbox  # noqa: E402

PYTHON = sys.executable
POLL_KINDS = ("304", "hash", "full")


# ---------------------------------------------------------------- the child: one timed harvest


def child(config_path: str, full: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from harvester import engine
    from harvester.config import load_config

    # The after-harvest hooks (watch, alerts) read the whole catalog whatever the source did:
    # not the MPC's cost, and not what this benchmark compares.
    engine.after_harvest = lambda *args: None
    config = load_config(config_path)
    started = time.perf_counter()
    report = engine.harvest(config, full=full)
    seconds = time.perf_counter() - started
    results = [{k: getattr(r, k) for k in ("source", "status", "requests", "pages", "records", "new",
                                           "updated", "rejected", "error")} for r in report.results]
    print(json.dumps({"seconds": seconds, "results": results}))


# ---------------------------------------------------------------- the sandbox, in its own process


class SandboxProcess(SharedSandbox):
    def __init__(self, observations: int, seed: int) -> None:
        super().__init__("harvester.sandbox.generate_mpc:generate_mpc_scenario",
                         {"observations": observations, "seed": seed}, name="bench-mpc-sandbox")
        self.info["mpc"] = self.base_urls["mpc"]

    def mpc_requests(self, clear: bool = False) -> int:
        counts = self.control("DELETE" if clear else "GET", "requests")["counts"]
        return counts.get("/mpc", 0)

    def answer(self) -> tuple[int, str | None]:
        """Size and ETag of the get-obs answer (a GET with a JSON body, as the harvester sends)."""
        body = json.dumps({"desigs": ["3I"], "output_format": ["ADES_DF"]}).encode()
        request = urllib.request.Request(self.info["mpc"] + "/api/get-obs", data=body, method="GET",
                                         headers={"Content-Type": "application/json"})
        with self._opener.open(request, timeout=60) as reply:
            return len(reply.read()), reply.headers.get("ETag")



# ---------------------------------------------------------------- measuring


def config_text(mpc_url: str, catalog: str, *, conditional: bool) -> str:
    return f"""# written by bench/bench_mpc.py; everything not set here is the project's default
[catalog]
path = "{catalog}"

[sources.mpc]
base_url = "{mpc_url}"
conditional_requests = {str(conditional).lower()}
"""


def harvest(sandbox: SandboxProcess, config: str, *, full: bool = False) -> dict[str, Any]:
    from bench import harvester_env, run_measured

    argv = [PYTHON, str(Path(__file__).resolve()), "--child", config] + (["--full"] if full else [])
    sandbox.mpc_requests(clear=True)
    proc = run_measured(argv, env=harvester_env(sandbox.info["clock"]), timeout=900)
    seen = sandbox.mpc_requests()
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"harvest failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}")
    sample = json.loads(lines[-1])
    (result,) = sample["results"]
    if result["status"] != "ok" or result["requests"] != seen:
        raise RuntimeError(f"run {result} but the sandbox logged {seen} get-obs requests")
    sample.update(result, wall_s=proc.wall_s, rss_mib=proc.maxrss_kib / 1024)
    return sample


def measure(sandbox: SandboxProcess, workdir: Path, repeat: int, polls: int) -> dict[str, list[dict]]:
    samples: dict[str, list[dict]] = {"backfill": [], **{kind: [] for kind in POLL_KINDS}}
    for round_number in range(repeat):
        catalog = str(workdir / f"catalog-{round_number}.db")
        conditional = workdir / f"mpc-{round_number}.toml"
        hashed = workdir / f"mpc-{round_number}-hash.toml"
        conditional.write_text(config_text(sandbox.info["mpc"], catalog, conditional=True))
        hashed.write_text(config_text(sandbox.info["mpc"], catalog, conditional=False))
        samples["backfill"].append(harvest(sandbox, str(conditional)))
        for _ in range(polls):  # interleaved, so drift hits every kind alike
            samples["304"].append(harvest(sandbox, str(conditional)))
            samples["hash"].append(harvest(sandbox, str(hashed)))
            samples["full"].append(harvest(sandbox, str(conditional), full=True))
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(catalog + suffix).unlink(missing_ok=True)
    return samples


# ---------------------------------------------------------------- writing


def med(values: list[float]) -> float:
    return statistics.median(values)


def listed(values: list[float], digits: int = 0) -> str:
    return ", ".join(f"{v:,.{digits}f}" for v in values)


def section(args: argparse.Namespace, command: str, sandbox: SandboxProcess, size: int, etag: str | None,
            samples: dict[str, list[dict]], started: datetime, elapsed_s: float) -> str:
    from bench import code_fingerprint, machine_facts

    facts = machine_facts()
    backfill = samples["backfill"]
    stored = [s["new"] for s in backfill]
    rate = [s["new"] / s["seconds"] for s in backfill]
    lines = [
        "## MPC astrometry: backfill and the cost of a no-change poll",
        "",
        f"Written by `bench/bench_mpc.py` on {started:%Y-%m-%d %H:%M} UTC in {elapsed_s / 60:.1f} min. Command:",
        "",
        "```sh",
        command,
        "```",
        "",
        f"- **Machine:** nproc {facts['nproc']} ({facts['cpu']}); Python {facts['python']}, SQLite "
        f"{facts['sqlite']}; {facts['bytecode']}; load average at the end {facts['load']}.",
        f"- **Code measured:** {code_facts()}; fingerprint of harvester/, catalog/, config/ "
        f"{code_fingerprint()}.",
        f"- **Scenario:** `generate_mpc_scenario({args.observations}, seed={args.seed})`, clock "
        f"{sandbox.info['clock']}; the get-obs answer for 3I is {size / 1e6:.1f} MB of JSON "
        f"(ETag {'sent' if etag else 'not sent'}). The sandbox runs in its own process (built in "
        f"{sandbox.info['build_s']:.1f} s).",
        "- **Config:** the project's defaults for `[sources.mpc]` (rate limit 5/s, page_size 5000) "
        "with the sandbox's base URL; `conditional_requests = false` for the hash row.",
        f"- **Method:** {args.repeat} backfills, each into an empty catalog, each followed by {args.polls} "
        "rounds of the three polls on the catalog it filled. Every harvest is a fresh subprocess; "
        "'harvest ms' is `harvester.engine.harvest` timed inside it (no interpreter start; the "
        "watch and alerts hooks left out), 'wall' is around the whole process. Requests come from the "
        "runs table and equal the sandbox's log. "
        "Medians; all samples listed.",
        "",
        "| figure | median | all samples |",
        "| --- | --- | --- |",
        f"| backfill: observations stored | {med(stored):,.0f} | {listed(stored)} |",
        f"| backfill: harvest seconds | {med([s['seconds'] for s in backfill]):.2f} | "
        f"{listed([s['seconds'] for s in backfill], 2)} |",
        f"| backfill: observations/s (stored / harvest seconds) | {med(rate):,.0f} | {listed(rate)} |",
        f"| backfill: wall, s | {med([s['wall_s'] for s in backfill]):.2f} | "
        f"{listed([s['wall_s'] for s in backfill], 2)} |",
        f"| backfill: peak RSS, MiB | {med([s['rss_mib'] for s in backfill]):.1f} | "
        f"{listed([s['rss_mib'] for s in backfill], 1)} |",
        f"| backfill: requests / pages | {med([s['requests'] for s in backfill]):.0f} / "
        f"{med([s['pages'] for s in backfill]):.0f} | |",
        "",
        "| no-change poll | requests | records normalized | harvest ms (median) | harvest ms (all) "
        "| wall s | peak RSS MiB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    labels = {"304": "304: If-None-Match (default)", "hash": "hash: same SHA-256, no ETag",
              "full": "none: `--full`, all normalized"}
    for kind in POLL_KINDS:
        rows = samples[kind]
        ms = [s["seconds"] * 1000 for s in rows]
        lines.append(
            f"| {labels[kind]} | {med([s['requests'] for s in rows]):.0f} | "
            f"{med([s['records'] for s in rows]):,.0f} | {med(ms):,.1f} | {listed(ms, 1)} | "
            f"{med([s['wall_s'] for s in rows]):.2f} | {med([s['rss_mib'] for s in rows]):.1f} |")
        changed = sum(s["new"] + s["updated"] for s in rows)
        if changed:
            lines.append(f"| ({kind}: {changed} products new or updated, expected none) | | | | | | |")
    full_ms = med([s["seconds"] for s in samples["full"]])
    lines += [
        "",
        f"The short-circuit makes a no-change poll {full_ms / med([s['seconds'] for s in samples['304']]):,.0f}x "
        f"cheaper with a 304 and {full_ms / med([s['seconds'] for s in samples['hash']]):,.0f}x with the hash "
        "alone (the whole answer still crosses the network and is hashed, but nothing is parsed, "
        "normalized or compared).",
    ]
    return "\n".join(lines)


def code_facts() -> str:
    """HEAD and how many files of the measured code differ from it (read-only git)."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True,
                                  text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = len(git("status", "--porcelain", "--", "harvester", "catalog", "config").splitlines())
    return f"commit {head}" + (f" with {changed} files changed since" if changed else " (clean)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--observations", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3, help="backfills (each with its polls)")
    parser.add_argument("--polls", type=int, default=3, help="rounds of the three polls per backfill")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--child", metavar="CONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--full", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args.child, args.full)
        return 0
    from results import write_section

    command = "python bench/bench_mpc.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    started = datetime.now(UTC)
    clock = time.perf_counter()
    sandbox = SandboxProcess(args.observations, args.seed)
    try:
        size, etag = sandbox.answer()  # also warms the sandbox's cached answer
        with tempfile.TemporaryDirectory(prefix="harvester-bench-mpc-") as workdir:
            samples = measure(sandbox, Path(workdir), args.repeat, args.polls)
        text = section(args, command.strip(), sandbox, size, etag, samples, started,
                       time.perf_counter() - clock)
    finally:
        sandbox.stop()
    write_section(args.out, "mpc", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
