from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.timeutil import (
    datetime_to_mjd,
    iso,
    jd_to_iso,
    mjd_to_datetime,
    mjd_to_iso,
    normalize_iso,
    parse_iso,
)


def test_mjd_zero_is_1858_11_17():
    assert mjd_to_iso(0) == "1858-11-17T00:00:00.000Z"


def test_mjd_of_a_fixture_row_is_utc():
    # advSearch.json t_max 52172.68917 -> 2001-09-20 16:32:24 UTC
    assert mjd_to_iso(52172.68917) == "2001-09-20T16:32:24.288Z"


def test_julian_date_converts_through_mjd():
    assert jd_to_iso(2460977.5) == "2025-10-29T00:00:00.000Z"


def test_mjd_round_trip():
    moment = datetime(2025, 8, 6, 12, tzinfo=UTC)
    assert mjd_to_iso(datetime_to_mjd(moment)) == "2025-08-06T12:00:00.000Z"


def test_pds_nanosecond_timestamps_parse():
    assert normalize_iso("2022-11-01T22:30:14.054640500Z") == "2022-11-01T22:30:14.054Z"


def test_naive_and_offset_times_become_utc():
    assert normalize_iso("2025-10-03T08:00:00+08:00") == "2025-10-03T00:00:00.000Z"
    assert parse_iso("2025-10-03").tzinfo is not None


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.floats(min_value=-678_000, max_value=2_900_000, allow_nan=False),
                 st.integers(min_value=-678_000, max_value=2_900_000),
                 st.floats(min_value=60_000, max_value=62_000, allow_nan=False)))
def test_mjd_to_iso_writes_what_iso_of_the_datetime_writes(mjd):
    """The fast conversion is the catalog's old text for every MJD a datetime can hold (the
    backfill identity depends on it)."""
    assert mjd_to_iso(mjd) == iso(mjd_to_datetime(float(mjd)))


def test_mjd_to_iso_keeps_the_old_edges():
    for mjd in (0, -0.0, 0.9999999999, 61000.5, 61000.0000005, 61000.9999995, "60990.25", -1.5):
        assert mjd_to_iso(mjd) == iso(mjd_to_datetime(float(mjd)))
    assert mjd_to_iso(None) is None and mjd_to_iso("") is None
