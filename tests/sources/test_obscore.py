"""Generic ObsCore TAP: the parser on a spec-shaped VOTable (tests/data/obscore), then the adapter
against the sandbox's ObsCore services: one adapter and one config block per archive, the
release-date window, paging across MAXREC and OVERFLOW, every fault kind and rejects."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from harvester.config import parse_config
from harvester.engine import harvest
from harvester.errors import ConfigError, RecordRejected
from harvester.names.matcher import AliasMatcher
from harvester.sandbox import Sandbox
from harvester.sources import source_class
from harvester.sources.base import SourceContext
from harvester.sources.obscore import Settings
from harvester.sources.tap import parse_answer
from tests.conftest import DATA
from tests.harvest_helpers import FAST_HTTP, count, in_process_config, run_cli, snapshot

NOW = datetime.fromisoformat("2026-01-01T00:00:00Z")
CLOCK_EARLY = "2025-09-01T00:00:00Z"
CLOCK_LATE = "2026-09-01T00:00:00Z"
ALIASES = ["3I", "C/2025 N1", "C/2025 N1 (ATLAS)", "C2025N1", "3I_ATLAS"]


def source(name: str = "eso", now: datetime = NOW, **settings):
    values = {"base_url": "https://archive.example/tap", **settings}
    return source_class("obscore")(SourceContext(name, Settings(kind="obscore", **values),
                                                 AliasMatcher("3I/ATLAS", ALIASES), None, now))


@pytest.fixture
def rows():
    answer = parse_answer((DATA / "obscore" / "obscore_sync.vot.xml").read_bytes())
    return {row["obs_id"]: row for row in answer.records()}


# ---------------------------------------------------------------- parsing and normalizing


def test_votable_rows_are_typed_by_their_fields(rows):
    fors2 = rows["ADP.2025-07-04T10:02:11.101"]
    assert fors2["calib_level"] == 2 and fors2["access_estsize"] == 21450
    assert fors2["t_min"] == pytest.approx(60859.98611) and fors2["proposal_id"] is None


def test_public_row_normalizes_every_field(rows):
    product = source().normalize(rows["ADP.2025-07-04T10:02:11.101"])
    # (obs_publisher_did, obs_id): a DID alone does not tell products apart (ALMA repeats them).
    assert product.product_key == "eso:ivo://eso.org/ID?ADP.2025-07-04T10:02:11.101#ADP.2025-07-04T10:02:11.101"
    assert (product.archive, product.mission, product.instrument) == ("eso", "FORS2", "FORS2")
    assert product.obs_start == "2025-07-03T23:39:59.904Z" and product.obs_end[:16] == "2025-07-03T23:55"
    assert product.release_date == "2025-07-04T10:02:11.101Z" and product.access == "public"
    assert product.public_since == product.release_date
    assert product.processing_level == "calibrated" and product.product_type == "image"
    assert product.size_bytes == 21450 * 1024 and product.url.startswith("https://dataportal.eso.org/")
    assert product.program is None and product.title == "ADP.2025-07-04T10:02:11.101"
    assert product.extra["data_rights"] == "public" and product.extra["facility_name"] == "ESO-VLT-U1"
    assert product.matched_by == "alias:3I/ATLAS"


def test_future_release_is_exclusive_and_the_proposal_is_the_program(rows):
    product = source().normalize(rows["ADP.2025-07-21T23:59:00.000"])
    assert product.access == "exclusive" and product.release_date == "2026-07-21T23:59:00.000Z"
    assert product.program == "115.29F3" and product.title == "C/2025 N1 X-shooter monitoring"
    assert product.matched_by == "alias:C/2025 N1"


def test_without_a_release_date_data_rights_decide(rows):
    product = source().normalize(rows["ADP.2025-07-05T08:11:42.310"])
    assert product.release_date is None and product.access == "exclusive"  # data_rights=proprietary
    assert product.processing_level == "derived" and product.product_type == "cube"
    bare = {**rows["ADP.2025-07-05T08:11:42.310"], "data_rights": None}
    assert source().normalize(bare).access == "unknown"


def test_decoy_comet_is_skipped(rows):
    assert source().normalize(rows["ADP.2025-08-02T09:00:00.900"]) is None


def test_archive_is_the_block_name_unless_the_archive_key_says_otherwise(rows):
    row = rows["ADP.2025-07-04T10:02:11.101"]
    assert source("eso").normalize(row).product_key.startswith("eso:ivo://")
    assert source("eso_archive", archive="eso").normalize(row).archive == "eso"


@pytest.mark.parametrize("change, reason", [
    ({"obs_publisher_did": ""}, "row has no obs_publisher_did"),
    ({"t_min": "yesterday"}, "t_min is not a number: 'yesterday'"),
    ({"t_max": -1e9}, "t_max is not an MJD in range: -1000000000.0"),
    ({"obs_release_date": "soon"}, "obs_release_date is not a date: 'soon'"),
])
def test_unreadable_row_is_rejected_with_its_reason(rows, change, reason):
    with pytest.raises(RecordRejected) as caught:
        source().normalize({**rows["ADP.2025-07-04T10:02:11.101"], **change})
    assert str(caught.value) == reason


def test_binary2_votable_is_read_through_astropy():
    pytest.importorskip("astropy")
    import io

    from astropy.io.votable import from_table
    from astropy.table import MaskedColumn, Table

    table = Table()
    table["obs_publisher_did"] = ["ivo://a/1", "ivo://a/2"]
    table["target_name"] = ["3I/ATLAS", "C/2025 N1"]
    table["t_min"] = MaskedColumn([60859.5, 60860.5], mask=[False, True])
    table["calib_level"] = [2, 3]
    buffer = io.BytesIO()
    from_table(table).to_xml(buffer, tabledata_format="binary2")
    answer = parse_answer(buffer.getvalue())
    assert answer.records() == [
        {"obs_publisher_did": "ivo://a/1", "target_name": "3I/ATLAS", "t_min": 60859.5, "calib_level": 2},
        {"obs_publisher_did": "ivo://a/2", "target_name": "C/2025 N1", "t_min": None, "calib_level": 3},
    ]


# ---------------------------------------------------------------- the query and the config


def test_query_filters_collections_and_opens_the_release_window_into_the_future():
    adql = source(collections=["GEMINI", "O'Hare"]).query("2025-12-01T00:00:00.000Z").adql(["ivo://x/it's", "o1"])
    assert adql.startswith("SELECT * FROM ivoa.obscore WHERE (target_name LIKE '%3I%' OR "
                           "target_name LIKE '%2025%N1%')")
    assert "obs_collection IN ('GEMINI', 'O''Hare')" in adql
    # 30 days of look-back; rows without a release date are read every run
    assert "(obs_release_date >= '2025-11-01T00:00:00' OR obs_release_date IS NULL)" in adql
    assert adql.endswith("(obs_publisher_did > 'ivo://x/it''s' OR (obs_publisher_did = 'ivo://x/it''s' "
                         "AND obs_id > 'o1')) ORDER BY obs_publisher_did, obs_id")
    assert "obs_release_date" not in source().query(None).adql()


@pytest.mark.parametrize("key, value, message", [
    ("archive", "ESO Archive", "archive: lower-case letters, digits, - and _ only"),
    ("table", "ivoa.obscore WHERE 1=1", "table: not a table name like schema.table"),
    ("format", "fits", "format: expected one of json, votable"),
    ("collections", "GEMINI", "collections: expected a list of strings"),
])
def test_bad_config_is_one_line_naming_file_and_key(key, value, message):
    table = {"kind": "obscore", "base_url": "https://archive.example/tap", key: value}
    with pytest.raises(ConfigError) as caught:
        parse_config({"sources": {"eso": table}}, path="my.toml")
    assert str(caught.value).startswith("my.toml: [sources.eso] ") and message in str(caught.value)


def test_an_obscore_block_needs_its_base_url():
    with pytest.raises(ConfigError, match=r"\[sources.gavo\] base_url: missing"):
        parse_config({"sources": {"gavo": {"kind": "obscore"}}}, path="my.toml")


def test_shipped_config_has_the_four_archives_disabled_with_real_urls():
    from harvester.config import load_config

    sources = load_config().sources
    expected = {"eso": "http://archive.eso.org/tap_obs", "irsa": "https://irsa.ipac.caltech.edu/TAP",
                "heasarc": "https://heasarc.gsfc.nasa.gov/xamin/vo/tap",
                "cadc": "https://ws.cadc-ccda.hia-iha.nrc-cnrc.gc.ca/argus"}
    for name, url in expected.items():
        assert (sources[name].kind, sources[name].base_url, sources[name].enabled) == ("obscore", url, False)
    assert sources["cadc"].collections == ["GEMINI"]


# ---------------------------------------------------------------- against the sandbox


def row(service: str, n: int, *, target: str = "3I/ATLAS", observed: str = "2025-08-05T23:00:00",
        release: str | None = "2025-08-06T12:00:00Z", collection: str = "XSHOOTER", **extra) -> dict:
    did = f"ivo://{service}.example/ID?OBS.{n:03d}"
    values = {"service": service, "obs_publisher_did": did, "obs_id": f"OBS.{n:03d}",
              "obs_collection": collection, "instrument_name": collection, "target_name": target,
              "t_min": observed + "Z", "t_max": observed[:11] + "23:59:00Z", "obs_release_date": release}
    values.update(extra)
    return values


def obscore_scenario() -> dict:
    eso = [row("eso", n) for n in range(1, 6)]
    eso += [
        row("eso", 6, release="2026-08-06T12:00:00Z"),                 # one-year proprietary period
        row("eso", 7, release=None, data_rights="public"),             # no release date at all
        row("eso", 8, target="C/2025 N12 (ATLAS)"),                    # decoy
    ]
    cadc = [row("cadc", 1, collection="GEMINI", proposal_id="GS-2025B-DD-103"),
            row("cadc", 2, collection="CFHT")]                         # outside the collections
    irsa = [row("irsa", 1, collection="SPHEREx")]
    return {"clock": CLOCK_EARLY, "obscore": eso + cadc + irsa}


EARLY_ESO = 7  # eso 1..7


@pytest.fixture
def sandbox():
    with Sandbox(obscore_scenario(), port=0) as sb:
        yield sb


@pytest.fixture
def now(monkeypatch):
    def set_now(moment: str) -> None:
        monkeypatch.setenv("HARVESTER_NOW", moment)

    set_now(CLOCK_EARLY)
    return set_now


def run(sandbox, db, names=("eso",), **settings):
    config = in_process_config(sandbox.base_urls, db)
    for name in names:
        config.sources[name].enabled = True
        for key, value in {"page_size": 100, **settings}.items():
            setattr(config.sources[name], key, value)
    report = harvest(config, only=list(names))
    return {r.source: r for r in report.results}


def test_each_block_harvests_its_own_service_into_its_own_archive(sandbox, db_path, now):
    results = run(sandbox, db_path, names=("eso", "irsa", "heasarc", "cadc"))
    assert all(r.status == "ok" for r in results.values()), {n: r.error for n, r in results.items()}
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive='eso'") == EARLY_ESO
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive='irsa'") == 1
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive='heasarc'") == 0
    # [sources.cadc] ships with collections = ["GEMINI"]: the CFHT row is never asked for.
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive='cadc'") == 1
    assert results["cadc"].records == 1
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE product_key="
                          "'cadc:ivo://cadc.example/ID?OBS.001#OBS.001' AND program='GS-2025B-DD-103'") == 1
    assert results["eso"].skipped == 1  # the decoy comet


def test_paging_across_maxrec_keeps_every_row_once(sandbox, db_path, now):
    result = run(sandbox, db_path, page_size=3)["eso"]
    assert (result.status, result.pages, result.requests, result.records) == ("ok", 3, 3, 8)
    assert count(db_path, "SELECT COUNT(*) FROM events WHERE kind='new'") == EARLY_ESO


def test_an_overflow_below_page_size_is_paged_past(sandbox, db_path, now):
    sandbox.archive("obscore").maxrec_limit = 3
    result = run(sandbox, db_path, page_size=100)["eso"]
    assert (result.status, result.requests, result.records) == ("ok", 3, 8)
    assert count(db_path, "SELECT COUNT(*) FROM products") == EARLY_ESO


def test_rerun_is_one_request_and_the_cursor_is_the_run_start(sandbox, db_path, now):
    run(sandbox, db_path)
    first = snapshot(db_path)
    result = run(sandbox, db_path)["eso"]
    assert (result.requests, result.new, result.updated) == (1, 0, 0)
    assert snapshot(db_path)["events"] == first["events"]
    assert json.loads(dict(snapshot(db_path)["cursors"])["eso"]) == {"watermark": "2025-09-01T00:00:00.000Z"}


def test_lookback_catches_a_row_published_late_behind_the_cursor(sandbox, db_path, now):
    run(sandbox, db_path)
    # Public since a week before the last run, but its metadata appears only now.
    sandbox.add_products("obscore", [row("eso", 9, release="2025-08-25T00:00:00Z", appears=CLOCK_EARLY)])
    assert run(sandbox, db_path)["eso"].new == 1


def test_an_embargo_ending_is_a_released_event(sandbox, db_path, now):
    run(sandbox, db_path)
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE access='exclusive'") == 1
    sandbox.set_clock(CLOCK_LATE)
    now(CLOCK_LATE)
    result = run(sandbox, db_path)["eso"]
    assert (result.released, result.new) == (1, 0)
    assert count(db_path, "SELECT COUNT(*) FROM events WHERE kind='released' "
                          "AND product_key='eso:ivo://eso.example/ID?OBS.006#OBS.006'") == 1


FAULTS = [
    ("http500", {}), ("http503", {}), ("http429", {"retry_after": 0}), ("slow", {"delay": 3}),
    ("drop", {}), ("truncated", {}), ("html200", {}),
]


@pytest.mark.parametrize("kind, params", FAULTS, ids=[k for k, _ in FAULTS])
def test_each_fault_ends_in_a_complete_run(sandbox, db_path, now, tmp_path, kind, params):
    clean_db = str(tmp_path / "clean.db")
    clean = run(sandbox, clean_db, page_size=3)["eso"]
    sandbox.faults.add(kind, path_prefix="/obscore/eso", count=2, **params)
    result = run(sandbox, db_path, page_size=3)["eso"]
    assert result.status == "ok", result.error
    assert snapshot(db_path)["products"] == snapshot(clean_db)["products"]
    assert result.requests == clean.requests + 2


def test_one_failing_service_leaves_the_others_alone(sandbox, db_path, now):
    sandbox.faults.add("http503", path_prefix="/obscore/eso", count=1000)
    results = run(sandbox, db_path, names=("eso", "irsa"))
    assert results["eso"].status == "failed" and results["irsa"].status == "ok"
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE archive='irsa'") == 1


def test_a_row_that_cannot_be_read_is_rejected_and_the_run_goes_on(sandbox, db_path, now):
    sandbox.corrupt("obscore", "ivo://eso.example/ID?OBS.002", t_min="yesterday")
    result = run(sandbox, db_path)["eso"]
    assert result.status == "ok" and result.rejected == 1
    assert count(db_path, "SELECT COUNT(*) FROM rejects WHERE native_id='ivo://eso.example/ID?OBS.002#OBS.002' "
                          "AND reason LIKE 't_min is not a number%'") == 1
    assert count(db_path, "SELECT COUNT(*) FROM products") == EARLY_ESO - 1


def test_a_new_obscore_archive_is_a_config_block_and_nothing_else(sandbox, db_path, tmp_path):
    sandbox.add_products("obscore", [row("gavo", 1, target="C2025N1")])
    config = tmp_path / "gavo.toml"
    config.write_text(f'[catalog]\npath = "{db_path}"\n{FAST_HTTP}\n[sources.gavo]\nkind = "obscore"\n'
                      f'base_url = "{sandbox.base_urls["gavo"]}"\n')
    proc = run_cli(["run", "--config", str(config)], now=CLOCK_EARLY)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("gavo: ok: 1 pages, 1 records, 1 new")
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE "
                          "product_key='gavo:ivo://gavo.example/ID?OBS.001#OBS.001' "
                          "AND archive='gavo' AND matched_by='alias:C/2025 N1'") == 1
