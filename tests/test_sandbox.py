"""The sandbox's own behaviour: it must speak MAST and PDS faithfully before it can judge a harvester."""

from __future__ import annotations

import json
import re
import socket
import time
from datetime import UTC, datetime

import pytest
import requests

from harvester.sandbox import Sandbox, default_scenario, generate_scenario
from harvester.sandbox.scenario import load_scenario
from harvester.sandbox.timeutil import to_mjd

INVOKE = "/api/v0/invoke"
T3I = "urn:nasa:pds:context:target:comet.3i_atlas"
HARVEST = "ops:Harvest_Info.ops:harvest_date_time"


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


def mast(http, sandbox, filters, page=1, pagesize=100, service="Mast.Caom.Filtered", **extra):
    request = {"service": service, "format": "json", "pagesize": pagesize, "page": page,
               "params": {"columns": "*", "filters": filters, **extra}}
    resp = http.post(sandbox.base_urls["mast"] + INVOKE, data={"request": json.dumps(request)},
                     timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def pds(http, sandbox, expect=200, **params):
    resp = http.get(sandbox.base_urls["pds"] + "/products", params=params,
                    headers={"Accept": "application/json"}, timeout=10)
    assert resp.status_code == expect, resp.text
    return resp.json()


def mast_row(obsid, **kw):
    row = {"obsid": obsid, "obs_id": f"o{obsid}", "obs_collection": "HST", "target_name": "3I-ATLAS",
           "t_min": "2025-07-21T03:00:00Z", "t_max": "2025-07-21T04:00:00Z",
           "t_obs_release": "2025-07-22T00:00:00Z"}
    row.update(kw)
    return row


def pds_product(n, harvest, **kw):
    rec = {"lidvid": f"urn:nasa:pds:test:data:p{n:02d}::1.0", "title": f"product {n}",
           "target_name": "3I/ATLAS", "target_lid": T3I, "harvest_date_time": harvest,
           "start_date_time": "2025-10-02T18:43:12.000Z", "stop_date_time": "2025-10-02T18:43:16Z"}
    rec.update(kw)
    return rec


# ---------------------------------------------------------------- clock and visibility


def test_mast_row_is_hidden_until_it_appears_then_served(http):
    scenario = {"clock": "2025-07-21T00:00:00Z",
                "mast": [mast_row(1, appears="2025-07-21T12:00:00Z"), mast_row(2)]}
    with Sandbox(scenario) as sandbox:
        assert mast(http, sandbox, [])["data"] == []
        sandbox.set_clock("2025-07-21T12:00:00Z")
        assert [r["obsid"] for r in mast(http, sandbox, [])["data"]] == [1]
        # default `appears` is t_max + 1 day
        sandbox.set_clock(datetime(2025, 7, 22, 4, 0, tzinfo=UTC))
        assert [r["obsid"] for r in mast(http, sandbox, [])["data"]] == [1, 2]
        assert sandbox.clock == datetime(2025, 7, 22, 4, 0, tzinfo=UTC)


def test_mast_download_serves_a_visible_observations_preview_as_a_real_jpeg(http):
    """`/api/v0.1/Download/file?uri=mast:...` as astroquery's MAST_DOWNLOAD_URL calls it: the
    jpegURL of an observation already served is a JPEG; an unknown file or one of an
    observation not yet visible is a 404."""
    uri = "mast:HST/product/o1_drc.jpg"
    scenario = {"clock": "2025-07-21T00:00:00Z",
                "mast": [mast_row(1, jpegURL=uri, appears="2025-07-21T12:00:00Z")]}
    with Sandbox(scenario) as sandbox:
        url = sandbox.base_urls["mast"] + "/api/v0.1/Download/file"
        assert http.get(url, params={"uri": uri}, timeout=10).status_code == 404  # not yet
        sandbox.set_clock("2025-07-21T12:00:00Z")
        image = http.get(url, params={"uri": uri}, timeout=10)
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
        assert image.content[:3] == b"\xff\xd8\xff" and image.content[-2:] == b"\xff\xd9"
        # the preview file Mast.Caom.Products lists for it is served too
        listed = http.get(url, params={"uri": "mast:HST/product/o1_preview.jpg"}, timeout=10)
        assert listed.status_code == 200
        missing = http.get(url, params={"uri": "mast:HST/product/o1_cal.fits"}, timeout=10)
        assert missing.status_code == 404 and "File not found" in missing.text


def test_mast_serves_metadata_of_exclusive_data_with_future_release(http, sb):
    data = mast(http, sb, [{"paramName": "proposal_id", "values": ["7676"]}])["data"]
    assert len(data) == 3
    assert all(r["t_obs_release"] > to_mjd(sb.clock) for r in data)


def test_pds_product_is_served_only_once_harvested(http):
    scenario = {"clock": "2026-02-11T18:22:05.122Z",
                "pds": [pds_product(1, "2026-02-11T18:22:05.123Z"),
                        pds_product(2, "2026-01-01T00:00:00Z", archive_status="staged")]}
    with Sandbox(scenario) as sandbox:
        assert pds(http, sandbox)["summary"]["hits"] == 0
        sandbox.advance_clock(seconds=1)
        body = pds(http, sandbox)
        assert [d["id"] for d in body["data"]] == ["urn:nasa:pds:test:data:p01::1.0"]
        assert body["data"][0]["properties"]["ops:Tracking_Meta.ops:archive_status"] == ["archived"]


def test_pds_new_version_supersedes_old_once_harvested(http):
    scenario = {"clock": "2026-03-01T00:00:00Z", "pds": [
        pds_product(1, "2026-02-01T00:00:00Z"),
        pds_product(1, "2026-04-01T00:00:00Z", lidvid="urn:nasa:pds:test:data:p01::1.1")]}
    with Sandbox(scenario) as sandbox:
        assert [d["id"] for d in pds(http, sandbox)["data"]] == ["urn:nasa:pds:test:data:p01::1.0"]
        sandbox.set_clock("2026-05-01T00:00:00Z")
        assert [d["id"] for d in pds(http, sandbox)["data"]] == ["urn:nasa:pds:test:data:p01::1.1"]
        old = http.get(sandbox.base_urls["pds"] + "/products/urn:nasa:pds:test:data:p01::1.0")
        assert old.status_code == 200 and old.json()["id"].endswith("::1.0")
        latest = http.get(sandbox.base_urls["pds"] + "/products/urn:nasa:pds:test:data:p01")
        assert latest.json()["id"].endswith("::1.1")
        missing = http.get(sandbox.base_urls["pds"] + "/products/urn:nasa:pds:test:nothing::1.0")
        assert missing.status_code == 404 and "NotFoundException" in missing.text


def test_add_products_replaces_by_obsid_and_lidvid(http):
    with Sandbox({"clock": "2026-01-01T00:00:00Z", "mast": [mast_row(5)],
                  "pds": [pds_product(1, "2025-12-01T00:00:00Z")]}) as sandbox:
        sandbox.add_products("mast", [mast_row(5, target_name="C/2025 N1"), mast_row(6)])
        sandbox.add_products("pds", [pds_product(1, "2025-12-01T00:00:00Z", title="renamed")])
        rows = mast(http, sandbox, [])["data"]
        assert [(r["obsid"], r["target_name"]) for r in rows] == [(5, "C/2025 N1"), (6, "3I-ATLAS")]
        assert [d["title"] for d in pds(http, sandbox)["data"]] == ["renamed"]
        assert mast_pds(sandbox.product_counts()) == {"mast": 2, "pds": 1}


def test_corrupt_serves_a_broken_value_verbatim(http):
    with Sandbox({"clock": "2026-01-01T00:00:00Z", "mast": [mast_row(1), mast_row(2)],
                  "pds": [pds_product(1, "2025-12-01T00:00:00Z")]}) as sandbox:
        sandbox.corrupt("mast", 2, t_min="not-a-date")
        rows = {r["obsid"]: r for r in mast(http, sandbox, [])["data"]}
        assert rows[2]["t_min"] == "not-a-date" and isinstance(rows[1]["t_min"], float)
        sandbox.corrupt("pds", "urn:nasa:pds:test:data:p01::1.0", harvest_date_time=12)
        assert pds(http, sandbox)["data"][0]["properties"][HARVEST] == 12
        # queries keep working around the broken value
        assert pds(http, sandbox, q=f'({HARVEST} ge "2025-01-01")')["summary"]["hits"] == 0


# ---------------------------------------------------------------- MAST protocol


def test_mast_answer_has_the_real_envelope_columns_and_mjd_times(http, sb):
    body = mast(http, sb, [{"paramName": "obs_id", "values": ["if9a01xoq"]}])
    assert set(body) == {"status", "msg", "data", "fields", "paging"}
    assert body["status"] == "COMPLETE" and body["msg"] == ""
    names = [f["name"] for f in body["fields"]]
    assert names[:5] == ["dataproduct_type", "calib_level", "obs_collection", "obs_id", "target_name"]
    assert names[-2:] == ["obsid", "objID"]
    assert {"t_min", "t_max", "t_obs_release", "s_region", "jpegURL", "dataURL"} <= set(names)
    (row,) = body["data"]
    assert set(row) == set(names)
    assert row["obsid"] == 2007400001 and isinstance(row["obsid"], int)
    assert row["t_min"] == pytest.approx(to_mjd("2025-07-21T03:10:00Z"))
    assert row["t_obs_release"] == pytest.approx(60878.0)  # 2025-07-22, MJD 0 = 1858-11-17
    assert set(body["paging"]) == {"page", "pageSize", "pagesFiltered", "rows", "rowsFiltered",
                                   "rowsTotal"}


def test_mast_filters_and_together_with_or_within_values(http, sb):
    lo, hi = to_mjd("2025-07-01T00:00:00Z"), to_mjd("2026-02-01T00:00:00Z")
    rows = mast(http, sb, [
        {"paramName": "obs_collection", "values": ["JWST", "SWIFT"]},
        {"paramName": "target_name", "values": [], "freeText": "%3i%"},
        {"paramName": "t_obs_release", "values": [{"min": lo, "max": hi}]},
    ])["data"]
    assert {r["obs_collection"] for r in rows} == {"JWST", "SWIFT"}
    assert all("3I" in r["target_name"].upper() for r in rows)
    assert all(lo <= r["t_obs_release"] <= hi for r in rows)
    # the JWST GO rows (release 2026-12-23) and the W3IRS5 decoy (2026-09) fall outside
    assert {r["obs_id"] for r in rows} == {
        "jw09442-o001_t001_nirspec_g395h-f290lp", "jw09442-o001_t001_nirspec_prism-clear",
        "jw09442001001_03101_00001_nrs1", "00019012002", "00019012003"}


def test_mast_free_text_is_sql_like_with_percent_and_underscore(http, sb):
    names = {r["target_name"] for r in mast(http, sb, [
        {"paramName": "target_name", "values": [], "freeText": "C_2025_N1%"}])["data"]}
    assert names == {"C/2025 N1"}
    names = {r["target_name"] for r in mast(http, sb, [
        {"paramName": "target_name", "values": [], "freeText": "%atlas%"}])["data"]}
    assert {"3I/ATLAS", "C/2019 Y4 (ATLAS)", "ATLAS25abc", "C/2025 K1 (ATLAS)"} <= names
    assert "C2025N1" not in names


def test_mast_generic_column_filters_values_and_ranges(http, sb):
    rows = mast(http, sb, [{"paramName": "instrument_name", "values": ["UVOT"]},
                           {"paramName": "calib_level", "values": ["2"]},
                           {"paramName": "t_min", "values": [{"min": to_mjd("2025-08-01"),
                                                              "max": to_mjd("2025-09-01")}]}])
    assert [r["obs_id"] for r in rows["data"]] == ["00019012002", "00019012003"]


def test_mast_paging_is_stable_by_obsid_with_counts(http, sb):
    filters = [{"paramName": "target_name", "values": [], "freeText": "%"}]
    first = mast(http, sb, filters, page=1, pagesize=7)
    total = first["paging"]["rowsFiltered"]
    assert first["paging"]["pagesFiltered"] == -(-total // 7)
    assert first["paging"]["rowsTotal"] == total and first["paging"]["rows"] == 7
    seen = []
    for page in range(1, first["paging"]["pagesFiltered"] + 1):
        body = mast(http, sb, filters, page=page, pagesize=7)
        assert body["paging"]["page"] == page
        seen += [r["obsid"] for r in body["data"]]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == total
    assert mast(http, sb, filters, page=99, pagesize=7)["data"] == []


def test_mast_unknown_column_and_service_answer_status_error(http, sb):
    body = mast(http, sb, [{"paramName": "no_such_column", "values": ["x"]}])
    assert body["status"] == "ERROR" and "no_such_column" in body["msg"]
    assert mast(http, sb, [], service="Mast.Nope")["status"] == "ERROR"


def test_mast_request_without_form_field_is_rejected(http, sb):
    resp = http.post(sb.base_urls["mast"] + INVOKE, json={"service": "Mast.Caom.Filtered"})
    assert resp.status_code == 400


def test_mast_products_service_lists_files_of_visible_observations(http, sb):
    body = mast(http, sb, [], service="Mast.Caom.Products")  # no obsid: nothing
    assert body["data"] == []
    request = {"service": "Mast.Caom.Products", "format": "json", "params": {"obsid": "876000101"}}
    resp = http.post(sb.base_urls["mast"] + INVOKE, data={"request": json.dumps(request)})
    rows = resp.json()["data"]
    assert rows and {r["obsID"] for r in rows} == {"876000101"}
    assert all(r["dataURI"].startswith("mast:JWST/product/") for r in rows)


# PDS protocol: tests/test_sandbox_pds.py


# ---------------------------------------------------------------- faults


def test_http_error_faults_answer_with_status_and_retry_after(http):
    with Sandbox({"clock": "2026-01-01T00:00:00Z"}) as sandbox:
        sandbox.faults.add("http500", path_prefix="/pds")
        sandbox.faults.add("http503", path_prefix="/pds", retry_after=7)
        sandbox.faults.add("http429", path_prefix="/pds", count=2, retry_after=3)
        url = sandbox.base_urls["pds"] + "/products"
        statuses = [http.get(url) for _ in range(5)]
        assert [r.status_code for r in statuses] == [500, 503, 429, 429, 200]
        assert statuses[1].headers["Retry-After"] == "7"
        assert statuses[2].headers["Retry-After"] == "3"
        assert sandbox.request_count("/pds") == 5


def test_fault_only_hits_its_path_prefix(http):
    with Sandbox({"clock": "2026-01-01T00:00:00Z"}) as sandbox:
        sandbox.faults.add("http500", path_prefix="/mast")
        assert http.get(sandbox.base_urls["pds"] + "/products").status_code == 200
        resp = http.post(sandbox.base_urls["mast"] + INVOKE, data={"request": "{}"})
        assert resp.status_code == 500
        assert len(sandbox.faults) == 0


def test_slow_fault_delays_then_answers_normally(http):
    with Sandbox({"clock": "2026-01-01T00:00:00Z"}) as sandbox:
        sandbox.faults.add("slow", path_prefix="/pds", delay=0.4)
        started = time.monotonic()
        resp = http.get(sandbox.base_urls["pds"] + "/products")
        assert time.monotonic() - started >= 0.4
        assert resp.status_code == 200 and resp.json()["summary"]["hits"] == 0
        with pytest.raises(requests.exceptions.ReadTimeout):
            sandbox.faults.add("slow", path_prefix="/pds", delay=1.0)
            http.get(sandbox.base_urls["pds"] + "/products", timeout=0.2)


def test_drop_fault_closes_connection_without_response(http):
    with Sandbox({"clock": "2026-01-01T00:00:00Z"}) as sandbox:
        sandbox.faults.add("drop", path_prefix="/pds")
        with pytest.raises(requests.exceptions.ConnectionError):
            http.get(sandbox.base_urls["pds"] + "/products")
        assert http.get(sandbox.base_urls["pds"] + "/products").status_code == 200


def test_truncated_fault_sends_half_a_json_body_with_matching_length(http):
    with Sandbox(default_scenario()) as sandbox:
        sandbox.faults.add("truncated", path_prefix="/pds")
        resp = http.get(sandbox.base_urls["pds"] + "/products")
        assert resp.status_code == 200
        assert int(resp.headers["Content-Length"]) == len(resp.content)
        with pytest.raises(ValueError):
            json.loads(resp.content)
        full = http.get(sandbox.base_urls["pds"] + "/products")
        # The summary's "took" (milliseconds, as the registry reports it) differs between answers.
        def untimed(body: bytes) -> bytes:
            return re.sub(rb'"took": \d+', b'"took": 0', body)

        assert untimed(full.content).startswith(untimed(resp.content))
        assert len(full.content) > len(resp.content)


def test_html200_fault_is_an_html_page_with_status_200(http):
    with Sandbox({"clock": "2026-01-01T00:00:00Z"}) as sandbox:
        sandbox.faults.add("html200", path_prefix="/mast")
        resp = http.post(sandbox.base_urls["mast"] + INVOKE, data={"request": "{}"})
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("text/html")
        assert resp.text.lstrip().startswith("<!DOCTYPE html>")


def test_executing_fault_makes_mast_say_executing_until_resent(http):
    with Sandbox({"clock": "2026-01-01T00:00:00Z", "mast": [mast_row(9)]}) as sandbox:
        sandbox.faults.add("executing", path_prefix="/mast", count=2)
        statuses = [mast(http, sandbox, [])["status"] for _ in range(3)]
        assert statuses == ["EXECUTING", "EXECUTING", "COMPLETE"]
        assert sandbox.request_count("/mast") == 3


def test_unknown_fault_kind_is_refused():
    with pytest.raises(ValueError):
        Sandbox().faults.add("explode")


# ---------------------------------------------------------------- control API


def test_control_api_drives_a_sandbox_over_http(http):
    with Sandbox({"clock": "2025-07-01T00:00:00Z"}) as sandbox:
        ctl = sandbox.url + "/_sandbox"
        health = http.get(ctl + "/health").json()
        assert health["status"] == "ok" and not any(health["products"].values())
        added = http.post(ctl + "/products", json={"mast": [mast_row(1)],
                                                   "pds": [pds_product(1, "2025-12-01T00:00:00Z")]})
        assert mast_pds(added.json()["added"]) == {"mast": 1, "pds": 1}
        assert mast(http, sandbox, [])["data"] == []  # not visible yet
        assert http.post(ctl + "/clock", json={"now": "2026-01-01T00:00:00Z"}).json()["now"] \
            == "2026-01-01T00:00:00.000Z"
        assert len(mast(http, sandbox, [])["data"]) == 1
        assert pds(http, sandbox)["summary"]["hits"] == 1
        queued = http.post(ctl + "/faults", json={"kind": "http429", "path_prefix": "/pds",
                                                  "count": 1, "retry_after": 2})
        assert queued.json()["queued"]["retry_after"] == 2
        assert http.get(sandbox.base_urls["pds"] + "/products").status_code == 429
        counts = http.get(ctl + "/requests").json()
        assert counts["counts"] == {"/mast": 2, "/pds": 2} and counts["total"] == 4
        assert http.post(ctl + "/faults", json={"kind": "nope"}).status_code == 400
        assert sandbox.request_count() == 4  # control calls are not logged


def test_request_log_summarises_mast_service_and_page(http):
    with Sandbox({"clock": "2026-01-01T00:00:00Z"}) as sandbox:
        mast(http, sandbox, [{"paramName": "obs_collection", "values": ["HST"]}], page=2)
        pds(http, sandbox, q='(title eq "x")')
        (m, p) = sandbox.requests
        assert m.method == "POST" and m.path == "/mast/api/v0/invoke"
        assert "Mast.Caom.Filtered page=2" in m.summary and "obs_collection" in m.summary
        assert p.path == "/pds/api/search/1/products" and 'title eq "x"' in p.summary


# ---------------------------------------------------------------- scenarios


def test_default_scenario_is_realistic_and_has_pending_products(http, sb):
    scenario = default_scenario()
    clock = scenario["clock"]
    assert clock == "2026-11-21T00:00:00Z" and "_comment" in scenario
    names = {r["target_name"] for r in scenario["mast"]}
    assert {"3I/ATLAS", "3I-ATLAS", "C/2025 N1", "C2025N1", "3I_ATLAS", "ATLAS-3I"} <= names
    assert {"C/2019 Y4 (ATLAS)", "ATLAS25abc", "W3IRS5", "C2025N10", "2I-BORISOV"} <= names
    pending = [p for p in scenario["pds"] if p["harvest_date_time"] > clock]
    assert pending
    served = {d["id"] for d in pds(http, sb, limit=1000)["data"]}
    assert served and not served & {p["lidvid"] for p in pending}
    context_lid = "urn:nasa:pds:context:target:comet.c2025_n1_atlas"
    ids = {d["id"] for d in pds(http, sb, q=f'(ref_lid_target eq "{context_lid}")', limit=500)["data"]}
    assert any(i.startswith("urn:nasa:pds:mro_hirise:") for i in ids)
    assert any(i.startswith("urn:nasa:pds:maven.iuvs") for i in ids)
    context = pds(http, sb, q='(product_class eq "Product_Context")', limit=100)
    assert context_lid + "::1.0" in {d["id"] for d in context["data"]}


def test_load_scenario_reads_a_json_file(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"clock": "2026-01-01T00:00:00Z", "mast": [mast_row(3)]}))
    scenario = load_scenario(path)
    assert scenario["pds"] == [] and scenario["mast"][0]["obsid"] == 3
    with Sandbox(path) as sandbox:
        assert mast_pds(sandbox.product_counts()) == {"mast": 1, "pds": 0}


