"""MAST beyond names: high-level science products (TESS-3I in collection HLSP) and name-free
queries for products that never name the comet (TESS Sector 1751 target pixel files, named by
TIC ids), each kept with the rule that found it."""

from __future__ import annotations

import json
import sqlite3

import pytest

from harvester.config import parse_config
from harvester.engine import harvest
from harvester.errors import ConfigError
from harvester.sandbox import Sandbox, default_scenario
from tests.harvest_helpers import in_process_config

S1751 = {"name": "tess-s1751", "collections": ["TESS"], "sequence_number": [1751]}


def mast_config(sandbox, db, **settings):
    config = in_process_config(sandbox.base_urls, db)
    for name in list(config.sources):
        config.sources[name].enabled = name == "mast"
    for key, value in settings.items():
        setattr(config.sources["mast"], key, value)
    return config


def rows(db, sql, *params):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(default_scenario()) as sb:
        yield sb


@pytest.fixture
def at(monkeypatch):
    def set_now(moment: str) -> None:
        monkeypatch.setenv("HARVESTER_NOW", moment)
    return set_now


def test_tess_3i_hlsp_and_sector_1751_files_are_harvested(sandbox, db_path, at):
    at("2026-11-21T00:00:00Z")
    result = harvest(mast_config(sandbox, db_path, queries=[S1751])).results[0]
    assert result.status == "ok", result.error
    (hlsp,) = rows(db_path, "SELECT mission, instrument, matched_by, json_extract(extra, '$.archive_mission') "
                            "FROM products WHERE native_id = '18900017510'")
    # Collection HLSP says what kind of product it is; the platforms table makes it TESS's.
    assert hlsp == ("TESS", "Photometer", "alias:3I/ATLAS", "HLSP")
    by_rule = dict(rows(db_path, "SELECT target_name, matched_by FROM products "
                                 "WHERE matched_by LIKE 'mast_query:%'"))
    assert by_rule == {"460186743": "mast_query:tess-s1751", "29780677": "mast_query:tess-s1751",
                       "233087860": "mast_query:tess-s1751", "TESS FFI": "mast_query:tess-s1751"}
    # The Sector 1750 file and the Sector 92 full-frame images are not taken.
    assert not rows(db_path, "SELECT 1 FROM products WHERE native_id IN ('2001917599', '2001900092')")


def test_name_free_queries_run_daily_and_a_poll_stays_one_request_per_pattern(sandbox, db_path, at):
    at("2026-11-21T00:00:00Z")
    first = harvest(mast_config(sandbox, db_path, queries=[S1751])).results[0]
    assert first.requests == 3  # two name patterns and the sector query
    cursor = json.loads(rows(db_path, "SELECT cursor FROM source_state")[0][0])
    assert cursor == {"watermark": "2026-11-21T00:00:00.000Z",
                      "queries": {"tess-s1751": "2026-11-21T00:00:00.000Z"}}
    at("2026-11-21T06:00:00Z")
    assert harvest(mast_config(sandbox, db_path, queries=[S1751])).results[0].requests == 2
    at("2026-11-22T00:30:00Z")
    assert harvest(mast_config(sandbox, db_path, queries=[S1751])).results[0].requests == 3


def test_a_query_by_observation_window_finds_the_same_files(sandbox, db_path, at):
    at("2026-11-21T00:00:00Z")
    window = {"name": "tess-3i-window", "collections": ["TESS"], "window": ["2026-01-15", "2026-01-22"]}
    harvest(mast_config(sandbox, db_path, queries=[window]))
    found = {t for (t,) in rows(db_path, "SELECT target_name FROM products "
                                         "WHERE matched_by = 'mast_query:tess-3i-window'")}
    assert {"460186743", "29780677", "233087860"} <= found and "141914082" not in found


@pytest.mark.parametrize("entry, message", [
    ({"name": "all-tess", "collections": ["TESS"]}, "needs sequence_number or window"),
    ({"name": "Bad Name", "collections": ["TESS"], "sequence_number": 1}, "queries: name:"),
    ({"name": "x", "collections": [], "sequence_number": 1}, "collections: a non-empty list"),
    ({"name": "x", "collections": ["TESS"], "window": ["2026-01-15"]}, "window: two ISO dates"),
    ({"name": "x", "collections": ["TESS"], "sequence_number": "1751"}, "sequence_number: an integer"),
    ({"name": "x", "collections": ["TESS"], "sector": 1751}, "sector: unknown key"),
])
def test_a_bad_query_is_one_line_naming_the_key(entry, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_config({"sources": {"mast": {"queries": [entry]}}}, path="c.toml")
    assert "\n" not in str(caught.value) and "[sources.mast" in str(caught.value)
