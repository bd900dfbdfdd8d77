"""Harvesting the sandbox's PDS registry, which parses `q` as the real one does: runs after the
first no longer fail with HTTP 400, and products are found by either target LID (the configured
guess or the one found among the context products) or by an exact target name alone."""

from __future__ import annotations

import json
import sqlite3

import pytest

from harvester.engine import archive_target_ids, harvest
from harvester.names.store import resolve_and_store
from harvester.sandbox import Sandbox
from tests.harvest_helpers import in_process_config, run_cli, write_config

GUESS = "urn:nasa:pds:context:target:comet.3i_atlas"
REAL = "urn:nasa:pds:context:target:comet.c2025_n1_atlas"


def context(lid, name, *, alternates=(), kind="Comet"):
    return {"lidvid": f"{lid}::1.0", "title": name, "product_class": "Product_Context",
            "harvest_date_time": "2025-07-15T00:00:00Z",
            "properties": {"pds:Target.pds:name": name, "pds:Target.pds:type": kind,
                           "pds:Alias.pds:alternate_title": list(alternates)}}


def frame(n, *, name=None, lid=None, harvested="2026-02-11T00:00:00Z", **extra):
    rec = {"lidvid": f"urn:nasa:pds:mro_hirise:data:f{n:03d}::1.0", "title": f"frame {n}",
           "product_class": "Product_Observational", "harvest_date_time": harvested,
           "start_date_time": "2025-10-02T18:00:00Z", "stop_date_time": "2025-10-02T18:00:04Z",
           "instrument_host_lid": "urn:nasa:pds:context:instrument_host:spacecraft.mro",
           "instrument_lid": "urn:nasa:pds:context:instrument:mro.hirise"}
    if name:
        rec["target_name"] = name
    if lid:
        rec["target_lid"] = lid
    rec.update(extra)
    return rec


SCENARIO = {
    "clock": "2026-03-01T00:00:00Z",
    "pds": [
        context(REAL, "C/2025 N1 (ATLAS)", alternates=["3I/ATLAS", "3I"]),
        context("urn:nasa:pds:context:target:comet.c2019_y4_atlas", "C/2019 Y4 (ATLAS)"),
        context("urn:nasa:pds:context:target:comet.2i_borisov", "2I/Borisov",
                alternates=["C/2019 Q4 (Borisov)"]),
        frame(1, lid=GUESS),                         # only the configured guess
        frame(2, lid=REAL),                          # only the LID the registry's contexts give
        frame(3, name="C/2025 N1 (ATLAS)"),          # only an exact target name
        frame(4, name="3I-ATLAS", stop_date_time=None),
        frame(5, name="C/2019 Y4 (ATLAS)", lid="urn:nasa:pds:context:target:comet.c2019_y4_atlas"),
        frame(6, name="Mars", lid="urn:nasa:pds:context:target:planet.mars"),
    ],
}


@pytest.fixture
def sandbox():
    with Sandbox(SCENARIO) as sb:
        yield sb


@pytest.fixture
def at(monkeypatch):
    def set_now(moment: str) -> None:
        monkeypatch.setenv("HARVESTER_NOW", moment)
    return set_now


def pds_only(sandbox, db, **settings):
    config = in_process_config(sandbox.base_urls, db)
    for name in list(config.sources):
        config.sources[name].enabled = name == "pds"
    for key, value in settings.items():
        setattr(config.sources["pds"], key, value)
    return config


def rows(db, sql, *params):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_two_runs_in_a_row_find_by_either_lid_or_name_and_never_400(sandbox, db_path, at):
    at("2026-03-01T00:00:00Z")
    first = harvest(pds_only(sandbox, db_path)).results[0]
    assert first.status == "ok", first.error
    found = dict(rows(db_path, "SELECT native_id, matched_by FROM products"))
    assert found == {
        "urn:nasa:pds:mro_hirise:data:f001": f"target_lid:{GUESS}",
        "urn:nasa:pds:mro_hirise:data:f002": f"target_lid:{REAL}",
        "urn:nasa:pds:mro_hirise:data:f003": "alias:C/2025 N1 (ATLAS)",
        "urn:nasa:pds:mro_hirise:data:f004": "alias:3I/ATLAS",  # 3I-ATLAS folds to the name
    }
    assert rows(db_path, "SELECT obs_end FROM products WHERE native_id LIKE '%f004'") == [(None,)]
    assert first.requests == 2  # the context lookup, then one page
    at("2026-03-01T06:00:00Z")
    sandbox.set_clock("2026-03-01T06:00:00Z")
    sandbox.add_products("pds", [frame(7, name="3I/ATLAS", harvested="2026-03-01T03:00:00Z")])
    second = harvest(pds_only(sandbox, db_path)).results[0]
    assert second.status == "ok", second.error
    assert (second.new, second.requests) == (1, 1)  # the lookup is cached for a day
    # A query the registry cannot parse is a 400, which fails the run.
    assert [s for (s,) in rows(db_path, "SELECT status FROM runs")] == ["ok", "ok"]