def test_generated_scenario_of_150k_products_builds_and_serves_pages(http):
    """How fast is bench/bench.py's business (it records the sandbox's build time); tests never
    assert wall-clock times."""
    scenario = generate_scenario(mast=100_000, pds=50_000, seed=1)
    with Sandbox(scenario) as sandbox:
        assert mast_pds(sandbox.product_counts()) == {"mast": 100_000, "pds": 50_000}
        filters = [{"paramName": "target_name", "values": [], "freeText": "%3I%"}]
        first = mast(http, sandbox, filters, page=1, pagesize=2000)
        second = mast(http, sandbox, filters, page=2, pagesize=2000)
        assert first["paging"]["rowsFiltered"] > 10_000 and len(second["data"]) == 2000
        assert first["data"][-1]["obsid"] < second["data"][0]["obsid"]
        body = pds(http, sandbox, q=f'(ref_lid_target eq "{T3I}")', limit=1000,
                   sort=f"{HARVEST},lidvid")
        last = body["data"][-1]["properties"]
        nxt = pds(http, sandbox, q=f'(ref_lid_target eq "{T3I}")', limit=1000,
                  sort=f"{HARVEST},lidvid",
                  **{"search-after": f"{last[HARVEST][0]},{last['lidvid'][0]}"})
        assert body["summary"]["hits"] > 40_000 and len(nxt["data"]) == 1000
        assert nxt["data"][0]["id"] != body["data"][-1]["id"]


