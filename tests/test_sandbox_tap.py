"""The sandbox's TAP services (ESA PSA, ObsCore): the ADQL subset, the row limits, the answer
formats, visibility on the scenario clock and faults. A stand-in must speak TAP faithfully
before it can judge the harvester's TAP adapters."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import requests

from harvester.sandbox import Sandbox, default_scenario
from harvester.sandbox.generate_tap import generate_tap_scenario

VO = "{http://www.ivoa.net/xml/VOTable/v1.3}"


def granule(n: int, **fields) -> dict:
    row = {"granule_uid": f"urn:esa:psa:test:data_raw:g{n:02d}", "target_name": "3I/ATLAS",
           "alt_target_name": "C/2025 N1#3I", "time_min": "2025-10-03T06:00:00Z",
           "time_max": "2025-10-03T06:00:05Z", "instrument_host_name": "Mars Express",
           "instrument_name": "HRSC", "creation_date": "2025-10-20T00:00:00",
           "release_date": "2026-04-20T00:00:00", "processing_level": 2}
    row.update(fields)
    return row


TABLE = [
    granule(1),
    granule(2, target_name="C/2025 N1 (ATLAS)", alt_target_name=None, processing_level=3),
    granule(3, target_name="Mars", alt_target_name="", creation_date="2025-10-21T12:00:00"),
    granule(4, target_name="3i/atlas", creation_date="2025-10-22T00:00:00.000Z", release_date=None),
    granule(5, target_name="Phobos", alt_target_name="", processing_level=5,
            creation_date="2025-10-19T00:00:00"),
]


@pytest.fixture(scope="module")
def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


@pytest.fixture(scope="module")
def sb():
    with Sandbox({"clock": "2026-01-01T00:00:00Z", "psa": TABLE}) as sandbox:
        yield sandbox


def sync(http, sandbox, query, *, service="psa", method="post", expect=200, **params):
    form = {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": query, **params}
    url = sandbox.base_urls[service] + "/sync"
    resp = http.post(url, data=form, timeout=10) if method == "post" else http.get(url, params=form, timeout=10)
    assert resp.status_code == expect, resp.text
    return resp


def uids(http, sandbox, where, **params):
    resp = sync(http, sandbox, f"SELECT * FROM psa.epn_core WHERE {where} ORDER BY granule_uid",
                FORMAT="json", **params)
    answer = resp.json()
    index = [c["name"] for c in answer["metadata"]].index("granule_uid")
    return [row[index].rsplit(":", 1)[-1] for row in answer["data"]]


def votable_status(body: bytes) -> list[str]:
    root = ET.fromstring(body)
    return [info.get("value") for info in root.iter(f"{VO}INFO") if info.get("name") == "QUERY_STATUS"]


# ---------------------------------------------------------------- the ADQL subset


@pytest.mark.parametrize("where, expected", [
    ("target_name LIKE '%3I%'", ["g01"]),                              # LIKE is case-sensitive
    ("target_name ILIKE '%3i%'", ["g01", "g04"]),
    ("LOWER(target_name) LIKE '%3i/atlas%'", ["g01", "g04"]),
    ("UPPER(target_name) = '3I/ATLAS'", ["g01", "g04"]),
    ("target_name LIKE '%2025_N1%'", ["g02"]),                         # _ is one character
    ("target_name LIKE '%3I%' OR alt_target_name LIKE '%3I%'", ["g01", "g04"]),
    ("NOT target_name LIKE '%3I%'", ["g02", "g03", "g04", "g05"]),
    ("target_name NOT LIKE 'M%'", ["g01", "g02", "g04", "g05"]),
    ("target_name IN ('Mars', 'Phobos')", ["g03", "g05"]),
    ("target_name NOT IN ('Mars', 'Phobos')", ["g01", "g02", "g04"]),
    ("alt_target_name IS NULL", ["g02"]),
    ("release_date IS NOT NULL AND processing_level >= 3", ["g02", "g05"]),
    ("processing_level <> 2", ["g02", "g05"]),
    ("processing_level != 2 AND NOT (target_name = 'Phobos')", ["g02"]),
    ("(target_name = 'Mars' OR target_name = 'Phobos') AND processing_level < 3", ["g03"]),
    ("time_min > 2460951.5 AND time_min < 2460952", ["g01", "g02", "g03", "g04", "g05"]),
    # timestamps compare as times whatever their spelling
    ("creation_date > '2025-10-21'", ["g03", "g04"]),
    ("creation_date >= '2025-10-22T00:00:00Z'", ["g04"]),
    ("creation_date = '2025-10-20T00:00:00.000'", ["g01", "g02"]),
    # NULL compares as unknown, and NOT unknown is still unknown
    ("NOT (alt_target_name LIKE '%3I%')", ["g03", "g05"]),
    ("release_date < '2030-01-01'", ["g01", "g02", "g03", "g05"]),
])
def test_where_clause_selects_what_sql_would(http, sb, where, expected):
    assert uids(http, sb, where) == expected


def test_keyset_condition_pages_through_ties_without_skips_or_repeats(http, sb):
    order = "ORDER BY creation_date, granule_uid"
    seen, after = [], None
    for _ in range(10):
        where = "target_name IS NOT NULL"
        if after:
            where += (f" AND (creation_date > '{after[0]}' OR (creation_date = '{after[0]}'"
                      f" AND granule_uid > '{after[1]}'))")
        answer = sync(http, sb, f"SELECT granule_uid, creation_date FROM psa.epn_core WHERE {where} {order}",
                      FORMAT="json", MAXREC="2").json()
        seen += [row[0] for row in answer["data"]]
        if len(answer["data"]) < 2:
            break
        after = answer["data"][-1][1], answer["data"][-1][0]
    assert [s.rsplit(":", 1)[-1] for s in seen] == ["g05", "g01", "g02", "g03", "g04"]


def test_order_by_descending_puts_nulls_first_and_top_limits(http, sb):
    answer = sync(http, sb, "SELECT TOP 3 granule_uid, release_date FROM psa.epn_core "
                            "ORDER BY release_date DESC, granule_uid", FORMAT="json").json()
    assert [row[0].rsplit(":", 1)[-1] for row in answer["data"]] == ["g04", "g01", "g02"]
    assert [m["name"] for m in answer["metadata"]] == ["granule_uid", "release_date"]


@pytest.mark.parametrize("query, message", [
    ("SELECT * FROM psa.nope", "Table 'psa.nope' does not exist"),
    ("SELECT nope FROM psa.epn_core", "Column 'nope' does not exist"),
    # CONTAINS and INTERSECTS are supported (tap_geometry.py); other ADQL functions are not.
    ("SELECT * FROM psa.epn_core WHERE DISTANCE(POINT('ICRS', 1, 2), POINT('ICRS', 1, 3)) < 1",
     "Unsupported function 'DISTANCE'"),
    ("SELECT * FROM psa.epn_core WHERE CONTAINS(CIRCLE('ICRS', 1, 2, 3), POINT('ICRS', 1, 2)) = 1",
     "CONTAINS: only a POINT inside a region is supported here"),
    ("SELECT * FROM psa.epn_core WHERE target_name LIKE", "Syntax error"),
    ("SELECT * FROM psa.epn_core WHERE creation_date > 'yesterday'", "Not a timestamp"),
    ("DELETE FROM psa.epn_core", "Syntax error"),
])
def test_bad_adql_is_a_tap_error_document_with_status_400(http, sb, query, message):
    resp = sync(http, sb, query, expect=400)
    assert votable_status(resp.content) == ["ERROR"]
    assert message in resp.text


def test_unsupported_format_and_request_are_refused(http, sb):
    assert "Unsupported FORMAT" in sync(http, sb, "SELECT * FROM psa.epn_core", FORMAT="fits", expect=400).text
    assert "Unknown REQUEST" in sync(http, sb, "SELECT * FROM psa.epn_core", REQUEST="getCapabilities",
                                     expect=400).text


# ---------------------------------------------------------------- row limits and answers


def test_maxrec_caps_a_votable_with_overflow_after_the_data(http, sb):
    resp = sync(http, sb, "SELECT * FROM psa.epn_core ORDER BY granule_uid", MAXREC="2")
    root = ET.fromstring(resp.content)
    resource = root.find(f"{VO}RESOURCE")
    children = [child.tag.removeprefix(VO) for child in resource]
    assert children == ["INFO", "TABLE", "INFO"]  # OK before the table, OVERFLOW after it
    assert votable_status(resp.content) == ["OK", "OVERFLOW"]
    assert len(root.findall(f".//{VO}TR")) == 2


def test_a_complete_answer_and_a_top_limited_one_say_no_overflow(http, sb):
    assert votable_status(sync(http, sb, "SELECT * FROM psa.epn_core", MAXREC="5").content) == ["OK"]
    assert votable_status(sync(http, sb, "SELECT TOP 2 * FROM psa.epn_core", MAXREC="2").content) == ["OK"]


def test_maxrec_has_a_default_and_a_hard_limit(http):
    with Sandbox({"clock": "2026-01-01T00:00:00Z", "psa": [granule(n) for n in range(1, 8)]}) as sandbox:
        psa = sandbox.archive("psa")
        psa.default_maxrec, psa.maxrec_limit = 3, 5
        count = lambda **p: len(sync(http, sandbox, "SELECT * FROM psa.epn_core", FORMAT="json",  # noqa: E731
                                     **p).json()["data"])
        assert count() == 3
        assert count(MAXREC="100") == 5
        assert count(MAXREC="0") == 0
        assert votable_status(sync(http, sandbox, "SELECT * FROM psa.epn_core", MAXREC="100").content)[-1] \
            == "OVERFLOW"


def test_json_answer_has_esa_metadata_and_rows_as_lists(http, sb):
    answer = sync(http, sb, "SELECT * FROM psa.epn_core WHERE granule_uid LIKE '%g01'", FORMAT="json").json()
    assert set(answer) == {"metadata", "data"}
    meta = {m["name"]: m for m in answer["metadata"]}
    assert set(meta["creation_date"]) == {"name", "datatype", "xtype", "arraysize", "description", "unit",
                                          "ucd", "utype"}
    assert meta["creation_date"]["xtype"] == "timestamp" and meta["time_min"]["unit"] == "d"
    row = dict(zip(meta, answer["data"][0], strict=True))
    # time_min/time_max are Julian Dates; other dates as the scenario wrote them
    assert row["time_min"] == pytest.approx(2460951.75, abs=1e-6)
    assert row["creation_date"] == "2025-10-20T00:00:00"


def test_get_and_post_answer_alike(http, sb):
    query = "SELECT granule_uid FROM psa.epn_core ORDER BY granule_uid"
    assert sync(http, sb, query, method="get", FORMAT="json").json() == \
        sync(http, sb, query, method="post", FORMAT="json").json()


def test_pyvo_reads_the_votable_and_sees_the_overflow(sb):
    pyvo = pytest.importorskip("pyvo")
    session = requests.Session()
    session.trust_env = False
    service = pyvo.dal.TAPService(sb.base_urls["psa"], session=session)
    result = service.run_sync("SELECT * FROM psa.epn_core ORDER BY granule_uid", maxrec=3)
    assert len(result) == 3 and result["granule_uid"][0].endswith("g01")
    assert result.status[0] == "OVERFLOW"
    assert service.run_sync("SELECT * FROM psa.epn_core", maxrec=10).status[0] == "OK"
    with pytest.raises(pyvo.dal.DALQueryError, match="does not exist"):
        service.run_sync("SELECT * FROM psa.nope")


# ---------------------------------------------------------------- the scenario clock


def test_a_granule_is_served_once_it_appears_and_revised_when_its_revision_does(http):
    late = granule(9, creation_date="2025-12-01T00:00:00", release_date="2099-01-01T00:00:00",
                   revisions=[{"appears": "2026-06-01T00:00:00Z", "release_date": "2026-06-01T00:00:00",
                               "access_url": "https://psa.example/g09"}])
    with Sandbox({"clock": "2025-11-01T00:00:00Z", "psa": [late]}) as sandbox:
        query = "SELECT release_date, modification_date, access_url FROM psa.epn_core"
        assert sync(http, sandbox, query, FORMAT="json").json()["data"] == []
        sandbox.set_clock("2026-01-01T00:00:00Z")
        assert sync(http, sandbox, query, FORMAT="json").json()["data"] == [
            ["2099-01-01T00:00:00", "2025-12-01T00:00:00", None]]
        sandbox.set_clock("2026-07-01T00:00:00Z")
        assert sync(http, sandbox, query, FORMAT="json").json()["data"] == [
            ["2026-06-01T00:00:00", "2026-06-01T00:00:00Z", "https://psa.example/g09"]]


def test_corrupt_serves_a_value_verbatim(http):
    with Sandbox({"clock": "2026-01-01T00:00:00Z", "psa": [granule(1)]}) as sandbox:
        sandbox.corrupt("psa", "urn:esa:psa:test:data_raw:g01", time_min="not-a-date")
        answer = sync(http, sandbox, "SELECT time_min FROM psa.epn_core", FORMAT="json").json()
        assert answer["data"] == [["not-a-date"]]


# ---------------------------------------------------------------- ObsCore services


def obscore_row(did: str, service: str, **fields) -> dict:
    row = {"service": service, "obs_publisher_did": did, "obs_collection": "FORS2",
           "target_name": "3I/ATLAS", "t_min": "2025-07-03T23:40:00Z", "t_max": "2025-07-04T00:00:00Z",
           "obs_release_date": "2025-07-04T10:00:00Z"}
    row.update(fields)
    return row


def test_each_obscore_service_serves_its_own_rows_at_its_own_url(http):
    rows = [obscore_row("ivo://eso.org/ID?A", "eso"), obscore_row("ivo://irsa.ipac/x/B", "irsa"),
            obscore_row("ivo://example.org/C", "gavo")]
    with Sandbox({"clock": "2026-01-01T00:00:00Z", "obscore": rows}) as sandbox:
        urls = sandbox.base_urls
        assert urls["obscore"] == urls["eso"] and urls["eso"].endswith("/obscore/eso/tap")
        assert {"eso", "irsa", "heasarc", "cadc", "gavo"} <= set(urls)
        for service, did in [("eso", "ivo://eso.org/ID?A"), ("irsa", "ivo://irsa.ipac/x/B"),
                             ("gavo", "ivo://example.org/C")]:
            answer = sync(http, sandbox, "SELECT obs_publisher_did, t_min FROM ivoa.ObsCore",
                          service=service, FORMAT="json").json()
            assert answer["data"] == [[did, pytest.approx(60859.986111, abs=1e-5)]]  # MJD
        assert http.get(sandbox.url + "/obscore/nowhere/tap/sync", timeout=5).status_code == 404


def test_obscore_metadata_appears_a_day_after_the_exposure_with_a_future_release(http):
    row = obscore_row("ivo://eso.org/ID?P", "eso", obs_release_date="2026-07-04T10:00:00Z")
    with Sandbox({"clock": "2025-07-04T12:00:00Z", "obscore": [row]}) as sandbox:
        query = "SELECT obs_release_date FROM ivoa.obscore"
        assert sync(http, sandbox, query, service="eso", FORMAT="json").json()["data"] == []
        sandbox.set_clock("2025-07-05T01:00:00Z")
        assert sync(http, sandbox, query, service="eso", FORMAT="json").json()["data"] == [["2026-07-04T10:00:00Z"]]


# ---------------------------------------------------------------- faults


def test_truncated_fault_sends_half_a_votable(http, sb):
    sb.faults.add("truncated", path_prefix="/psa-tap", count=1)
    resp = sync(http, sb, "SELECT * FROM psa.epn_core")
    with pytest.raises(ET.ParseError):
        ET.fromstring(resp.content)
    assert votable_status(sync(http, sb, "SELECT * FROM psa.epn_core").content) == ["OK"]


def test_http_faults_hit_only_their_tap_service(http):
    rows = [obscore_row("ivo://eso.org/ID?A", "eso"), obscore_row("ivo://irsa.ipac/x/B", "irsa")]
    with Sandbox({"clock": "2026-01-01T00:00:00Z", "obscore": rows}) as sandbox:
        sandbox.faults.add("http503", path_prefix="/obscore/irsa", count=1, retry_after=1)
        assert sync(http, sandbox, "SELECT * FROM ivoa.obscore", service="eso").status_code == 200
        resp = sync(http, sandbox, "SELECT * FROM ivoa.obscore", service="irsa", expect=503)
        assert resp.headers["Retry-After"] == "1"
        assert sync(http, sandbox, "SELECT * FROM ivoa.obscore", service="irsa").status_code == 200


# ---------------------------------------------------------------- scenarios


def test_default_scenario_covers_the_campaigns_psa_and_obscore_observations(http):
    scenario = default_scenario()
    full = default_scenario()
    schema = [g for g in scenario["psa"] if "schema" in g]
    # The PSA's table as public column lists describe it: no alt_target_name (EPN-TAP optional).
    assert schema == [{"schema": {"absent": ["alt_target_name"]}, "_comment": schema[0]["_comment"]}]
    scenario["psa"] = [g for g in scenario["psa"] if "schema" not in g]
    psa_instruments = {(g["instrument_host_name"], g["instrument_name"]) for g in scenario["psa"]}
    assert {("ExoMars Trace Gas Orbiter", "CaSSIS"), ("ExoMars Trace Gas Orbiter", "NOMAD"),
            ("Mars Express", "HRSC"), ("Mars Express", "OMEGA"), ("Jupiter Icy Moons Explorer", "NAVCAM"),
            ("Jupiter Icy Moons Explorer", "JANUS")} <= psa_instruments
    assert any(g["release_date"].startswith("2099") for g in scenario["psa"])       # placeholders
    assert any(g.get("revisions") for g in scenario["psa"])                          # re-deliveries
    by_service = {}
    for row in scenario["obscore"]:
        by_service.setdefault(row["service"], set()).add(row["instrument_name"])
    assert {"FORS2", "MUSE", "XSHOOTER", "UVES"} <= by_service["eso"]
    assert {"SPHEREx", "SpeX"} <= by_service["irsa"]
    assert {"UVOT", "XTEND", "EPIC-PN"} <= by_service["heasarc"]
    assert "GMOS-S" in by_service["cadc"]
    decoys = [r["target_name"] for r in scenario["psa"] + scenario["obscore"] if "N12" in r["target_name"]]
    assert decoys
    with Sandbox(full) as sandbox:
        answer = sync(http, sandbox, "SELECT granule_uid FROM psa.epn_core", FORMAT="json", MAXREC="1000").json()
        served = len(answer["data"])
        assert 0 < served < len(scenario["psa"])  # one Juice delivery comes after the default clock
        refused = sync(http, sandbox, "SELECT granule_uid FROM psa.epn_core WHERE alt_target_name LIKE '%3I%'",
                       FORMAT="json", expect=400)
        assert "alt_target_name" in refused.text


def test_generated_tap_scenario_is_deterministic_with_ties_and_decoys():
    first = generate_tap_scenario(psa=500, obscore=50, seed=3)
    assert first == generate_tap_scenario(psa=500, obscore=50, seed=3)
    created = [g["creation_date"] for g in first["psa"]]
    assert len(set(created)) == 10  # batches of 50 share a creation date
    names = {g["target_name"] for g in first["psa"]}
    assert "C/2025 N12 (ATLAS)" in names and "3I/ATLAS" in names
    assert json.dumps(first)  # plain JSON: a scenario file or the control API can carry it
