"""Read-only SQL for users: `harvester sql`, reports, the web page.

Two locks on the door: the connection is opened read-only (mode=ro, query_only), and an
authorizer refuses anything that is not reading, so ATTACH, VACUUM INTO, or a PRAGMA that
changes state cannot write a file either. A user's query also runs under catalog.limits: a
time limit and bounds on the memory it may take.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from catalog.db import open_readonly
from catalog.limits import Bounded, Limits
from harvester.errors import CatalogError, QueryLimitError, ReadOnlyQueryError

_ALLOWED_ACTIONS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE,
}
# Pragmas that only describe the schema; anything else (including setting a value) is refused.
_READ_PRAGMAS = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "database_list", "collation_list", "function_list", "pragma_list",
    "compile_options",
}
_READ_ONLY_WITHOUT_ARGUMENT = {"schema_version", "user_version", "data_version", "page_count"}
# Checks that only read, whatever their argument (a row limit or a table name).
_CHECK_PRAGMAS = {"integrity_check", "quick_check", "foreign_key_check"}
_DENIED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}


def _authorizer(action: int, arg1: str | None, arg2: str | None, *_: Any) -> int:
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in _DENIED_FUNCTIONS else sqlite3.SQLITE_OK
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master":
        # SQLite reports its own schema reads for table-valued pragmas this way; the read-only
        # connection refuses any real write to sqlite_master anyway.
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        # table_info(x) passes x as its argument; user_version = 5 would set a value.
        if name in _READ_PRAGMAS or name in _CHECK_PRAGMAS or (
                name in _READ_ONLY_WITHOUT_ARGUMENT and arg2 is None):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def readonly_connection(path: str | Path) -> sqlite3.Connection:
    conn = open_readonly(path)
    conn.set_authorizer(_authorizer)
    return conn


def _classify(error: sqlite3.Error, sql: str, path: str | Path) -> CatalogError:
    from catalog.db import SQLITE_CORRUPT, SQLITE_FULL, SQLITE_IOERR, SQLITE_NOTADB, primary_code, storage_error

    message = str(error)
    code = primary_code(error)
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return storage_error(error, path) or CatalogError(message)
    if code in (SQLITE_FULL, SQLITE_IOERR):
        return CatalogError(f"{path}: the query could not finish: {message} (SQLite needs "
                            "temporary space for large sorts; free some, or narrow the query)")
    if ("not authorized" in message or "authorization denied" in message or "readonly" in message
            or "read-only" in message):
        return ReadOnlyQueryError(
            f"refused: harvester sql is read-only and this statement would change something "
            f"({message}): {sql.strip()[:120]}"
        )
    return ReadOnlyQueryError(f"SQL error: {message}")


def run_query(path: str | Path, sql: str, params: dict[str, Any] | None = None, *,
              limits: Limits | None = None, what: str = "the query"
              ) -> tuple[list[str], Iterator[tuple]]:
    """Columns and a row iterator for one read-only statement, bounded by `limits` (a time
    limit from the first step to the last row, and memory bounds) when given."""
    conn = readonly_connection(path)
    bound = Bounded(conn, limits) if limits is not None else None
    if bound is not None:
        bound.__enter__()

    def fail(exc: BaseException) -> BaseException:
        if bound is not None and bound.reason is None and "interrupted" in str(exc):
            return KeyboardInterrupt()  # Ctrl-C landed inside SQLite, which swallowed it
        explained = bound.explain(exc, what) if bound is not None else None
        if explained is None and isinstance(exc, MemoryError):
            explained = QueryLimitError(f"{what} ran out of memory and was stopped")
        if explained is not None:
            return explained
        if isinstance(exc, sqlite3.ProgrammingError | sqlite3.Warning):
            return ReadOnlyQueryError(f"SQL error: {exc}")
        return _classify(exc, sql, path)

    def close() -> None:
        if bound is not None:
            bound.__exit__(None, None, None)
        conn.close()

    try:
        cursor = conn.execute(sql, params or {})
    except (sqlite3.Error, sqlite3.Warning, MemoryError) as exc:
        error = fail(exc)
        close()
        raise error from None
    except BaseException:
        close()
        raise
    columns = [d[0] for d in cursor.description or []]

    def rows() -> Iterator[tuple]:
        try:
            yield from cursor
        except (sqlite3.Error, MemoryError) as exc:
            raise fail(exc) from None
        finally:
            close()

    return columns, rows()
