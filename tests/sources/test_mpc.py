"""The MPC astrometry source: the parser on a real ADES answer, then the adapter against the
sandbox MPC (real HTTP on loopback, the real catalog): no-change polls, late observations,
refs filled in, the answer split into pages, kills, every fault kind, unreadable records.

get-obs has no paging (it answers the whole observation set of one designation), so "paging"
here is the source's own split of one answer into pages for the catalog."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime

import pytest

from harvester.config import load_config
from harvester.engine import harvest
from harvester.errors import RecordRejected, SourceError
from harvester.http import HttpClient
from harvester.names.matcher import AliasMatcher
from harvester.sandbox import Sandbox
from harvester.sources.base import SourceContext
from harvester.sources.mpc import MpcSource, parse_ades_psv, publication
from tests.conftest import DATA
from tests.harvest_helpers import FAST_HTTP, count, run_cli, snapshot

CLOCK = "2025-12-01T00:00:00Z"
LATER = "2026-03-01T00:00:00Z"
IDENTITY_3I = {"identifier": {
    "found": 1, "iau_designation": "3I", "name": "ATLAS", "permid": "3I", "packed_permid": "0003I",
    "unpacked_primary_provisional_designation": "C/2025 N1",
    "packed_primary_provisional_designation": "CK25N010", "orbfit_name": "3I",
    "unpacked_secondary_provisional_designations": [], "packed_secondary_provisional_designations": [],
}}


def obs(n: int, *, stn: str = "W68", obstime: str = "2025-07-01T04:11:38.000Z",
        ref: str | None = "MPEC 2025-N12", appears: str = "2025-07-02T00:00:00Z",
        published: str | None = None, permid: str | None = "3I", provid: str | None = "C/2025 N1",
        trksub: str | None = None) -> dict:
    row = {"obsid": f"T3I{n:08d}", "obstime": obstime, "stn": stn, "permid": permid,
           "provid": provid, "trksub": trksub, "ra": 275.3 + n / 1000, "dec": -18.6, "mag": 17.9,
           "band": "o", "mode": "CCD", "ref": ref, "appears": appears}
    if published:
        row["published"] = published
    return row


def scenario(*records: dict) -> dict:
    return {"clock": CLOCK, "mpc": [IDENTITY_3I, *records]}


BASE = [obs(1), obs(2, stn="I41", obstime="2025-06-28T09:40:12.000Z"),
        obs(3, stn="X05", obstime="2025-06-21T03:30:00.000Z", ref="MPS 2400001"),
        obs(4, stn="W68", trksub="A11pl3Z"),  # the discovery tracklet, as reported to the NEOCP
        # submitted, its ref ("MPS 2500000") published only on 2025-12-20
        obs(5, stn="F51", obstime="2025-11-27T14:10:00.000Z", ref="MPS 2500000",
            appears="2025-11-28T00:00:00Z", published="2025-12-20T00:00:00Z"),
        # another comet called ATLAS, observed by the same station the same night
        obs(90, provid="C/2019 Y4", permid=None)]
THREE_I = 5


@pytest.fixture
def sandbox():
    with Sandbox(scenario(*BASE), port=0) as sb:
        yield sb


@pytest.fixture
def now(monkeypatch):
    def set_now(moment: str) -> None:
        monkeypatch.setenv("HARVESTER_NOW", moment)

    set_now(CLOCK)
    return set_now


def config_file(tmp_path, sandbox, db: str, **keys) -> str:
    lines = [f'{key} = {json.dumps(value)}' for key, value in keys.items()]
    path = tmp_path / f"mpc-{abs(hash(db)) % 10**6}.toml"
    path.write_text(f'[catalog]\npath = "{db}"\n{FAST_HTTP}\n[sources.mpc]\n'
                    f'base_url = "{sandbox.base_urls["mpc"]}"\n' + "\n".join(lines) + "\n")
    return str(path)


def run(tmp_path, sandbox, db: str, **keys):
    report = harvest(load_config(config_file(tmp_path, sandbox, db, **keys)))
    (result,) = report.results
    return result


def source(sandbox, **settings) -> MpcSource:
    config = load_config()
    mpc = config.sources["mpc"]
    mpc.base_url = sandbox.base_urls["mpc"]
    for key, value in settings.items():
        setattr(mpc, key, value)
    config.http.rate_limit = 1000.0  # the sandbox is on this machine
    http = HttpClient(config.http)
    return MpcSource(SourceContext("mpc", mpc, AliasMatcher(config.target.name, config.target.aliases),
                                   http, datetime(2025, 12, 1, tzinfo=UTC)))


def cursor_of(db: str) -> dict:
    return json.loads(next(iter(snapshot(db)["cursors"]))[1])


# ---- the parser on a real get-obs answer (ADES PSV of 2009 DP2, target fields rewritten) ----

@pytest.fixture
def ades_rows():
    return parse_ades_psv((DATA / "mpc" / "test_ades_mpcexplorer.psv").read_text())


def as_3i(row: dict) -> dict:
    return dict(row, provid="C/2025 N1", permid="3I")


def test_real_ades_row_becomes_one_astrometry_product(make_source, ades_rows):
    product = make_source("mpc").normalize(as_3i(ades_rows[0]))
    assert product.product_key == "mpc:KEoBSy0100005XBA01000003F"
    assert product.product_type == "astrometry"
    assert product.instrument == "A77"  # the station code
    assert product.program == "MPS   277739"  # the publication reference, as the MPC spells it
    assert product.obs_start == product.obs_end == "2009-02-17T01:29:22.848Z"
    assert product.access == "public" and product.release_date is None
    assert product.matched_by == "alias:3I"
    assert product.extra["ra"] == "175.99838" and product.extra["published"] is True
    assert product.raw["obsid"] == "KEoBSy0100005XBA01000003F"


def test_real_row_with_empty_ref_is_not_yet_published(make_source, ades_rows):
    unpublished = [r for r in ades_rows if not r["ref"]]
    assert len(unpublished) == 2  # the fixture's two recent rows
    for row in unpublished:
        product = make_source("mpc").normalize(as_3i(row))
        assert product.program is None and product.extra["published"] is False


def test_null_and_blank_ref_both_mean_unpublished(make_source, ades_rows):
    for empty in (None, "", "   "):
        product = make_source("mpc").normalize(dict(as_3i(ades_rows[0]), ref=empty))
        assert product.program is None


def test_tracklet_named_only_by_its_neocp_designation_matches_that_alias(make_source, ades_rows):
    row = dict(ades_rows[0], provid="", permid="", trksub="A11pl3Z")
    product = make_source("mpc").normalize(row)
    assert product.matched_by == "alias:A11pl3Z" and product.target_name == "A11pl3Z"


def test_observation_the_mpc_filed_under_the_designation_says_so(make_source, ades_rows):
    # No name the matcher knows (2009 DP2's own fields): kept because the MPC answered it
    # for the designation asked, and matched_by tells an auditor exactly that.
    product = make_source("mpc").normalize(ades_rows[0])
    assert product.matched_by == "mpc_designation:3I"


@pytest.mark.parametrize("change, reason", [
    ({"obsid": ""}, "no obsid"), ({"stn": None}, "no station code"),
    ({"obstime": "yesterday"}, "bad obstime"), ({"obstime": ""}, "no obstime"),
])
def test_unreadable_observation_is_rejected_with_its_reason(make_source, ades_rows, change, reason):
    with pytest.raises(RecordRejected, match=reason):
        make_source("mpc").normalize(dict(as_3i(ades_rows[0]), **change))


@pytest.mark.parametrize("answer", [{"error": "x"}, [{"XML": "<x/>"}], [{"ADES_DF": "nope"}], "text"])
def test_answer_without_an_ades_list_is_a_source_error(answer):
    with pytest.raises(SourceError):
        MpcSource.observations_of(answer)


def test_rate_limit_default_is_five_per_second():
    assert load_config().sources["mpc"].rate_limit == 5.0


# ---- the adapter against the sandbox MPC ----------------------------------------------------

def test_first_harvest_stores_each_3i_observation_and_not_the_other_atlas(sandbox, tmp_path, db_path, now):
    result = run(tmp_path, sandbox, db_path)
    assert result.status == "ok", result.error
    assert (result.new, result.requests) == (THREE_I, 1)
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive='mpc'") == THREE_I
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE raw LIKE '%C/2019 Y4%'") == 0
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE program IS NULL") == 1
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE product_key='mpc:T3I00000004' "
                          "AND json_extract(extra, '$.trksub') = 'A11pl3Z'") == 1


def test_no_change_poll_is_one_request_answered_304_and_nothing_normalized(sandbox, db_path, now):
    mpc = source(sandbox)
    (first,) = list(mpc.fetch_pages(None))
    assert len(first.records) == THREE_I and first.bookmark["etag"]
    (again,) = list(mpc.fetch_pages(first.bookmark))
    assert again.records == [] and again.note == "304 not modified"
    assert again.bookmark == first.bookmark
    assert mpc.http.requests_made == 2


def test_without_conditional_requests_the_content_hash_short_circuits(sandbox, db_path, now):
    mpc = source(sandbox, conditional_requests=False)
    (first,) = list(mpc.fetch_pages(None))
    (again,) = list(mpc.fetch_pages(first.bookmark))
    assert again.records == [] and again.note == "same answer as last time"
    assert again.bookmark == first.bookmark


def test_a_changed_designation_does_not_trust_the_old_bookmark(sandbox, db_path, now):
    (first,) = list(source(sandbox).fetch_pages(None))
    (other,) = list(source(sandbox, designation="C/2025 N1").fetch_pages(first.bookmark))
    assert len(other.records) == THREE_I
    assert other.bookmark["designation"] == "C/2025 N1"


def test_rerun_without_change_stores_nothing_and_keeps_the_cursor(sandbox, tmp_path, db_path, now):
    run(tmp_path, sandbox, db_path)
    before = snapshot(db_path)
    result = run(tmp_path, sandbox, db_path)
    assert (result.status, result.requests, result.records, result.new, result.updated) == ("ok", 1, 0, 0, 0)
    assert snapshot(db_path) == before


def test_a_late_observation_is_new_once_and_a_filled_in_ref_is_updated(sandbox, tmp_path, db_path, now):
    run(tmp_path, sandbox, db_path)
    sandbox.add_products("mpc", [obs(6, stn="309", obstime="2026-01-20T15:05:00.000Z",
                                     appears="2026-01-21T00:00:00Z", ref="MPS 2500001")])
    sandbox.set_clock(LATER)
    now(LATER)
    result = run(tmp_path, sandbox, db_path)
    assert (result.new, result.updated) == (1, 1)
    assert count(db_path, "SELECT COUNT(*) FROM events WHERE kind='new' AND product_key='mpc:T3I00000006'") == 1
    (detail,) = [json.loads(d) for (d,) in _rows(db_path, "SELECT detail FROM events WHERE kind='updated'")]
    assert "program" in detail["changed"] and detail["before"]["program"] is None
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE product_key='mpc:T3I00000005' "
                          "AND program='MPS 2500000'") == 1
    again = run(tmp_path, sandbox, db_path)
    assert (again.new, again.updated, again.records) == (0, 0, 0)


def test_a_big_answer_is_stored_in_pages_and_only_the_last_carries_the_bookmark(sandbox, db_path, now):
    old = {"designation": "3I", "answer_sha256": "0" * 64, "etag": '"old"', "observations": 0}
    pages = list(source(sandbox, page_size=2).fetch_pages(old))
    assert [len(p.records) for p in pages] == [2, 2, 1]
    assert [p.bookmark for p in pages[:-1]] == [old, old]
    assert pages[-1].bookmark["answer_sha256"] != old["answer_sha256"]
    assert pages[-1].bookmark["observations"] == THREE_I


def test_killed_between_pages_rereads_the_answer_and_stores_each_once(sandbox, tmp_path, db_path):
    clean = str(tmp_path / "clean.db")
    assert run_cli(["run", "--config", config_file(tmp_path, sandbox, clean, page_size=2)],
                   now=CLOCK).returncode == 0
    config = config_file(tmp_path, sandbox, db_path, page_size=2)
    killed = run_cli(["run", "--config", config], now=CLOCK, env={"HARVESTER_CRASHPOINT": "page_committed:2"})
    assert killed.returncode == -signal.SIGKILL
    assert count(db_path, "SELECT COUNT(*) FROM products") == 4
    assert count(db_path, "SELECT COUNT(*) FROM source_state WHERE cursor IS NOT NULL") == 0
    resumed = run_cli(["run", "--config", config], now=CLOCK)
    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(db_path) == snapshot(clean)


FAULTS = [
    ("http500", {}), ("http503", {}), ("http429", {"retry_after": 1}), ("slow", {"delay": 3}),
    ("drop", {}), ("truncated", {}), ("html200", {}),
]


@pytest.mark.parametrize("kind, params", FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_is_retried_into_a_complete_run(sandbox, tmp_path, db_path, now, kind, params):
    clean = str(tmp_path / "clean.db")
    run(tmp_path, sandbox, clean)
    sandbox.faults.add(kind, path_prefix="/mpc", count=2, **params)
    result = run(tmp_path, sandbox, db_path)
    assert result.status == "ok", result.error
    assert result.requests == 3  # two faulted attempts, then the answer
    assert snapshot(db_path)["products"] == snapshot(clean)["products"]
    assert snapshot(db_path)["events"] == snapshot(clean)["events"]


@pytest.mark.parametrize("kind, params", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_persistent_fault_fails_the_run_and_the_next_one_loses_nothing(
        sandbox, tmp_path, db_path, now, kind, params):
    clean = str(tmp_path / "clean.db")
    run(tmp_path, sandbox, clean)
    sandbox.faults.add(kind, path_prefix="/mpc", count=1000, **params)
    failed = run(tmp_path, sandbox, db_path)
    assert failed.status == "failed" and failed.error
    assert count(db_path, "SELECT COUNT(*) FROM products") == 0
    sandbox.faults.clear()
    assert run(tmp_path, sandbox, db_path).status == "ok"
    assert snapshot(db_path)["products"] == snapshot(clean)["products"]


def test_an_unreadable_observation_lands_in_rejects_and_the_run_goes_on(sandbox, tmp_path, db_path, now):
    sandbox.corrupt("mpc", "T3I00000002", obstime="the night of the 28th")
    result = run(tmp_path, sandbox, db_path)
    assert result.status == "ok" and (result.new, result.rejected) == (THREE_I - 1, 1)
    assert count(db_path, "SELECT COUNT(*) FROM rejects WHERE source='mpc' AND native_id='T3I00000002' "
                          "AND reason LIKE 'bad obstime%' AND raw LIKE '%the night of the 28th%'") == 1


def _rows(db: str, sql: str) -> list[tuple]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# ---------------------------------------------------------------- publication dates from the reference


@pytest.mark.parametrize("ref, first, last", [
    ("MPEC 2025-N12", "2025-07-01", "2025-07-15"),     # N: July, first half (3I's discovery MPEC)
    ("MPEC 2025-O05", "2025-07-16", "2025-07-31"),
    ("MPEC 2024-D101", "2024-02-16", "2024-02-29"),    # a leap year's second half of February
    ("MPEC 2026-Y01", "2026-12-16", "2026-12-31"),
])
def test_an_mpec_designation_names_its_half_month(ref, first, last):
    start, extra = publication(ref, "2020-01-01T00:00:00.000Z")
    assert start == first + "T00:00:00.000Z"
    assert (extra["precision"], extra["from"], extra["to"]) == ("half-month", first, last)


def test_a_publication_is_never_before_the_observation_and_mps_has_no_date():
    assert publication("MPEC 2025-N12", "2025-07-01T05:20:00.000Z")[0] == "2025-07-01T05:20:00.000Z"
    start, extra = publication("MPS 277739", "2025-07-01T05:20:00.000Z")
    assert start is None and extra["precision"] == "none" and "upper bound" in extra["basis"]


def test_a_first_backfill_dates_observations_by_their_reference_not_by_first_sight(
        sandbox, tmp_path, db_path, now):
    sandbox.set_clock(LATER)
    now(LATER)  # the harvester first runs months after the MPEC
    run(tmp_path, sandbox, db_path)
    dated = dict(_rows(db_path, "SELECT native_id, first_public FROM products"))
    assert dated["T3I00000001"] == "2025-07-01T04:11:38.000Z"  # MPEC 2025-N12, observed 07-01
    assert dated["T3I00000003"] == "2026-03-01T00:00:00.000Z"  # MPS: no date, first sight
    (extra,) = _rows(db_path, "SELECT extra FROM products WHERE native_id = 'T3I00000001'")[0]
    assert json.loads(extra)["publication"]["precision"] == "half-month"


def test_an_unpublished_observation_has_no_first_public_until_its_reference_comes(
        sandbox, tmp_path, db_path, now):
    run(tmp_path, sandbox, db_path)  # at CLOCK, obs 5 is submitted but not published
    assert _rows(db_path, "SELECT access, first_public FROM products WHERE native_id = 'T3I00000005'") == [
        ("exclusive", None)]
    sandbox.set_clock(LATER)
    now(LATER)
    result = run(tmp_path, sandbox, db_path)
    assert result.released == 1
    assert _rows(db_path, "SELECT access, first_public FROM products WHERE native_id = 'T3I00000005'") == [
        ("public", "2026-03-01T00:00:00.000Z")]  # MPS 2500000: dated by first sight of the reference
