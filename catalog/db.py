"""Opening the catalog file: WAL mode, busy timeout, forward migrations, read-only access."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from catalog.migrations import LATEST_VERSION, MIGRATIONS
from harvester.errors import CatalogError


def _connect(path: str, *, readonly: bool) -> sqlite3.Connection:
    if readonly:
        uri = f"{Path(path).resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot write, for user queries and reports."""
    path = str(path)
    if not Path(path).exists():
        raise CatalogError(f"{path}: no catalog here (run `harvester run` or `harvester demo` first)")
    try:
        conn = _connect(path, readonly=True)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        raise CatalogError(f"{path}: not a readable catalog: {exc}") from None
    return conn


class Catalog:
    """A writable catalog. Open it with Catalog.open(path)."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: str | Path) -> Catalog:
        path = str(path)
        parent = Path(path).resolve().parent
        if not parent.is_dir():
            raise CatalogError(f"{path}: directory {parent} does not exist")
        try:
            conn = _connect(path, readonly=False)
            # WAL: readers (sql, serve) never block the harvest, and a crash never tears a page.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"{path}: cannot open as a catalog: {exc}") from None
        catalog = cls(conn, path)
        catalog.migrate()
        return catalog

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: all of it or none of it."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def schema_version(self) -> int:
        exists = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
        ).fetchone()
        if not exists:
            return 0
        row = self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return row[0] or 0

    def migrate(self) -> None:
        """Apply every listed migration this catalog has not recorded, in order. Not only those
        above its highest number: migration numbers are handed to parallel branches in advance,
        so a catalog made by one branch (at 9) must still get 6-8 when they merge."""
        try:
            current = self.schema_version()
            applied = self.applied_versions() if current else set()
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"{self.path}: not a catalog: {exc}") from None
        if current > LATEST_VERSION:
            raise CatalogError(
                f"{self.path}: catalog schema {current} is newer than this harvester "
                f"(knows up to {LATEST_VERSION}); upgrade the harvester"
            )
        for version, description, sql in sorted(MIGRATIONS):
            if version in applied:
                continue
            with self.transaction() as conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    "version INTEGER PRIMARY KEY, description TEXT, applied_at TEXT)"
                )
                # Another process may have applied it since we looked (it holds no lock yet).
                if conn.execute("SELECT 1 FROM schema_version WHERE version = ?",
                                (version,)).fetchone():
                    continue
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ'))",
                    (version, description),
                )

    def applied_versions(self) -> set[int]:
        return {row[0] for row in self.conn.execute("SELECT version FROM schema_version")}


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (sqlite3.complete_statement knows the grammar)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
