"""Watch events, once per change of state.

Each subject (an expected observation, a source's health, a source's silence) has its last
state in `watch_state`. An event is appended only when a subject enters or leaves its alarm
state, so a rerun that finds the same states appends nothing:

    subject              alarm state   entering          leaving
    expected:<id>        overdue       overdue           overdue_cleared
    health:<source>      failing       source_failing    source_recovered
    silence:<source>     silent        silent            silent_cleared

A subject seen for the first time in its alarm state emits the entering event; in any other
state it is recorded quietly. While a source is failing its silence is not judged, so its
silence state is left as it was (a failing source is never reported silent, and failing
never clears a silence either).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from harvester.timeutil import iso
from harvester.watch.evaluate import WatchReport

ALARMS = {
    "expected": ("overdue", "overdue", "overdue_cleared"),
    "health": ("failing", "source_failing", "source_recovered"),
    "silence": ("silent", "silent", "silent_cleared"),
}
EVENT_KINDS = tuple(kind for _, entering, leaving in ALARMS.values() for kind in (entering, leaving))


@dataclass
class Observation:
    """A subject's state now, and what an event about it would carry."""

    subject: str
    state: str
    detail: dict[str, Any]
    source: str | None = None
    run_id: int | None = None
    expected_id: str | None = None


def observations(report: WatchReport) -> list[Observation]:
    found = []
    for status in report.statuses:
        e = status.expected
        found.append(Observation(f"expected:{e.id}", status.status, {
            "expected_id": e.id, "status": status.status, "platform": e.platform,
            "archive": e.archive, "what": e.label(), "due_date": _moment(status.due_date),
            "due_basis": status.due_basis, "overdue_days": status.overdue_days,
            "reason": status.reason, "evidence": status.evidence[:20]}, expected_id=e.id))
    for source in report.sources:
        common = {"archive": source.archive, "reason": source.reason}
        if source.health != "never_run":
            found.append(Observation(f"health:{source.source}", source.health, {
                **common, "consecutive_failures": source.consecutive_failures,
                "error": source.last_error}, source=source.source, run_id=source.last_run_id))
        if source.health == "ok" and source.silence in ("publishing", "silent", "learning"):
            found.append(Observation(f"silence:{source.source}", source.silence, {
                **common, "last_new_product": _moment(source.last_arrival),
                "since_days": source.since_days, "usual_interval_days": source.usual_interval_days,
                "threshold_days": source.threshold_days}, source=source.source,
                run_id=source.last_run_id))
    return found


def record_states(conn: sqlite3.Connection, report: WatchReport, now: datetime) -> list[int]:
    """Update `watch_state` and append the events of the changes; returns the new event ids."""
    stamp = iso(now)
    previous = {row[0]: (row[1], row[2]) for row in conn.execute(
        "SELECT subject, state, since FROM watch_state")}
    event_ids = []
    for obs in observations(report):
        alarm, entering, leaving = ALARMS[obs.subject.split(":", 1)[0]]
        old = previous.get(obs.subject)
        if old is not None and old[0] == obs.state:
            continue
        kind = None
        if obs.state == alarm:
            kind = entering
        elif old is not None and old[0] == alarm:
            kind = leaving
            obs.detail[f"{alarm}_since"] = old[1]
        conn.execute(
            "INSERT INTO watch_state (subject, state, since, detail) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (subject) DO UPDATE SET state = excluded.state, since = excluded.since, "
            "detail = excluded.detail", (obs.subject, obs.state, stamp, _json(obs.detail)))
        if kind:
            cursor = conn.execute(
                "INSERT INTO events (time, kind, product_key, source, run_id, detail, expected_id) "
                "VALUES (?, ?, NULL, ?, ?, ?, ?)",
                (stamp, kind, obs.source, obs.run_id, _json(obs.detail), obs.expected_id))
            event_ids.append(cursor.lastrowid)
    return event_ids


def forget_removed(conn: sqlite3.Connection, report: WatchReport) -> None:
    """An observation taken out of the campaign leaves no state behind (and emits nothing)."""
    ids = {f"expected:{s.expected.id}" for s in report.statuses}
    stale = [row[0] for row in conn.execute(
        "SELECT subject FROM watch_state WHERE subject LIKE 'expected:%'") if row[0] not in ids]
    conn.executemany("DELETE FROM watch_state WHERE subject = ?", [(s,) for s in stale])


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _moment(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None
