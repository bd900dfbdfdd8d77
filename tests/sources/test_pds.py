import pytest

from harvester.errors import RecordRejected
from tests.conftest import load_json


@pytest.fixture
def collections():
    return load_json("pds/collections_limit20_all_properties.apiclient_to_dict.json")["data"]


def as_3i(record, name="3I/ATLAS"):
    record = dict(record, properties=dict(record["properties"]))
    record["properties"]["pds:Target_Identification.pds:name"] = [name]
    return record


def test_real_record_normalizes_every_field(make_source, collections):
    product = make_source("pds").normalize(as_3i(collections[0]))
    assert product.product_key == "pds:urn:nasa:pds:mars2020_pixl:data_imaging"
    assert product.version == "4.0"
    assert product.mission == "MARS2020" and product.instrument == "PIXL"
    assert product.obs_start == "2020-07-31T00:00:00.000Z"
    assert product.obs_end is None  # 3000-01-01 means open
    assert product.access == "public" and product.release_date is None
    assert product.product_type == "collection"
    assert product.extra["harvest_date_time"] == "2022-11-01T22:30:14.054Z"
    assert product.url.startswith("https://pds-geosciences.wustl.edu/")
    assert product.matched_by == "alias:3I/ATLAS"


def test_real_records_of_mars_are_skipped(make_source, collections):
    assert all(make_source("pds").normalize(r) is None for r in collections)


def test_target_lid_matches_without_a_name(make_source, collections):
    record = dict(collections[1], properties=dict(collections[1]["properties"]))
    record["properties"]["ref_lid_target"] = ["urn:nasa:pds:context:target:comet.3i_atlas"]
    product = make_source("pds").normalize(record)
    assert product.matched_by == "target_lid:urn:nasa:pds:context:target:comet.3i_atlas"


def test_record_without_lidvid_is_rejected(make_source):
    with pytest.raises(RecordRejected, match="no lidvid"):
        make_source("pds").normalize({"properties": {}})


def test_minimal_fields_answer_still_parses(make_source):
    record = load_json("pds/products_q_doi_10.17189-1522910_fields_lidvid_doi.json")["data"][0]
    record = dict(record, properties=dict(record["properties"]))
    record["properties"]["pds:Target_Identification.pds:name"] = ["C/2025 N1"]
    product = make_source("pds").normalize(record)
    assert product.product_key == "pds:urn:nasa:pds:m2020_edlcam_raw"
    assert product.mission == "MARS2020" and product.version == "1.1"


def test_query_names_target_and_harvest_window(make_source):
    source = make_source("pds")
    params = source.request_params("2025-10-01T00:00:00.000Z", ["2025-10-02T00:00:00Z", "urn:x::1.0"])
    assert '(ref_lid_target eq "urn:nasa:pds:context:target:comet.3i_atlas")' in params["q"]
    assert '(pds:Target_Identification.pds:name like "*3I*")' in params["q"]
    assert '(ops:Harvest_Info.ops:harvest_date_time ge "2025-10-01T00:00:00.000Z")' in params["q"]
    assert params["sort"] == "ops:Harvest_Info.ops:harvest_date_time,lidvid"
    assert params["search-after"] == "2025-10-02T00:00:00Z,urn:x::1.0"
