"""The CNSA (Tianwen-1 HiRIC) adapter: its parser on the recorded and spec-shaped answers, then
the whole source against the sandbox: batches, cursor, paging, faults and changed shapes."""

from __future__ import annotations

import copy
import signal
import tomllib
from pathlib import Path

import pytest

from harvester.config import parse_config
from harvester.engine import harvest
from harvester.errors import ConfigError, RecordRejected, SourceError
from harvester.sandbox import Sandbox, default_scenario
from harvester.sources.cnsa import archive_time, link_of, size_in_bytes
from tests.conftest import load_json
from tests.harvest_helpers import count, run_cli, snapshot

CLOCK = "2026-11-21T00:00:00Z"
FILES_3I = {"260528100000000002", "260528100000000003", "260528100000000004", "260528100000000005"}


@pytest.fixture
def catalogue():
    return load_json("cnsa/catalogue_spec_shaped.json")


@pytest.fixture
def files():
    return load_json("cnsa/dataInfoList_spec_shaped.json")["rows"]


@pytest.fixture
def annex():
    return load_json("cnsa/getAnnexZip_CE4_example.json")


def file_record(catalogue, row, annex):
    return {"file": row, "batch": catalogue["rows"][0], "annex": annex}


# ---------------------------------------------------------------- the parser


def test_recorded_getannexzip_answer_gives_the_file_link(annex):
    assert link_of(annex, "x") == (
        "https://moon.bao.ac.cn/PUBDATA/CE4ROLL/CE4/PCAM/2B/2026-03-03/"
        "CE4_GRAS_PCAML-Q-055_SCI_N_20251224062658_20251224062658_0362_B.2B")


def test_file_in_the_window_becomes_a_public_hiric_product(make_source, catalogue, files, annex):
    product = make_source("cnsa").normalize(file_record(catalogue, files[0], annex))
    assert product.product_key == "cnsa:260528100000000004"
    assert (product.mission, product.instrument) == ("Tianwen-1", "HiRIC")
    assert product.matched_by == "time_window:2025-09-25..2025-10-10:HiRIC"
    assert product.target_name == ""  # CNSA files name no target
    assert product.obs_start == "2025-10-03T12:20:05.000Z" and product.obs_end == "2025-10-03T12:20:35.000Z"
    # releaseTime has no zone: Beijing time, 8 hours ahead of UTC.
    assert product.release_date == product.public_since == "2026-05-28T02:00:00.000Z"
    assert product.access == "public"
    assert product.url == annex["data"]
    assert product.size_bytes == 52428800 and product.processing_level == "derived"
    assert product.extra["batch_id"] == "1187" and product.extra["orbit"] == 5087.0
    assert product.raw["file"] is files[0]


def test_file_outside_the_window_is_skipped(make_source, catalogue, files, annex):
    assert make_source("cnsa").normalize(file_record(catalogue, files[1], annex)) is None


def test_file_that_only_overlaps_the_window_edge_matches(make_source, catalogue, files, annex):
    product = make_source("cnsa").normalize(file_record(catalogue, files[2], annex))
    assert product is not None and product.obs_start.startswith("2025-09-24")


def test_file_of_another_instrument_is_skipped(make_source, catalogue, files, annex):
    row = dict(files[0], loadName="MoRIC")
    assert make_source("cnsa").normalize(file_record(catalogue, row, annex)) is None


def test_window_and_instruments_come_from_the_settings(make_source, catalogue, files, annex):
    source = make_source("cnsa", window_start="2025-09-01", window_end="2025-09-30",
                         instruments=["MoRIC", "HiRIC"])
    product = source.normalize(file_record(catalogue, files[1], annex))
    assert product.matched_by == "time_window:2025-09-01..2025-09-30:HiRIC"


@pytest.mark.parametrize("field", ["startTime", "dataInfoId"])
def test_file_row_missing_a_field_is_rejected_naming_it(make_source, catalogue, files, annex, field):
    row = {k: v for k, v in files[0].items() if k != field}
    with pytest.raises(RecordRejected, match=f"has no {field}"):
        make_source("cnsa").normalize(file_record(catalogue, row, annex))


def test_file_whose_time_is_not_a_time_is_rejected(make_source, catalogue, files, annex):
    row = dict(files[0], startTime="yesterday")
    with pytest.raises(RecordRejected, match="not a time"):
        make_source("cnsa").normalize(file_record(catalogue, row, annex))


def test_annex_answer_without_a_link_is_rejected(make_source, catalogue, files):
    with pytest.raises(RecordRejected, match="getAnnexZip answer for 260528100000000004 has no link"):
        make_source("cnsa").normalize(file_record(catalogue, files[0], {"msg": "数据不存在", "code": 500}))


