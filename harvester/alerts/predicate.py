"""Subscription predicates: one SQL boolean expression over the `alerts` view.

A predicate is checked before it is stored: it must be one expression (no `;`, no parenthesis
closing the WHERE it is placed in), and SQLite itself must compile
`SELECT 1 FROM alerts WHERE (<predicate>)` on a read-only connection whose authorizer refuses
anything but reading (no ATTACH, no writes, no functions that touch files). SQLite's own message
is reported on a syntax error or an unknown column.

Matching runs the stored predicate on the writer's connection as a read-only SELECT under the
same authorizer, within its time limit (see harvester.alerts.match). Adding and testing run it
too, within the same limit: a predicate that cannot finish over today's events is refused
before it is stored.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from catalog.limits import Limits
from harvester.errors import ConfigError

_DENIED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer",
                               "zipfile", "sqlar_compress", "sqlar_uncompress"})
HITS_TABLE = "alerts_hits"  # the matcher's temporary table of (predicate, event) hits
_READING = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})


class PredicateError(ConfigError):
    """A predicate that cannot be stored; the message says why, in SQLite's words if it judged."""


def reading_authorizer(action: int, arg1: str | None, arg2: str | None, *_: Any) -> int:
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in _DENIED_FUNCTIONS else sqlite3.SQLITE_OK
    return sqlite3.SQLITE_OK if action in _READING else sqlite3.SQLITE_DENY


def check_shape(predicate: str) -> str:
    """One expression: no `;` and no `)` closing the WHERE around it (outside quotes)."""
    text = predicate.strip()
    if not text:
        raise PredicateError("the predicate is empty (example: --where \"kind = 'new'\")")
    depth, quote, i = 0, "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch == "[":
            quote = "]"
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise PredicateError(f"refused: the predicate closes a parenthesis it never opened "
                                     f"(at character {i + 1}); it must be one expression")
        elif ch == ";":
            raise PredicateError(f"refused: ';' at character {i + 1}; a predicate is one SQL "
                                 "expression, not statements")
        elif text.startswith("--", i) or text.startswith("/*", i):
            raise PredicateError(f"refused: a comment at character {i + 1}; write the predicate "
                                 "without comments")
        i += 1
    if quote:
        raise PredicateError(f"the predicate has an unclosed {quote} quote")
    if depth:
        raise PredicateError("the predicate has an unclosed parenthesis")
    return text


def where_clause(predicate: str) -> str:
    return f"({predicate}\n)"


def check_predicate(catalog_path: str | Path, predicate: str, *, limits: Limits | None = None) -> str:
    """The predicate as stored, once SQLite compiled it read-only against the view, and it ran
    within its time limit over the catalog's events (and over one row of NULLs, so that a
    runaway subquery shows even in an empty catalog)."""
    from catalog.db import open_readonly

    text = check_shape(predicate)
    conn = open_readonly(catalog_path)
    try:
        conn.set_authorizer(reading_authorizer)
        try:
            conn.execute(f"SELECT 1 FROM alerts WHERE {where_clause(text)} LIMIT 0").fetchall()
        except sqlite3.DatabaseError as exc:
            message = str(exc)
            if "not authorized" in message or "prohibited" in message:
                raise PredicateError(f"refused: the predicate may only read the catalog "
                                     f"(SQLite: {message}): {text}") from None
            raise PredicateError(f"bad predicate: SQLite says: {message}: {text}") from None
        except sqlite3.Warning as exc:  # "You can only execute one statement at a time."
            raise PredicateError(f"bad predicate: {exc}: {text}") from None
        if limits is not None:
            _trial_run(conn, text, limits)
    finally:
        conn.close()
    return text


def _trial_run(conn: sqlite3.Connection, text: str, limits: Limits) -> None:
    from catalog.limits import Bounded

    columns = [d[0] for d in conn.execute("SELECT * FROM alerts LIMIT 0").description]
    nulls = ", ".join(f"NULL AS {column}" for column in columns)
    with Bounded(conn, limits) as bound:
        # Over a row of NULLs as a value (in a WHERE, `NULL AND x` may skip x; as a value it
        # cannot), so a runaway subquery shows even in an empty catalog; then over the events.
        for what, sql in (("over one row of NULLs", f"SELECT {where_clause(text)} FROM (SELECT {nulls}) AS alerts"),
                          ("over the catalog's events",
                           f"SELECT count(*) FROM alerts WHERE {where_clause(text)}")):
            bound.restart()
            try:
                conn.execute(sql).fetchall()
            except (sqlite3.Error, MemoryError) as exc:
                if bound.reason is None and "interrupted" in str(exc):
                    raise KeyboardInterrupt from None
                limited = bound.explain(exc, f"the predicate, {what},")
                if limited is not None:
                    raise PredicateError(f"refused: {limited}; it would be cut off at every "
                                         f"harvest: {text}") from None
                raise PredicateError(f"bad predicate: SQLite says: {exc}: {text}") from None
