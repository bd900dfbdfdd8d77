"""The outbox's states: which deliveries are due, how they group into units, and what a send
(or a failed one) writes back.

pending --sent--> sent
pending --failed, attempts < max_attempts--> pending, next_attempt_at = now + backoff
pending --failed permanently, or attempts reach max_attempts--> failed (shown by `status`)
failed --`harvester alerts retry`--> pending

Every state change is one short transaction, so a send pass never holds the catalog's write
lock while it talks to a mail server or a webhook.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from harvester.alerts.channels.base import Unit
from harvester.alerts.message import load_alerts
from harvester.alerts.subscriptions import Subscription
from harvester.redact import redact_text
from harvester.timeutil import iso, parse_iso


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def due_units(conn: sqlite3.Connection, *, now: str, channels: tuple[str, ...],
              only: str | None = None) -> list[Unit]:
    """The units to send now, oldest first, without their content (see fill_alerts). Digest
    deliveries get their batch fixed (and committed) first, so a digest re-sent after a crash
    is the same mail with the same id."""
    marks = ",".join("?" for _ in channels)
    params: list[Any] = [now, *channels]
    where_only = ""
    if only is not None:
        where_only = " AND s.name = ?"
        params.append(only)
    rows = conn.execute(
        "SELECT d.id AS delivery, d.batch AS batch, d.created_at AS created_at, "
        "d.subscription_id AS subscription_id FROM deliveries d "
        "JOIN subscriptions s ON s.id = d.subscription_id "
        f"WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND s.channel IN ({marks})"
        f"{where_only} ORDER BY d.id", params).fetchall()
    if not rows:
        return []
    subs = {r["id"]: Subscription.from_row(r) for r in conn.execute("SELECT * FROM subscriptions")}
    groups: dict[tuple[int, Any], list[int]] = defaultdict(list)
    unbatched: dict[tuple[int, str], list[int]] = defaultdict(list)
    for row in rows:
        sub_id, delivery = row["subscription_id"], row["delivery"]
        sub = subs[sub_id]
        if sub.channel == "atom":
            groups[(sub_id, "atom")].append(delivery)
        elif sub.mode == "each":
            groups[(sub_id, ("each", delivery))].append(delivery)
        elif row["batch"] is not None:
            groups[(sub_id, row["batch"])].append(delivery)
        else:
            period = row["created_at"][:10] if sub.mode == "day" else "run"
            unbatched[(sub_id, period)].append(delivery)
    if unbatched:
        with write(conn):
            for (sub_id, _), ids in unbatched.items():
                batch = min(ids)
                _update_many(conn, "UPDATE deliveries SET batch = ? WHERE id IN ({})", [batch], ids)
                groups[(sub_id, batch)].extend(ids)
    units = [Unit(subscription=subs[sub_id], alerts=[], batch=key if isinstance(key, int) else None,
                  ids=sorted(ids)) for (sub_id, key), ids in groups.items()]
    units.sort(key=lambda u: u.ids[0])
    return units


def fill_alerts(conn: sqlite3.Connection, units: list[Unit]) -> None:
    """Load the content of these units (a slice of a pass: a large outbox never sits in memory
    whole). Atom units load their own: a feed is built from more than what is due."""
    wanted = [i for u in units if u.subscription.channel != "atom" for i in u.ids]
    alerts = load_alerts(conn, wanted)
    for unit in units:
        if unit.subscription.channel != "atom":
            unit.alerts = [alerts[i] for i in unit.ids if i in alerts]


def _update_many(conn: sqlite3.Connection, sql: str, head: list[Any], ids: list[int]) -> None:
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        conn.execute(sql.format(",".join("?" for _ in chunk)), [*head, *chunk])


def mark_sent(conn: sqlite3.Connection, unit: Unit, *, now: str) -> None:
    with write(conn):
        _update_many(conn, "UPDATE deliveries SET status = 'sent', sent_at = ?, "
                     "last_attempt_at = ?, attempts = attempts + 1, error = NULL "
                     "WHERE id IN ({}) AND status = 'pending'", [now, now], unit.ids)


def backoff(attempts: int, *, initial: float, maximum: float) -> float:
    """Seconds before attempt number `attempts + 1`: doubling from `initial`, capped."""
    return min(initial * 2 ** max(attempts - 1, 0), maximum)


def mark_failed(conn: sqlite3.Connection, unit: Unit, *, now: str, error: str, permanent: bool,
                settings: Any) -> str:
    """Count the attempt; returns the units' new status ('pending' to retry, or 'failed')."""
    chunk = unit.ids[:500]  # a unit's deliveries share their attempts; a sample says how many
    attempts = 1 + (conn.execute(
        f"SELECT MAX(attempts) FROM deliveries WHERE id IN ({','.join('?' for _ in chunk)})",
        chunk).fetchone()[0] or 0)
    final = permanent or attempts >= settings.max_attempts
    delay = backoff(attempts, initial=settings.backoff_initial, maximum=settings.backoff_max)
    next_at = iso(parse_iso(now) + timedelta(seconds=delay))
    status = "failed" if final else "pending"
    with write(conn):
        _update_many(conn, "UPDATE deliveries SET status = ?, attempts = ?, last_attempt_at = ?, "
                     "next_attempt_at = ?, error = ? WHERE id IN ({}) AND status = 'pending'",
                     [status, attempts, now, next_at, error[:1000]], unit.ids)
    return status


def retry_failed(conn: sqlite3.Connection, *, now: str, only: str | None = None) -> int:
    """Failed deliveries back to pending, due now, with a fresh count of attempts."""
    sql = ("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, "
           "error = NULL WHERE status = 'failed'")
    params: list[Any] = [now]
    if only is not None:
        sql += " AND subscription_id = (SELECT id FROM subscriptions WHERE name = ?)"
        params.append(only)
    with write(conn):
        return conn.execute(sql, params).rowcount


def list_deliveries(conn: sqlite3.Connection, *, status: str | None = None,
                    only: str | None = None, limit: int = 50) -> tuple[list[str], list[tuple]]:
    columns = ["delivery", "subscription", "channel", "event_id", "kind", "product_key", "status",
               "attempts", "next_attempt_at", "sent_at", "error"]
    sql = ("SELECT d.id, s.name, s.channel, d.event_id, e.kind, e.product_key, d.status, "
           "d.attempts, d.next_attempt_at, d.sent_at, d.error FROM deliveries d "
           "JOIN subscriptions s ON s.id = d.subscription_id JOIN events e ON e.id = d.event_id "
           "WHERE 1 = 1")
    params: list[Any] = []
    if status:
        sql += " AND d.status = ?"
        params.append(status)
    if only:
        sql += " AND s.name = ?"
        params.append(only)
    sql += " ORDER BY d.id DESC LIMIT ?"
    params.append(limit)
    # An error may quote the webhook's URL (stored before errors were redacted): never shown whole.
    return columns, [(*tuple(r)[:-1], redact_text(r[-1])) for r in conn.execute(sql, params)]
