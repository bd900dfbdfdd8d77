"""Each source's publication history: how many products first appeared in public on each day.

Kept in `watch_arrivals` rather than read from `products`, so judging silence never scans a
million products and storing products needs no extra index: every run adds the products of the
`new` events appended since the last run (the last event id absorbed is in `watch_progress`).
A product counts on the day of its archive's own public date where the archive states one
(so a late backfill does not make the archive look busy today), else the day we first saw it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from catalog.migrations.m003_watch import ARRIVAL_EXPR
from harvester.timeutil import parse_iso


def absorb_new_products(conn: sqlite3.Connection) -> int:
    """Count the products of the `new` events not yet absorbed; returns how many."""
    last = conn.execute("SELECT value FROM watch_progress WHERE name = 'events'").fetchone()
    last_id = last[0] if last else 0
    newest = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
    if newest <= last_id:
        return 0
    added = conn.execute(
        f"INSERT INTO watch_arrivals (source, day, products) "
        f"SELECT p.source, substr({ARRIVAL_EXPR}, 1, 10), count(*) FROM events e "
        f"JOIN products p ON p.product_key = e.product_key "
        f"WHERE e.id > ? AND e.id <= ? AND e.kind = 'new' GROUP BY 1, 2 "
        f"ON CONFLICT (source, day) DO UPDATE SET products = products + excluded.products",
        (last_id, newest)).rowcount
    conn.execute("INSERT INTO watch_progress (name, value) VALUES ('events', ?) "
                 "ON CONFLICT (name) DO UPDATE SET value = excluded.value", (newest,))
    return added


def arrival_days(conn: sqlite3.Connection, source: str, until: datetime,
                 limit: int) -> list[datetime] | None:
    """The latest days (newest first, at most `limit`) on which the source's products appeared;
    None for a catalog from before the watch (opened read-only, so not yet migrated)."""
    try:
        rows = conn.execute("SELECT day FROM watch_arrivals WHERE source = ? AND day <= ? "
                            "ORDER BY day DESC LIMIT ?",
                            (source, until.date().isoformat(), limit)).fetchall()
    except sqlite3.OperationalError:
        return None
    return [parse_iso(row[0]) for row in rows]