def test_catalogue_row_without_release_time_is_rejected_naming_it(make_source, catalogue):
    row = {k: v for k, v in catalogue["rows"][0].items() if k != "releaseTime"}
    with pytest.raises(RecordRejected, match="catalogue row has no releaseTime"):
        make_source("cnsa").normalize({"catalogue": row})


class Answers:
    """Hands back one JSON answer per request: the parser's view of the archive, no network."""

    requests_made = 0

    def __init__(self, answer):
        self.answer = answer

    def get_json(self, url, params=None):
        return self.answer


def test_catalogue_batches_are_the_missions_instrument_only(make_source, catalogue):
    batches, unreadable = make_source("cnsa", http=Answers(catalogue)).read_catalogue()
    # MoRIC, Tianwen-2 and the row that names no mission are not ours; none is unreadable.
    assert [b.id for b in batches] == ["1187", "1052"] and unreadable == []
    assert batches[0].obtain_end == "2025-10-31T23:59:59.000Z"


def test_list_answer_without_rows_is_a_source_error(make_source):
    with pytest.raises(SourceError, match="no rows list"):
        make_source("cnsa", http=Answers({"total": 1, "code": 200, "list": []})).read_catalogue()


def test_list_answer_with_an_error_code_is_a_source_error(make_source):
    with pytest.raises(SourceError, match="catalogue answered code 500: 系统繁忙"):
        make_source("cnsa", http=Answers({"code": 500, "msg": "系统繁忙"})).read_catalogue()


def test_catalogue_where_no_row_names_its_mission_is_a_source_error(make_source, catalogue):
    renamed = [{("missionName" if k == "taskName" else k): v for k, v in row.items()} for row in catalogue["rows"]]
    with pytest.raises(SourceError, match="carry no taskName"):
        make_source("cnsa", http=Answers(dict(catalogue, rows=renamed))).read_catalogue()


def test_times_in_the_archives_forms():
    assert archive_time("2026-05-28 10:00:00") == "2026-05-28T10:00:00.000Z"
    assert archive_time("2026-05-28T10:00:00+08:00") == "2026-05-28T02:00:00.000Z"
    assert archive_time(1779926400000) == "2026-05-28T00:00:00.000Z"  # epoch milliseconds
    assert archive_time("") is None


def test_sizes_in_the_archives_forms():
    assert size_in_bytes("52428800.0") == 52428800
    assert size_in_bytes("48 KB") == 48 * 1024
    assert size_in_bytes("463.8GB") == int(463.8 * 2**30)
    assert size_in_bytes("unknown") is None and size_in_bytes(None) is None


@pytest.mark.parametrize("keys, message", [
    ('window_start = "late September"', r"\[sources.cnsa\] window_start: not an ISO date"),
    ('window_start = "2025-10-10"\nwindow_end = "2025-09-25"', "window_end: '2025-09-25' is before"),
    ("instruments = []", "instruments: must name at least one instrument"),
    ('mission = " "', "mission: must not be empty"),
])
def test_bad_settings_are_one_clear_config_error(keys, message):
    text = f'[sources.cnsa]\nbase_url = "http://127.0.0.1:1/x"\n{keys}\n'
    with pytest.raises(ConfigError, match=message):
        parse_config(tomllib.loads(text), path="h.toml")


# ---------------------------------------------------------------- against the sandbox


def batch(batch_id, release, *files, load="HiRIC", **fields):
    return {"id": batch_id, "name": f"batch {batch_id}", "taskName": "Tianwen-1", "loadName": load,
            "dataLevelName": "2C", "releaseTime": release, "releaseTotal": len(files),
            "files": list(files), **fields}


def hiric_file(n, start, end=None):
    return {"dataInfoId": f"9{n:08d}", "name": f"HX1-Or_GRAS_HiRIC_{n}.2C", "dataSize": "1000",
            "startTime": start, "endTime": end or start}


@pytest.fixture
def sandbox():
    with Sandbox(default_scenario()) as sb:
        yield sb


@pytest.fixture
def now(monkeypatch):
    def set_now(moment: str) -> None:
        monkeypatch.setenv("HARVESTER_NOW", moment)

    set_now(CLOCK)
    return set_now


def config_toml(sandbox, db, *, page_size=500, read_timeout=2.0, extra=""):
    return f"""
[catalog]
path = "{db}"
[http]
connect_timeout = 2
read_timeout = {read_timeout}
retries = 3
backoff_initial = 0.01
backoff_max = 0.05
retry_after_max = 2
rate_limit = 1000
[sources.cnsa]
base_url = "{sandbox.base_urls['cnsa']}"
page_size = {page_size}
{extra}
"""


