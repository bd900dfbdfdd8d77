"""The sandbox MPC and JPL SBDB speak the real protocols: GET with a JSON body, the answers'
shapes of the recorded real responses, the scenario clock, ETag/304, fault injection."""

from __future__ import annotations

import json

import pytest
import requests

from harvester.sandbox import Sandbox, default_scenario
from harvester.sources.mpc import parse_ades_psv
from tests.conftest import DATA, load_json

IDENTITY_3I = next(r for r in default_scenario()["mpc"] if r.get("identifier", {}).get("permid") == "3I")


def observation(obsid: str, **fields) -> dict:
    row = {"obsid": obsid, "obstime": "2025-07-01T04:11:38.000Z", "stn": "W68", "permid": "3I",
           "provid": "C/2025 N1", "ref": "MPEC 2025-N12", "appears": "2025-07-02T00:00:00Z"}
    row.update(fields)
    return row


@pytest.fixture
def sandbox():
    scenario = {"clock": "2025-07-03T00:00:00Z", "mpc": [
        IDENTITY_3I, observation("A1"),
        observation("A2", appears="2025-07-10T00:00:00Z"),
        observation("A3", ref="MPS 123", published="2025-08-01T00:00:00Z"),
        observation("Y4", permid=None, provid="C/2019 Y4"),
    ]}
    with Sandbox(scenario, port=0) as sb:
        yield sb


def get_obs(sb, desig="3I", **kwargs):
    body = {"desigs": [desig], "output_format": ["ADES_DF"]}
    return requests.get(sb.base_urls["mpc"] + "/api/get-obs", json=body, timeout=5, **kwargs)


def rows(reply) -> dict[str, dict]:
    (entry,) = reply.json()
    return {r["obsid"]: r for r in entry["ADES_DF"]}


def test_get_obs_is_a_get_with_a_json_body_answering_ades_df(sandbox):
    reply = get_obs(sandbox)
    assert reply.status_code == 200
    assert set(rows(reply)) == {"A1", "A3"}  # A2 not yet at the MPC; Y4 is another object
    assert requests.post(sandbox.base_urls["mpc"] + "/api/get-obs", json={}, timeout=5).status_code == 405


def test_every_designation_of_the_object_gets_the_same_observations(sandbox):
    answers = [rows(get_obs(sandbox, d)) for d in ("3I", "C/2025 N1", "3I/ATLAS", "CK25N010", "0003I")]
    assert all(a == answers[0] for a in answers)


@pytest.mark.parametrize("body", [{"desigs": ["3I", "2I"]}, {"desigs": "3I"}, {},
                                  {"desigs": ["3I"], "output_format": ["XML"]}])
def test_get_obs_refuses_what_the_real_api_would_not_take(sandbox, body):
    reply = requests.get(sandbox.base_urls["mpc"] + "/api/get-obs", json=body, timeout=5)
    assert reply.status_code == 400 and "error" in reply.json()


def test_served_observations_use_ades_field_names(sandbox):
    header = set(parse_ades_psv((DATA / "mpc" / "test_ades_mpcexplorer.psv").read_text())[0])
    for row in rows(get_obs(sandbox)).values():
        assert set(row) <= header, set(row) - header


def test_ref_is_empty_until_the_observation_is_published(sandbox):
    assert rows(get_obs(sandbox))["A3"]["ref"] is None
    sandbox.set_clock("2025-08-02T00:00:00Z")
    served = rows(get_obs(sandbox))
    assert served["A3"]["ref"] == "MPS 123" and "A2" in served


def test_an_unchanged_answer_is_304_for_its_etag_and_200_once_it_changes(sandbox):
    first = get_obs(sandbox)
    etag = first.headers["ETag"]
    again = get_obs(sandbox, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    sandbox.set_clock("2025-07-11T00:00:00Z")
    changed = get_obs(sandbox, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_faults_apply_to_the_mpc_paths(sandbox):
    sandbox.faults.add("http503", path_prefix="/mpc", count=1)
    assert get_obs(sandbox).status_code == 503
    assert get_obs(sandbox).status_code == 200


def test_the_3i_identity_agrees_with_the_mpc_interstellar_list():
    listed = load_json("mpc/api_list_interstellar-names_limit2_offset1.json")["items"]
    (real,) = [item for item in listed if item["permid"] == "3I"]
    ours = IDENTITY_3I["identifier"]
    assert ours["unpacked_primary_provisional_designation"] == real["unpacked_primary_provisional_designation"]
    assert ours["name"] == real["name"]


def test_query_identifier_answers_with_the_real_fields_keyed_by_the_ids_asked(sandbox):
    real_fields = set(load_json("mpc/api_query-identifier_Sedna.json")["Sedna"])
    reply = requests.get(sandbox.base_urls["mpc"] + "/api/query-identifier",
                         json={"ids": ["C/2025 N1", "Nothing"]}, timeout=5).json()
    assert set(reply) == {"C/2025 N1", "Nothing"}
    assert set(reply["C/2025 N1"]) == real_fields and set(reply["Nothing"]) == real_fields
    assert reply["C/2025 N1"]["found"] == 1 and reply["C/2025 N1"]["permid"] == "3I"
    assert reply["Nothing"]["found"] == 0


def test_a_name_many_objects_share_is_a_disambiguation(sandbox):
    sandbox.add_products("mpc", [{"identifier": {"name": "ATLAS", "unpacked_primary_provisional_designation":
                                                 "C/2019 Y4", "found": 1}}])
    reply = requests.get(sandbox.base_urls["mpc"] + "/api/query-identifier", json={"ids": ["ATLAS"]},
                         timeout=5).json()["ATLAS"]
    assert reply["found"] == 2 and len(reply["disambiguation_list"]) == 2


# ---- JPL SBDB ---------------------------------------------------------------------------------

@pytest.fixture
def sbdb():
    real_67p = load_json("jpl/sbdb_67P.json")
    with Sandbox({"clock": "2026-01-01T00:00:00Z", "sbdb": [*default_scenario()["sbdb"], real_67p]},
                 port=0) as sb:
        yield sb


def sbdb_get(sb, **params):
    return requests.get(sb.base_urls["sbdb"] + "/sbdb.api", params=params, timeout=5)


def test_sbdb_serves_a_real_record_as_recorded(sbdb):
    reply = sbdb_get(sbdb, sstr="67P", **{"alt-des": "1"})
    assert reply.status_code == 200
    assert json.loads(reply.text) == load_json("jpl/sbdb_67P.json")


def test_sbdb_sends_alternate_designations_only_when_asked(sbdb):
    assert "des_alt" in sbdb_get(sbdb, sstr="C/2025 N1", **{"alt-des": "1"}).json()["object"]
    assert "des_alt" not in sbdb_get(sbdb, sstr="C/2025 N1").json()["object"]


def test_sbdb_finds_3i_by_each_of_its_designations(sbdb):
    for sstr in ("3I", "C/2025 N1", "3I/ATLAS", "c/2025n1"):
        assert sbdb_get(sbdb, sstr=sstr).json()["object"]["des"] == "3I"


def test_sbdb_not_found_and_several_matches(sbdb):
    assert sbdb_get(sbdb, sstr="nothing-like-it").json()["message"] == "specified object was not found"
    several = sbdb_get(sbdb, sstr="ATLAS")
    assert several.status_code == 300 and several.json()["code"] == "300"
    assert {m["pdes"] for m in several.json()["list"]} == {"3I", "C/2019 Y4"}
