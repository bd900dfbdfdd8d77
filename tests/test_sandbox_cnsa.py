"""The sandbox's CNSA stand-in: the portal's endpoints, envelopes, paging, clock and faults."""

from __future__ import annotations

import pytest
import requests

from harvester.sandbox import Sandbox, default_scenario
from tests.conftest import load_json


@pytest.fixture(scope="module")
def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never route 127.0.0.1 through a proxy from the environment
    return session


@pytest.fixture(scope="module")
def sb():
    """The default scenario, shared read-only by tests that do not change state."""
    with Sandbox(default_scenario()) as sandbox:
        yield sandbox


def get(http, sandbox, endpoint, expect=200, **params):
    resp = http.get(f"{sandbox.base_urls['cnsa']}/{endpoint}", params=params, timeout=10)
    assert resp.status_code == expect, resp.text
    return resp.json()


def batch(batch_id, release, *files, **fields):
    return {"id": batch_id, "name": f"batch {batch_id}", "taskName": "Tianwen-1", "loadName": "HiRIC",
            "dataLevelName": "2C", "releaseTime": release, "files": list(files), **fields}


def test_base_url_is_the_portals_science_api(sb):
    assert sb.base_urls["cnsa"] == f"{sb.url}/cnsa/moon-admin/client/science"


def test_catalogue_lists_released_batches_newest_first_in_the_list_envelope(http, sb):
    answer = get(http, sb, "catalogue", pageNum=1, pageSize=50)
    assert set(answer) == {"total", "rows", "code", "msg"} and answer["code"] == 200
    # The batch released 2027-02-10 is after the scenario's clock (2026-11-21).
    assert [r["id"] for r in answer["rows"]] == [1188, 1187, 1095, 1052] and answer["total"] == 4
    assert "files" not in answer["rows"][0] and not any(k.startswith("_") for k in answer["rows"][1])


def test_default_scenario_holds_the_3i_batch_and_what_must_not_match(http, sb):
    rows = get(http, sb, "dataInfoList", pageNum=1, pageSize=50, taskName="Tianwen-1")["rows"]
    hiric = [r for r in rows if r["loadName"] == "HiRIC"]
    in_window = [r for r in hiric if "2025-10-01" <= r["startTime"] <= "2025-10-04 23:59:59"]
    assert len(in_window) == 4 and {r["dataCatalogueId"] for r in in_window} == {1187}
    # Outside the window: two frames of the same batch, two of an earlier one.
    assert sorted(r["startTime"][:10] for r in hiric if r not in in_window) == [
        "2025-01-14", "2025-03-02", "2025-09-12", "2025-10-22"]
    assert any(r["loadName"] == "MoRIC" and r["startTime"].startswith("2025-10-03") for r in rows)


def test_batch_is_hidden_until_its_release_time_in_beijing(http):
    scenario = {"clock": "2026-05-28T01:59:59Z",
                "cnsa": [batch(1, "2026-05-28 10:00:00", {"dataInfoId": "a1", "startTime": "2025-10-02 00:00:00"})]}
    with Sandbox(scenario) as sandbox:
        assert get(http, sandbox, "catalogue")["rows"] == []
        assert get(http, sandbox, "dataInfoList")["total"] == 0
        assert get(http, sandbox, "dataInfo/getAnnexZip/a1")["code"] == 500
        sandbox.set_clock("2026-05-28T02:00:00Z")  # 10:00 at UTC+8
        assert [r["id"] for r in get(http, sandbox, "catalogue")["rows"]] == [1]
        assert get(http, sandbox, "dataInfoList")["rows"][0]["dataInfoId"] == "a1"


def test_release_time_with_a_zone_is_taken_as_written(http):
    scenario = {"clock": "2026-05-28T09:00:00Z", "cnsa": [batch(1, "2026-05-28T10:00:00Z")]}
    with Sandbox(scenario) as sandbox:
        assert get(http, sandbox, "catalogue")["rows"] == []
        sandbox.advance_clock(hours=1)
        assert get(http, sandbox, "catalogue")["total"] == 1


def test_file_list_pages_by_page_number_with_the_total(http):
    files = [{"dataInfoId": f"f{n}", "startTime": f"2025-10-0{n} 00:00:00"} for n in range(1, 6)]
    with Sandbox({"clock": "2027-01-01T00:00:00Z", "cnsa": [batch(1, "2026-01-01", *files)]}) as sandbox:
        pages = [get(http, sandbox, "dataInfoList", pageNum=n, pageSize=2) for n in (1, 2, 3, 4)]
        assert [p["total"] for p in pages] == [5, 5, 5, 5]
        assert [[r["dataInfoId"] for r in p["rows"]] for p in pages] == [["f1", "f2"], ["f3", "f4"], ["f5"], []]
        assert len(get(http, sandbox, "dataInfoList")["rows"]) == 5  # no paging asked: every row


def test_file_rows_inherit_the_batch_fields_and_filter_on_them(http, sb):
    rows = get(http, sb, "dataInfoList", taskName="Tianwen-1", loadName="HiRIC", levelName="2C",
               dataCatalogueId="1187")["rows"]
    assert len(rows) == 6
    assert {(r["dataCatalogueId"], r["taskName"], r["loadName"], r["dataLevelName"]) for r in rows} == {
        (1187, "Tianwen-1", "HiRIC", "2C")}
    assert "link" not in rows[0]
    assert get(http, sb, "dataInfoList", loadName="PCAM")["rows"][0]["taskName"] == "CE4"


def test_get_annex_zip_answers_in_the_recorded_envelope(http, sb):
    recorded = load_json("cnsa/getAnnexZip_CE4_example.json")
    answer = get(http, sb, "dataInfo/getAnnexZip/2603031000000362")
    assert list(answer) == list(recorded) and answer == recorded
    assert get(http, sb, "dataInfo/getAnnexZip/no-such-file") == {"msg": "数据不存在", "code": 500}


def test_data_info_gives_one_files_row(http, sb):
    answer = get(http, sb, "dataInfo/260528100000000004")
    assert answer["code"] == 200 and answer["data"]["startTime"] == "2025-10-03 12:20:05"


def test_unknown_endpoint_and_method_are_http_errors(http, sb):
    get(http, sb, "nothing-here", expect=404)
    resp = http.post(f"{sb.base_urls['cnsa']}/catalogue", timeout=10)
    assert resp.status_code == 405


def test_corrupt_and_rename_change_what_is_served(http):
    with Sandbox(default_scenario()) as sandbox:
        sandbox.corrupt("cnsa", "260528100000000004", startTime="not a time")
        sandbox.archive("cnsa").rename_field(1187, "releaseTime", "publishTime")
        row = get(http, sandbox, "dataInfo/260528100000000004")["data"]
        assert row["startTime"] == "not a time"
        catalogue_row = next(r for r in get(http, sandbox, "catalogue")["rows"] if r["id"] == 1187)
        assert "releaseTime" not in catalogue_row and catalogue_row["publishTime"] == "2026-05-28 10:00:00"


def test_faults_apply_to_the_cnsa_prefix(http):
    with Sandbox(default_scenario()) as sandbox:
        sandbox.faults.add("http429", path_prefix="/cnsa", retry_after=7)
        resp = http.get(f"{sandbox.base_urls['cnsa']}/catalogue", timeout=10)
        assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"
        assert get(http, sandbox, "catalogue")["code"] == 200
        assert sandbox.request_count("/cnsa") == 2


def test_a_batch_without_release_time_is_refused_at_load():
    with pytest.raises(ValueError, match="needs id and releaseTime"):
        Sandbox({"cnsa": [{"id": 1}]})
