"""Cadences and `harvester schedule`: due sources only, on the clock; the lock respected; the
heartbeat in `harvester status`. The clock travels (HARVESTER_NOW and the sandbox's clock move
together), the archives are the sandbox on loopback and the catalog is a real SQLite file."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from catalog import Catalog
from catalog.store import finish_run, start_run
from harvester.config import load_config
from harvester.lock import CatalogLock
from harvester.sandbox import Sandbox
from harvester.schedule.heartbeat import beat, start_heartbeat
from harvester.schedule.scheduler import CADENCE_DEFAULTS, Scheduler, cadence_of, due_now
from harvester.shutdown import GracefulStop
from harvester.timeutil import iso, parse_iso
from tests.harvest_helpers import FAST_HTTP, run_cli
from tests.scenarios import engine_scenario

START = "2025-12-01T00:00:00.000Z"
EVERY_3_HOURS = "0 */3 * * *"
DAILY = "0 0 * * *"


@pytest.fixture
def sandbox():
    with Sandbox(engine_scenario(), port=0) as sb:
        sb.set_clock(START)
        yield sb


def write_config(tmp_path: Path, sandbox: Sandbox, db: str, *, mast: str | None = EVERY_3_HOURS,
                 pds: str | None = DAILY, schedule: str = "jitter = 0") -> str:
    def cadence(value: str | None) -> str:
        return f'cadence = "{value}"' if value is not None else ""

    path = tmp_path / "harvester.toml"
    path.write_text(f"""
