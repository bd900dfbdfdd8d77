import json

import pytest

from harvester.errors import RecordRejected
from tests.conftest import load_json


@pytest.fixture
def rows():
    return load_json("mast/advSearch.json")["data"]


def as_3i(row, name="3I-ATLAS"):
    return dict(row, target_name=name)


def test_real_row_normalizes_every_field(make_source, rows):
    product = make_source("mast").normalize(as_3i(rows[0]))
    assert product.product_key == "mast:2003520266"
    assert product.mission == "HST" and product.instrument == "STIS/CCD"
    assert product.obs_start == "2001-09-20T16:29:27.168Z"
    assert product.obs_end == "2001-09-20T16:32:24.288Z"
    assert product.release_date == "2002-09-20T16:32:24.288Z"
    assert product.access == "public"
    assert product.program == "8880" and product.title == "EV Lac"
    assert product.product_type == "image" and product.processing_level == "raw"
    assert product.matched_by == "alias:3I/ATLAS"
    assert product.extra["obs_id"] == "O6AU01MSQ"
    assert product.raw["target_name"] == "3I-ATLAS"


def test_rows_of_other_targets_are_skipped(make_source, rows):
    assert all(make_source("mast").normalize(row) is None for row in rows)


def test_future_release_means_exclusive(make_source, rows):
    row = as_3i(rows[0], "C/2025 N1")
    row["t_obs_release"] = 61500.0  # 2027
    product = make_source("mast").normalize(row)
    assert product.access == "exclusive"
    assert product.release_date.startswith("2027-")


def test_row_without_obsid_is_rejected_with_reason(make_source, rows):
    row = as_3i(rows[0])
    del row["obsid"]
    with pytest.raises(RecordRejected, match="no obsid"):
        make_source("mast").normalize(row)


def test_non_numeric_time_is_rejected(make_source, rows):
    row = as_3i(rows[0], "3I/ATLAS")
    row["t_min"] = "yesterday"
    with pytest.raises(RecordRejected, match="t_min is not a number"):
        make_source("mast").normalize(row)


def test_payload_filters_collections_target_and_release_window(make_source):
    source = make_source("mast")
    payload = source.request_payload("%3I%", 60900.5, page=2)
    assert payload["service"] == "Mast.Caom.Filtered"
    assert payload["page"] == 2 and payload["pagesize"] == source.settings.page_size
    filters = {f["paramName"]: f for f in payload["params"]["filters"]}
    assert filters["target_name"]["freeText"] == "%3I%"
    # HLSP: the TESS-3I comet-centred product lives there, not under TESS.
    assert filters["obs_collection"]["values"] == ["JWST", "HST", "TESS", "SWIFT", "HLSP"]
    assert filters["t_obs_release"]["values"][0]["min"] == 60900.5
    json.dumps(payload)


def test_first_run_has_no_release_window(make_source):
    filters = make_source("mast").request_payload("%3I%", None, page=1)["params"]["filters"]
    assert "t_obs_release" not in {f["paramName"] for f in filters}
