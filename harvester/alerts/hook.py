"""What alerts do after each harvest (the engine calls this under the catalog lock, after the
watch hook): match the run's events into the outbox and commit, refresh the all-events feed,
then send what is due by email, webhook and Atom.

stdout subscriptions are left for `harvester alerts send`: a harvest's stdout carries its own
summary lines, and JSON lines meant for a pipe must not be mixed into it.

Sending here holds the harvest lock, so it is bounded: one attempt per unit, timeouts on every
connection, a destination that fails is skipped for the rest of the pass, and no unit is started
after `send_budget` seconds (a large backlog, say after a --backfill, is left due for
`harvester alerts send`, which takes no harvest lock). With `send_after_run = false` a harvest
only matches. If another sender holds the outbox lock, this pass leaves the sending to it (or
to the next run).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from harvester.errors import HarvesterError

log = logging.getLogger("harvester.alerts")

HOOK_CHANNELS = ("email", "webhook", "atom")


def after_harvest(catalog: Any, config: Any, report: Any) -> None:
    """Called by the engine under the catalog lock after the watch hook."""
    from catalog.db import storage_error
    from harvester.alerts.channels.atom import write_events_feed
    from harvester.alerts.lock import OutboxLock
    from harvester.alerts.match import match_new_events, predicate_limits
    from harvester.alerts.sender import SendReport, send_due
    from harvester.alerts.settings import parse
    from harvester.crashpoints import crashpoint
    from harvester.links import Links
    from harvester.timeutil import iso, utcnow

    settings = getattr(config, "alerts", None) or parse({}, path="-")
    conn = catalog.conn
    stop = getattr(report, "stop", None)
    try:
        matched = match_new_events(conn, now=iso(utcnow()), limits=predicate_limits(settings),
                                   should_stop=(lambda: stop.requested) if stop is not None else None)
    except (sqlite3.Error, HarvesterError) as exc:
        if storage_error(exc, catalog.path) is not None:
            raise
        # The harvest is committed; the events wait for the next pass or `harvester alerts send`.
        log.warning("alerts: matching failed, will retry on the next pass: %s", exc)
        return
    report.alerts = SendReport(matched=matched)
    crashpoint("alerts_matched")
    if settings.all_events_feed:
        try:
            write_events_feed(conn, settings.all_events_feed, entries=settings.feed_entries)
        except (OSError, HarvesterError) as exc:
            log.warning("alerts: cannot write the all-events feed: %s", exc)
    if not settings.send_after_run:
        return
    if stop is not None and stop.requested:
        return  # sending waits for the next pass, which sends what is due
    lock = OutboxLock(catalog.path)
    if not lock.try_acquire():
        log.info("alerts: another sender holds the outbox; leaving the sending to it")
        report.alerts.lock_busy = True
        return
    try:
        sent = send_due(conn, settings, channels=HOOK_CHANNELS,
                        deadline=time.monotonic() + settings.send_budget,
                        links=Links.from_config(config))
    except (sqlite3.Error, HarvesterError) as exc:
        if storage_error(exc, catalog.path) is not None:
            raise
        log.warning("alerts: sending stopped, the rest waits for the next pass: %s", exc)
        return
    finally:
        lock.release()
    sent.matched = matched
    # The CLI may print it; a report without the attribute (older engine) is fine too.
    report.alerts = sent
    log.info("%s", sent.summary())
