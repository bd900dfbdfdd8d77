"""Which archives the catalog actually watches.

An archive is watched when an enabled source of the config harvests it AND that source has
completed at least one harvest. Without both, the catalog holds no evidence either way, so an
observation expected there is `not_watched`, never `overdue`. Any completed harvest counts,
even one after an as-of date: a harvest reads the archive's past too, and the archive's own
dates say what was public when.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from harvester.watch.campaign import OTHER, Expected


@dataclass
class Coverage:
    archive: str
    watched: bool
    reason: str
    sources: list[str] = field(default_factory=list)
    short: str = ""  # a few words for the chart


def source_archive(name: str, settings: Any) -> str:
    """The archive a source fills: its own `archive` key (ObsCore blocks), else its adapter's
    archive, else the source's name (an ObsCore source's archive is its name)."""
    own = getattr(settings, "archive", None)
    if isinstance(own, str) and own:
        return own
    try:
        from harvester.sources import source_class

        archive = getattr(source_class(settings.kind or name), "archive", None)
    except KeyError:
        archive = None
    return archive if isinstance(archive, str) and archive else name


def enabled_sources_by_archive(config: Any) -> dict[str, list[str]]:
    archives: dict[str, list[str]] = {}
    for name, settings in (getattr(config, "sources", None) or {}).items():
        if settings.enabled:
            archives.setdefault(source_archive(name, settings), []).append(name)
    return archives


def archive_coverage(conn: sqlite3.Connection, config: Any) -> dict[str, Coverage]:
    """Coverage of every archive that has an enabled source."""
    coverage: dict[str, Coverage] = {}
    for archive, sources in enabled_sources_by_archive(config).items():
        harvested = [s for s in sources if conn.execute(
            "SELECT 1 FROM runs WHERE source = ? AND status = 'ok' LIMIT 1", (s,)).fetchone()]
        if harvested:
            coverage[archive] = Coverage(archive, True, f"harvested by {', '.join(harvested)}",
                                         harvested)
        else:
            coverage[archive] = Coverage(
                archive, False, f"source {', '.join(sources)} has not completed a harvest yet",
                sources, short=f"{archive} not harvested yet")
    return coverage


def expected_coverage(expected: Expected, coverage: dict[str, Coverage]) -> Coverage:
    """Is any of the observation's archives watched? If not, say why in words."""
    if not expected.watch:
        return Coverage(expected.archive, False, expected.watch_note or "watch = false in the campaign",
                        short="not findable by name")
    reasons, shorts = [], []
    for archive in expected.archives:
        known = coverage.get(archive)
        if known and known.watched:
            return known
        if known:
            reasons.append(known.reason)
            shorts.append(known.short)
        elif archive == OTHER:
            note = f" ({expected.archive_note})" if expected.archive_note else ""
            reasons.append(f"its archive{note} is not one this tool harvests")
            shorts.append("archive not harvested")
        else:
            reasons.append(f"no enabled source harvests archive '{archive}'")
            shorts.append(f"no {archive} source")
    return Coverage(expected.archive, False, "; ".join(reasons), short=", ".join(shorts))
