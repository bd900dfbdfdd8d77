"""Designations of the target that `harvester target resolve` got from the name services,
kept with their provenance: which service, which field of its answer, the raw text, when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass
class StoredAlias:
    alias: str
    service: str
    field: str | None
    raw: str
    query: str | None
    refused: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None


def stored_aliases(catalog: Any) -> list[str]:
    """Aliases stored by `harvester target resolve`, added to the config's at harvest time."""
    rows = catalog.conn.execute(
        "SELECT alias FROM aliases WHERE refused IS NULL GROUP BY alias ORDER BY MIN(first_seen), alias"
    )
    return [row[0] for row in rows]


def store_aliases(catalog: Any, aliases: Iterable[StoredAlias], now: str) -> int:
    """Upsert designations; returns how many (service, alias) pairs are new. A designation seen
    again keeps its first_seen; its refusal (or acceptance) follows the latest resolve."""
    new = 0
    with catalog.transaction() as conn:
        for item in aliases:
            known = conn.execute("SELECT 1 FROM aliases WHERE service = ? AND alias = ?",
                                 (item.service, item.alias)).fetchone()
            conn.execute(
                "INSERT INTO aliases (alias, service, field, raw, query, refused, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (service, alias) DO UPDATE SET "
                "field = excluded.field, raw = excluded.raw, query = excluded.query, "
                "refused = excluded.refused, last_seen = excluded.last_seen",
                (item.alias, item.service, item.field, item.raw, item.query, item.refused, now, now),
            )
            new += known is None
    return new


def list_aliases(conn: Any) -> list[StoredAlias]:
    """Every stored designation with its provenance, accepted ones first."""
    rows = conn.execute(
        "SELECT alias, service, field, raw, query, refused, first_seen, last_seen FROM aliases "
        "ORDER BY refused IS NOT NULL, first_seen, service, alias"
    )
    return [StoredAlias(*row) for row in rows]
