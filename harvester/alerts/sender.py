"""A send pass: match what is new, then send every due unit once, each marked as soon as it went.

Order per unit: send, then mark sent (its own transaction). A crash between the two re-sends
that one unit on the next pass, with the same Message-ID / Idempotency-Key; a crash anywhere
else loses nothing and repeats nothing. One attempt per unit per pass: a failure is counted
and the unit waits out its backoff, so a pass never sleeps, and a destination that is down
(connection refused, timeout, 5xx) is skipped for the rest of the pass instead of being
hammered once per delivery.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from harvester.alerts.channels.base import DeliveryError
from harvester.alerts.channels.registry import Channels
from harvester.alerts.match import MatchReport, match_new_events, predicate_limits
from harvester.alerts.outbox import due_units, fill_alerts, mark_failed, mark_sent
from harvester.alerts.subscriptions import CHANNELS
from harvester.crashpoints import crashpoint
from harvester.timeutil import iso, utcnow

log = logging.getLogger("harvester.alerts")
CHUNK = 200  # units whose content is loaded at a time


@dataclass
class SendReport:
    matched: MatchReport | None = None
    units: int = 0
    sent: int = 0            # deliveries
    retrying: int = 0        # deliveries that failed and will be tried again
    failed: int = 0          # deliveries that failed for good this pass
    skipped: int = 0         # deliveries not tried: their destination was unreachable this pass
    deferred: int = 0        # deliveries not tried: the pass ran out of time (still due)
    errors: list[str] = field(default_factory=list)
    lock_busy: bool = False  # another sender held the outbox: nothing was sent by this pass

    def summary(self) -> str:
        """One line: what was matched, then what was sent; it starts with `alerts:` once."""
        parts = []
        if self.matched is not None:
            m = self.matched
            parts.append(f"{m.deliveries} matched" + (f" from {m.events} new events" if m.events else ""))
            if m.errors:
                parts.append(f"{len(m.errors)} subscription(s) not matching "
                             f"({', '.join(sorted(m.errors))}: see harvester status)")
        if self.lock_busy:
            parts.append("sending left to the sender holding the outbox")
            return "alerts: " + ", ".join(parts)
        parts.append(f"{self.sent} sent")
        if self.retrying:
            parts.append(f"{self.retrying} to retry")
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.skipped:
            parts.append(f"{self.skipped} left for later (destination unreachable)")
        if self.deferred:
            parts.append(f"{self.deferred} left for later (out of time: harvester alerts send)")
        return "alerts: " + ", ".join(parts)


def send_due(conn: sqlite3.Connection, settings: Any, *, channels: tuple[str, ...] = CHANNELS,
             only: str | None = None, out: TextIO | None = None,
             deadline: float | None = None, links: Any = None) -> SendReport:
    """Send what is due now (the caller holds the outbox lock). Past `deadline` (a
    time.monotonic() value) no unit after the first is started; the rest stays due. `links`
    (harvester.links.Links) turns archive URIs into web addresses in digests."""
    report = SendReport()
    units = due_units(conn, now=iso(utcnow()), channels=channels, only=only)
    senders = Channels(conn, settings, out=out, links=links)
    unreachable: set[tuple[str, str]] = set()
    try:
        for index, unit in enumerate(units):
            # The first unit always goes, so every pass makes progress however small the
            # budget (and however slow the machine is to get this far).
            if index and deadline is not None and time.monotonic() > deadline:
                report.deferred += sum(len(u.ids) for u in units[index:])
                break
            if index % CHUNK == 0:
                fill_alerts(conn, units[index:index + CHUNK])
            channel = senders.get(unit.subscription.channel)
            where = (unit.subscription.channel, channel.destination(unit))
            if where in unreachable:
                report.skipped += len(unit.ids)
                continue
            report.units += 1
            crashpoint("alert_send")
            try:
                channel.send(unit)
            except DeliveryError as exc:
                _record_failure(conn, unit, exc, settings, report)
                if exc.unreachable:
                    unreachable.add(where)
                continue
            crashpoint("alert_sent")
            mark_sent(conn, unit, now=iso(utcnow()))
            report.sent += len(unit.ids)
            unit.alerts = []  # sent: let it go
    finally:
        senders.close()
    return report


def _record_failure(conn: sqlite3.Connection, unit: Any, exc: DeliveryError, settings: Any,
                    report: SendReport) -> None:
    status = mark_failed(conn, unit, now=iso(utcnow()), error=str(exc),
                         permanent=exc.permanent, settings=settings)
    if status == "failed":
        report.failed += len(unit.ids)
    else:
        report.retrying += len(unit.ids)
    message = f"{unit.subscription.name}: {exc}"
    report.errors.append(message)
    log.warning("alert delivery failed (%s): %s", status, message)


def match_and_send(conn: sqlite3.Connection, settings: Any, *, channels: tuple[str, ...] = CHANNELS,
                   only: str | None = None, out: TextIO | None = None, links: Any = None) -> SendReport:
    matched = match_new_events(conn, now=iso(utcnow()), limits=predicate_limits(settings))
    crashpoint("alerts_matched")
    report = send_due(conn, settings, channels=channels, only=only, out=out, links=links)
    report.matched = matched
    return report
