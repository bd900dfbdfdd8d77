"""Frames that never name 3I, found by the ephemeris against the sandbox archives: each frame is
kept or dropped for the right reason, a rerun adds nothing, the observer matters, a frame found
by name and by footprint is one product, and the release watch counts what the searches cover."""

from __future__ import annotations

import json

from harvester.sandbox.timeutil import to_mjd
from harvester.timeutil import parse_iso
from tests.footprints.conftest import rows, scenario_cases


def kept(cases: dict[str, str], *, unless: str = "") -> set[str]:
    return {k for k, why in cases.items() if why.startswith("kept") and (not unless or unless not in why)}


def test_tess_frames_are_found_by_ephemeris_and_only_those_that_held_the_comet(footprint_harvest):
    report = footprint_harvest(["mast-tess"])
    assert [r.status for r in report.results] == ["ok"]
    cases = scenario_cases("mast", "obs_id")
    found = rows(footprint_harvest.db, "SELECT * FROM products WHERE source = 'mast-tess'")
    assert {r["title"] or json.loads(r["extra"])["obs_id"] for r in found} == kept(cases)
    for row in found:
        assert row["matched_by"] == "ephemeris:tess"
        assert row["target_name"] in ("TESS FFI",) or row["target_name"].startswith("TIC ")
        evidence = json.loads(row["extra"])["ephemeris"]
        assert evidence["offset_arcsec"] > 0 and evidence["location"] == "500@-95"
        assert evidence["solution"] == "JPL#27"
        assert row["obs_start"] <= evidence["time"] <= row["obs_end"]
    # A week-long pixel file holds the comet for hours of it, and says which.
    tpf = next(r for r in found if r["target_name"] == "TIC 431000137")
    evidence = json.loads(tpf["extra"])["ephemeris"]
    hours = (parse_iso(evidence["inside_until"]) - parse_iso(evidence["inside_from"])).total_seconds() / 3600
    assert 2 < hours < 24


def test_frames_that_miss_are_dropped_with_their_reason(footprint_harvest):
    footprint_harvest(["mast-tess"])
    stored = {r["native_id"] for r in rows(footprint_harvest.db, "SELECT native_id FROM products")}
    assert "2001909234" not in stored   # the neighbouring CCD, 0.3 degree away
    assert "2001909712" not in stored   # the comet's place in May, exposed in September
    assert "2001917610" not in stored   # a TIC star a degree off the track
    assert "2001917612" not in stored   # the place of 2026-01-16, exposed 2026-01-20
    run = rows(footprint_harvest.db, "SELECT records, skipped FROM runs WHERE source = 'mast-tess'")[0]
    assert run["skipped"] >= 3 and run["records"] > run["skipped"]


def test_a_rerun_adds_nothing_and_asks_horizons_nothing(footprint_harvest, sandbox):
    footprint_harvest(["mast-tess"])
    events = rows(footprint_harvest.db, "SELECT COUNT(*) AS n FROM events")[0]["n"]
    sandbox.clear_requests()
    again = footprint_harvest(["mast-tess"])
    result = again.results[0]
    assert (result.status, result.new, result.updated, result.released) == ("ok", 0, 0, 0)
    assert rows(footprint_harvest.db, "SELECT COUNT(*) AS n FROM events")[0]["n"] == events
    assert sandbox.request_count("/horizons") == 0      # the cached ephemeris served
    cached = rows(footprint_harvest.db, "SELECT observer, step, solution, query FROM ephemerides")
    assert [(c["observer"], c["step"], c["solution"]) for c in cached] == [("500@-95", "1h", "JPL#27")]
    assert "DES%3DC%2F2025+N1%3B+CAP%3B+NOFRAG" in cached[0]["query"]


def test_reruns_of_the_contains_and_catch_searches_add_nothing(footprint_harvest):
    first = footprint_harvest(["irsa-spherex", "catch"])
    assert all(r.status == "ok" and r.new > 0 for r in first.results)
    again = footprint_harvest(["irsa-spherex", "catch"])
    assert [(r.status, r.new, r.updated, r.released) for r in again.results] == [("ok", 0, 0, 0)] * 2


