"""Names of the target found by asking services, kept with their provenance: which service,
which field of its answer, the raw text, the query, when. Two kinds: `designation` (what
`harvester target resolve` got from SBDB and the MPC; harvests match target names on them) and
`target_lid` (a PDS target context LID found among the registry's context products; PDS
harvests ask for products referencing it)."""

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
    kind: str = "designation"


DESIGNATION = "designation"
TARGET_LID = "target_lid"


def stored_aliases(catalog: Any) -> list[str]:
    """Aliases stored by `harvester target resolve`, added to the config's at harvest time."""
    return _accepted(catalog.conn, DESIGNATION)


def stored_target_ids(catalog: Any) -> list[str]:
    """Target context LIDs found in the PDS registry, asked for by PDS harvests."""
    return _accepted(catalog.conn, TARGET_LID)


def _accepted(conn: Any, kind: str) -> list[str]:
    rows = conn.execute(
        "SELECT alias FROM aliases WHERE refused IS NULL AND kind = ? GROUP BY alias "
        "ORDER BY MIN(first_seen), alias", (kind,))
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
                "INSERT INTO aliases (alias, service, field, raw, query, refused, first_seen, last_seen, "
                "kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (service, alias) DO UPDATE SET "
                "field = excluded.field, raw = excluded.raw, query = excluded.query, "
                "refused = excluded.refused, last_seen = excluded.last_seen, kind = excluded.kind",
                (item.alias, item.service, item.field, item.raw, item.query, item.refused, now, now,
                 item.kind),
            )
            new += known is None
    return new


def list_aliases(conn: Any) -> list[StoredAlias]:
    """Every stored designation with its provenance, accepted ones first."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(aliases)")}
    # A catalog opened read-only before migration 7 has no kind: all its rows are designations.
    kind = "kind" if "kind" in columns else "'designation'"
    rows = conn.execute(
        f"SELECT alias, service, field, raw, query, refused, first_seen, last_seen, {kind} FROM aliases "
        "ORDER BY refused IS NOT NULL, 9, first_seen, service, alias"
    )
    return [StoredAlias(*row) for row in rows]
