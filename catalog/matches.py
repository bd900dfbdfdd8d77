"""Findings of products by rules other than the name (`product_matches`), written inside the
page's transaction so a finding is stored exactly when its page is."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable


def owners(conn: sqlite3.Connection, keys: list[str]) -> dict[str, str]:
    """The source that stored each existing product (its row's owner)."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        for key, source in conn.execute(
                f"SELECT product_key, source FROM products WHERE product_key IN ({marks})", chunk):
            found[key] = source
    return found


def record_matches(conn: sqlite3.Connection, *, source: str, run_id: int, now: str,
                   matches: Iterable[tuple[str, str, str]]) -> int:
    """Upsert (product_key, rule, detail JSON) findings of `source`; returns how many."""
    rows = [(key, source, rule, now, now, run_id, detail) for key, rule, detail in matches]
    if rows:
        conn.executemany(
            "INSERT INTO product_matches (product_key, source, rule, first_seen, last_seen, run_id, "
            "detail) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (product_key, source) DO UPDATE SET "
            "rule = excluded.rule, last_seen = excluded.last_seen, run_id = excluded.run_id, "
            "detail = excluded.detail", rows)
    return len(rows)
