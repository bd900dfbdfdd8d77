"""Which expected observations a footprint search covers: frames that never name the target
(TESS full-frame images, SPHEREx survey frames ...) are found only by the target's ephemeris, so
an observation the campaign marks `watch = false` ("a search by name cannot find them") is
watched once an enabled footprint source has completed a harvest of its archive, for its
mission, over its dates.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any

from harvester.timeutil import parse_iso, utcnow
from harvester.watch.campaign import Expected
from harvester.watch.coverage import Coverage, source_archive
from harvester.watch.matching import names_any

FOOTPRINT_KINDS = ("mast-position", "obscore-position", "catch")


@dataclass
class FootprintCover:
    source: str
    archive: str
    collections: list[str]
    observer: str
    start: date | None
    end: date | None      # None: up to now

    def describe(self) -> str:
        what = ", ".join(self.collections) or "every collection"
        end = self.end.isoformat() if self.end else "now"
        since = self.start.isoformat() if self.start else "the start"
        return (f"searched by the ephemeris footprint source {self.source} ({what}, observer "
                f"{self.observer}, {since}..{end})")


def footprint_covers(conn: sqlite3.Connection, config: Any) -> list[FootprintCover]:
    """The enabled footprint sources that have completed a harvest."""
    covers = []
    for name, settings in (getattr(config, "sources", None) or {}).items():
        if not settings.enabled or settings.kind not in FOOTPRINT_KINDS:
            continue
        if not conn.execute("SELECT 1 FROM runs WHERE source = ? AND status = 'ok' LIMIT 1",
                            (name,)).fetchone():
            continue
        collections = list(getattr(settings, "collections", None) or [])
        covers.append(FootprintCover(
            source=name, archive=source_archive(name, settings), collections=collections,
            observer=str(getattr(settings, "observer", "") or "survey sites"),
            start=_day(getattr(settings, "search_start", "")),
            end=_day(getattr(settings, "search_end", ""))))
    return covers


def footprint_coverage(expected: Expected, covers: list[FootprintCover]) -> Coverage | None:
    """The first footprint source that covers this observation, as a watched Coverage."""
    for cover in covers:
        if cover.archive not in expected.archives:
            continue
        if cover.collections and expected.missions and not any(
                names_any(expected.missions, c) for c in cover.collections):
            continue
        if expected.obs_start and expected.obs_end:
            end = cover.end or utcnow().date()
            if (cover.start and expected.obs_end < cover.start) or expected.obs_start > end:
                continue
        return Coverage(cover.archive, True, cover.describe(), [cover.source])
    return None


def _day(text: str) -> date | None:
    return parse_iso(text).date() if text else None
