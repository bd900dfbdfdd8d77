"""Full-text search over the products: the `products_fts` index of migration 8, read and rebuilt
through sqlite-utils (the same index Datasette's search box uses).

Searching is read-only. A user's words are quoted before they reach FTS5, so `Mastcam-Z`, `AND`
or an unbalanced quote is text to look for, never query syntax or an error.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from catalog.db import Catalog
from catalog.migrations.m008_search_and_news import FTS_COLUMNS, FTS_TABLE
from catalog.query import readonly_connection
from harvester.errors import CatalogError, ConfigError

RESULT_COLUMNS = ("product_key", "archive", "mission", "instrument", "target_name", "obs_start",
                  "access", "title", "url")
NO_INDEX = ("{path}: this catalog has no search index yet (it predates migration 8); "
            "`harvester search --rebuild` makes one")


def _database(conn: sqlite3.Connection) -> Any:
    import sqlite_utils

    # No PRAGMA recursive_triggers and no plugins: the connection may be read-only, and the
    # catalog's triggers are not recursive.
    return sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)


def quote_words(words: str) -> str:
    """Words as a literal FTS5 query (each word quoted), as sqlite-utils and Datasette do it."""
    import sqlite_utils

    return sqlite_utils.Database(memory=True, execute_plugins=False).quote_fts(words)


def has_search_index(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).fetchone() is not None


def search_products(path: str | Path, words: str, *, archive: str | None = None,
                    limit: int = 50, columns: tuple[str, ...] = RESULT_COLUMNS
                    ) -> tuple[list[str], list[tuple]]:
    """Products whose title, target name, mission, instrument or program hold these words,
    best match first (FTS5's bm25 rank)."""
    if not words.strip():
        raise ConfigError("search: give some words to look for, e.g. harvester search hirise")
    if limit < 1:
        raise ConfigError(f"search: --limit must be 1 or more, not {limit}")
    conn = readonly_connection(path)
    try:
        if not has_search_index(conn):
            raise CatalogError(NO_INDEX.format(path=path))
        table = _database(conn).table("products")
        where, args = None, {}
        if archive:
            where, args = "archive = :archive", {"archive": archive}
        try:
            found = list(table.search(words, columns=list(columns), limit=limit, where=where,
                                      where_args=args, quote=True))
        except sqlite3.Error as exc:
            raise CatalogError(f"search {words!r}: {exc}") from None
    finally:
        conn.close()
    return list(columns), [tuple(row[c] for c in columns) for row in found]


def rebuild_search_index(path: str | Path) -> int:
    """Rebuild `products_fts` from the products (after a VACUUM, which may renumber the rowids
    the index refers to, or on a catalog restored from elsewhere). Creates the index first on a
    catalog that predates it. Returns the number of products indexed. The caller holds the
    harvest lock, so no harvest writes meanwhile."""
    with Catalog.open(path) as catalog:  # migrates: an old catalog gets its index here
        _database(catalog.conn).table("products").rebuild_fts()
        problem = index_problem(catalog.conn)
        if problem:
            raise CatalogError(f"{path}: the search index is still inconsistent after a rebuild: "
                               f"{problem}")
        return catalog.conn.execute("SELECT COUNT(*) FROM products").fetchone()[0]


def index_problem(conn: sqlite3.Connection) -> str | None:
    """None when the index agrees with the products, else what FTS5's integrity check says.
    Needs a connection that may write (the check is spelled as an INSERT; it changes nothing)."""
    try:
        conn.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None


__all__ = ["FTS_COLUMNS", "FTS_TABLE", "RESULT_COLUMNS", "has_search_index", "index_problem",
           "quote_words", "rebuild_search_index", "search_products"]
