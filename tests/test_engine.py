"""The engine against the sandbox archives: cursors, events, paging, faults, rejects, lock."""

from __future__ import annotations

import json
import sqlite3

import pytest

from harvester.engine import harvest
from harvester.lock import CatalogLock
from harvester.sandbox import Sandbox
from tests.harvest_helpers import count, in_process_config, run_cli, snapshot, write_config
from tests.scenarios import (
    CLOCK_EARLY,
    CLOCK_LATE,
    EARLY_3I_MAST,
    EARLY_3I_PDS,
    LATE_3I_MAST,
    LATE_3I_PDS,
    engine_scenario,
    mast_row,
    pds_product,
)


@pytest.fixture
def sandbox():
    with Sandbox(engine_scenario(), port=0) as sb:
        yield sb


@pytest.fixture
def now(monkeypatch):
    def set_now(moment: str) -> None:
        monkeypatch.setenv("HARVESTER_NOW", moment)

    set_now(CLOCK_EARLY)
    return set_now


def run(sandbox, db, page_sizes=(4, 3), **kwargs):
    config = in_process_config(sandbox.base_urls, db)
    for name, settings in config.sources.items():
        settings.page_size = page_sizes[0] if name == "mast" else page_sizes[1]
        if name == "mast":
            settings.executing_interval = 0.0
    return harvest(config, **kwargs)


def by_source(report):
    return {r.source: r for r in report.results}


def test_first_harvest_stores_3i_products_and_skips_decoys(sandbox, db_path, now):
    report = run(sandbox, db_path)
    assert report.ok, [r.error for r in report.results]
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive='mast'") == EARLY_3I_MAST
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive='pds'") == EARLY_3I_PDS
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE target_name LIKE '%Y4%' "
                          "OR target_name IN ('M31I-FIELD', 'C/2025 N10', 'ATLAS25abc')") == 0
    assert count(db_path, "SELECT COUNT(*) FROM events WHERE kind='new'") == EARLY_3I_MAST + EARLY_3I_PDS
    results = by_source(report)
    # MAST's loose LIKE patterns return decoys the matcher skips; PDS is asked for exact target
    # names and LIDs only, so the decoy C/2025 N10 never comes back.
    assert results["mast"].skipped > 0 and results["pds"].skipped == 0
    assert results["mast"].pages > 2  # page_size 4 forces paging
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE product_key='mast:2001' "
                          "AND access='exclusive' AND release_date LIKE '2026-02-15%'") == 1


def test_rerun_with_nothing_new_changes_nothing(sandbox, db_path, now):
    run(sandbox, db_path)
    first = snapshot(db_path)
    report = run(sandbox, db_path)
    assert report.ok
    assert all(r.new == 0 and r.updated == 0 and r.released == 0 for r in report.results)
    after = snapshot(db_path)
    assert after["products"] == first["products"] and after["events"] == first["events"]


def test_a_release_between_runs_gives_exactly_those_events(sandbox, db_path, now):
    run(sandbox, db_path)
    events_before = count(db_path, "SELECT MAX(id) FROM events")
    sandbox.set_clock(CLOCK_LATE)
    now(CLOCK_LATE)
    report = run(sandbox, db_path)
    assert report.ok
    conn_events = json.loads(run_cli(["sql", "--catalog", db_path, "--format", "json",
                                      f"SELECT kind, product_key FROM events WHERE id > {events_before} "
                                      "AND product_key IS NOT NULL ORDER BY kind, product_key"]).stdout)
    assert [(e["kind"], e["product_key"]) for e in conn_events] == [
        ("new", "mast:3001"),
        ("new", "pds:urn:nasa:pds:mro_hirise:data:esp_000060"),
        ("new", "pds:urn:nasa:pds:mro_hirise:data:esp_000061"),
        ("released", "mast:2001"),
    ]
    assert count(db_path, "SELECT COUNT(*) FROM products") == LATE_3I_MAST + LATE_3I_PDS


def test_product_added_between_runs_is_new_once(sandbox, db_path, now):
    run(sandbox, db_path)
    sandbox.add_products("mast", [mast_row(4001, "3I/ATLAS", release="2025-11-30T00:00:00Z")])
    report = run(sandbox, db_path)
    assert by_source(report)["mast"].new == 1
    run(sandbox, db_path)
    assert count(db_path, "SELECT COUNT(*) FROM events WHERE product_key='mast:4001'") == 1


