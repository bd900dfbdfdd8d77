"""When each source is due, and `harvester schedule`: the foreground loop that harvests them.

A source's cadence is a cron expression in UTC (its config block's `cadence`, else its kind's
default below). It is due when the cadence has ticked since its last attempted run (ok or
failed; an interrupted run does not count, so a stopped harvest is taken up again at once). A
failing archive is therefore retried at its next tick, not hammered. `run --due` and the loop
share this rule, so one frequent cron line and the scheduler harvest the same sources.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from harvester.config import Config
from harvester.settings import SourceSettings
from harvester.shutdown import GracefulStop, HarvestStopped
from harvester.timeutil import iso, parse_iso, utcnow

log = logging.getLogger("harvester.schedule")

# Per kind, how often its archive changes enough to be worth asking. Minutes are staggered so
# that a scheduler does not ask every archive in the same minute.
CADENCE_DEFAULTS = {
    "mpc": "15 * * * *",      # hourly: astrometry arrives all day, from every observer
    "mast": "5 */3 * * *",    # every 3 hours: JWST/HST/TESS/Swift products land in batches
    "pds": "35 */6 * * *",    # every 6 hours: PDS archives in deliveries, days or weeks apart
    "psa": "50 */6 * * *",    # every 6 hours: ESA PSA ingests likewise
    "cnsa": "20 3 * * *",     # daily: the CNSA/GRAS catalogue changes rarely
    "obscore": "40 4 * * *",  # daily: ground-based archives (ESO, IRSA, CADC ...) over TAP
}
FALLBACK_CADENCE = "0 */6 * * *"
# Attempts that count for the cadence; 'interrupted' (stopped or killed) and 'running' do not.
_COUNTED = ("ok", "failed")


def cadence_of(settings: SourceSettings) -> str:
    return settings.cadence or CADENCE_DEFAULTS.get(settings.kind, FALLBACK_CADENCE)


def next_tick(cadence: str, after: datetime) -> datetime:
    from croniter import croniter

    return croniter(cadence, after).get_next(datetime)


def last_attempts(conn: sqlite3.Connection | None) -> dict[str, datetime]:
    """Per source, when its last counted run started (none for a source never run)."""
    if conn is None:
        return {}
    marks = ", ".join("?" for _ in _COUNTED)
    rows = conn.execute(
        f"SELECT source, MAX(started_at) FROM runs WHERE status IN ({marks}) GROUP BY source",
        _COUNTED,
    ).fetchall()
    return {source: parse_iso(started) for source, started in rows}


@dataclass
class Due:
    source: str
    cadence: str
    at: datetime  # when it is (or was) due; a source never run is due at `now`


def due_times(config: Config, conn: sqlite3.Connection | None, now: datetime,
              names: list[str] | None = None) -> list[Due]:
    """When each enabled source (or each of `names`) is next due, earliest first."""
    attempts = last_attempts(conn)
    result = []
    for name in names or config.enabled_sources():
        cadence = cadence_of(config.sources[name])
        last = attempts.get(name)
        try:
            at = next_tick(cadence, last) if last else now
        except (ValueError, KeyError) as exc:
            # The config check refuses cadences that never fire; should one get through, that
            # source is never due and the others are scheduled as usual.
            log.warning("source %s: cadence %r gives no next time (%s); not scheduled", name,
                        cadence, exc)
            continue
        result.append(Due(name, cadence, at))
    return sorted(result, key=lambda d: (d.at, d.source))


def due_now(config: Config, conn: sqlite3.Connection | None, now: datetime,
            names: list[str] | None = None) -> tuple[list[str], list[Due]]:
    """(the sources due at `now`, when the others are due)."""
    times = due_times(config, conn, now, names)
    return [d.source for d in times if d.at <= now], [d for d in times if d.at > now]


def open_for_due(path: str) -> sqlite3.Connection | None:
    """A read-only look at the runs; None when there is no catalog yet (everything is due)."""
    from catalog.db import open_readonly

    if not Path(path).exists():
        return None
    return open_readonly(path)


def sources_due(config: Config, names: list[str] | None, now: datetime
                ) -> tuple[list[str], list[Due]]:
    """`run --due`: which sources are due now, and when the rest are."""
    from harvester.engine import select_sources

    names = select_sources(config, names)
    conn = open_for_due(config.catalog.path)
    try:
        return due_now(config, conn, now, names)
    finally:
        if conn is not None:
            conn.close()


def add_due_times(rows: list[dict[str, Any]], config: Config, conn: sqlite3.Connection,
                  now: datetime) -> None:
    """For `harvester status`: each configured source's cadence and when it is next due."""
    due = {d.source: d for d in due_times(config, conn, now)}
    for row in rows:
        settings = config.sources.get(row["source"])
        if settings is None:
            continue
        row["cadence"] = cadence_of(settings)
        if row["source"] not in due:
            row["next_due"] = "disabled" if not settings.enabled else "never (bad cadence)"
        else:
            at = due[row["source"]].at
            row["next_due"] = "now" if at <= now else iso(at)


