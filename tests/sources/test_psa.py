"""ESA PSA: the parser on spec-shaped TAP answers (tests/data/psa), then the adapter against the
sandbox's PSA TAP service: keyset paging across MAXREC and OVERFLOW, the cursor and its
look-back, embargoes ending, every fault kind, rejects, and a kill -9 in the middle."""

from __future__ import annotations

import json
import signal

import pytest

from harvester.config import parse_config
from harvester.engine import harvest
from harvester.errors import ConfigError, RecordRejected, RetriableHTTPError
from harvester.sandbox import Sandbox
from harvester.sources.tap import TapQueryError, parse_answer
from tests.conftest import DATA
from tests.harvest_helpers import FAST_HTTP, count, in_process_config, run_cli, snapshot

CLOCK_EARLY = "2025-12-01T00:00:00Z"
CLOCK_LATE = "2026-06-01T00:00:00Z"
NOW = "2026-11-21T00:00:00Z"


def answer_rows(name: str) -> list[dict]:
    return parse_answer((DATA / "psa" / name).read_bytes()).records()


# ---------------------------------------------------------------- parsing spec-shaped answers


def test_json_and_votable_answers_give_the_same_rows():
    from_json = answer_rows("epn_core_sync.json")
    from_votable = answer_rows("epn_core_sync_overflow.vot.xml")
    assert len(from_json) == 4
    # VOTable text is typed by its FIELDs; an empty TD is NULL, as JSON's null.
    assert from_votable == [{k: (None if v == "" else v) for k, v in row.items()} for row in from_json]


def test_votable_cut_by_maxrec_says_overflow_and_json_cannot():
    assert parse_answer((DATA / "psa" / "epn_core_sync_overflow.vot.xml").read_bytes()).overflow
    assert not parse_answer((DATA / "psa" / "epn_core_sync.json").read_bytes()).overflow


def test_error_document_raises_with_the_services_message():
    with pytest.raises(TapQueryError, match='Column "alt_target_nam" not found'):
        parse_answer((DATA / "psa" / "error.vot.xml").read_bytes())


