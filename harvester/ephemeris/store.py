"""Ephemerides for the sources, from the catalog's cache or from Horizons.

A cached ephemeris (per target, observer and step) is used while it covers the window asked for
and was confirmed within `refresh_hours`. After that, one single-epoch Horizons query per harvest
asks which orbit solution is current: the same one confirms every cached ephemeris, a new one
(the orbit was refitted with new astrometry) refetches them as they are needed. A window that
grows past the cached one refetches the union, rounded out to whole days so a clock moving by
hours does not refetch every run.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime, timedelta
from typing import Any

from catalog import Catalog
from catalog.ephemerides import StoredEphemeris, confirm_solution, load_ephemeris, save_ephemeris
from harvester.ephemeris import horizons
from harvester.ephemeris.model import Ephemeris, EphemerisProvider
from harvester.ephemeris.settings import Settings
from harvester.errors import ConfigError, HarvesterError, SourceError
from harvester.timeutil import iso, mjd_to_datetime, parse_iso

log = logging.getLogger("harvester.ephemeris")
_STEP = re.compile(r"^\s*(\d+)\s*(m|min|h|d)\s*$")
_STEP_DAYS = {"m": 1 / 1440, "min": 1 / 1440, "h": 1 / 24, "d": 1.0}
MAX_POINTS = 90000  # Horizons refuses longer tables
# A window that grows past the cache is fetched this much further ahead, so that a daily
# harvest whose window ends "now" asks Horizons once a month, not every day.
FETCH_AHEAD_DAYS = 30


def step_days(step: str) -> float:
    """A Horizons step ("1h", "30m", "1d") in days."""
    found = _STEP.match(step or "")
    if not found or int(found.group(1)) == 0:
        raise ConfigError(f"ephemeris step {step!r}: expected a number and a unit, like 1h, 30m or 1d")
    return int(found.group(1)) * _STEP_DAYS[found.group(2)]


class EphemerisStore(EphemerisProvider):
    """The catalog-backed provider the engine gives to ephemeris sources (one per harvest)."""

    def __init__(self, catalog: Catalog, http: Any, settings: Settings, now: datetime) -> None:
        self.catalog = catalog
        self.http = http
        self.settings = settings
        self.now = now
        self.fetched = 0
        self._memo: dict[tuple[str, str], Ephemeris] = {}
        self._solution: tuple[str | None] | None = None
        if settings.rate_limit:
            http.set_rate_limit(settings.horizons_url, settings.rate_limit)

    def observer_code(self, observer: str) -> str:
        try:
            return self.settings.location(observer)
        except KeyError:
            known = ", ".join(sorted(self.settings.observers))
            raise SourceError(f"unknown observer {observer!r} (known: {known}; add it to "
                              "[ephemeris.observers] with its Horizons location code)") from None

    def ephemeris(self, observer: str, start_mjd: float, stop_mjd: float, step: str) -> Ephemeris:
        location = self.observer_code(observer)
        days = step_days(step)
        start_mjd, stop_mjd = math.floor(start_mjd), math.ceil(stop_mjd) + 1
        key = (location, step)
        memo = self._memo.get(key)
        if memo is not None and memo.covers(start_mjd, stop_mjd):
            return memo
        target = self.settings.target
        stored = load_ephemeris(self.catalog, target, location, step)
        if stored is not None:
            cached = self._usable(stored, start_mjd, stop_mjd)
            if cached is not None:
                self._memo[key] = cached
                return cached
            start_mjd = min(start_mjd, _mjd(stored.start))
            stop_mjd = max(stop_mjd, _mjd(stored.stop))
        stop_mjd += FETCH_AHEAD_DAYS
        if (stop_mjd - start_mjd) / days > MAX_POINTS:
            raise SourceError(f"an ephemeris of {stop_mjd - start_mjd:.0f} days at {step} steps is "
                              f"over Horizons' {MAX_POINTS} lines; use a longer step or a shorter window")
        fresh = horizons.fetch(self.http, self.settings.horizons_url, target=target,
                               location=location, start=mjd_to_datetime(start_mjd),
                               stop=mjd_to_datetime(stop_mjd), step=step, now=self.now)
        if len(fresh) < 2:
            raise SourceError(f"Horizons answered {len(fresh)} position(s) for {target} from "
                              f"{location}; an ephemeris needs at least two")
        self.fetched += 1
        now = iso(self.now)
        save_ephemeris(self.catalog, StoredEphemeris(
            target=target, observer=location, step=step,
            start=iso(mjd_to_datetime(fresh.start_mjd)), stop=iso(mjd_to_datetime(fresh.stop_mjd)),
            solution=fresh.solution, query=fresh.query, fetched_at=now, checked_at=now,
            points=len(fresh), data=fresh.to_json()))
        self._solution = (fresh.solution,)
        self._memo[key] = fresh
        log.info("ephemeris of %s from %s at %s: %d positions (solution %s)", target, location,
                 step, len(fresh), fresh.solution)
        return fresh

    def _usable(self, stored: StoredEphemeris, start_mjd: float, stop_mjd: float) -> Ephemeris | None:
        """The cached ephemeris, if it covers the window and its orbit solution is current."""
        if not (_mjd(stored.start) <= start_mjd and stop_mjd <= _mjd(stored.stop)):
            return None
        age = self.now - parse_iso(stored.checked_at)
        if age > timedelta(hours=self.settings.refresh_hours):
            current = self._current_solution()
            if current is not None and current[0] != stored.solution:
                log.info("orbit solution of %s is now %s (cached: %s): refetching",
                         stored.target, current[0], stored.solution)
                return None
            if current is not None:
                confirm_solution(self.catalog, stored.target, stored.solution, iso(self.now))
        return Ephemeris.from_json(stored.data, target=stored.target, observer=stored.observer,
                                   step=stored.step, solution=stored.solution, query=stored.query,
                                   fetched_at=stored.fetched_at)

    def _current_solution(self) -> tuple[str | None] | None:
        """Asked once per harvest; None when Horizons could not say (the cached ephemeris is
        then used as it is: an orbit refit moves the comet by arcseconds, not frames)."""
        if self._solution is None:
            try:
                self._solution = (horizons.current_solution(
                    self.http, self.settings.horizons_url, target=self.settings.target,
                    location=self.settings.observers.get("geocentric", "500"), when=self.now),)
            except HarvesterError as exc:
                log.warning("could not ask Horizons for the current orbit solution: %s", exc)
                return None
        return self._solution


def _mjd(text: str) -> float:
    from harvester.timeutil import datetime_to_mjd

    return datetime_to_mjd(parse_iso(text))
