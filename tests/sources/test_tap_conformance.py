"""TAP archives as they really answer: a PSA table with or without the optional alt_target_name
(columns asked from TAP_SCHEMA.columns), Mars-encounter frames that name no target, ObsCore rows
that share a publisher DID (ALMA, recorded), and a capped answer with no rows (KOA, recorded)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from catalog import Catalog
from catalog import db as catalog_db
from harvester.engine import harvest
from harvester.sandbox import Sandbox
from harvester.sources.tap import CappedAnswerError, keyset_pages, parse_votable
from tests.harvest_helpers import in_process_config
from tests.sources.test_obscore import row as obscore_row
from tests.sources.test_obscore import source as obscore_source
from tests.sources.test_psa import granule

DATA = "tests/data/obscore/"
CLOCK = "2026-06-01T00:00:00Z"


def rows(db, sql, *params):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def at(monkeypatch):
    def set_now(moment: str) -> None:
        monkeypatch.setenv("HARVESTER_NOW", moment)
    set_now(CLOCK)
    return set_now


def only(sandbox, db, name, **settings):
    config = in_process_config(sandbox.base_urls, db)
    for other in config.sources:
        config.sources[other].enabled = other == name
    for key, value in {"page_size": 100, **settings}.items():
        setattr(config.sources[name], key, value)
    return harvest(config).results[0]


# ---------------------------------------------------------------- PSA: which columns exist

NO_ALT = {"schema": {"absent": ["alt_target_name"]}}


def psa_rows():
    return [
        granule("g01"),
        granule("g02", target="C/2025 N1 (ATLAS)", created="2025-10-21T09:00:00"),
        granule("a01", target="Comet", alt_target_name="3I/ATLAS#C/2025 N1"),  # named only in alt
        granule("m01", target="Mars", alt_target_name=""),
    ]


def test_psa_without_alt_target_name_asks_tap_schema_and_never_names_it(at, db_path):
    with Sandbox({"clock": CLOCK, "psa": [NO_ALT, *psa_rows()]}) as sandbox:
        result = only(sandbox, db_path, "psa", windows=[])
        assert result.status == "ok", result.error
        queries = [r.summary for r in sandbox.requests]
    assert "TAP_SCHEMA.columns" in queries[0] and "alt_target_name" not in queries[1]
    assert {n.rsplit(":", 1)[-1] for (n,) in rows(db_path, "SELECT native_id FROM products")} == {"g01", "g02"}
    cursor = json.loads(rows(db_path, "SELECT cursor FROM source_state")[0][0])
    assert "alt_target_name" not in cursor["columns"]["names"] and "target_name" in cursor["columns"]["names"]


def test_psa_with_alt_target_name_matches_on_it_too(at, db_path):
    with Sandbox({"clock": CLOCK, "psa": psa_rows()}) as sandbox:
        result = only(sandbox, db_path, "psa", windows=[])
    assert result.status == "ok", result.error
    found = dict(rows(db_path, "SELECT native_id, matched_by FROM products"))
    assert found["urn:esa:psa:em16_tgo_cas:data_raw:a01"] == "alias:3I/ATLAS"


def test_a_column_gone_since_the_last_lookup_is_asked_for_again_at_once(at, db_path):
    with Sandbox({"clock": CLOCK, "psa": psa_rows()}) as sandbox:
        assert only(sandbox, db_path, "psa", windows=[]).status == "ok"
        sandbox.archive("psa").add([NO_ALT])  # the service drops the optional column
        at("2026-06-01T06:00:00Z")
        sandbox.clear_requests()
        result = only(sandbox, db_path, "psa", windows=[])
        asked = [r.summary for r in sandbox.requests]
    assert result.status == "ok", result.error
    # refused (400) with yesterday's columns, TAP_SCHEMA again, then the query without it
    assert result.requests == 3 and "TAP_SCHEMA.columns" in asked[1] and "alt_target_name" not in asked[2]


def test_a_rerun_the_same_day_is_one_request(at, db_path):
    with Sandbox({"clock": CLOCK, "psa": [NO_ALT, *psa_rows()]}) as sandbox:
        assert only(sandbox, db_path, "psa").requests == 2
        at("2026-06-01T06:00:00Z")
        assert only(sandbox, db_path, "psa").requests == 1


def test_mars_encounter_frames_that_name_no_target_are_kept_as_candidates(at, db_path):
    frames = [
        granule("s01", target="", alt_target_name=""),                                  # in the window
        granule("s02", target="", alt_target_name="", instrument="HRSC", host="Mars Express",
                bundle="mex_hrsc", time_min="2025-10-05T01:00:00Z", time_max="2025-10-05T01:00:01Z"),
        granule("s03", target="Mars", alt_target_name=""),                              # names Mars
        granule("s04", target="", alt_target_name="", time_min="2025-11-20T00:00:00Z",
                time_max="2025-11-20T00:00:05Z"),                                        # outside
        granule("s05", target="", alt_target_name="", instrument="ACS"),                 # not listed
    ]
    with Sandbox({"clock": CLOCK, "psa": [NO_ALT, granule("g01"), *frames]}) as sandbox:
        result = only(sandbox, db_path, "psa")  # the shipped config's mars-encounter window
    assert result.status == "ok", result.error
    found = dict(rows(db_path, "SELECT native_id, matched_by FROM products"))
    assert {k.rsplit(":", 1)[-1]: v for k, v in found.items()} == {
        "g01": "alias:3I/ATLAS",
        "s01": "time_window:2025-10-01..2025-10-07:CaSSIS",
        "s02": "time_window:2025-10-01..2025-10-07:HRSC",
    }
    assert rows(db_path, "SELECT target_name, mission FROM products WHERE native_id LIKE '%s02'") == [("", "MEX")]


# ---------------------------------------------------------------- ObsCore: keys and caps


def test_recorded_alma_answer_repeats_a_did_and_both_rows_are_kept():
    with open(DATA + "alma_duplicate_did.vot.xml", "rb") as handle:
        answer = parse_votable(handle.read())
    records = [dict(r, target_name="3I/ATLAS") for r in answer.records()]
    assert records[0]["obs_publisher_did"] == records[1]["obs_publisher_did"]
    keys = {obscore_source("alma").normalize(r).product_key for r in records}
    assert keys == {"alma:ADS/JAO.ALMA#2022.A.00026.S#uid://A001/X360d/Xae.source.Betelgeuse.spw.25",
                    "alma:ADS/JAO.ALMA#2022.A.00026.S#uid://A001/X360d/Xae.source.Betelgeuse.spw.27"}


def test_recorded_koa_answer_is_capped_with_nothing_in_it():
    with open(DATA + "koa_empty_overflow.vot.xml", "rb") as handle:
        answer = parse_votable(handle.read())
    assert answer.overflow and answer.rows == [] and answer.columns == ["targname", "frames"]


class _Recorded:
    """Answers every sync request with one recorded body, through the real parser."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def request_parsed(self, method, url, parse, **kwargs):
        return parse(type("R", (), {"body": self.body, "headers": {"content-type": "text/xml"}})())


