"""The PDS adapter against real recorded answers and the registry's grammar."""

import pytest

from harvester.config import parse_config
from harvester.errors import ConfigError, RecordRejected
from harvester.names.matcher import AliasMatcher
from harvester.sandbox.pds_query import parse_query
from harvester.sources.pds import context_parts, references, short_name
from harvester.sources.pds_contexts import match_context
from tests.conftest import load_json

GUESS = "urn:nasa:pds:context:target:comet.3i_atlas"


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
    # Every spelling of the mission goes to the platforms table.
    assert "urn:nasa:pds:context:investigation:mission.mars2020" in product.mission_names
    assert "Mars 2020 Perseverance Rover Mission" in product.mission_names


def test_real_records_of_mars_are_skipped(make_source, collections):
    assert all(make_source("pds").normalize(r) is None for r in collections)


def test_target_lid_matches_without_a_name(make_source, collections):
    record = dict(collections[1], properties=dict(collections[1]["properties"]))
    record["properties"]["ref_lid_target"] = [GUESS]
    product = make_source("pds").normalize(record)
    assert product.matched_by == f"target_lid:{GUESS}"


def test_top_level_target_reference_matches_when_properties_lack_it(make_source, collections):
    record = dict(collections[1], properties={k: v for k, v in collections[1]["properties"].items()
                                              if k != "ref_lid_target"})
    record["targets"] = [{"id": GUESS, "href": "x"}]
    assert make_source("pds").normalize(record).matched_by == f"target_lid:{GUESS}"


def test_record_without_lidvid_is_rejected(make_source):
    with pytest.raises(RecordRejected, match="no lidvid"):
        make_source("pds").normalize({"properties": {}})


def test_host_and_instrument_come_from_the_top_level_lists(make_source):
    """The recorded answer to fields=lidvid,doi: properties hold only those two fields, the
    host and instrument are only in observing_system_components."""
    record = load_json("pds/products_q_doi_10.17189-1522910_fields_lidvid_doi.json")["data"][0]
    record = dict(record, properties=dict(record["properties"]))
    record["properties"]["pds:Target_Identification.pds:name"] = ["C/2025 N1"]
    product = make_source("pds").normalize(record)
    assert product.product_key == "pds:urn:nasa:pds:m2020_edlcam_raw"
    assert product.mission == "MARS2020" and product.version == "1.1"
    assert product.instrument == "EDLCAM"
    assert product.extra["instrument_host_lid"] == "urn:nasa:pds:context:instrument_host:spacecraft.mars2020"


def test_the_string_null_is_a_missing_field(make_source):
    record = {
        "id": "urn:nasa:pds:x:data:p1::1.0", "title": "frame",
        "targets": [{"id": GUESS}], "observing_system_components": [], "investigations": [],
        "properties": {
            "lidvid": ["urn:nasa:pds:x:data:p1::1.0"],
            "ops:Harvest_Info.ops:harvest_date_time": ["2026-02-11T18:22:05.123Z"],
            "pds:Time_Coordinates.pds:start_date_time": ["2025-10-02T18:43:12Z"],
            "pds:Time_Coordinates.pds:stop_date_time": ["null"],
            "pds:Target_Identification.pds:name": ["null"],
            "ops:Data_File_Info.ops:file_size": ["null"],
            "pds:Primary_Result_Summary.pds:processing_level": ["null"],
        },
    }
    product = make_source("pds").normalize(record)
    assert product.obs_start == "2025-10-02T18:43:12.000Z" and product.obs_end is None
    assert product.target_name == GUESS  # no name: the reference stands in
    assert product.size_bytes is None and product.processing_level is None
    assert "null" not in repr(product.extra)


