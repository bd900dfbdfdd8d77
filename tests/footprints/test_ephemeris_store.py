"""The ephemeris cache: reused while current, refetched when the window grows or the orbit
solution changes, and used as it is when Horizons cannot be asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog import Catalog
from catalog.ephemerides import load_ephemeris
from harvester.ephemeris.settings import Settings
from harvester.ephemeris.store import EphemerisStore
from harvester.errors import SourceError
from harvester.http import HttpClient
from harvester.sandbox import Sandbox, default_scenario
from harvester.settings import HttpSettings
from harvester.timeutil import datetime_to_mjd

T0 = datetime(2025, 8, 1, tzinfo=UTC)


@pytest.fixture
def world(tmp_path):
    with Sandbox(default_scenario()) as sb, Catalog.open(tmp_path / "c.db") as catalog:
        http = HttpClient(HttpSettings(retries=1, backoff_initial=0.01, backoff_max=0.02, rate_limit=1000))
        settings = Settings(horizons_url=sb.base_urls["horizons"])

        def store(now: datetime = T0) -> EphemerisStore:
            return EphemerisStore(catalog, http, settings, now)

        yield sb, catalog, store
        http.close()


def window(days: float, start: datetime = T0) -> tuple[float, float]:
    return datetime_to_mjd(start), datetime_to_mjd(start + timedelta(days=days))


def test_a_window_inside_the_cache_asks_nothing(world):
    sb, catalog, store = world
    first = store().ephemeris("spherex", *window(10), "1h")
    assert sb.request_count("/horizons") == 1 and len(first) > 24 * 10
    assert first.covers(*window(10))
    store(T0 + timedelta(hours=1)).ephemeris("spherex", *window(5), "1h")
    assert sb.request_count("/horizons") == 1
    stored = load_ephemeris(catalog, "C/2025 N1", "500", "1h")
    assert stored.solution == "JPL#27" and "STEP_SIZE" in stored.query and stored.points == len(first)


def test_a_longer_window_refetches_the_union(world):
    sb, catalog, store = world
    store().ephemeris("spherex", *window(10), "1h")
    longer = store().ephemeris("spherex", *window(60), "1h")  # a new store: nothing memoised
    assert sb.request_count("/horizons") == 2 and longer.covers(*window(60))


def test_a_stale_cache_asks_for_the_solution_once_and_a_new_one_refetches(world):
    sb, catalog, store = world
    store().ephemeris("spherex", *window(10), "1h")
    later = T0 + timedelta(days=3)
    store(later).ephemeris("spherex", *window(10), "1h")
    assert sb.request_count("/horizons") == 2          # one single-epoch probe: same solution
    # The orbit is refitted: Horizons now answers from another solution.
    for path in sb.archives["horizons"].paths:
        path.solution = "JPL#28"
    refreshed = store(later + timedelta(days=3)).ephemeris("spherex", *window(10), "1h")
    assert sb.request_count("/horizons") == 4          # the probe, then the new ephemeris
    assert refreshed.solution == "JPL#28"
    assert load_ephemeris(catalog, "C/2025 N1", "500", "1h").solution == "JPL#28"


def test_when_horizons_is_down_a_stale_cache_is_used_as_it_is(world):
    sb, catalog, store = world
    store().ephemeris("spherex", *window(10), "1h")
    sb.faults.add("http503", path_prefix="/horizons", count=10)
    eph = store(T0 + timedelta(days=3)).ephemeris("spherex", *window(10), "1h")
    assert eph.solution == "JPL#27" and eph.covers(*window(10))


def test_an_unknown_observer_names_the_known_ones(world):
    _, _, store = world
    with pytest.raises(SourceError, match=r"unknown observer 'voyager'.*tess"):
        store().ephemeris("voyager", *window(1), "1h")
