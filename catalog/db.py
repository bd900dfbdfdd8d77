"""Opening the catalog file: WAL mode, busy timeout, forward migrations, read-only access."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from catalog.migrations import LATEST_VERSION, MIGRATIONS
from harvester.errors import CatalogDamagedError, CatalogError, CatalogWriteError

# Primary SQLite result codes that are about the file, not the statement (the sqlite3 module
# gives each error its extended code; the low byte is the primary one).
SQLITE_READONLY, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = (
    8, 10, 11, 13, 14, 26)
_CANNOT_WRITE = {
    SQLITE_FULL: "the disk is full",
    SQLITE_IOERR: "an I/O error",
    SQLITE_READONLY: "the file or its directory is read-only",
    SQLITE_CANTOPEN: "a file it needs cannot be opened",
}


def primary_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def damaged(path: str | Path, exc: BaseException | str) -> CatalogDamagedError:
    """The one line for a corrupt catalog: what SQLite said and how to get a good file back."""
    return CatalogDamagedError(
        f"{path} is damaged (SQLite: {exc}); nothing more was written to it. To recover: "
        f"sqlite3 {path} .recover | sqlite3 recovered.db, then harvester run --full --catalog "
        "recovered.db to re-read what was lost (or restore a backup)")


def storage_error(exc: BaseException, path: str | Path) -> CatalogError | None:
    """The CatalogError for an SQLite error about the catalog file itself (corrupt, disk full,
    I/O error, read-only), or None for any other error (a statement's own)."""
    code = primary_code(exc)
    if code == SQLITE_NOTADB and not _has_sqlite_header(path):
        return CatalogError(f"{path}: not a catalog (not an SQLite file at all); check the path")
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return damaged(path, exc)
    if code in _CANNOT_WRITE:
        why = _CANNOT_WRITE[code]
        if code in (SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN) and disk_full(path):
            why = "the disk is full"  # SQLite says "disk I/O error" when the WAL index cannot grow
        return CatalogWriteError(
            f"{path}: cannot write the catalog: {why} (SQLite: {exc}); what was being written "
            "was rolled back, everything stored before is intact")
    return None


def disk_full(path: str | Path) -> bool:
    """Is the file system holding `path` out of space (less than a few pages left)?"""
    try:
        stats = os.statvfs(Path(path).absolute().parent)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 64 * 1024


def _has_sqlite_header(path: str | Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return True  # cannot tell; say "damaged", which names the way out either way


def after_write_failure(conn: sqlite3.Connection, path: str | Path, exc: BaseException
                        ) -> CatalogError | None:
    """A write failed: is the file damaged, or only full (or briefly unwritable)? quick_check
    tells; it reads every page, which is fine on this rare path."""
    error = storage_error(exc, path)
    if error is None or isinstance(error, CatalogDamagedError):
        return error
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        verdict = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    except sqlite3.DatabaseError as check_exc:
        if primary_code(check_exc) in (SQLITE_CORRUPT, SQLITE_NOTADB):
            return damaged(path, check_exc)
        return error
    return error if verdict == "ok" else damaged(path, verdict)


def _readonly_uri(path: str, *, immutable: bool) -> str:
    return f"{Path(path).resolve().as_uri()}?{'immutable=1' if immutable else 'mode=ro'}"


def readonly_uri(conn: sqlite3.Connection, path: str | Path) -> str:
    """The URI open_readonly used for `conn` (mode=ro, or immutable=1 where it had to), for
    whoever opens more connections to the same file (the web page's thread pool)."""
    return _readonly_uri(str(path), immutable=bool(getattr(conn, "immutable", False)))


class ReadOnlyConnection(sqlite3.Connection):
    """A reader's connection; `immutable` says it was opened with immutable=1."""

    immutable = False


def _connect(path: str, *, readonly: bool, immutable: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(_readonly_uri(path, immutable=immutable), uri=True,
                               isolation_level=None, check_same_thread=False,
                               factory=ReadOnlyConnection)
        conn.immutable = immutable
        conn.execute("PRAGMA query_only = ON")
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def _open_and_probe(path: str, *, immutable: bool) -> sqlite3.Connection:
    """A read-only connection that has read the schema (which is where a file that is not a
    catalog, or a damaged one, first shows)."""
    conn = None
    try:
        conn = _connect(path, readonly=True, immutable=immutable)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return conn
    except BaseException:
        if conn is not None:
            conn.close()
        raise


def check_catalog_file(path: str | Path) -> None:
    """What can be said of the file before SQLite opens it: missing, a directory, or empty."""
    p = Path(path)
    if not p.exists():
        raise CatalogError(f"{path}: no catalog here (run `harvester run` or `harvester demo` first)")
    if p.is_dir():
        raise CatalogError(f"{path}: is a directory, not a catalog file")
    if p.stat().st_size == 0 and not Path(f"{path}-wal").exists():
        raise CatalogError(f"{path}: is empty (0 bytes), not a catalog: no harvest has written "
                           "to it; run `harvester run` to start one there, or give the right path")


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot write, for user queries and reports.

    `mode=ro` first: it sees what a running harvest has committed (the WAL). In a read-only
    directory, or on a full disk, SQLite cannot make the WAL's shared-memory file and refuses;
    then, when no WAL content is left beside the catalog (a harvest that ended folds it into
    the file and removes it), `immutable=1` reads the file as it is, which is then exact."""
    path = str(path)
    check_catalog_file(path)
    try:
        return _open_and_probe(path, immutable=False)
    except sqlite3.DatabaseError as exc:
        error = exc
    code = primary_code(error)
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        raise storage_error(error, path) from None
    parent = Path(path).parent
    read_only_dir = not os.access(parent, os.W_OK) or _on_read_only_mount(parent)
    cannot_make_wal_index = (code in (SQLITE_CANTOPEN, SQLITE_READONLY) and read_only_dir
                             or code in (SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN) and disk_full(path))
    if cannot_make_wal_index:
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            where = "its directory is read-only" if read_only_dir else "its disk is full"
            raise CatalogError(
                f"{path}: cannot read it here: {where} and {wal.name} holds changes not yet "
                f"folded into the file; have its owner run `sqlite3 {path} 'pragma "
                "wal_checkpoint(truncate)'` (or any harvest) first") from None
        try:
            return _open_and_probe(path, immutable=True)
        except sqlite3.DatabaseError as exc:
            if primary_code(exc) in (SQLITE_CORRUPT, SQLITE_NOTADB):
                raise storage_error(exc, path) from None
            error = exc
    raise CatalogError(f"{path}: not a readable catalog: {error}") from None


def _on_read_only_mount(directory: Path) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False


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
        if Path(path).is_dir():
            raise CatalogError(f"{path}: is a directory, not a catalog file")
        try:
            conn = _connect(path, readonly=False)
            # WAL: readers (sql, serve) never block the harvest, and a crash never tears a page.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise storage_error(exc, path) or CatalogError(
                f"{path}: cannot open as a catalog: {exc}") from None
        catalog = cls(conn, path)
        try:
            catalog.migrate()
        except sqlite3.DatabaseError as exc:
            catalog.close()
            raise storage_error(exc, path) or CatalogError(
                f"{path}: cannot bring the catalog's schema up to date: {exc}") from None
        except BaseException:
            catalog.close()
            raise
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
            raise storage_error(exc, self.path) or CatalogError(
                f"{self.path}: not a catalog: {exc}") from None
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