# ---------------------------------------------------------------- astroquery as a peer


def test_astroquery_query_criteria_round_trips_through_the_sandbox(sb, monkeypatch):
    astroquery_mast = pytest.importorskip("astroquery.mast")
    outside: list = []
    real_connect = socket.socket.connect

    def local_only(self, address):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            outside.append(address)
            raise AssertionError(f"astroquery tried to reach {address} instead of the sandbox")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)
    monkeypatch.setattr(astroquery_mast.conf, "server", sb.base_urls["mast"])
    observations = sb.attach_astroquery(astroquery_mast.ObservationsClass())
    sb.clear_requests()
    lo, hi = to_mjd("2025-07-01T00:00:00Z"), to_mjd("2026-12-31T00:00:00Z")
    table = observations.query_criteria(obs_collection=["JWST", "HST"], target_name="*3I*",
                                        t_obs_release=[lo, hi])
    assert not outside
    direct = mast(http_session(), sb, [
        {"paramName": "obs_collection", "values": ["JWST", "HST"]},
        {"paramName": "target_name", "values": [], "freeText": "%3I%"},
        {"paramName": "t_obs_release", "values": [{"min": lo, "max": hi}]}], pagesize=50000)
    # MAST types obsid as "string" in `fields`, so astroquery hands back strings
    assert [str(o) for o in table["obsid"]] == [str(r["obsid"]) for r in direct["data"]]
    assert list(table["target_name"]) == [r["target_name"] for r in direct["data"]]
    assert table["t_obs_release"][0] == pytest.approx(direct["data"][0]["t_obs_release"])
    paths = [r.path for r in sb.requests]
    assert "/mast/api/v0/invoke" in paths
    products = observations.get_product_list(table[:1])
    assert len(products) >= 1 and not outside


def http_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def mast_pds(counts: dict[str, int]) -> dict[str, int]:
    """The MAST and PDS counts: the tests here are about those two; other archives have theirs."""
    return {"mast": counts["mast"], "pds": counts["pds"]}