def run(sandbox, db, **kwargs):
    config = parse_config(tomllib.loads(config_toml(sandbox, db, **kwargs)), path="test.toml")
    (result,) = harvest(config).results
    return result


def stored_ids(db):
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute("SELECT native_id FROM products WHERE archive='cnsa'")}
    finally:
        conn.close()


def test_default_scenario_gives_the_four_3i_frames_and_nothing_else(sandbox, db_path, now):
    result = run(sandbox, db_path)
    assert result.status == "ok", result.error
    # HiRIC frames outside the window, MoRIC, Chang'e-4 and the batch released after the clock
    # are not products.
    assert stored_ids(db_path) == FILES_3I
    assert result.skipped == 2 and result.rejected == 0
    assert count(db_path, "SELECT COUNT(*) FROM events WHERE kind='new'") == 4
    # The catalogue, one list page of the one batch that may hold 3I frames, a link per frame.
    assert result.requests == 1 + 1 + 4 == sandbox.request_count("/cnsa")


def test_a_no_change_poll_is_the_catalogue_request_alone(sandbox, db_path, now):
    run(sandbox, db_path)
    sandbox.clear_requests()
    result = run(sandbox, db_path)
    assert result.status == "ok" and result.new == result.updated == 0
    assert result.requests == 1
    assert [r.path for r in sandbox.requests] == ["/cnsa/moon-admin/client/science/catalogue"]


def test_a_new_batch_appears_when_the_clock_passes_its_release_time(db_path, now):
    scenario = {"clock": "2026-05-28T01:00:00Z", "cnsa": [
        batch(1, "2026-05-28 10:00:00", hiric_file(1, "2025-10-02 10:00:00"), hiric_file(2, "2025-10-03 10:00:00"))]}
    with Sandbox(scenario) as sb:
        now("2026-05-28T01:00:00Z")
        assert run(sb, db_path).new == 0
        sb.set_clock("2026-05-28T02:00:00Z")  # 10:00 in Beijing
        now("2026-05-28T02:00:00Z")
        result = run(sb, db_path)
        assert result.new == 2
        assert stored_ids(db_path) == {"900000001", "900000002"}
        assert count(db_path, "SELECT COUNT(*) FROM products WHERE first_public = '2026-05-28T02:00:00.000Z'") == 2


def test_a_late_batch_with_an_older_release_time_is_still_listed(sandbox, db_path, now):
    run(sandbox, db_path)
    sandbox.add_products("cnsa", [batch(77, "2026-01-10 10:00:00", hiric_file(7, "2025-10-02 20:00:00"))])
    result = run(sandbox, db_path)
    assert result.new == 1 and "900000007" in stored_ids(db_path)


def test_a_batch_whose_catalogue_entry_changes_is_listed_again(sandbox, db_path, now):
    run(sandbox, db_path)
    extra = hiric_file(8, "2025-10-03 21:00:00")
    grown = copy.deepcopy(default_scenario()["cnsa"][0])
    grown["files"].append(extra)
    grown["releaseTotal"] = len(grown["files"])
    sandbox.add_products("cnsa", [grown])
    result = run(sandbox, db_path)
    assert result.new == 1 and result.updated == 0
    assert stored_ids(db_path) == FILES_3I | {"900000008"}


def test_paging_reads_every_page_of_the_catalogue_and_the_file_list(sandbox, db_path, now):
    result = run(sandbox, db_path, page_size=2)
    assert result.status == "ok" and stored_ids(db_path) == FILES_3I
    # Catalogue: 4 visible batches, 2 pages; files of batch 1187: 6 rows, 3 pages. The totals
    # end each listing: no empty page is asked for. Then a link for each of the 4 frames.
    assert sandbox.request_count("/cnsa/moon-admin/client/science/catalogue") == 2
    assert sandbox.request_count("/cnsa/moon-admin/client/science/dataInfoList") == 3
    assert result.requests == 2 + 3 + 4


def test_a_failed_run_leaves_the_batch_to_the_next_run(sandbox, db_path, now):
    # More 503s than retries: the run fails, and the batch is not remembered as stored.
    sandbox.faults.add("http503", path_prefix="/cnsa/moon-admin/client/science/dataInfo/getAnnexZip", count=4)
    failed = run(sandbox, db_path)
    assert failed.status == "failed" and "503" in failed.error
    result = run(sandbox, db_path)
    assert result.status == "ok" and stored_ids(db_path) == FILES_3I


