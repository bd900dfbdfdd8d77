"""The sandbox's Horizons, positional MAST, TAP CONTAINS and CATCH, spoken to over HTTP as the
real services are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from harvester.sandbox import Sandbox, empty_scenario

RECORDED = Path(__file__).resolve().parent.parent / "data" / "jpl" / "horizons" / "ceres_ephemerides_range.txt"
SQUARE = "POLYGON ICRS 10 20 11 20 11 21 10 21"
ELL = "POLYGON ICRS 0 0 2 0 2 2 1 2 1 1 0 1"


def scenario(**archives):
    base = empty_scenario("2026-01-01T00:00:00Z")
    base.update(archives)
    return base


def test_horizons_serves_the_recorded_answer_for_ceres():
    with Sandbox(scenario()) as sb:
        answer = requests.get(sb.base_urls["horizons"], params={
            "format": "text", "COMMAND": "'Ceres;'", "EPHEM_TYPE": "OBSERVER"}, timeout=5)
    assert answer.status_code == 200 and answer.text == RECORDED.read_text()


def test_horizons_answers_an_unknown_target_without_a_table():
    with Sandbox(scenario()) as sb:
        answer = requests.get(sb.base_urls["horizons"], params={
            "format": "json", "COMMAND": '"DES=C/2099 Z9; CAP;"', "CENTER": "'500'",
            "START_TIME": "2025-05-01", "STOP_TIME": "2025-05-02", "STEP_SIZE": "1h"}, timeout=5).json()
    assert "$$SOE" not in answer["result"] and "No matches found" in answer["result"]


def mast_position(sb: Sandbox, position: str) -> list[int]:
    request = {"service": "Mast.Caom.Filtered.Position", "format": "json", "pagesize": 100, "page": 1,
               "params": {"columns": "*", "filters": [{"paramName": "obs_collection", "values": ["TESS"]}],
                          "position": position}}
    answer = requests.post(sb.base_urls["mast"] + "/api/v0/invoke",
                           data={"request": json.dumps(request)}, timeout=5).json()
    return sorted(row["obsid"] for row in answer["data"]) if answer["status"] == "COMPLETE" else answer


def test_mast_position_returns_frames_whose_footprint_meets_the_cone():
    rows = [{"obsid": 1, "obs_collection": "TESS", "t_min": "2025-01-01", "s_region": SQUARE},
            {"obsid": 2, "obs_collection": "TESS", "t_min": "2025-01-01",
             "s_region": "POLYGON 30 20 31 20 31 21 30 21"},
            {"obsid": 3, "obs_collection": "HST", "t_min": "2025-01-01", "s_region": SQUARE}]
    with Sandbox(scenario(mast=rows)) as sb:
        assert mast_position(sb, "10.5, 20.5, 0.1") == [1]                  # centre inside
        assert mast_position(sb, "11.3, 20.5, 0.35") == [1]                  # cone overlaps an edge
        assert mast_position(sb, "11.5, 20.5, 0.2") == []                    # near, not touching
        refused = mast_position(sb, "10.5, 95, 1")
        assert refused["status"] == "ERROR" and "position" in refused["msg"]


def tap(sb: Sandbox, adql: str) -> list[str]:
    answer = requests.post(sb.base_urls["irsa"] + "/sync", data={
        "REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "json", "QUERY": adql}, timeout=5)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    column = [m["name"] for m in body["metadata"]].index("obs_publisher_did")
    return sorted(r[column] for r in body["data"])


def test_tap_contains_is_a_real_polygon_test_not_a_bounding_box():
    rows = [{"service": "irsa", "obs_publisher_did": "ivo://x/ell", "t_min": 60000, "t_max": 60000.01,
             "s_region": ELL},
            {"service": "irsa", "obs_publisher_did": "ivo://x/square", "t_min": 60000, "t_max": 60000.01,
             "s_region": "POLYGON ICRS 0 1 1 1 1 2 0 2"}]
    with Sandbox(scenario(obscore=rows)) as sb:
        def contains(ra, dec):
            return tap(sb, f"SELECT * FROM ivoa.obscore WHERE CONTAINS(POINT('ICRS', {ra}, {dec}), s_region) = 1")
        assert contains(0.5, 1.5) == ["ivo://x/square"]   # in the L's bounding box, not in the L
        assert contains(1.5, 1.5) == ["ivo://x/ell"]
        assert contains(0.5, 0.5) == ["ivo://x/ell"]
        assert tap(sb, "SELECT * FROM ivoa.obscore WHERE INTERSECTS(CIRCLE('ICRS', 0.5, 1.5, 0.6), s_region) = 1 "
                       "AND t_min < 60001") == ["ivo://x/ell", "ivo://x/square"]


def test_catch_queues_a_job_reports_progress_then_results_and_caches_it():
    path = {"target": "C/2025 N1", "names": ["C/2025 N1"], "center": "500", "solution": "JPL#1",
            "nodes": [[60800.0, 10.0, 20.0, 2.0], [60801.0, 11.0, 20.0, 2.0]]}
    frames = [{"product_id": "urn:nasa:pds:gbo.ast.test:data:a", "source": "catalina_lemmon",
               "mjd_start": 60800.5, "mjd_stop": 60800.501, "fov": "10.3:19.8,10.3:20.2,10.7:20.2,10.7:19.8",
               "appears": "2025-06-01T00:00:00Z"},
              {"product_id": "urn:nasa:pds:gbo.ast.test:data:b", "source": "catalina_lemmon",
               "mjd_start": 60800.5, "mjd_stop": 60800.501, "fov": "12.3:19.8,12.3:20.2,12.7:20.2,12.7:19.8",
               "appears": "2025-06-01T00:00:00Z"}]
    with Sandbox(scenario(horizons=[path], catch=frames)) as sb:
        base = sb.base_urls["catch"]
        params = {"target": "C/2025 N1", "cached": "true"}
        started = requests.get(base + "/catch", params=params, timeout=5).json()
        assert started["queued"] is True and started["error"] is False
        job = started["job_id"]
        first = requests.get(f"{base}/status/{job}", timeout=5).json()
        second = requests.get(f"{base}/status/{job}", timeout=5).json()
        assert [s["status"] for s in first["status"]] == ["in progress"]
        assert [s["status"] for s in second["status"]] == ["finished"]
        caught = requests.get(f"{base}/caught/{job}", timeout=5).json()
        assert caught["count"] == 1 and caught["data"][0]["product_id"].endswith(":a")
        assert caught["data"][0]["ra"] == pytest.approx(10.5, abs=0.001)   # at the mid-time
        again = requests.get(base + "/catch", params=params, timeout=5).json()
        assert again["queued"] is False and again["job_id"] == job
        assert requests.get(base + "/caught/nope", timeout=5).status_code == 400
        assert requests.get(base + "/catch", params={"target": ""}, timeout=5).json()["queued"] is False