def test_the_observer_matters_tess_sees_the_comet_where_the_earth_does_not(footprint_harvest):
    footprint_harvest(["mast-tess"], observer="geocentric")
    stored = {r["native_id"] for r in rows(footprint_harvest.db, "SELECT native_id FROM products")}
    assert "2001917611" not in stored         # a 1.8-arcmin box around TESS's view of the comet
    assert "2001909233" in stored             # the big CCD holds it from anywhere


def test_spherex_frames_are_found_by_adql_contains(footprint_harvest, sandbox):
    report = footprint_harvest(["irsa-spherex"])
    assert report.results[0].status == "ok"
    cases = scenario_cases("obscore", "obs_publisher_did")
    found = rows(footprint_harvest.db, "SELECT * FROM products WHERE source = 'irsa-spherex'")
    # ObsCore products are keyed <obs_publisher_did>#<obs_id>: the scenario's cases name the DID.
    assert {r["native_id"].partition("#")[0] for r in found} == kept(cases)
    assert {r["archive"] for r in found} == {"irsa"} and {r["mission"] for r in found} == {"SPHEREx"}
    assert all(r["matched_by"] == "ephemeris:spherex" for r in found)
    asked = [r.summary for r in sandbox.requests if r.path.startswith("/obscore/irsa")]
    assert asked and all("CONTAINS(POINT('ICRS'," in a for a in asked)


def test_catch_jobs_find_survey_frames_keyed_as_their_archive_keys_them(footprint_harvest):
    report = footprint_harvest(["catch"])
    assert report.results[0].status == "ok"
    found = rows(footprint_harvest.db, "SELECT product_key, matched_by, extra FROM products")
    keys = {r["product_key"] for r in found}
    assert "catch:ps1dr2:rings.v3.skycell.1101.012.wrp.i.60862_45512" in keys
    assert sum(k.startswith("pds:urn:nasa:pds:gbo.ast.") for k in keys) == 3
    assert not any("03m60880o0520c" in k for k in keys)            # its edge is 0.2 degree away
    assert {r["matched_by"] for r in found} == {"ephemeris:atlas_rio_hurtado", "ephemeris:catalina_lemmon",
                                                 "ephemeris:ps1dr2"}
    assert all(json.loads(r["extra"])["ephemeris"]["offset_arcsec"] > 0 for r in found)


def test_a_padded_catch_search_returns_a_near_miss_that_the_frames_corners_drop(footprint_harvest):
    report = footprint_harvest(["catch"], padding=20.0)
    result = report.results[0]
    assert result.status == "ok" and result.records == 5 and result.new == 4 and result.skipped == 1


def test_a_frame_found_by_name_and_by_footprint_is_one_product(footprint_harvest, sandbox):
    tpf = dict(next(r for r in _scenario_mast() if r["obsid"] == 2001917600))
    tpf.update(obsid=2001917699, obs_id="tess-3i-named", target_name="3I/ATLAS")
    sandbox.add_products("mast", [tpf])
    footprint_harvest(["mast", "mast-tess"])
    product = rows(footprint_harvest.db, "SELECT * FROM products WHERE native_id = '2001917699'")
    assert len(product) == 1 and product[0]["matched_by"].startswith("alias")
    assert product[0]["source"] == "mast"
    found = rows(footprint_harvest.db, "SELECT source, rule FROM product_matches WHERE product_key = ?",
                 "mast:2001917699")
    assert [(f["source"], f["rule"]) for f in found] == [("mast-tess", "ephemeris:tess")]
    news = rows(footprint_harvest.db, "SELECT COUNT(*) AS n FROM events WHERE product_key = ? AND kind = 'new'",
                "mast:2001917699")
    assert news[0]["n"] == 1
    footprint_harvest(["mast-tess", "mast"])   # either order, any number of times
    assert rows(footprint_harvest.db, "SELECT COUNT(*) AS n FROM events WHERE product_key = ?",
                "mast:2001917699")[0]["n"] == 1


