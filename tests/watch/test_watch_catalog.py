"""The watch in the catalog: its migration on older catalogs, the campaign reloaded on every
run (atomically), and the default 3I/ATLAS scenario told as statuses."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from catalog import Catalog
from catalog.migrations import MIGRATIONS
from harvester.errors import ConfigError
from harvester.sandbox import Sandbox, default_scenario, empty_scenario
from harvester.watch.report import build_report, summary_lines
from tests.harvest_helpers import write_config
from tests.watch.conftest import pds_frame, rows, status_of


@pytest.mark.parametrize("version", [1, 2])
def test_the_watch_migration_upgrades_an_older_catalog_keeping_its_data(db_path, version):
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT, "
                 "applied_at TEXT)")
    for number, description, sql in MIGRATIONS:
        if number <= version:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_version VALUES (?, ?, 'then')", (number, description))
    conn.execute("INSERT INTO products (product_key, archive, native_id, source, access, "
                 "first_seen, last_seen, updated_at, content_hash) VALUES "
                 "('pds:x', 'pds', 'x', 'pds', 'public', 't', 't', 't', 'h')")
    conn.execute("INSERT INTO events (time, kind, product_key) VALUES ('t', 'new', 'pds:x')")
    conn.commit()
    conn.close()

    with Catalog.open(db_path) as catalog:
        assert catalog.schema_version() >= 3
    assert rows(db_path, "SELECT product_key FROM products") == [("pds:x",)]
    assert rows(db_path, "SELECT kind, expected_id FROM events") == [("new", None)]
    names = {r[0] for r in rows(db_path, "SELECT name FROM sqlite_master")}
    assert {"expected", "expected_status", "expected_products", "watch_state", "watch_arrivals",
            "idx_products_watch_match", "idx_products_watch_latency"} <= names
    # Products stored before the watch existed are its first publication history.
    assert rows(db_path, "SELECT source, day, products FROM watch_arrivals") == [("pds", "t", 1)]


def test_each_run_reloads_the_campaign_and_a_bad_edit_keeps_the_last_good_load(
        watch_config, harvest_at, campaign_file, db_path):
    scenario = empty_scenario("2026-06-01T00:00:00Z")
    scenario["pds"] = [pds_frame(0, "2026-05-20T08:00:00.000Z")]
    with Sandbox(scenario) as sandbox:
        _, config = watch_config(sandbox)
        harvest_at(sandbox, config, "2026-06-01T00:00:00Z")
        assert rows(db_path, "SELECT count(*) FROM expected") == [(3,)]

        campaign_file.write_text(campaign_file.read_text() + (
            '\n[[observation]]\nid = "my-own"\narchive = "pds"\nmission = "MAVEN"\n'
            'obs_start = 2026-05-01\nobs_end = 2026-05-02\n'))
        harvest_at(sandbox, config, "2026-06-02T00:00:00Z")
        assert rows(db_path, "SELECT id, archive, mission FROM expected WHERE id = 'my-own'") == [
            ("my-own", "pds", "MAVEN")]
        assert status_of(db_path, "my-own")["status"] == "pending"

        campaign_file.write_text(campaign_file.read_text().replace('id = "my-own"', 'id = ""'))
        with pytest.raises(ConfigError, match=r"campaign.toml: observation #4: id: expected a non-empty"):
            harvest_at(sandbox, config, "2026-06-03T00:00:00Z")
    assert rows(db_path, "SELECT count(*) FROM expected") == [(4,)]
    # The bad file is found before harvesting: the third harvest did not start at all.
    assert rows(db_path, "SELECT count(*) FROM runs") == [(4,)]


def test_the_default_scenario_shows_released_exclusive_pending_overdue_and_not_watched(
        tmp_path, harvest_at, db_path):
    from harvester.config import load_config

    with Sandbox(default_scenario()) as sandbox:
        config = load_config(write_config(tmp_path, sandbox.base_urls, db_path, mast_page_size=100,
                                          pds_page_size=100))
        harvest_at(sandbox, config, "2026-11-21T00:00:00Z")
    statuses = dict(rows(db_path, "SELECT expected_id, status FROM expected_status"))
    assert statuses["mro-hirise"] == statuses["hst-wfc3-20250721"] == "released"
    assert statuses["jwst-nirspec-dec2025"] == "exclusive"
    assert statuses["m2020-mastcamz"] == statuses["europa-clipper-uvs"] == "overdue"
    assert statuses["tess-precovery"] == statuses["vlt-fors2-20250703"] == "not_watched"
    assert statuses["unconfirmed-juno"] == "unconfirmed"
    assert status_of(db_path, "jwst-nirspec-dec2025")["exclusive_until"].startswith("2026-12-23")
    assert status_of(db_path, "m2020-mastcamz")["due_date"].startswith("2026-04-05")

    # The same catalog as of 2025-12-01, from the archives' own dates: HiRISE still pending.
    early = build_report(db_path, config, datetime(2025, 12, 1, tzinfo=UTC))
    hirise = next(s for s in early.statuses if s.expected.id == "mro-hirise")
    assert hirise.status == "pending" and hirise.due_in_days == 123.0

    lines = summary_lines(db_path, config, datetime(2026, 11, 21, tzinfo=UTC))
    assert lines[0].startswith("Release watch as of 2026-11-21: ")
    assert "2 overdue" in lines[0] and "1 exclusive" in lines[0]
    assert any("m2020-mastcamz" in line and "days late" in line for line in lines)
