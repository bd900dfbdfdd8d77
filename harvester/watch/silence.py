"""Per source: are our harvests failing, and has the archive stopped publishing?

Two different questions, kept apart:

- `failing`: our harvests of the source error (the last `failing_after` finished runs failed).
  The catalog then cannot know whether the archive published, so a failing source is never
  judged silent.
- `silent`: the archive normally publishes new products every so often, and nothing new has
  appeared for far longer. The usual interval is the median gap between the distinct days on
  which the source's products first appeared in public (the archive's own public date where it
  states one, else our first sight), over the last `silence_history` such days. Silent when the
  time from the last appearance to the last successful harvest exceeds
  max(`silence_factor` x usual interval, `silence_floor_days`). Fewer than `silence_min_gaps`
  gaps: still `learning`.
"""

from __future__ import annotations

import sqlite3
import statistics
from dataclasses import dataclass
from datetime import datetime

from harvester.timeutil import iso, parse_iso
from harvester.watch.arrivals import arrival_days
from harvester.watch.settings import Settings
from harvester.watch.status import days_between

HEALTH = ("ok", "failing", "never_run")
SILENCE = ("publishing", "silent", "learning", "unknown")


@dataclass
class SourceWatch:
    source: str
    archive: str
    health: str
    silence: str
    reason: str
    consecutive_failures: int = 0
    last_error: str | None = None
    last_run_id: int | None = None
    last_success: datetime | None = None
    last_arrival: datetime | None = None
    usual_interval_days: float | None = None
    since_days: float | None = None
    threshold_days: float | None = None
    history_days: int = 0


def watch_source(conn: sqlite3.Connection, source: str, archive: str, settings: Settings,
                 now: datetime) -> SourceWatch:
    runs = conn.execute(
        "SELECT id, status, error, started_at FROM runs WHERE source = ? AND started_at <= ? "
        "AND status IN ('ok', 'failed') ORDER BY id DESC LIMIT 200", (source, iso(now))).fetchall()
    if not runs:
        return SourceWatch(source, archive, "never_run", "unknown", "no finished harvest yet")
    failures = next((i for i, run in enumerate(runs) if run[1] == "ok"), len(runs))
    success = next((run for run in runs if run[1] == "ok"), None)
    watch = SourceWatch(source, archive, "ok", "unknown", "", consecutive_failures=failures,
                        last_run_id=runs[0][0],
                        last_error=runs[0][2] if failures else None,
                        last_success=parse_iso(success[3]) if success else None)
    if failures >= settings.failing_after:
        watch.health = "failing"
        watch.reason = f"last {failures} harvest(s) failed: {watch.last_error}"
        return watch
    if success is None:
        watch.reason = f"no successful harvest yet ({failures} failed)"
        return watch
    _judge_silence(conn, watch, settings)
    return watch


def _judge_silence(conn: sqlite3.Connection, watch: SourceWatch, settings: Settings) -> None:
    assert watch.last_success is not None
    days = arrival_days(conn, watch.source, watch.last_success, settings.silence_history + 1)
    if days is None:
        watch.reason = "the catalog predates the watch: the next `harvester run` adds its history"
        return
    watch.history_days = len(days)
    if not days:
        watch.silence, watch.reason = "unknown", "no products yet"
        return
    watch.last_arrival = days[0]
    watch.since_days = days_between(days[0], watch.last_success)
    dates = [d.date() for d in days]
    gaps = [(newer - older).days for newer, older in zip(dates, dates[1:], strict=False)]
    if len(gaps) < settings.silence_min_gaps:
        watch.silence = "learning"
        watch.reason = (f"{len(gaps)} gap(s) between publication days so far; "
                        f"{settings.silence_min_gaps} needed to learn the usual interval")
        return
    watch.usual_interval_days = float(statistics.median(gaps))
    watch.threshold_days = max(settings.silence_factor * watch.usual_interval_days,
                               settings.silence_floor_days)
    quiet = watch.since_days > watch.threshold_days
    watch.silence = "silent" if quiet else "publishing"
    watch.reason = (f"nothing new for {watch.since_days:g} days (usually every "
                    f"{watch.usual_interval_days:g} days; silent beyond {watch.threshold_days:g})")
