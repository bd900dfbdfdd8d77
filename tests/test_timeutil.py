from datetime import UTC, datetime

from harvester.timeutil import datetime_to_mjd, jd_to_iso, mjd_to_iso, normalize_iso, parse_iso


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