def test_the_found_lid_is_stored_with_its_provenance_and_refreshed_daily(sandbox, db_path, at):
    at("2026-03-01T00:00:00Z")
    harvest(pds_only(sandbox, db_path))
    (row,) = rows(db_path, "SELECT alias, kind, service, field, raw, query FROM aliases")
    assert row[:5] == (REAL, "target_lid", "pds", "pds:Target.pds:name", "C/2025 N1 (ATLAS)")
    assert 'product_class eq "Product_Context"' in row[5]
    cursor = json.loads(rows(db_path, "SELECT cursor FROM source_state")[0][0])
    assert cursor["contexts"] == {"checked_at": "2026-03-01T00:00:00.000Z", "lids": [REAL]}
    sandbox.clear_requests()
    at("2026-03-02T01:00:00Z")
    assert harvest(pds_only(sandbox, db_path)).results[0].requests == 2  # a day later: asked again
    assert "Product_Context" in sandbox.requests[0].summary


def test_a_stored_lid_is_used_without_a_lookup(sandbox, db_path, at):
    at("2026-03-01T00:00:00Z")
    config = pds_only(sandbox, db_path)
    resolve_and_store(config, sbdb_base=sandbox.base_urls["sbdb"], mpc_base=sandbox.base_urls["mpc"],
                      now="2026-03-01T00:00:00.000Z", archives=archive_target_ids)
    assert rows(db_path, "SELECT alias FROM aliases WHERE kind = 'target_lid'") == [(REAL,)]
    result = harvest(pds_only(sandbox, db_path, discover_targets=False, target_lids=[])).results[0]
    assert result.requests == 1
    assert {m for (m,) in rows(db_path, "SELECT matched_by FROM products")} >= {f"target_lid:{REAL}"}


def test_a_failed_lookup_does_not_fail_the_harvest_and_is_tried_again(sandbox, db_path, at):
    at("2026-03-01T00:00:00Z")
    sandbox.faults.add("http503", path_prefix="/pds", count=4)  # every attempt of the lookup
    result = harvest(pds_only(sandbox, db_path)).results[0]
    assert result.status == "ok" and result.new == 3  # by the guess and by name, not by REAL
    cursor = json.loads(rows(db_path, "SELECT cursor FROM source_state")[0][0])
    assert "contexts" not in cursor
    at("2026-03-01T01:00:00Z")
    assert harvest(pds_only(sandbox, db_path)).results[0].new == 1  # f002, by the found LID


def test_target_resolve_and_aliases_show_the_lid(sandbox, db_path, tmp_path):
    config = write_config(tmp_path, sandbox.base_urls, db_path, extra=(
        f'[target]\nsbdb_url = "{sandbox.base_urls["sbdb"]}"\nmpc_url = "{sandbox.base_urls["mpc"]}"'))
    proc = run_cli(["target", "resolve", "--config", config], now="2026-03-01T00:00:00Z")
    assert "pds: 1 target LIDs" in proc.stdout and REAL in proc.stdout, proc.stdout + proc.stderr
    listing = run_cli(["target", "aliases", "--config", config, "--format", "json"])
    entries = json.loads(listing.stdout)
    assert {"alias": REAL, "kind": "target_lid", "source": "pds", "field": "pds:Target.pds:name",
            "first_seen": "2026-03-01T00:00:00.000Z", "status": "used"} in entries
    assert any(e["alias"] == GUESS and e["field"] == "sources.pds.target_lids" for e in entries)
