"""A subscription predicate that never ends (stored by an older harvester, before predicates were
tried when added) is cut off at its time limit: the harvest completes and releases its lock, the
other subscriptions are matched, and the runaway one says why in `harvester status`. A real
`harvester run` process; the test only bounds how long it waits for it, it asserts no timing."""

from __future__ import annotations

import select
import signal
import sqlite3
import time

import pytest

from harvester.lock import CatalogLock
from harvester.sandbox import Sandbox
from tests.harvest_helpers import count, run_cli, start_cli, write_config
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE, LATE_3I_MAST, LATE_3I_PDS, engine_scenario

RUNAWAY = ("kind = 'new' AND (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
           "SELECT count(*) FROM c) > 0")
WAIT = 120  # seconds the test waits for a process at most: a bound, not a measurement


@pytest.fixture
def sandbox():
    with Sandbox(engine_scenario(), port=0) as sb:
        yield sb


def setup_catalog(tmp_path, sandbox, limit: float) -> tuple[str, str]:
    db = str(tmp_path / "catalog.db")
    config = write_config(tmp_path, sandbox.base_urls, db,
                          extra=f"[alerts]\npredicate_time_limit = {limit}\n")
    first = run_cli(["run", "--config", config], now=CLOCK_EARLY, timeout=WAIT)
    assert first.returncode == 0, first.stderr
    for name in ("fine", "runaway"):
        added = run_cli(["subscribe", "add", name, "--where", "kind = 'new'", "--stdout",
                         "--config", config], now=CLOCK_EARLY, timeout=WAIT)
        assert added.returncode == 0, added.stderr
    # As a harvester before this check stored it: `subscribe add` now refuses it (below).
    conn = sqlite3.connect(db)
    conn.execute("UPDATE subscriptions SET predicate = ? WHERE name = 'runaway'", (RUNAWAY,))
    conn.commit()
    conn.close()
    sandbox.set_clock(CLOCK_LATE)
    return config, db


def subscription(db: str, name: str) -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("SELECT * FROM subscriptions WHERE name = ?", (name,)).fetchone())
    finally:
        conn.close()


def test_a_runaway_predicate_is_cut_off_and_the_harvest_completes(tmp_path, sandbox):
    config, db = setup_catalog(tmp_path, sandbox, limit=1)
    before = subscription(db, "runaway")
    run = run_cli(["run", "--config", config], now=CLOCK_LATE, timeout=WAIT)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "mast: ok" in run.stdout and "pds: ok" in run.stdout
    assert "1 subscription(s) not matching (runaway" in run.stdout
    (alerts_line,) = [line for line in run.stdout.splitlines() if "alerts:" in line]
    assert alerts_line.startswith("alerts: ") and alerts_line.count("alerts:") == 1
    assert " matched from " in alerts_line  # what the one good subscription matched
    assert count(db, "SELECT COUNT(*) FROM products WHERE archive = 'mast'") == LATE_3I_MAST
    assert count(db, "SELECT COUNT(*) FROM products WHERE archive = 'pds'") == LATE_3I_PDS
    fine, runaway = subscription(db, "fine"), subscription(db, "runaway")
    assert fine["matched_through"] == count(db, "SELECT MAX(id) FROM events")
    assert count(db, "SELECT COUNT(*) FROM deliveries d JOIN subscriptions s "
                     "ON s.id = d.subscription_id WHERE s.name = 'fine'") > 0
    assert runaway["matched_through"] == before["matched_through"]  # nothing skipped for it
    assert "ran past its time limit of 1 s" in runaway["match_error"]
    assert runaway["match_failures"] == 1 and runaway["match_retry_at"]

    status = run_cli(["status", "--config", config], now=CLOCK_LATE, timeout=WAIT)
    assert "not matching: runaway: the predicate ran past its time limit of 1 s" in status.stdout

    # The lock was released, and the next harvest does not pay for the runaway again before its
    # retry time (its failure count stays 1: it was not run).
    again = run_cli(["run", "--config", config, "--wait", "0"], now=CLOCK_LATE, timeout=WAIT)
    assert again.returncode == 0, again.stderr
    assert subscription(db, "runaway")["match_failures"] == 1


def test_subscribe_add_refuses_a_runaway_predicate_and_stores_nothing(tmp_path, sandbox):
    config, db = setup_catalog(tmp_path, sandbox, limit=1)
    refused = run_cli(["subscribe", "add", "again", "--where", RUNAWAY, "--stdout",
                       "--config", config], timeout=WAIT)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert "ran past its time limit of 1 s" in refused.stderr
    assert count(db, "SELECT COUNT(*) FROM subscriptions WHERE name = 'again'") == 0
    tested = run_cli(["subscribe", "test", "runaway", "--days", "3650", "--config", config],
                     timeout=WAIT)
    assert tested.returncode == 2 and "ran past its time limit" in tested.stderr


def test_sigterm_reaches_a_harvest_inside_a_runaway_predicate(tmp_path, sandbox):
    """With a long limit, the predicate would hold the lock for a minute; SIGTERM ends it now."""
    config, db = setup_catalog(tmp_path, sandbox, limit=600)
    proc = start_cli(["-v", "run", "--config", config], now=CLOCK_LATE)
    try:
        # The sources are done once both have logged their result; the hooks come next.
        seen, deadline = "", time.monotonic() + WAIT
        while seen.count("]: ok, ") < 2:
            ready, _, _ = select.select([proc.stderr], [], [], max(deadline - time.monotonic(), 0))
            line = proc.stderr.readline() if ready else ""
            assert line, f"the harvest ended, or said nothing for too long: {seen}"
            seen += line
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and "stopped by SIGTERM" in err
    assert count(db, "SELECT COUNT(*) FROM products") == LATE_3I_MAST + LATE_3I_PDS
    # The match pass rolled back whole: the next run matches these events (nothing skipped).
    assert subscription(db, "runaway")["match_error"] is None
    with CatalogLock(db, wait=0):  # the lock is free (LockBusyError otherwise)
        pass
