"""Horizons answers read through astroquery, and the ephemeris interpolation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from harvester.ephemeris.horizons import HorizonsError, parse_answer, request_params, solution_of
from harvester.ephemeris.model import Ephemeris

RECORDED = Path(__file__).resolve().parent.parent / "data" / "jpl" / "horizons" / "ceres_ephemerides_range.txt"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_recorded_horizons_answer_reads_into_an_ephemeris():
    text = RECORDED.read_text()
    eph = parse_answer(text, target="Ceres", location="500", step="10d", query="q", fetched_at=NOW)
    assert list(eph.mjd) == [59740.0, 59750.0, 59760.0, 59770.0]
    assert eph.ra[0] == pytest.approx(101.73343) and eph.dec[-1] == pytest.approx(25.79505)
    assert eph.delta is not None and eph.delta[0] == pytest.approx(3.5173, abs=1e-3)
    assert eph.solution == solution_of(text) == "JPL#48"


def test_the_request_is_astroquerys_for_a_comet_designation():
    params = request_params("C/2025 N1", "500@-95", datetime(2025, 5, 1, tzinfo=UTC),
                            datetime(2025, 6, 1, tzinfo=UTC), "1h")
    assert params["COMMAND"] == '"DES=C/2025 N1; CAP; NOFRAG;"'
    assert params["CENTER"] == "'500@-95'"
    assert params["STEP_SIZE"] == '"1h"' and params["START_TIME"] == '"2025-05-01 00:00"'
    assert params["QUANTITIES"] == "'1,20'"


def test_an_answer_without_a_table_is_one_clear_error():
    text = "API VERSION: 1.2\n\nNo matches found for DES= C/2099 Z9. Unknown target.\n"
    with pytest.raises(HorizonsError, match="No matches found"):
        parse_answer(text, target="C/2099 Z9", location="500", step="1h", query="q", fetched_at=NOW)


def test_interpolation_on_the_sphere_and_never_outside_the_table():
    eph = Ephemeris(target="t", observer="500", step="1d", mjd=np.array([0.0, 1.0, 2.0]),
                    ra=np.array([359.5, 0.5, 1.5]), dec=np.array([0.0, 0.0, 0.0]))
    ra, dec, valid = eph.positions_at([0.5, 1.25, 2.5, -0.1])
    assert ra[0] == pytest.approx(0.0, abs=1e-6) or ra[0] == pytest.approx(360.0, abs=1e-6)
    assert ra[1] == pytest.approx(0.75, abs=1e-4) and dec[1] == pytest.approx(0.0, abs=1e-9)
    assert list(valid) == [True, True, False, False] and np.isnan(ra[2])


def test_an_ephemeris_survives_the_cache_round_trip():
    eph = Ephemeris(target="t", observer="500", step="1h", mjd=np.array([1.0, 1.5]),
                    ra=np.array([10.0, 10.1]), dec=np.array([-5.0, -5.1]), delta=np.array([1.8, 1.8]))
    back = Ephemeris.from_json(eph.to_json(), target="t", observer="500", step="1h")
    assert list(back.ra) == [10.0, 10.1] and list(back.delta) == [1.8, 1.8]