def test_lookback_catches_a_record_harvested_behind_the_cursor(sandbox, db_path, now):
    run(sandbox, db_path)
    # Archived late but stamped with a harvest time before the newest one already seen.
    sandbox.add_products("pds", [pds_product(70, "3I/ATLAS", harvested="2025-11-12T12:00:00.000Z")])
    report = run(sandbox, db_path)
    assert by_source(report)["pds"].new == 1


def test_new_pds_version_is_an_updated_event(sandbox, db_path, now):
    run(sandbox, db_path)
    sandbox.add_products("pds", [pds_product(1, "3I/ATLAS", harvested="2025-11-30T00:00:00.000Z",
                                             version="2.0")])
    report = run(sandbox, db_path)
    assert by_source(report)["pds"].updated == 1
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE native_id LIKE '%esp_000001' "
                          "AND version='2.0'") == 1


def test_cursor_moves_on_the_archives_time(sandbox, db_path, now):
    run(sandbox, db_path)
    cursors = dict(snapshot(db_path)["cursors"])
    # PDS keeps its last target context lookup (none names 3I here) beside the harvest time.
    assert json.loads(cursors["pds"]) == {"harvested_through": "2025-11-15T00:00:00.000Z",
                                          "contexts": {"checked_at": "2025-12-01T00:00:00.000Z",
                                                       "lids": []}}
    # MAST's name-free query (TESS Sector 1751, shipped in the config) keeps its own time.
    assert json.loads(cursors["mast"]) == {"watermark": "2025-12-01T00:00:00.000Z",
                                           "queries": {"tess-s1751": "2025-12-01T00:00:00.000Z"}}


def test_a_rerun_makes_one_request_per_query(sandbox, db_path, now):
    run(sandbox, db_path)
    # The look-back re-reads the last week (6 PDS products): one page when it holds them all.
    report = by_source(run(sandbox, db_path, page_sizes=(100, 100)))
    # MAST: one query per target pattern (2); PDS: one.
    assert report["mast"].requests == 2
    assert report["pds"].requests == 1


FAULTS = [
    ("http500", {}), ("http503", {}), ("http429", {"retry_after": 0}), ("slow", {"delay": 3}),
    ("drop", {}), ("truncated", {}), ("html200", {}),
]


@pytest.mark.parametrize("kind, params", FAULTS + [("executing", {})], ids=lambda v: str(v))
def test_each_fault_ends_in_a_complete_run(sandbox, db_path, now, kind, params, tmp_path):
    clean_db = str(tmp_path / "clean.db")
    run(sandbox, clean_db)
    prefix = "/mast"
    sandbox.faults.add(kind, path_prefix=prefix, count=2, **params)
    if kind != "executing":
        sandbox.faults.add(kind, path_prefix="/pds", count=2, **params)
    report = run(sandbox, db_path)
    assert report.ok, [r.error for r in report.results]
    assert snapshot(db_path)["products"] == snapshot(clean_db)["products"]
    assert snapshot(db_path)["events"] == snapshot(clean_db)["events"]
    assert by_source(report)["mast"].requests > by_source(run(sandbox, clean_db))["mast"].requests


@pytest.mark.parametrize("kind, params", FAULTS, ids=lambda v: str(v))
def test_a_persistent_fault_fails_one_source_and_recovery_loses_nothing(
        sandbox, db_path, now, kind, params, tmp_path):
    clean_db = str(tmp_path / "clean.db")
    run(sandbox, clean_db)
    sandbox.faults.add(kind, path_prefix="/pds", count=1000, **params)
    report = by_source(run(sandbox, db_path))
    assert report["pds"].status == "failed" and report["pds"].error
    assert report["mast"].status == "ok"
    assert count(db_path, "SELECT COUNT(*) FROM runs WHERE source='pds' AND status='failed'") == 1
    sandbox.faults.clear()
    assert run(sandbox, db_path).ok
    assert snapshot(db_path)["products"] == snapshot(clean_db)["products"]
    assert snapshot(db_path)["events"] == snapshot(clean_db)["events"]


def test_a_record_that_cannot_be_read_is_rejected_and_the_run_goes_on(sandbox, db_path, now):
    sandbox.add_products("mast", [mast_row(5001, "3I/ATLAS", release="2025-11-01T00:00:00Z",
                                           calib_level=2, obs_title="bad", t_exptime="x")])
    bad = mast_row(5002, "3I/ATLAS", release="2025-11-01T00:00:00Z")
    sandbox.add_products("mast", [bad])
    # Break one row the way a changed archive would: a time that is not a number.
    sandbox.corrupt("mast", 5002, t_min="not-a-date")
    report = by_source(run(sandbox, db_path))
    assert report["mast"].status == "ok" and report["mast"].rejected >= 1
    assert count(db_path, "SELECT COUNT(*) FROM rejects WHERE native_id='5002' "
                          "AND reason LIKE 't_min is not a number%'") == 1
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE product_key='mast:5001'") == 1