def test_found_by_footprint_first_then_by_name_is_still_one_product(footprint_harvest, sandbox):
    tpf = dict(next(r for r in _scenario_mast() if r["obsid"] == 2001917600))
    tpf.update(obsid=2001917698, obs_id="tess-3i-named-later", target_name="3I/ATLAS")
    sandbox.add_products("mast", [tpf])
    footprint_harvest(["mast-tess"])
    footprint_harvest(["mast"])
    footprint_harvest(["mast-tess"])
    product = rows(footprint_harvest.db, "SELECT * FROM products WHERE native_id = '2001917698'")
    assert len(product) == 1 and product[0]["matched_by"].startswith("alias")
    kinds = [r["kind"] for r in rows(footprint_harvest.db, "SELECT kind FROM events WHERE product_key = ?",
                                     "mast:2001917698")]
    assert kinds.count("new") == 1


def test_the_watch_counts_what_a_footprint_search_covers(footprint_harvest):
    from harvester.watch.evaluate import evaluate_watch
    from harvester.watch.footprints import footprint_coverage, footprint_covers
    from tests.footprints.conftest import sqlite3

    # Before TESS released sector 92, the search has run: the precovery is pending, not unwatched.
    footprint_harvest(["mast-tess", "irsa-spherex"], at="2025-06-05T00:00:00Z")
    conn = sqlite3.connect(footprint_harvest.db)
    try:
        report = evaluate_watch(conn, footprint_harvest.config, parse_iso("2025-06-05T00:00:00Z"))
        covers = footprint_covers(conn, footprint_harvest.config)
    finally:
        conn.close()
    status = {s.expected.id: s for s in report.statuses}
    assert status["tess-precovery"].status == "pending"
    precovery = report.campaign.by_id()["tess-precovery"]
    assert precovery.watch is False          # the campaign says a name search cannot find it
    coverage = footprint_coverage(precovery, covers)
    assert coverage.watched and "footprint source mast-tess" in coverage.reason
    jwst = report.campaign.by_id()["jwst-nirspec-dec2025"]
    assert footprint_coverage(jwst, covers) is None     # TESS's search covers no JWST program
    footprint_harvest(["mast-tess", "irsa-spherex"])
    conn = sqlite3.connect(footprint_harvest.db)
    try:
        report = evaluate_watch(conn, footprint_harvest.config, parse_iso("2026-11-21T00:00:00Z"))
    finally:
        conn.close()
    status = {s.expected.id: s.status for s in report.statuses}
    for expected in ("tess-precovery", "tess-sector-1751", "spherex-aug2025", "spherex-dec2025"):
        assert status[expected] == "released", expected


def test_when_horizons_cannot_answer_only_the_footprint_source_fails(footprint_harvest):
    import dataclasses

    config = footprint_harvest.config
    config.ephemeris = dataclasses.replace(config.ephemeris, target="C/2099 Z9")
    report = footprint_harvest(["mast-tess", "mpc"])
    by_source = {r.source: r for r in report.results}
    assert by_source["mast-tess"].status == "failed"
    assert "No matches found" in by_source["mast-tess"].error and "\n" not in by_source["mast-tess"].error
    assert by_source["mpc"].status == "ok"


def test_horizons_requests_are_counted_and_retried(footprint_harvest, sandbox):
    sandbox.faults.add("http503", path_prefix="/horizons", count=1)
    report = footprint_harvest(["mast-tess"])
    result = report.results[0]
    assert result.status == "ok"
    assert sandbox.request_count("/horizons") == 2          # a 503, then the answer
    assert result.requests == sandbox.request_count("/")    # every request is in the run's count


def _scenario_mast() -> list[dict]:
    from importlib import resources

    return json.loads(resources.files("harvester.sandbox").joinpath(
        "default_scenario_footprints.json").read_text("utf-8"))["mast"]


def test_scenario_times_are_what_the_cases_say():
    """The scenario generator's own promise, checked: the TPF exposures span the pointing."""
    tpfs = [r for r in _scenario_mast()
            if r["target_name"].startswith("TIC") and r["_footprint_case"].startswith("kept")]
    assert all(to_mjd(r["t_max"]) - to_mjd(r["t_min"]) > 7 or "TESS only" in r["_footprint_case"] for r in tpfs)