@dataclass
class Retry:
    """The due sources could not be harvested: try them again `at`; meanwhile beat `state`."""

    at: datetime
    state: str
    error: str
    sources: list[str]


def describe_upcoming(upcoming: list[Due]) -> str:
    if not upcoming:
        return "no source is enabled"
    first = upcoming[0].at
    names = [d.source for d in upcoming if d.at == first]
    return f"next: {', '.join(names)} at {iso(first)}"


class Scheduler:
    """The foreground loop: harvest what is due, beat, sleep until the next due time (plus
    jitter), until a stop is requested. The clock, the sleep and the random draw are injectable
    so tests can travel in time."""

    def __init__(self, config: Config, stop: GracefulStop, *,
                 clock: Callable[[], datetime] = utcnow,
                 sleep: Callable[[float], Any] | None = None,
                 rng: random.Random | None = None,
                 once: bool = False) -> None:
        self.config = config
        self.settings = config.schedule
        self.stop = stop
        self.clock = clock
        self.sleep = sleep or stop.wait
        self.rng = rng or random.Random()
        self.once = once
        self.catalog: Any = None
        self.heartbeat_id: int | None = None
        self._last_beat = 0.0
        self._current: list[str] | None = None
        self._jitter: dict[tuple[str, datetime], float] = {}

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        from harvester.errors import CatalogDamagedError

        if not self._open_catalog():
            return
        damaged = False
        try:
            self._beat("starting")
            log.info("scheduler started (pid %d): %s", os.getpid(), self._plan_line())
            while not self.stop.requested:
                retry = self.harvest_due()
                if self.once or self.stop.requested:
                    break
                self.idle(retry)
        except CatalogDamagedError:
            damaged = True  # not even a last heartbeat: nothing more is written to it
            raise
        finally:
            try:
                if not damaged:
                    self._beat("stopped")
                    log.info("scheduler stopped%s",
                             f" by {self.stop.reason}" if self.stop.requested else "")
            finally:
                self.catalog.close()

    def harvest_due(self) -> Retry | None:
        """Harvest every due source; a Retry when they could not be (the catalog was busy)."""
        from harvester.engine import harvest
        from harvester.errors import CatalogDamagedError, HarvesterError, LockBusyError

        now = self.clock()
        due, _ = due_now(self.config, self.catalog.conn, now)
        if not due:
            return None
        log.info("harvesting %s", ", ".join(due))
        self._beat("harvesting", sources=due)
        try:
            harvest(self.config, only=due, progress=self._progress, stop=self.stop)
        except LockBusyError as exc:
            retry = Retry(now + timedelta(seconds=self.settings.retry_delay), "waiting_for_lock",
                          str(exc), due)
            log.warning("%s; trying again at %s", exc, iso(retry.at))
            return retry
        except HarvestStopped:
            return None
        except CatalogDamagedError:
            raise  # a service must not retry into a damaged file: it stops, with the way out
        except Exception as exc:
            # A service outlives a bad moment (disk full, a catalog error, a bug in an
            # after-harvest hook): log it (a bug with its traceback) and try again later, as the
            # next cron tick would. A damaged catalog is not a moment: see above.
            retry = Retry(now + timedelta(seconds=self.settings.retry_delay), "idle",
                          str(exc) if isinstance(exc, HarvesterError)
                          else f"{type(exc).__name__}: {exc}", due)
            log.error("harvest failed: %s; trying again at %s", retry.error, iso(retry.at),
                      exc_info=not isinstance(exc, HarvesterError))
            return retry
        return None

    def idle(self, retry: Retry | None) -> None:
        """Sleep until the next due time (or until the retry, when the sources that are due
        already could not be harvested), beating every heartbeat_interval."""
        while not self.stop.requested:
            now = self.clock()
            if retry is not None:
                wake, names, state, error = retry.at, retry.sources, retry.state, retry.error
            else:
                (wake, names), state, error = self.next_wake(now), "idle", None
            if wake <= now:
                return
            self._beat(state, next_at=wake, next_sources=names, error=error)
            self.sleep(min((wake - now).total_seconds(), self.settings.heartbeat_interval))

    def next_wake(self, now: datetime) -> tuple[datetime, list[str]]:
        """The earliest due time plus its jitter, and the sources due then."""
        times = due_times(self.config, self.catalog.conn, now)
        if not times:
            return now + timedelta(seconds=self.settings.heartbeat_interval), []
        first = times[0].at
        names = [d.source for d in times if d.at == first]
        return first + timedelta(seconds=self._jitter_for(names[0], first)), names

    def _jitter_for(self, source: str, due_at: datetime) -> float:
        # One draw per due time, kept across heartbeats, so the wake-up does not move around.
        key = (source, due_at)
        if key not in self._jitter:
            self._jitter = {k: v for k, v in self._jitter.items() if k[1] >= due_at}
            self._jitter[key] = self.rng.uniform(0, self.settings.jitter)
        return self._jitter[key]

    # -- catalog and heartbeat ---------------------------------------------------------------

    def _open_catalog(self) -> bool:
        """Open (and migrate) the catalog under the harvest lock, so a migration never races a
        cron run's; wait for the lock as long as it takes, or until stopped."""
        from catalog import Catalog
        from harvester.errors import LockBusyError
        from harvester.lock import CatalogLock

        path = self.config.catalog.path
        while not self.stop.requested:
            try:
                with CatalogLock(path, wait=self.config.catalog.lock_wait):
                    self.catalog = Catalog.open(path)
                return True
            except LockBusyError as exc:
                log.warning("%s; trying again in %.0f s", exc, self.settings.retry_delay)
                self.sleep(self.settings.retry_delay)
        return False

    def _beat(self, state: str, *, sources: list[str] | None = None, error: str | None = None,
              next_at: datetime | None = None, next_sources: list[str] | None = None) -> None:
        from harvester.schedule.heartbeat import beat, start_heartbeat

        now = iso(self.clock())
        conn = self.catalog.conn
        if self.heartbeat_id is None:
            self.heartbeat_id = start_heartbeat(conn, host=socket.gethostname(), pid=os.getpid(),
                                                now=now, interval_s=self.settings.heartbeat_interval)
        beat(conn, self.heartbeat_id, now=now, state=state, sources=sources,
             next_due_at=iso(next_at) if next_at else None, next_sources=next_sources,
             error=error)
        self._last_beat = time.monotonic()
        self._current = sources

    def _progress(self, source: str, pages: int, records: int) -> None:
        # Called after each stored page: a long harvest still beats, at most once an interval.
        if time.monotonic() - self._last_beat >= self.settings.heartbeat_interval:
            self._beat("harvesting", sources=self._current)

    def _plan_line(self) -> str:
        times = due_times(self.config, self.catalog.conn, self.clock())
        return "; ".join(f"{d.source} '{d.cadence}' due {iso(d.at)}" for d in times) or "no source"