def test_a_second_concurrent_run_exits_with_a_clear_message(sandbox, db_path, tmp_path):
    config = write_config(tmp_path, sandbox.base_urls, db_path)
    with CatalogLock(db_path):
        proc = run_cli(["run", "--config", config], now=CLOCK_EARLY)
    assert proc.returncode == 75
    assert "another harvest is running on this catalog" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli(["run", "--config", config], now=CLOCK_EARLY)
    assert proc.returncode == 0, proc.stderr


def test_a_run_with_wait_proceeds_when_the_lock_is_freed(sandbox, db_path, tmp_path):
    import threading

    config = write_config(tmp_path, sandbox.base_urls, db_path)
    lock = CatalogLock(db_path)
    lock.acquire()
    threading.Timer(1.0, lock.release).start()
    proc = run_cli(["run", "--config", config, "--wait", "20"], now=CLOCK_EARLY)
    assert proc.returncode == 0, proc.stderr
    assert count(db_path, "SELECT COUNT(*) FROM products") == EARLY_3I_MAST + EARLY_3I_PDS


def test_cli_run_prints_a_summary_line_per_source_and_exit_1_on_failure(sandbox, db_path, tmp_path):
    config = write_config(tmp_path, sandbox.base_urls, db_path)
    sandbox.faults.add("http500", path_prefix="/mast", count=1000)
    proc = run_cli(["run", "--config", config], now=CLOCK_EARLY)
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith("mast: failed:") and "HTTP 500" in lines[0]
    assert lines[1].startswith("pds: ok:") and f"{EARLY_3I_PDS} new" in lines[1]
    assert "page" not in proc.stderr and "\r" not in proc.stderr  # not a TTY: no progress


def test_status_shows_each_source(sandbox, db_path, tmp_path):
    config = write_config(tmp_path, sandbox.base_urls, db_path)
    run_cli(["run", "--config", config], now=CLOCK_EARLY)
    proc = run_cli(["status", "--config", config, "--format", "json"])
    rows = {r["source"]: r for r in json.loads(proc.stdout)}
    assert rows["mast"]["status"] == "ok" and rows["mast"]["products"] == EARLY_3I_MAST
    assert rows["pds"]["cursor"]["harvested_through"] == "2025-11-15T00:00:00.000Z"
    assert rows["pds"]["last_new_product"].startswith("pds:urn:nasa:pds:mro_hirise")
    table = run_cli(["status", "--config", config]).stdout
    assert "mast" in table and "pds" in table and "products" in table
    assert max(len(line) for line in table.splitlines()) <= 100
    wide = run_cli(["status", "--config", config, "--wide"]).stdout
    assert "last_new_product" in wide and "harvested_through" in wide  # the cursor


def test_status_fits_100_columns_with_long_errors_cut_and_whole_in_json(sandbox, db_path, tmp_path):
    config = write_config(tmp_path, sandbox.base_urls, db_path)
    sandbox.faults.add("http500", path_prefix="/mast", count=1000)
    assert run_cli(["run", "--config", config], now=CLOCK_EARLY).returncode == 1
    # An archive's error can be a page long (an HTML error page quoted in the message).
    long_tail = " ".join(f"detail{n}" for n in range(80))
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE runs SET error = error || ' ' || ? WHERE source = 'mast'", (long_tail,))
    conn.close()
    table = run_cli(["status", "--config", config]).stdout
    lines = table.splitlines()
    assert max(len(line) for line in lines) <= 100
    error_line = next(line for line in lines if line.startswith("  mast: "))
    assert "HTTP 500" in error_line and error_line.endswith("...")
    assert "--format json has full errors" in table
    rows = {r["source"]: r for r in json.loads(run_cli(["status", "--config", config,
                                                        "--format", "json"]).stdout)}
    assert rows["mast"]["error"].endswith("detail79") and "HTTP 500" in rows["mast"]["error"]


def test_pds_stops_when_every_hit_is_seen_without_an_empty_request(sandbox, db_path, now):
    # Six 3I products at this clock: pages of 6 hold them all exactly. The other request is the
    # first run's target context lookup.
    report = by_source(run(sandbox, db_path, page_sizes=(100, 6)))
    assert report["pds"].requests == 2 and report["pds"].records == 6