def test_a_capped_answer_with_no_rows_is_never_complete():
    from harvester.sources.tap import TapQuery

    with open(DATA + "koa_empty_overflow.vot.xml", "rb") as handle:
        http = _Recorded(handle.read())
    pages = keyset_pages(http, "https://koa.example/TAP", TapQuery("koa_deimos", [], ["targname"]),
                         page_size=10, fmt="votable")
    with pytest.raises(CappedAnswerError, match="OVERFLOW with no rows"):
        next(pages)


def test_shared_dids_are_two_products_and_a_zero_row_cap_fails_the_run(at, db_path):
    shared = "ivo://alma.example/ID?MOUS.1"
    scenario = {"clock": CLOCK, "obscore": [
        obscore_row("eso", 1, obs_publisher_did=shared, obs_id="spw.25"),
        obscore_row("eso", 2, obs_publisher_did=shared, obs_id="spw.27"),
        obscore_row("eso", 3),
        {"service": "koa", "schema": {"row_limit": 0}},
        obscore_row("koa", 1),
    ]}
    with Sandbox(scenario) as sandbox:
        eso = only(sandbox, db_path, "eso", page_size=1, enabled=True)  # keyset through the shared DID
        config = in_process_config(sandbox.base_urls, db_path)
        config.sources["eso"].enabled = False
        config.sources["koa"] = config.sources["irsa"].__class__(
            kind="obscore", base_url=sandbox.base_urls["koa"], archive="koa", enabled=True)
        koa = harvest(config, only=["koa"]).results[0]
    assert eso.status == "ok" and eso.new == 3 and eso.pages == 4  # three full pages, one empty
    assert {k for (k,) in rows(db_path, "SELECT native_id FROM products WHERE archive='eso'")} == {
        f"{shared}#spw.25", f"{shared}#spw.27", "ivo://eso.example/ID?OBS.003#OBS.003"}
    assert koa.status == "failed" and "OVERFLOW with no rows" in koa.error
    assert rows(db_path, "SELECT cursor FROM source_state WHERE source = 'koa'") in ([], [(None,)])


def test_migration_7_rekeys_obscore_products_stored_under_the_did_alone(db_path, monkeypatch):
    old = [m for m in catalog_db.MIGRATIONS if m[0] < 7]
    monkeypatch.setattr(catalog_db, "MIGRATIONS", old)
    monkeypatch.setattr(catalog_db, "LATEST_VERSION", old[-1][0])
    catalog = Catalog.open(db_path)
    raw = json.dumps({"obs_publisher_did": "ivo://x/ID?1", "obs_id": "o1"})
    catalog.conn.execute(
        "INSERT INTO products (product_key, archive, native_id, source, target_name, matched_by, access, "
        "first_seen, last_seen, updated_at, raw, content_hash) VALUES "
        "('eso:ivo://x/ID?1', 'eso', 'ivo://x/ID?1', 'eso', '3I', 'alias:3I', 'public', 't', 't', 't', ?, 'h')",
        (raw,))
    catalog.conn.execute("INSERT INTO events (time, kind, product_key, source) VALUES "
                         "('t', 'new', 'eso:ivo://x/ID?1', 'eso')")
    catalog.close()
    monkeypatch.undo()
    Catalog.open(db_path).close()
    assert rows(db_path, "SELECT product_key, native_id FROM products") == [
        ("eso:ivo://x/ID?1#o1", "ivo://x/ID?1#o1")]
    assert rows(db_path, "SELECT product_key FROM events") == [("eso:ivo://x/ID?1#o1",)]
    assert rows(db_path, "SELECT kind FROM aliases LIMIT 0") == []  # the new column exists
