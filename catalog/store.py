"""Writing to the catalog: runs, one page at a time, cursors and rejects.

`commit_page` is the heart of "nothing lost, nothing twice": a page's products, their events,
its rejects, the run's counters and the source's advanced cursor are written in ONE
transaction. A process killed at any instant leaves either the whole page or none of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from catalog.db import Catalog
from catalog.matches import owners, record_matches
from harvester import jsontext

PRODUCT_COLUMNS = (
    "product_key", "archive", "native_id", "version", "source", "mission", "instrument",
    "target_name", "matched_by", "product_type", "processing_level", "obs_start", "obs_end",
    "release_date", "access", "first_seen", "last_seen", "updated_at", "first_public", "url",
    "size_bytes", "program", "title", "extra", "raw", "content_hash", "raw_hash",
)
# Compared to say what an `updated` event changed; the clock columns and raw are not content.
CONTENT_COLUMNS = (
    "version", "mission", "instrument", "target_name", "product_type", "processing_level",
    "obs_start", "obs_end", "release_date", "access", "url", "size_bytes", "program", "title",
    "extra",
)
_UPDATE_COLUMNS = [c for c in PRODUCT_COLUMNS if c not in ("product_key", "first_seen",
                                                            "first_public")]
# Many rows per statement: the search index (products_fts, migration 8) is written by triggers,
# and FTS5 pays a fixed cost per statement that writes it, so a page stored one row per
# statement took several times longer than the same page in a few multi-row statements.
_INSERT_PRODUCTS = (
    f"INSERT INTO products ({', '.join(PRODUCT_COLUMNS)}) VALUES {{rows}}"
)
_INSERT_ROW = f"({', '.join('?' for _ in PRODUCT_COLUMNS)})"
_UPDATE_PRODUCTS = (
    "UPDATE products SET "
    + ", ".join(f"{c} = v.column{i + 1}" for i, c in enumerate(_UPDATE_COLUMNS))
    + f", first_public = COALESCE(products.first_public, v.column{len(_UPDATE_COLUMNS) + 1}) "
    f"FROM (VALUES {{rows}}) AS v WHERE products.product_key = v.column{len(_UPDATE_COLUMNS) + 2}"
)
_UPDATE_ROW = f"({', '.join('?' for _ in range(len(_UPDATE_COLUMNS) + 2))})"
ROWS_PER_STATEMENT = 500


@dataclass
class Reject:
    reason: str
    raw: Any
    native_id: str | None = None


@dataclass
class PageResult:
    new: int = 0
    updated: int = 0
    released: int = 0
    unchanged: int = 0
    rejected: int = 0
    new_keys: list[str] = field(default_factory=list)


def start_run(catalog: Catalog, source: str, archive: str, now: str) -> int:
    with catalog.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO runs (source, archive, started_at, status, pid) VALUES (?, ?, ?, 'running', ?)",
            (source, archive, now, os.getpid()),
        )
        return int(cursor.lastrowid)


def mark_interrupted_runs(catalog: Catalog, now: str) -> int:
    """Runs left 'running' by a killed process. Call only while holding the harvest lock."""
    with catalog.transaction() as conn:
        cursor = conn.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = ?, "
            "error = COALESCE(error, 'process ended before the run finished') "
            "WHERE status = 'running'",
            (now,),
        )
        return cursor.rowcount


def get_cursor(catalog: Catalog, source: str) -> dict[str, Any] | None:
    row = catalog.conn.execute(
        "SELECT cursor FROM source_state WHERE source = ?", (source,)
    ).fetchone()
    if row is None or row["cursor"] is None:
        return None
    return json.loads(row["cursor"])


def _hash_raw(raw_text: str) -> str:
    return hashlib.sha256(raw_text.encode()).hexdigest()[:32]


def _dumps(value: Any) -> str:
    return jsontext.dumps_sorted(value)


def stored_fingerprints(catalog: Catalog, keys: list[str]) -> dict[str, Any]:
    """raw_hash, access and release_date of the stored products among `keys`
    (harvester.unchanged decides from them which records need no normalizing)."""
    return _rows_by_key(catalog.conn, ("raw_hash", "access", "release_date"), keys)


def _load_existing(conn, keys: list[str]) -> dict[str, Any]:
    return _rows_by_key(conn, ("content_hash", "first_public", *CONTENT_COLUMNS), keys)


def _rows_by_key(conn, columns: tuple[str, ...], keys: list[str]) -> dict[str, Any]:
    """The stored products among `keys`, by key: product_key and `columns` of each."""
    found: dict[str, Any] = {}
    names = ", ".join(("product_key", *columns))
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        for row in conn.execute(f"SELECT {names} FROM products WHERE product_key IN ({marks})",
                                chunk):
            found[row["product_key"]] = row
    return found


def commit_page(
    catalog: Catalog,
    *,
    source: str,
    archive: str,
    run_id: int,
    now: str,
    products: Iterable[dict[str, Any]],
    rejects: Iterable[Reject] = (),
    cursor: dict[str, Any] | None,
    records: int,
    skipped: int,
    requests: int,
    unchanged: Iterable[str] = (),
    before_commit: Callable[[], None] | None = None,
) -> PageResult:
    """Store one page. `products` are dicts with the product columns except the clock ones;
    `unchanged` the keys of stored products the page holds again as they were (only seen)."""
    result = PageResult()
    by_key: dict[str, dict[str, Any]] = {}
    for product in products:
        by_key[product["product_key"]] = product  # a page may repeat a row; the last one wins
    with catalog.transaction() as conn:
        existing = _load_existing(conn, list(by_key))
        found = _found_elsewhere(conn, source, run_id, now, by_key, existing)
        inserts, updates, events = [], [], []
        touched = [(now, None, key) for key in unchanged]
        result.unchanged = len(touched)
        for key, product in by_key.items():
            if key in found:
                continue
            old = existing.get(key)
            # The archive's own evidence of when it went public beats our clock: a backfill
            # a year late must not make every product look a year late.
            public_now = None
            if product["access"] == "public":
                public_now = min(product.get("public_since") or now, now)
            if old is None:
                row = dict(product, source=source, first_seen=now, last_seen=now,
                           updated_at=now, first_public=public_now)
                inserts.append(tuple(_column_value(row, c) for c in PRODUCT_COLUMNS))
                events.append((now, "new", key, source, run_id, _dumps(
                    {"access": product["access"], "release_date": product["release_date"]})))
                result.new += 1
                result.new_keys.append(key)
                continue
            if old["content_hash"] == product["content_hash"]:
                touched.append((now, product.get("raw_hash"), key))
                result.unchanged += 1
                continue
            changed = [c for c in CONTENT_COLUMNS
                       if old[c] != _column_value(product, c)]
            row = dict(product, source=source, last_seen=now, updated_at=now)
            updates.append(tuple(_column_value(row, c) for c in _UPDATE_COLUMNS)
                           + (public_now, key))
            if old["access"] == "exclusive" and product["access"] == "public":
                events.append((now, "released", key, source, run_id, _dumps(
                    {"release_date": product["release_date"]})))
                result.released += 1
            other = [c for c in changed if c != "access"]
            if other:
                events.append((now, "updated", key, source, run_id, _dumps(
                    {"changed": other,
                     "before": {c: old[c] for c in other if c != "extra"}})))
                result.updated += 1
        _write_many(conn, _INSERT_PRODUCTS, _INSERT_ROW, inserts)
        _write_many(conn, _UPDATE_PRODUCTS, _UPDATE_ROW, updates)
        if touched:
            conn.executemany("UPDATE products SET last_seen = ?, raw_hash = COALESCE(?, raw_hash) "
                             "WHERE product_key = ?", touched)
        if events:
            conn.executemany(
                "INSERT INTO events (time, kind, product_key, source, run_id, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)", events)
        for reject in rejects:
            _store_reject(conn, source, run_id, now, reject)
            result.rejected += 1
        conn.execute(
            "UPDATE runs SET pages = pages + 1, records = records + ?, skipped = skipped + ?, "
            "new = new + ?, updated = updated + ?, released = released + ?, "
            "rejected = rejected + ?, requests = ? WHERE id = ?",
            (records, skipped, result.new, result.updated, result.released, result.rejected,
             requests, run_id),
        )
        _save_cursor(conn, source, archive, cursor, run_id, now, got_new=result.new > 0)
        if before_commit:
            before_commit()
    return result


def _write_many(conn, sql: str, row: str, values: list[tuple]) -> None:
    """`sql` with its `{rows}` filled by as many rows of `values` as one statement may bind."""
    if not values:
        return
    width = len(values[0])
    per = max(1, min(ROWS_PER_STATEMENT, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    for start in range(0, len(values), per):
        chunk = values[start:start + per]
        conn.execute(sql.format(rows=", ".join([row] * len(chunk))),
                     [value for item in chunk for value in item])


def _found_elsewhere(conn, source: str, run_id: int, now: str, by_key: dict[str, dict[str, Any]],
                     existing: dict[str, Any]) -> set[str]:
    """Record the findings of products found by a rule other than the name (they carry
    `evidence`), and return those stored by another source: such a finding never rewrites that
    row (a frame found by name and by its footprint is one product, the name's)."""
    findings = {key: p for key, p in by_key.items() if p.get("evidence") is not None}
    if not findings:
        return set()
    record_matches(conn, source=source, run_id=run_id, now=now, matches=[
        (key, p["matched_by"], p["evidence"]) for key, p in findings.items()])
    stored = owners(conn, [key for key in findings if key in existing])
    elsewhere = {key for key, owner in stored.items() if owner != source}
    if elsewhere:
        conn.executemany("UPDATE products SET last_seen = ? WHERE product_key = ?",
                         [(now, key) for key in elsewhere])
    return elsewhere


def _column_value(row: dict[str, Any], column: str) -> Any:
    value = row.get(column)
    # The engine hands JSON columns over serialized; other callers may pass Python values.
    if value is not None and column in _JSON_COLUMNS and not isinstance(value, str):
        return _dumps(value)
    return value


_JSON_COLUMNS = frozenset(("extra", "raw"))


def _store_reject(conn, source: str, run_id: int, now: str, reject: Reject) -> None:
    raw_text = reject.raw if isinstance(reject.raw, str) else _dumps(reject.raw)
    conn.execute(
        "INSERT INTO rejects (source, run_id, native_id, reason, raw, raw_hash, first_seen, "
        "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (source, raw_hash) DO UPDATE SET last_seen = excluded.last_seen, "
        "run_id = excluded.run_id, reason = excluded.reason, times_seen = times_seen + 1",
        (source, run_id, reject.native_id, reject.reason, raw_text, _hash_raw(raw_text), now, now),
    )


def _save_cursor(conn, source: str, archive: str, cursor: dict[str, Any] | None, run_id: int,
                 now: str, *, got_new: bool) -> None:
    conn.execute(
        "INSERT INTO source_state (source, archive, cursor, last_run_id, updated_at, last_new_at) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (source) DO UPDATE SET archive = excluded.archive, cursor = excluded.cursor, "
        "last_run_id = excluded.last_run_id, updated_at = excluded.updated_at, "
        "last_new_at = COALESCE(excluded.last_new_at, source_state.last_new_at)",
        (source, archive, _dumps(cursor) if cursor is not None else None, run_id, now,
         now if got_new else None),
    )


def finish_run(catalog: Catalog, run_id: int, *, source: str, archive: str, status: str,
               now: str, requests: int, error: str | None = None) -> None:
    with catalog.transaction() as conn:
        conn.execute(
            "UPDATE runs SET status = ?, finished_at = ?, requests = ?, error = ? WHERE id = ?",
            (status, now, requests, error, run_id),
        )
        ok = status == "ok"
        conn.execute(
            "INSERT INTO source_state (source, archive, last_run_id, last_status, "
            "last_success_at, consecutive_failures, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (source) DO UPDATE SET last_run_id = excluded.last_run_id, "
            "last_status = excluded.last_status, "
            "last_success_at = COALESCE(excluded.last_success_at, source_state.last_success_at), "
            "consecutive_failures = CASE WHEN excluded.last_status = 'ok' THEN 0 "
            "ELSE source_state.consecutive_failures + 1 END, updated_at = excluded.updated_at",
            (source, archive, run_id, status, now if ok else None, 0 if ok else 1, now),
        )
