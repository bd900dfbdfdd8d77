"""Per-source status: the last run, its result, the cursor, counts and the last new product."""

from __future__ import annotations

import json
import sqlite3
from typing import Any


def source_status(conn: sqlite3.Connection, configured: list[str] | None = None
                  ) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for name in configured or []:
        rows[name] = {"source": name, "archive": None, "last_run": None, "status": "never run"}
    state = conn.execute("SELECT * FROM source_state ORDER BY source").fetchall()
    for st in state:
        rows.setdefault(st["source"], {"source": st["source"]})
        row = rows[st["source"]]
        row["archive"] = st["archive"]
        row["cursor"] = json.loads(st["cursor"]) if st["cursor"] else None
        row["last_success"] = st["last_success_at"]
        row["consecutive_failures"] = st["consecutive_failures"]
        row["last_new_at"] = st["last_new_at"]
    counts_of = _kept_counts(conn)
    for name, row in rows.items():
        run = conn.execute(
            "SELECT * FROM runs WHERE source = ? ORDER BY id DESC LIMIT 1", (name,)
        ).fetchone()
        if run is not None:
            row.update(
                last_run=run["started_at"], status=run["status"], error=run["error"],
                run_pages=run["pages"], run_records=run["records"], run_new=run["new"],
                run_updated=run["updated"], run_released=run["released"],
                run_rejected=run["rejected"], run_requests=run["requests"],
            )
        if counts_of is None:
            counts = _count_products(conn, name)
        else:
            counts = counts_of.get(name, (0, 0))
        row["products"], row["exclusive"] = counts
        newest = conn.execute(
            "SELECT product_key, first_seen FROM products WHERE source = ? "
            "ORDER BY first_seen DESC, product_key DESC LIMIT 1", (name,)
        ).fetchone()
        row["last_new_product"] = newest["product_key"] if newest else None
        row["last_new_product_seen"] = newest["first_seen"] if newest else None
        row["rejects"] = conn.execute(
            "SELECT COUNT(*) FROM rejects WHERE source = ?", (name,)
        ).fetchone()[0]
    return list(rows.values())


def _kept_counts(conn: sqlite3.Connection) -> dict[str, tuple[int, int]] | None:
    """Each source's (products, exclusive) as the catalog's triggers keep them (migration 10),
    or None where they cannot be trusted: a catalog from before them, or a backfill under
    way that has set its triggers aside (catalog.bulk); then the products are counted."""
    tables = {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE name IN ('source_counts', 'deferred_schema')")}
    if tables != {"source_counts", "deferred_schema"}:
        return None
    if conn.execute("SELECT 1 FROM deferred_schema LIMIT 1").fetchone():
        return None
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT source, products, exclusive FROM source_counts")}


def _count_products(conn: sqlite3.Connection, source: str) -> tuple[int, int]:
    counts = conn.execute(
        "SELECT COUNT(*) AS n, SUM(access = 'exclusive') AS exclusive FROM products "
        "WHERE source = ?", (source,)
    ).fetchone()
    return counts["n"], counts["exclusive"] or 0