def test_esa_lids_mirrored_in_pds_read_like_nasa_ones(make_source):
    record = {
        "id": "urn:esa:psa:mex_hrsc:data_raw:h1::1.0",
        "observing_system_components": [
            {"id": "urn:esa:psa:context:instrument_host:spacecraft.mex"},
            {"id": "urn:esa:psa:context:instrument:mex.hrsc"}],
        "investigations": [{"id": "urn:esa:psa:context:investigation:mission.mex"}],
        "properties": {"pds:Target_Identification.pds:name": ["3I/ATLAS"],
                       "ops:Harvest_Info.ops:harvest_date_time": ["2026-05-02T10:00:00Z"]},
    }
    product = make_source("pds").normalize(record)
    assert (product.mission, product.instrument) == ("MEX", "HRSC")
    assert product.native_id == "urn:esa:psa:mex_hrsc:data_raw:h1"
    assert context_parts("urn:esa:psa:context:instrument:mex.hrsc") == ("instrument", "mex.hrsc")
    assert short_name("urn:nasa:pds:context:investigation:mission.mars_reconnaissance_orbiter") == (
        "MARS_RECONNAISSANCE_ORBITER")
    assert references(record)["investigation"] == ["urn:esa:psa:context:investigation:mission.mex"]


@pytest.mark.parametrize("since", [None, "2025-10-01T00:00:00.000Z"])
def test_every_query_parses_under_the_registrys_grammar(make_source, since):
    source = make_source("pds")
    params = source.request_params(since, ["2025-10-02T00:00:00Z", "urn:x::1.0"])
    parse_query(params["q"])  # raises on what the registry would answer with a 400
    assert " like " not in params["q"]
    assert f'(ref_lid_target eq "{GUESS}")' in params["q"]
    for spelling in ("3I/ATLAS", "C/2025 N1 (ATLAS)", "C2025N1", "3I/ATLAS".upper()):
        assert f'(pds:Target_Identification.pds:name eq "{spelling}")' in params["q"]
    assert params["sort"] == "ops:Harvest_Info.ops:harvest_date_time,lidvid"
    assert params["search-after"] == "2025-10-02T00:00:00Z,urn:x::1.0"
    if since:
        assert params["q"].endswith(f'and ((ops:Harvest_Info.ops:harvest_date_time ge "{since}")))')


def test_a_single_lid_and_no_names_still_parses(make_source):
    source = make_source("pds")
    source.matcher = AliasMatcher("X")  # one spelling
    parse_query(source.query(None, [GUESS]))
    parse_query(source.query("2026-01-01T00:00:00Z", [GUESS]))


def test_name_patterns_are_refused_with_the_reason():
    with pytest.raises(ConfigError, match=r"\[sources.pds\] name_patterns: no longer used.*like"):
        parse_config({"sources": {"pds": {"name_patterns": ["*3I*"]}}}, path="c.toml")


def test_context_products_are_taken_only_when_their_names_are_the_target():
    matcher = AliasMatcher("3I/ATLAS", ["C/2025 N1 (ATLAS)", "3I"])

    def context(lid, **props):
        return {"id": lid + "::1.0", "title": props.pop("title", "x"),
                "properties": {"lid": [lid], **{k: v for k, v in props.items()}}}

    hit = match_context(context("urn:nasa:pds:context:target:comet.c2025_n1_atlas",
                                **{"pds:Target.pds:name": ["C/2025 N1 (ATLAS)"]}), matcher, "q")
    assert hit.value == "urn:nasa:pds:context:target:comet.c2025_n1_atlas"
    assert (hit.field, hit.raw) == ("pds:Target.pds:name", "C/2025 N1 (ATLAS)")
    alias = match_context(context("urn:x:y:context:target:comet.a",
                                  **{"pds:Target.pds:name": ["null"],
                                     "pds:Alias.pds:alternate_title": ["3I"]}), matcher, "q")
    assert alias.field == "pds:Alias.pds:alternate_title"
    for decoy in ("C/2019 Y4 (ATLAS)", "2I/Borisov", "C/2025 N10"):
        assert match_context(context("urn:x:y:context:target:comet.d", title=decoy,
                                     **{"pds:Target.pds:name": [decoy]}), matcher, "q") is None