@pytest.mark.parametrize("kind, params", [
    ("http500", {}), ("http503", {}), ("http429", {"retry_after": 1}), ("slow", {"delay": 1.0}),
    ("drop", {}), ("truncated", {}), ("html200", {}),
])
def test_every_fault_kind_is_retried_and_the_harvest_completes(sandbox, db_path, now, kind, params):
    sandbox.faults.add(kind, path_prefix="/cnsa", count=1, **params)
    result = run(sandbox, db_path, read_timeout=0.5)
    assert result.status == "ok", result.error
    assert stored_ids(db_path) == FILES_3I
    assert len(sandbox.faults) == 0  # the fault was met
    assert result.requests == 6 + 1 == sandbox.request_count("/cnsa")


@pytest.mark.parametrize("endpoint", ["dataInfoList", "dataInfo/getAnnexZip"])
def test_a_fault_on_a_later_call_is_retried_too(sandbox, db_path, now, endpoint):
    sandbox.faults.add("http503", path_prefix=f"/cnsa/moon-admin/client/science/{endpoint}", count=2)
    result = run(sandbox, db_path)
    assert result.status == "ok", result.error
    assert stored_ids(db_path) == FILES_3I and result.requests == 6 + 2


def test_a_renamed_file_field_lands_in_rejects_and_the_run_goes_on(sandbox, db_path, now):
    sandbox.archive("cnsa").rename_field("260528100000000003", "startTime", "beginTime")
    result = run(sandbox, db_path)
    assert result.status == "ok" and result.rejected == 1
    assert stored_ids(db_path) == FILES_3I - {"260528100000000003"}
    assert count(db_path, "SELECT COUNT(*) FROM rejects WHERE native_id = '260528100000000003' "
                          "AND reason = 'file row has no startTime' AND raw LIKE '%beginTime%'") == 1


def test_a_renamed_catalogue_field_lands_in_rejects_and_the_run_goes_on(sandbox, db_path, now):
    sandbox.archive("cnsa").rename_field(1187, "releaseTime", "publishTime")
    result = run(sandbox, db_path)
    assert result.status == "ok" and result.new == 0
    assert count(db_path, "SELECT COUNT(*) FROM rejects WHERE native_id = '1187' "
                          "AND reason = 'catalogue row has no releaseTime'") == 1


def test_an_unrecognisable_answer_fails_the_source_not_the_run(sandbox, db_path, now, tmp_path):
    sandbox.archive("cnsa").rows_key = "list"
    config = tmp_path / "h.toml"
    config.write_text(config_toml(sandbox, db_path) + f"""
[sources.pds]
base_url = "{sandbox.base_urls['pds']}"
""")
    done = run_cli(["run", "--config", str(config)], now=CLOCK)
    assert done.returncode == 1
    assert "cnsa: failed" in done.stdout and "CNSA catalogue answer has no rows list" in done.stdout
    assert "pds: ok" in done.stdout and "Traceback" not in done.stderr
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive = 'pds'") > 0


def test_a_changed_window_lists_the_stored_batches_again(sandbox, db_path, now):
    run(sandbox, db_path)
    result = run(sandbox, db_path, extra='window_start = "2025-09-01"\nwindow_end = "2025-10-31"')
    assert result.new == 2  # the HiRIC frames of 09-12 and 10-22 are in the wider window


@pytest.mark.parametrize("point", ["page_commit:2", "page_committed:2"])
def test_a_kill_mid_batch_then_a_rerun_equals_an_uninterrupted_harvest(sandbox, tmp_path, point):
    def harvest_into(db, **env):
        config = tmp_path / f"{Path(db).stem}.toml"
        config.write_text(config_toml(sandbox, db, page_size=2))
        return run_cli(["run", "--config", str(config)], now=CLOCK, env=env)

    reference = str(tmp_path / "reference.db")
    assert harvest_into(reference).returncode == 0
    crashed = str(tmp_path / "crashed.db")
    assert harvest_into(crashed, HARVESTER_CRASHPOINT=point).returncode == -signal.SIGKILL
    assert snapshot(crashed) != snapshot(reference)  # the kill cut the batch short
    assert harvest_into(crashed).returncode == 0
    assert snapshot(crashed) == snapshot(reference)


def test_lookback_lists_recently_released_batches_again(sandbox, db_path, now):
    run(sandbox, db_path)
    sandbox.clear_requests()
    result = run(sandbox, db_path, extra="lookback_days = 30")
    assert result.status == "ok" and result.new == result.updated == 0
    assert result.requests == 1 + 1 + 4  # batch 1187 is the newest: listed again, links again
