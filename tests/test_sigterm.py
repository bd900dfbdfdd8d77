"""SIGTERM (and SIGINT) in the middle of a harvest: a real `harvester run` / `harvester schedule`
subprocess against a slow sandbox. The process stops promptly, the cut run is recorded as
interrupted (never left 'running'), no page is half-stored, and the next run resumes to exactly
what an uninterrupted harvest gives."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

import harvester.engine as engine
from harvester.config import load_config
from harvester.engine import harvest
from harvester.sandbox import Sandbox
from harvester.shutdown import GracefulStop
from tests.harvest_helpers import count, run_cli, snapshot, start_cli, write_config
from tests.scenarios import CLOCK_EARLY, engine_scenario


@pytest.fixture
def sandbox():
    with Sandbox(engine_scenario(), port=0) as sb:
        yield sb


@pytest.fixture
def reference(sandbox, tmp_path):
    db = str(tmp_path / "reference.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    assert run_cli(["run", "--config", config], now=CLOCK_EARLY).returncode == 0
    return snapshot(db)


def wait_for_requests(sandbox: Sandbox, base: int, wanted: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while sandbox.request_count("") - base < wanted and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sandbox.request_count("") - base >= wanted, "the harvest never got going"


def assert_whole_pages(db: str) -> None:
    """Each stored page's products, events and run counters were committed together: the run
    counters add up to exactly what is in the catalog."""
    assert count(db, "SELECT COUNT(*) FROM runs WHERE status = 'running'") == 0
    products = count(db, "SELECT COUNT(*) FROM products")
    assert count(db, "SELECT COUNT(*) FROM events WHERE kind = 'new'") == products
    assert count(db, "SELECT COALESCE(SUM(new), 0) FROM runs") == products


def slow_archives(sandbox: Sandbox) -> int:
    base = sandbox.request_count("")
    sandbox.faults.add("slow", path_prefix="/", count=1000, delay=0.4)
    return base


@pytest.mark.parametrize("signum, exit_code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_run_stops_cleanly_and_the_next_run_resumes(sandbox, reference, tmp_path,
                                                               signum, exit_code):
    db = str(tmp_path / "stopped.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    base = slow_archives(sandbox)
    proc = start_cli(["run", "--config", config], now=CLOCK_EARLY)
    wait_for_requests(sandbox, base, 3)  # MAST's pages are being fetched
    asked = sandbox.request_count("")
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == exit_code, stderr
    assert sandbox.request_count("") == asked  # stopped without asking for another page
    assert f"stopped by {signal.Signals(signum).name}" in stderr and "Traceback" not in stderr
    stopped = count(db, "SELECT COUNT(*) FROM runs WHERE status = 'interrupted'")
    assert stopped == 1 and count(db, "SELECT COUNT(*) FROM runs") == 1  # PDS never started
    assert count(db, "SELECT pages FROM runs") >= 1  # pages stored before the signal are kept
    assert_whole_pages(db)
    assert snapshot(db) != reference
    sandbox.faults.clear()
    resumed = run_cli(["run", "--config", config], now=CLOCK_EARLY)
    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(db) == reference


def test_sigterm_does_not_wait_for_a_slow_archive_to_answer(sandbox, tmp_path):
    db = str(tmp_path / "slow.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    path = Path(config)
    path.write_text(path.read_text().replace("read_timeout = 2", "read_timeout = 120"))
    base = sandbox.request_count("")
    sandbox.faults.add("slow", path_prefix="/", count=1, delay=60)  # the first answer hangs
    proc = start_cli(["run", "--config", config], now=CLOCK_EARLY)
    wait_for_requests(sandbox, base, 1)
    time.sleep(0.3)  # let the request reach its wait for the answer
    proc.send_signal(signal.SIGTERM)
    # Waiting for the answer would take a minute; the wait is cut short instead.
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 143, stderr
    assert count(db, "SELECT pages FROM runs") == 0
    assert count(db, "SELECT COUNT(*) FROM runs WHERE status = 'interrupted'") == 1
    assert_whole_pages(db)


def test_sigterm_to_a_harvesting_scheduler_exits_0_and_records_the_stop(sandbox, reference,
                                                                        tmp_path):
    db = str(tmp_path / "scheduled.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    base = slow_archives(sandbox)
    proc = start_cli(["schedule", "--config", config], now=CLOCK_EARLY)
    wait_for_requests(sandbox, base, 4)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    assert "scheduler stopped by SIGTERM" in stderr
    assert count(db, "SELECT COUNT(*) FROM runs WHERE status = 'interrupted'") == 1
    assert_whole_pages(db)
    conn = sqlite3.connect(db)
    state, stopped_at = conn.execute(
        "SELECT state, stopped_at FROM scheduler_heartbeats").fetchone()
    conn.close()
    assert state == "stopped" and stopped_at
    sandbox.faults.clear()
    assert run_cli(["run", "--config", config], now=CLOCK_EARLY).returncode == 0
    assert snapshot(db) == reference


def test_sigterm_to_an_idle_scheduler_exits_at_once(sandbox, tmp_path):
    db = str(tmp_path / "idle.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    proc = start_cli(["schedule", "--config", config], now=CLOCK_EARLY)
    deadline = time.monotonic() + 30
    # Idle once both sources are harvested and the heartbeat says so.
    while time.monotonic() < deadline:
        if os.path.exists(db) and _state(db) == "idle":
            break
        time.sleep(0.05)
    assert _state(db) == "idle"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert _state(db) == "stopped"
    assert count(db, "SELECT COUNT(*) FROM runs WHERE status = 'ok'") == 2


def _state(db: str) -> str | None:
    try:
        conn = sqlite3.connect(db)
        row = conn.execute("SELECT state FROM scheduler_heartbeats ORDER BY id DESC").fetchone()
        conn.close()
    except sqlite3.OperationalError:  # not migrated yet
        return None
    return row[0] if row else None


@pytest.mark.parametrize("signals, pages_kept", [(1, 1), (2, 0)])
def test_a_signal_during_a_page_commit(sandbox, tmp_path, db_path, monkeypatch, signals,
                                       pages_kept):
    """The worst instant: the signal lands inside the first page's transaction. One signal: the
    page commits whole and the harvest stops before the next. A second signal: it stops at once
    and the page rolls back whole. Either way no half page, and the run is interrupted."""
    config = load_config(write_config(tmp_path, sandbox.base_urls, db_path))
    config.sources = {"mast": config.sources["mast"]}
    monkeypatch.setenv("HARVESTER_NOW", CLOCK_EARLY)
    real_commit = engine.commit_page

    def commit_with_signals_inside(catalog, **kwargs):
        def signal_then_commit():
            for _ in range(signals):
                os.kill(os.getpid(), signal.SIGTERM)  # delivered here, mid-transaction
            kwargs["before_commit"]()

        return real_commit(catalog, **dict(kwargs, before_commit=signal_then_commit))

    monkeypatch.setattr(engine, "commit_page", commit_with_signals_inside)
    with GracefulStop() as stop:
        report = harvest(config, stop=stop)
    (result,) = report.results
    assert report.stopped and result.status == "interrupted" and result.pages == pages_kept
    assert count(db_path, "SELECT COUNT(*) FROM runs WHERE status = 'interrupted'") == 1
    assert count(db_path, "SELECT pages FROM runs") == pages_kept
    assert (count(db_path, "SELECT COUNT(*) FROM products") > 0) == bool(pages_kept)
    assert_whole_pages(db_path)
    assert count(db_path, "SELECT COUNT(*) FROM source_state WHERE cursor IS NOT NULL") == pages_kept
