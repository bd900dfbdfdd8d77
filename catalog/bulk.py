"""A backfill into an empty catalog, at the speed of SQLite.

Every secondary index of `products` and `events`, and the triggers that keep the search index
and the per-source counts, cost a b-tree write per row; for a first harvest of 100,000 rows
that was most of the time spent storing them. When a harvest starts on an empty `products`
table, it sets those aside (their SQL kept in `deferred_schema`, in the same transaction that
drops them), loads, and at its end builds them again from the stored rows in one transaction,
with the search index and the counts rebuilt. Unique indexes stay: they are what keeps a row
from being stored twice.

A load killed at any instant leaves either all of its objects set aside and recorded, or all
of them back: the next harvest finds the record, goes on loading the same way and builds them
at its end (or at once, if `[catalog] bulk_load` has since been turned off). Readers meanwhile
see every committed row; only their queries are slower, the search index lags the products
until the load ends, and `harvester status` counts rather than reads the kept counts.
"""

from __future__ import annotations

import sqlite3

from catalog.db import Catalog
from catalog.migrations.m010_fast_paths import COUNT_PRODUCTS

# Whose indexes and triggers a load may set aside.
TABLES = ("products", "events")
# While loading: a bigger page cache (bounded: 16 MiB, enough for the primary key's b-tree of
# 100,000 products; 64 MiB bought no speed and a third more peak memory) and no checkpoint until
# the load ends, so hot pages are not written to the file again and again.
LOAD_CACHE_KIB = 16384
DEFAULT_AUTOCHECKPOINT = 1000


def loading(conn: sqlite3.Connection) -> bool:
    """Has a load set objects aside that are not yet built again?"""
    if not _has_table(conn, "deferred_schema"):
        return False
    return conn.execute("SELECT 1 FROM deferred_schema LIMIT 1").fetchone() is not None


def begin_load(catalog: Catalog, now: str) -> bool:
    """Set aside the deferrable indexes and triggers if `products` is empty (or a killed load
    had set them aside already). True when the harvest is now a load; call under the harvest
    lock."""
    conn = catalog.conn
    if not _has_table(conn, "deferred_schema"):
        return False
    with catalog.transaction():
        resuming = loading(conn)
        if not resuming and conn.execute("SELECT 1 FROM products LIMIT 1").fetchone():
            return False
        for kind, name, table, sql in deferrable(conn):
            conn.execute("INSERT INTO deferred_schema (name, type, tbl_name, sql, deferred_at) "
                         "VALUES (?, ?, ?, ?, ?)", (name, kind, table, sql, now))
            conn.execute(f'DROP {kind.upper()} "{name}"')
    conn.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    return True


def finish_load(catalog: Catalog) -> int:
    """Build every set-aside object again, rebuild what its triggers would have kept (the search
    index, the per-source counts), all in one transaction; then fold the WAL into the file.
    Returns how many objects were built."""
    conn = catalog.conn
    if not loading(conn):
        return 0
    with catalog.transaction():
        rows = conn.execute("SELECT name, sql FROM deferred_schema ORDER BY type, name").fetchall()
        for row in rows:
            conn.execute(row["sql"])
        _rebuild_derived(conn)
        conn.execute("DELETE FROM deferred_schema")
    conn.execute(f"PRAGMA wal_autocheckpoint = {DEFAULT_AUTOCHECKPOINT}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA cache_size = -2000")  # SQLite's default
    return len(rows)


def deferrable(conn: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
    """(type, name, table, sql) of the non-unique indexes and the triggers of TABLES."""
    marks = ",".join("?" for _ in TABLES)
    rows = conn.execute(
        f"SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN ({marks}) "
        "AND sql IS NOT NULL AND type IN ('index', 'trigger') ORDER BY type, name", TABLES)
    return [(r[0], r[1], r[2], r[3]) for r in rows
            if r[0] == "trigger" or not r[3].lstrip().upper().startswith("CREATE UNIQUE")]


def _rebuild_derived(conn: sqlite3.Connection) -> None:
    if _has_table(conn, "products_fts"):
        conn.execute("INSERT INTO products_fts (products_fts) VALUES ('rebuild')")
    if _has_table(conn, "source_counts"):
        conn.execute("DELETE FROM source_counts")
        conn.execute(f"INSERT INTO source_counts (source, products, exclusive) {COUNT_PRODUCTS}")


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None
