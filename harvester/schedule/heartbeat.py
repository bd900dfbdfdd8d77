"""The scheduler's heartbeat: one row per `harvester schedule` process in `scheduler_heartbeats`.

Each beat is one UPDATE in autocommit mode: it never waits for, nor holds up, a harvest for
longer than SQLite's own write lock on that single statement."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any

from harvester.timeutil import parse_iso

# A scheduler that missed this many beats is taken for dead (killed, machine down).
STALE_AFTER_BEATS = 3


def start_heartbeat(conn: sqlite3.Connection, *, host: str, pid: int, now: str,
                    interval_s: float) -> int:
    cursor = conn.execute(
        "INSERT INTO scheduler_heartbeats (host, pid, started_at, beat_at, interval_s, state) "
        "VALUES (?, ?, ?, ?, ?, 'starting')",
        (host, pid, now, now, interval_s),
    )
    return int(cursor.lastrowid)


def beat(conn: sqlite3.Connection, heartbeat_id: int, *, now: str, state: str,
         sources: list[str] | None = None, next_due_at: str | None = None,
         next_sources: list[str] | None = None, error: str | None = None) -> None:
    conn.execute(
        "UPDATE scheduler_heartbeats SET beat_at = ?, state = ?, sources = ?, next_due_at = ?, "
        "next_sources = ?, last_error = ?, stopped_at = CASE WHEN ? = 'stopped' THEN ? END "
        "WHERE id = ?",
        (now, state, _list(sources), next_due_at, _list(next_sources), error, state, now,
         heartbeat_id),
    )


def _list(names: list[str] | None) -> str | None:
    return json.dumps(names) if names else None


def latest_heartbeat(conn: sqlite3.Connection, now: datetime) -> dict[str, Any] | None:
    """The most recent scheduler's last beat, with `stale` set when it stopped beating without
    saying goodbye. None when no scheduler ever ran on this catalog (or the table predates it)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'scheduler_heartbeats'"
    ).fetchone()
    if not exists:
        return None
    row = conn.execute(
        "SELECT * FROM scheduler_heartbeats ORDER BY beat_at DESC, id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    info = {key: row[key] for key in row.keys()}
    for key in ("sources", "next_sources"):
        info[key] = json.loads(info[key]) if info[key] else []
    silence = now - parse_iso(info["beat_at"])
    info["seconds_since_beat"] = max(0, int(silence.total_seconds()))
    limit = timedelta(seconds=STALE_AFTER_BEATS * info["interval_s"])
    info["stale"] = info["state"] != "stopped" and silence > limit
    return info


def describe_heartbeat(info: dict[str, Any] | None) -> str:
    """One line for `harvester status`."""
    if info is None:
        return "scheduler: none has run on this catalog (harvester schedule, or cron with run --due)"
    who = f"pid {info['pid']} on {info['host']}"
    beat_line = f"last heartbeat {info['beat_at']} ({_ago(info['seconds_since_beat'])})"
    if info["state"] == "stopped":
        return f"scheduler: stopped at {info['stopped_at'] or info['beat_at']} ({who})"
    if info["stale"]:
        return (f"scheduler: STALE, {beat_line}, was {info['state']} ({who}); "
                f"not running or hung")
    parts = [f"scheduler: {info['state'].replace('_', ' ')}"]
    if info["state"] == "harvesting" and info["sources"]:
        parts[0] += f" {', '.join(info['sources'])}"
    parts.append(beat_line)
    if info["next_due_at"]:
        parts.append(f"next {', '.join(info['next_sources'])} at {info['next_due_at']}")
    if info["last_error"]:
        parts.append(f"last error: {info['last_error']}")
    return ", ".join(parts) + f" ({who})"


def _ago(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"
