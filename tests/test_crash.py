"""kill -9 at several points of a harvest, then a rerun: the catalog must end exactly as an
uninterrupted harvest leaves it, with no product or event lost or duplicated."""

from __future__ import annotations

import signal
import time

import pytest

from harvester.sandbox import Sandbox
from tests.harvest_helpers import count, run_cli, snapshot, start_cli, write_config
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE, engine_scenario


@pytest.fixture
def sandbox():
    with Sandbox(engine_scenario(), port=0) as sb:
        yield sb


@pytest.fixture
def reference(sandbox, tmp_path):
    """Two uninterrupted harvests (early, then late): the state every crashed run must reach."""
    db = str(tmp_path / "reference.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    assert run_cli(["run", "--config", config], now=CLOCK_EARLY).returncode == 0
    early = snapshot(db)
    sandbox.set_clock(CLOCK_LATE)
    assert run_cli(["run", "--config", config], now=CLOCK_LATE).returncode == 0
    late = snapshot(db)
    sandbox.set_clock(CLOCK_EARLY)
    for state in (early, late):  # the search index is whole: every product is found by it
        assert state["search_index"] is None
        assert len(state["found_by_search"]) == len(state["products"]) > 0
    return early, late


@pytest.mark.parametrize("point", [
    "page_commit:1",      # inside the first page's transaction, rows written, not committed
    "page_commit:3",      # inside a later page's transaction
    "page_committed:2",   # right after a commit, before the next request
    "page_committed:5",   # after MAST, in the middle of PDS
])
def test_kill_at_a_crashpoint_then_rerun_equals_an_uninterrupted_harvest(
        sandbox, reference, tmp_path, point):
    early, late = reference
    db = str(tmp_path / "crashed.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    killed = run_cli(["run", "--config", config], now=CLOCK_EARLY,
                     env={"HARVESTER_CRASHPOINT": point})
    assert killed.returncode == -signal.SIGKILL
    assert snapshot(db) != early  # the kill really cut the harvest short
    resumed = run_cli(["run", "--config", config], now=CLOCK_EARLY)
    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(db) == early
    assert count(db, "SELECT COUNT(*) FROM runs WHERE status='interrupted'") >= 1
    # and the catalog goes on like the reference when the archives move on
    sandbox.set_clock(CLOCK_LATE)
    assert run_cli(["run", "--config", config], now=CLOCK_LATE).returncode == 0
    assert snapshot(db) == late


def test_kill_during_the_late_harvest_loses_no_release_event(sandbox, reference, tmp_path):
    _, late = reference
    db = str(tmp_path / "crashed.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    assert run_cli(["run", "--config", config], now=CLOCK_EARLY).returncode == 0
    sandbox.set_clock(CLOCK_LATE)
    killed = run_cli(["run", "--config", config], now=CLOCK_LATE,
                     env={"HARVESTER_CRASHPOINT": "page_commit:2"})
    assert killed.returncode == -signal.SIGKILL
    assert run_cli(["run", "--config", config], now=CLOCK_LATE).returncode == 0
    assert snapshot(db) == late


@pytest.mark.parametrize("kill_after_requests", [1, 3, 6])
def test_external_kill_9_while_waiting_on_the_archive(sandbox, reference, tmp_path,
                                                      kill_after_requests):
    early, _ = reference
    db = str(tmp_path / "crashed.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    base = sandbox.request_count("")
    # Every request from here on is slow, so the harvest is surely mid-flight when killed.
    sandbox.faults.add("slow", path_prefix="/", count=1000, delay=0.3)
    proc = start_cli(["run", "--config", config], now=CLOCK_EARLY)
    deadline = time.monotonic() + 30
    while sandbox.request_count("") - base < kill_after_requests and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    sandbox.faults.clear()
    resumed = run_cli(["run", "--config", config], now=CLOCK_EARLY)
    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(db) == early