[catalog]
path = "{db}"
{FAST_HTTP}
[sources.mast]
base_url = "{sandbox.base_urls['mast']}"
page_size = 4
executing_interval = 0.0
{cadence(mast)}
[sources.pds]
base_url = "{sandbox.base_urls['pds']}"
page_size = 3
{cadence(pds)}
[schedule]
{schedule}
""")
    return str(path)


def runs(db: str) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT source, started_at, status FROM runs ORDER BY id").fetchall()
    finally:
        conn.close()


def starts(db: str, source: str) -> list[str]:
    return [started for name, started, _ in runs(db) if name == source]


class TimeMachine:
    """The scheduler's clock and sleep: sleeping moves HARVESTER_NOW and the sandbox's clock,
    and asks the scheduler to stop once `until` is reached."""

    def __init__(self, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, stop: GracefulStop,
                 until: str) -> None:
        self.sandbox, self.monkeypatch, self.stop = sandbox, monkeypatch, stop
        self.until = parse_iso(until)
        self.sleeps: list[float] = []
        self.on_sleep = lambda machine: None
        self.set(parse_iso(START))

    def set(self, moment: datetime) -> None:
        self.moment = moment
        self.monkeypatch.setenv("HARVESTER_NOW", iso(moment))
        self.sandbox.set_clock(moment)

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.on_sleep(self)
        self.set(self.moment + timedelta(seconds=seconds))
        if self.moment >= self.until:
            self.stop.request()


def scheduler(config_path: str, machine: TimeMachine, **kwargs) -> Scheduler:
    return Scheduler(load_config(config_path), machine.stop, clock=machine.now,
                     sleep=machine.sleep, **kwargs)


# -- cadences ---------------------------------------------------------------------------------

def test_a_source_without_cadence_gets_its_kinds_default(sandbox, tmp_path, db_path):
    config = load_config(write_config(tmp_path, sandbox, db_path, mast=None, pds="@hourly"))
    assert cadence_of(config.sources["mast"]) == CADENCE_DEFAULTS["mast"]
    assert cadence_of(config.sources["pds"]) == "@hourly"
    # the spread: MPC hourly, MAST and PDS every few hours, CNSA and ObsCore daily
    assert CADENCE_DEFAULTS["mpc"].split()[1] == "*"
    assert CADENCE_DEFAULTS["cnsa"].split()[1].isdigit()
    assert CADENCE_DEFAULTS["obscore"].split()[1].isdigit()


def test_a_bad_cadence_is_one_line_naming_the_source_and_key(sandbox, tmp_path, db_path):
    config = write_config(tmp_path, sandbox, db_path, pds="every hour")
    proc = run_cli(["run", "--due", "--config", config])
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "[sources.pds] cadence: not a cron expression: 'every hour'" in proc.stderr
    assert not Path(db_path).exists()


@pytest.mark.parametrize("section, message", [
    ("jitter = -1", "[schedule] jitter: must be 0 or more"),
    ("heartbeat_interval = 0", "[schedule] heartbeat_interval: must be greater than 0"),
    ("tick = 5", "[schedule] tick: unknown key"),
])
def test_a_bad_schedule_section_is_one_line(sandbox, tmp_path, db_path, section, message):
    config = write_config(tmp_path, sandbox, db_path, schedule=section)
    proc = run_cli(["schedule", "--once", "--config", config])
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_a_failed_run_waits_for_the_next_tick_but_an_interrupted_one_is_due_again(
        sandbox, tmp_path, db_path):
    config = load_config(write_config(tmp_path, sandbox, db_path))
    with Catalog.open(db_path) as catalog:
        failed = start_run(catalog, "mast", "mast", "2025-12-01T00:00:05.000Z")
        finish_run(catalog, failed, source="mast", archive="mast", status="failed",
                   now="2025-12-01T00:00:09.000Z", requests=3, error="HTTP 503")
        stopped = start_run(catalog, "pds", "pds", "2025-12-01T00:00:05.000Z")
        finish_run(catalog, stopped, source="pds", archive="pds", status="interrupted",
                   now="2025-12-01T00:00:07.000Z", requests=1)
        due, later = due_now(config, catalog.conn, parse_iso("2025-12-01T01:00:00Z"))
    assert due == ["pds"]  # never completed an attempt: due at once
    assert [(d.source, iso(d.at)) for d in later] == [("mast", "2025-12-01T03:00:00.000Z")]


# -- run --due (one frequent cron line) ------------------------------------------------------

def test_run_due_harvests_only_the_sources_that_are_due(sandbox, tmp_path, db_path):
    config = write_config(tmp_path, sandbox, db_path)

    def run_due_at(moment: str):
        sandbox.set_clock(moment)
        proc = run_cli(["run", "--due", "--config", config], now=moment)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    first = run_due_at("2025-12-01T00:00:00Z")  # never run: both due
    assert "mast: ok" in first and "pds: ok" in first
    quiet = run_due_at("2025-12-01T01:00:00Z")
    assert quiet.strip() == "nothing due; next: mast at 2025-12-01T03:00:00.000Z"
    third = run_due_at("2025-12-01T03:00:30Z")  # MAST's 3-hour tick passed; PDS is daily
    assert "mast: ok" in third and "pds" not in third
    run_due_at("2025-12-02T00:00:10Z")  # both ticks passed
    assert starts(db_path, "mast") == ["2025-12-01T00:00:00.000Z", "2025-12-01T03:00:30.000Z",
                                       "2025-12-02T00:00:10.000Z"]
    assert starts(db_path, "pds") == ["2025-12-01T00:00:00.000Z", "2025-12-02T00:00:10.000Z"]


def test_run_due_with_source_only_considers_that_source(sandbox, tmp_path, db_path):
    config = write_config(tmp_path, sandbox, db_path)
    proc = run_cli(["run", "--due", "--source", "pds", "--config", config], now=START)
    assert proc.returncode == 0 and "pds: ok" in proc.stdout and "mast" not in proc.stdout
    assert {name for name, _, _ in runs(db_path)} == {"pds"}


# -- harvester schedule ----------------------------------------------------------------------

def test_scheduler_harvests_each_source_at_its_cadence(sandbox, tmp_path, db_path, monkeypatch):
    stop = GracefulStop()
    machine = TimeMachine(sandbox, monkeypatch, stop, until="2025-12-02T01:00:00Z")
    config = write_config(tmp_path, sandbox, db_path, schedule="jitter = 0\nheartbeat_interval = 3600")
    scheduler(config, machine).run()
    assert starts(db_path, "mast") == [f"2025-12-{day}T{hour}:00:00.000Z" for day, hour in [
        ("01", "00"), ("01", "03"), ("01", "06"), ("01", "09"), ("01", "12"), ("01", "15"),
        ("01", "18"), ("01", "21"), ("02", "00")]]
    assert starts(db_path, "pds") == ["2025-12-01T00:00:00.000Z", "2025-12-02T00:00:00.000Z"]
    assert all(status == "ok" for _, _, status in runs(db_path))


def test_scheduler_jitter_delays_each_harvest_within_the_jitter(sandbox, tmp_path, db_path,
                                                                monkeypatch):
    stop = GracefulStop()
    machine = TimeMachine(sandbox, monkeypatch, stop, until="2025-12-01T13:00:00Z")
    config = write_config(tmp_path, sandbox, db_path, pds=None,
                          schedule="jitter = 900\nheartbeat_interval = 600")
    scheduler(config, machine, rng=random.Random(7)).run()
    mast = [parse_iso(s) for s in starts(db_path, "mast")]
    assert len(mast) == 5  # 00:00 (never run: at once), then after 03, 06, 09 and 12 o'clock
    delays = [(t - t.replace(minute=0, second=0, microsecond=0)).total_seconds() for t in mast[1:]]
    assert all(0 <= d <= 900 for d in delays)
    assert len(set(delays)) > 1 and max(delays) > 0  # really drawn, not a fixed offset
    assert all(s <= 600 for s in machine.sleeps)  # never sleeps past a heartbeat


def test_scheduler_waits_for_the_lock_of_another_harvest_then_retries(
        sandbox, tmp_path, db_path, monkeypatch):
    stop = GracefulStop()
    machine = TimeMachine(sandbox, monkeypatch, stop, until="2025-12-01T04:00:00Z")
    config = write_config(tmp_path, sandbox, db_path,
                          schedule="jitter = 0\nheartbeat_interval = 600\nretry_delay = 300")
    other_harvest = CatalogLock(db_path)
    seen_while_locked = []

    def on_sleep(m: TimeMachine) -> None:
        # Another `harvester run` holds the catalog from 01:00 until 03:05.
        if m.moment == parse_iso("2025-12-01T01:00:00Z"):
            other_harvest.acquire()
        if m.moment == parse_iso("2025-12-01T03:05:00Z"):
            conn = sqlite3.connect(db_path)
            seen_while_locked.append(conn.execute(
                "SELECT state, last_error, next_due_at FROM scheduler_heartbeats").fetchone())
            conn.close()
            other_harvest.release()

    machine.on_sleep = on_sleep
    try:
        scheduler(config, machine).run()
    finally:
        other_harvest.release()
    # 03:00 was due but locked: no run then; retried 5 minutes later, and again, until free.
    assert starts(db_path, "mast") == ["2025-12-01T00:00:00.000Z", "2025-12-01T03:10:00.000Z"]
    state, error, next_due = seen_while_locked[0]
    assert state == "waiting_for_lock" and "another harvest is running" in error
    assert next_due == "2025-12-01T03:10:00.000Z"


def test_scheduler_survives_a_failing_harvest_and_goes_on(sandbox, tmp_path, db_path,
                                                          monkeypatch, caplog):
    import harvester.engine as engine

    stop = GracefulStop()
    machine = TimeMachine(sandbox, monkeypatch, stop, until="2025-12-01T03:30:00Z")
    config = write_config(tmp_path, sandbox, db_path,
                          schedule="jitter = 0\nheartbeat_interval = 600\nretry_delay = 120")
    real_hook, calls = engine.after_harvest, []

    def hook_failing_once(*args):
        calls.append(iso(machine.now()))
        if len(calls) == 1:
            raise RuntimeError("a bug in a hook")
        real_hook(*args)

    monkeypatch.setattr(engine, "after_harvest", hook_failing_once)
    scheduler(config, machine).run()
    assert "harvest failed: RuntimeError: a bug in a hook" in caplog.text
    # The loop went on: the runs stored before the failure count, and MAST's next tick came.
    assert calls == ["2025-12-01T00:00:00.000Z", "2025-12-01T03:00:00.000Z"]
    assert starts(db_path, "mast") == ["2025-12-01T00:00:00.000Z", "2025-12-01T03:00:00.000Z"]


def test_schedule_once_harvests_whats_due_and_status_shows_it_stopped(sandbox, tmp_path,
                                                                      db_path):
    config = write_config(tmp_path, sandbox, db_path)
    proc = run_cli(["schedule", "--once", "--config", config], now=START)
    assert proc.returncode == 0, proc.stderr
    assert "harvesting mast, pds" in proc.stderr  # a service logs at info by default
    assert {name for name, _, _ in runs(db_path)} == {"mast", "pds"}
    status = run_cli(["status", "--config", config], now="2025-12-01T00:30:00Z").stdout
    assert "scheduler: stopped at 2025-12-01T00:00:00.000Z" in status
    assert "2025-12-01 03:00" in status  # MAST's next_due column, to the minute
    wide = run_cli(["status", "--config", config, "--wide"], now="2025-12-01T00:30:00Z").stdout
    assert "2025-12-01T03:00:00.000Z" in wide


def test_status_tells_a_live_scheduler_from_a_dead_one(sandbox, tmp_path, db_path):
    config = write_config(tmp_path, sandbox, db_path)
    with Catalog.open(db_path) as catalog:
        beat_id = start_heartbeat(catalog.conn, host="box", pid=4242, now=START, interval_s=60)
        beat(catalog.conn, beat_id, now=START, state="idle",
             next_due_at="2025-12-01T03:00:00.000Z", next_sources=["mast"])
    alive = run_cli(["status", "--config", config], now="2025-12-01T00:01:30Z").stdout
    assert max(len(line) for line in alive.splitlines()) <= 100  # a long line is folded
    assert "scheduler: idle, last heartbeat 2025-12-01T00:00:00.000Z (90 s ago), next mast at " \
           "2025-12-01T03:00:00.000Z (pid 4242 on box)" in " ".join(alive.split())
    dead = run_cli(["status", "--config", config], now="2025-12-01T00:10:00Z").stdout
    assert "scheduler: STALE, last heartbeat 2025-12-01T00:00:00.000Z (10 min ago)" in \
        " ".join(dead.split())


# -- the cron/ and systemd examples ----------------------------------------------------------

CRON = Path(__file__).parent.parent / "cron"


def harvester_invocations(command: str) -> list[list[str]]:
    """The argument lists of each harvester call in a shell command line (redirections dropped)."""
    import shlex

    calls = []
    for part in command.split(";"):
        words = [w for w in shlex.split(part) if not w.startswith((">", "2>"))]
        if words and words[0].endswith(("$HARVESTER", "/harvester")):
            calls.append([w.replace("$EXPORT", "/tmp/out") for w in words[1:]])
    return calls


def assert_harvester_accepts(args: list[str]) -> None:
    """Parse (not run) a command line with the real CLI: every option is parsed before the eager
    --help answers, so a misspelt command or option fails with a usage error."""
    from click.testing import CliRunner

    from harvester.cli.main import cli

    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, f"harvester {' '.join(args)}: {result.output}"


def test_the_crontab_example_is_valid_cron_and_valid_harvester_commands():
    from croniter import croniter

    jobs = [line.split(None, 5) for line in (CRON / "crontab.example").read_text().splitlines()
            if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(jobs) == 3
    calls = []
    for *fields, command in jobs:
        assert croniter.is_valid(" ".join(fields)), fields
        calls += harvester_invocations(command)
    for args in calls:
        assert_harvester_accepts(args)
    commands = [" ".join(a for a in args if not a.startswith("-"))[:20] for args in calls]
    assert any("run" in c for c in commands) and any("alerts send" in c for c in commands)
    assert any(c.startswith("export parquet") for c in commands)
    assert all("--due" in args for args in calls if "run" in args)


def test_the_systemd_units_run_valid_harvester_commands():
    for unit in ("harvester.service", "harvester-schedule.service"):
        lines = (CRON / unit).read_text().splitlines()
        execs = [line.split("=", 1)[1] for line in lines if line.startswith(("ExecStart=",
                                                                              "ExecStopPost="))]
        assert execs, unit
        for command in execs:
            for args in harvester_invocations(command):
                assert_harvester_accepts(args)
    timer = (CRON / "harvester.timer").read_text()
    assert "OnCalendar=*:0/10" in timer and "Persistent=true" in timer