@pytest.mark.parametrize("name", ["epn_core_sync.json", "epn_core_sync_overflow.vot.xml"])
def test_a_truncated_answer_is_retriable(name):
    body = (DATA / "psa" / name).read_bytes()
    with pytest.raises(RetriableHTTPError, match="truncated"):
        parse_answer(body[: len(body) // 2])


def test_an_html_page_sent_with_status_200_is_retriable():
    with pytest.raises(RetriableHTTPError, match="HTML page"):
        parse_answer(b"<!DOCTYPE html>\n<html><body>Maintenance</body></html>", "text/html")


def test_a_gzipped_answer_without_content_encoding_is_read():
    import gzip

    body = (DATA / "psa" / "epn_core_sync.json").read_bytes()
    assert parse_answer(gzip.compress(body)).records() == parse_answer(body).records()


# ---------------------------------------------------------------- normalizing


@pytest.fixture
def psa(make_source):
    from datetime import datetime

    return make_source("psa", now=datetime.fromisoformat(NOW))


@pytest.fixture
def rows():
    return {row["instrument_name"]: row for row in answer_rows("epn_core_sync.json")}


def test_public_granule_normalizes_every_field(psa, rows):
    product = psa.normalize(rows["CaSSIS"])
    assert product.product_key == "psa:urn:esa:psa:em16_tgo_cas:data_raw:cas_raw_sc_20251003t060012-pan"
    assert (product.mission, product.instrument) == ("TGO", "CASSIS")
    assert product.matched_by == "alias:3I/ATLAS" and product.target_name == "3I/ATLAS"
    # Julian Dates to UTC (7 decimals of a day: a few milliseconds)
    assert product.obs_start[:19] == "2025-10-03T06:00:12" and product.obs_end[:19] == "2025-10-03T06:00:17"
    assert product.release_date == "2026-04-07T00:00:00.000Z" and product.access == "public"
    assert product.public_since == product.release_date
    assert product.product_type == "image" and product.processing_level == "raw"
    assert product.size_bytes == 4096 * 1024
    assert product.url.startswith("https://archives.esac.esa.int/psa/")
    assert product.extra["creation_date"] == "2025-10-20T09:14:00.000Z"
    assert "modification_date" not in product.extra  # a re-delivery alone is no news


def test_placeholder_release_is_exclusive_and_not_kept_as_a_date(psa, rows):
    product = psa.normalize(rows["NOMAD"])
    assert product.access == "exclusive" and product.release_date is None
    assert product.extra["release_date_placeholder"] == "2099-01-01T00:00:00.000"
    assert product.product_type == "spectrum" and product.processing_level == "calibrated"
    assert product.matched_by == "alias:C/2025 N1 (ATLAS)"


def test_future_release_is_exclusive_with_its_date_and_alt_target_name_matches(psa, rows):
    product = psa.normalize(rows["JANUS"])
    assert product.access == "exclusive" and product.release_date == "2027-02-01T00:00:00.000Z"
    assert product.target_name == "Interstellar comet" and product.matched_by == "alias:3I/ATLAS"
    assert product.mission == "JUICE" and product.url is None


def test_granule_of_another_target_is_skipped(psa, rows):
    assert psa.normalize(rows["HRSC"]) is None


@pytest.mark.parametrize("change, reason", [
    ({"granule_uid": None}, "row has no granule_uid"),
    ({"time_min": "not-a-date"}, "time_min is not a number: 'not-a-date'"),
    ({"time_max": 1e12}, "time_max is not a Julian Date in range: 1000000000000.0"),
    ({"release_date": "soon"}, "release_date is not a date: 'soon'"),
    ({"creation_date": 17}, "creation_date is not a date: 17"),
])
def test_unreadable_row_is_rejected_with_its_reason(psa, rows, change, reason):
    with pytest.raises(RecordRejected) as caught:
        psa.normalize({**rows["CaSSIS"], **change})
    assert str(caught.value) == reason


@pytest.mark.parametrize("host, mission", [
    ("ExoMars Trace Gas Orbiter", "TGO"), ("ExoMars 2016 TGO", "TGO"), ("TGO", "TGO"),
    ("Mars Express", "MEX"), ("MEX", "MEX"), ("JUICE", "JUICE"), ("BepiColombo MPO", "BEPICOLOMBO"),
    ("Hubble Space Telescope", "HUBBLE SPACE TELESCOPE"),
])
def test_mission_is_the_short_name_of_the_host(host, mission):
    from harvester.sources.psa import mission_of

    assert mission_of(host) == mission


# ---------------------------------------------------------------- the query


def test_query_quotes_patterns_and_bounds_creation_modification_and_release(psa):
    psa.settings.target_patterns = ["%3I%", "%O'Brien%"]
    adql = psa.query("2025-10-20T00:00:00.000Z", "2025-12-01T00:00:00.000Z").adql(
        ["2025-10-20T00:00:00.000", "urn:esa:psa:x:y:it's"])
    assert "target_name LIKE '%O''Brien%'" in adql and "alt_target_name LIKE '%3I%'" in adql
    assert ("(creation_date >= '2025-10-13T00:00:00' OR modification_date >= '2025-10-13T00:00:00'"
            " OR (release_date >= '2025-11-24T00:00:00' AND release_date <= '2026-11-21T00:00:00'))") in adql
    assert ("(creation_date > '2025-10-20T00:00:00.000' OR (creation_date = '2025-10-20T00:00:00.000'"
            " AND granule_uid > 'urn:esa:psa:x:y:it''s'))") in adql
    assert adql.startswith("SELECT * FROM psa.epn_core WHERE ")
    assert adql.endswith(" ORDER BY creation_date, granule_uid")


def test_until_a_run_completes_the_query_has_no_time_bound(psa):
    assert "creation_date >=" not in psa.query(None, None).adql()
    assert "creation_date >=" not in psa.query("2025-10-20T00:00:00.000Z", None).adql()


@pytest.mark.parametrize("key, value, message", [
    ("table", "psa.epn_core; DROP", "table: not a table name like schema.table"),
    ("format", "csv", "format: expected one of json, votable, got 'csv'"),
    ("target_patterns", [], "target_patterns: must name at least one pattern"),
    ("page_size", 0, "page_size: must be greater than 0"),
])
def test_bad_config_is_one_line_naming_file_and_key(key, value, message):
    table = {"base_url": "https://psa.esa.int/psa-tap/tap", key: value}
    with pytest.raises(ConfigError) as caught:
        parse_config({"sources": {"psa": table}}, path="my.toml")
    assert str(caught.value).startswith("my.toml: [sources.psa] ")
    assert message in str(caught.value) and "\n" not in str(caught.value)


# ---------------------------------------------------------------- against the sandbox

GRANULE = "urn:esa:psa:{bundle}:data_raw:{name}"


def granule(name: str, *, bundle: str = "em16_tgo_cas", target: str = "3I/ATLAS",
            created: str = "2025-10-20T09:00:00", release: str = "2026-04-07T00:00:00",
            host: str = "ExoMars Trace Gas Orbiter", instrument: str = "CaSSIS", **extra) -> dict:
    uid = GRANULE.format(bundle=bundle, name=name)
    row = {"granule_uid": uid, "target_name": target, "alt_target_name": "C/2025 N1#3I",
           "time_min": "2025-10-03T06:00:00Z", "time_max": "2025-10-03T06:00:05Z",
           "instrument_host_name": host, "instrument_name": instrument, "creation_date": created,
           "release_date": release}
    if not release.startswith("2099") and release > created:
        # The PSA fills access_url once a granule is public.
        row["revisions"] = [{"appears": release + "Z", "access_url": f"https://psa.example/{name}"}]
    else:
        row["access_url"] = f"https://psa.example/{name}"
    row.update(extra)
    return row


def psa_scenario() -> dict:
    rows = [granule(f"g0{n}") for n in range(1, 5)]  # four granules of one delivery: ties
    rows += [granule(f"g0{n}", created="2025-10-25T10:00:00") for n in range(5, 8)]
    rows += [
        granule("g08", bundle="em16_tgo_nmd", instrument="NOMAD", created="2025-11-05T12:00:00",
                release="2099-01-01T00:00:00"),
        granule("g09", bundle="mex_omega", host="Mars Express", instrument="OMEGA",
                created="2025-11-10T08:00:00", release="2099-01-01T00:00:00",
                revisions=[{"appears": "2026-05-01T08:00:00Z", "release_date": "2026-05-01T00:00:00",
                            "access_url": "https://psa.example/g09"}]),
        granule("g10", bundle="juice_janus", host="Jupiter Icy Moons Explorer", instrument="JANUS",
                created="2026-03-02T09:00:00", release="2026-09-02T00:00:00"),
        granule("d01", target="C/2025 N12 (ATLAS)", alt_target_name=""),  # the LIKE returns it; not 3I
        granule("m01", target="Mars", alt_target_name=""),             # the LIKE filters it out
    ]
    return {"clock": CLOCK_EARLY, "psa": rows}


EARLY_3I = 9  # g01..g09 (g10 is delivered in March 2026)


@pytest.fixture
def sandbox():
    with Sandbox(psa_scenario(), port=0) as sb:
        yield sb


@pytest.fixture
def now(monkeypatch):
    def set_now(moment: str) -> None:
        monkeypatch.setenv("HARVESTER_NOW", moment)

    set_now(CLOCK_EARLY)
    return set_now


def run(sandbox, db, **settings):
    config = in_process_config(sandbox.base_urls, db)
    for key, value in {"page_size": 100, **settings}.items():
        setattr(config.sources["psa"], key, value)
    report = harvest(config, only=["psa"])
    return report.results[0]


def product(db, name, column):
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        row = conn.execute(f"SELECT {column} FROM products WHERE native_id LIKE ?", (f"%:{name}",)).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


def test_backfill_pages_across_maxrec_through_ties_storing_each_granule_once(sandbox, db_path, now):
    result = run(sandbox, db_path, page_size=3)
    assert result.status == "ok", result.error
    # 10 rows match the LIKE (9 of 3I, one decoy): pages of 3, 3, 3, 1; the first cuts a tie.
    # One more request: TAP_SCHEMA.columns, asked on the first run of the day.
    assert (result.pages, result.requests, result.records, result.skipped) == (4, 5, 10, 1)
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive='psa'") == EARLY_3I
    assert count(db_path, "SELECT COUNT(*) FROM events WHERE kind='new'") == EARLY_3I
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE target_name LIKE '%N12%'") == 0


def test_a_votable_overflow_pages_past_a_service_cap_below_page_size(sandbox, db_path, now):
    sandbox.archive("psa").maxrec_limit = 4
    result = run(sandbox, db_path, format="votable", page_size=100)
    assert result.status == "ok", result.error
    # 10 rows, at most 4 an answer: each short answer said OVERFLOW until the last (and the
    # TAP_SCHEMA.columns request before them).
    assert (result.requests, result.records) == (4, 10)
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive='psa'") == EARLY_3I


def test_cursor_holds_the_newest_creation_date_and_the_run_start(sandbox, db_path, now):
    run(sandbox, db_path, page_size=3)
    cursor = json.loads(dict(snapshot(db_path)["cursors"])["psa"])
    columns = cursor.pop("columns")
    assert cursor == {"created_through": "2025-11-10T08:00:00.000Z", "checked_at": "2025-12-01T00:00:00.000Z"}
    assert columns["checked_at"] == "2025-12-01T00:00:00.000Z" and "alt_target_name" in columns["names"]


def test_rerun_with_nothing_new_is_one_request_and_changes_nothing(sandbox, db_path, now):
    run(sandbox, db_path)
    first = snapshot(db_path)
    result = run(sandbox, db_path)
    assert (result.status, result.requests, result.new, result.updated, result.released) == ("ok", 1, 0, 0, 0)
    after = snapshot(db_path)
    assert after["products"] == first["products"] and after["events"] == first["events"]


def test_lookback_catches_a_granule_delivered_late_behind_the_cursor(sandbox, db_path, now):
    run(sandbox, db_path)
    # Stamped three days before the newest creation date already seen, served only now.
    sandbox.add_products("psa", [granule("g11", created="2025-11-07T08:00:00", appears=CLOCK_EARLY)])
    result = run(sandbox, db_path)
    assert result.new == 1 and product(db_path, "g11", "access") == "exclusive"


def test_embargoes_ending_give_released_events_however_long_the_pause(sandbox, db_path, now):
    run(sandbox, db_path)
    assert product(db_path, "g08", "access") == "exclusive" and product(db_path, "g08", "release_date") is None
    assert product(db_path, "g01", "release_date") == "2026-04-07T00:00:00.000Z"
    # Six months later, far past the 7-day look-back: the release clause reads the embargoes
    # that ended since the last run, and the placeholder's replacement is a modification.
    sandbox.set_clock(CLOCK_LATE)
    now(CLOCK_LATE)
    result = run(sandbox, db_path)
    assert result.status == "ok" and result.new == 1  # g10, delivered in March
    released = count(db_path, "SELECT COUNT(*) FROM events WHERE kind='released'")
    assert released == 8 == result.released  # g01..g07 (date passed) and g09 (placeholder replaced)
    assert product(db_path, "g09", "release_date") == "2026-05-01T00:00:00.000Z"
    assert product(db_path, "g09", "access") == "public" and product(db_path, "g08", "access") == "exclusive"
    assert product(db_path, "g01", "url") == "https://psa.example/g01"


FAULTS = [
    ("http500", {}), ("http503", {}), ("http429", {"retry_after": 0}), ("slow", {"delay": 3}),
    ("drop", {}), ("truncated", {}), ("html200", {}),
]


@pytest.mark.parametrize("fmt", ["json", "votable"])
@pytest.mark.parametrize("kind, params", FAULTS, ids=[k for k, _ in FAULTS])
def test_each_fault_ends_in_a_complete_run(sandbox, db_path, now, tmp_path, kind, params, fmt):
    clean_db = str(tmp_path / "clean.db")
    clean = run(sandbox, clean_db, format=fmt, page_size=4)
    sandbox.faults.add(kind, path_prefix="/psa-tap", count=2, **params)
    result = run(sandbox, db_path, format=fmt, page_size=4)
    assert result.status == "ok", result.error
    assert snapshot(db_path)["products"] == snapshot(clean_db)["products"]
    assert snapshot(db_path)["events"] == snapshot(clean_db)["events"]
    assert result.requests == clean.requests + 2  # each fault cost one retried request


def test_a_persistent_fault_fails_the_source_and_recovery_loses_nothing(sandbox, db_path, now, tmp_path):
    clean_db = str(tmp_path / "clean.db")
    run(sandbox, clean_db)
    sandbox.faults.add("http500", path_prefix="/psa-tap", count=1000)
    result = run(sandbox, db_path)
    assert result.status == "failed" and "HTTP 500" in result.error
    sandbox.faults.clear()
    assert run(sandbox, db_path).status == "ok"
    assert snapshot(db_path)["products"] == snapshot(clean_db)["products"]


def test_a_row_that_cannot_be_read_is_rejected_and_the_run_goes_on(sandbox, db_path, now):
    sandbox.corrupt("psa", GRANULE.format(bundle="em16_tgo_cas", name="g02"), time_min="not-a-date")
    result = run(sandbox, db_path, page_size=3)
    assert result.status == "ok" and result.rejected == 1
    assert count(db_path, "SELECT COUNT(*) FROM rejects WHERE native_id LIKE '%:g02' "
                          "AND reason = 'time_min is not a number: ''not-a-date'''") == 1
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive='psa'") == EARLY_3I - 1


def test_a_query_the_service_refuses_fails_with_its_reason(sandbox, db_path, now):
    result = run(sandbox, db_path, table="psa.nope")
    assert result.status == "failed"
    assert "refused the query" in result.error and "psa.nope" in result.error


# ---------------------------------------------------------------- through the CLI


def cli_config(tmp_path, sandbox, db, extra=""):
    path = tmp_path / "psa.toml"
    path.write_text(f'[catalog]\npath = "{db}"\n{FAST_HTTP}\n[sources.psa]\n'
                    f'base_url = "{sandbox.base_urls["psa"]}"\npage_size = 3\n{extra}')
    return str(path)


def test_cli_run_harvests_psa_and_a_bad_format_is_a_one_line_error(sandbox, db_path, tmp_path):
    proc = run_cli(["run", "--config", cli_config(tmp_path, sandbox, db_path), "--source", "psa"],
                   now=CLOCK_EARLY)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"psa: ok: 4 pages, 10 records, {EARLY_3I} new")
    bad = run_cli(["run", "--config", cli_config(tmp_path, sandbox, db_path, 'format = "csv"')])
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "[sources.psa] format: expected one of json, votable, got 'csv'" in bad.stderr


@pytest.mark.parametrize("point", ["page_commit:2", "page_committed:3"])
def test_kill_9_mid_backfill_then_rerun_equals_an_uninterrupted_harvest(sandbox, tmp_path, point):
    reference = str(tmp_path / "reference.db")
    assert run_cli(["run", "--config", cli_config(tmp_path, sandbox, reference)], now=CLOCK_EARLY).returncode == 0
    crashed = str(tmp_path / "crashed.db")
    config = cli_config(tmp_path, sandbox, crashed)
    killed = run_cli(["run", "--config", config, "--source", "psa"], now=CLOCK_EARLY,
                     env={"HARVESTER_CRASHPOINT": point})
    assert killed.returncode == -signal.SIGKILL
    assert run_cli(["run", "--config", config, "--source", "psa"], now=CLOCK_EARLY).returncode == 0
    assert snapshot(crashed)["products"] == snapshot(reference)["products"]
    assert snapshot(crashed)["events"] == snapshot(reference)["events"]
