"""Writing the watch's conclusions into the catalog, so users can query them with SQL:
`expected` (the campaign as loaded), `expected_status` and `expected_products` (the last
evaluation), each made to hold exactly the new content inside the caller's transaction."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from harvester.timeutil import iso
from harvester.watch.campaign import Campaign, first
from harvester.watch.status import ExpectedStatus


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _day(value: object) -> str | None:
    return value.isoformat() if value is not None else None


def replace_expected(conn: sqlite3.Connection, campaign: Campaign, now: datetime) -> None:
    conn.execute("DELETE FROM expected")
    conn.executemany(
        "INSERT INTO expected (id, position, status, platform, archive, archives, archive_note, "
        "mission, instrument, program, spellings, obs_start, obs_end, released_on, "
        "expected_public_by, policy, watch, watch_note, notes, sources, loaded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(e.id, n, e.status, e.platform, e.archive, _json(e.archives), e.archive_note,
          first(e.missions), first(e.instruments), first(e.programs),
          _json({"mission": e.missions, "instrument": e.instruments, "program": e.programs}),
          _day(e.obs_start), _day(e.obs_end), _day(e.released_on), e.expected_public_by,
          e.policy, int(e.watch), e.watch_note, e.notes, _json(e.sources), iso(now))
         for n, e in enumerate(campaign.observations, 1)])


def replace_statuses(conn: sqlite3.Connection, statuses: list[ExpectedStatus], now: datetime) -> None:
    conn.execute("DELETE FROM expected_status")
    conn.executemany(
        "INSERT INTO expected_status (expected_id, status, as_of, due_date, due_basis, "
        "first_public, latency_days, exclusive_until, overdue_days, due_in_days, products, "
        "public_products, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(s.expected.id, s.status, iso(now), _moment(s.due_date), s.due_basis,
          _moment(s.first_public), s.latency_days, _moment(s.exclusive_until), s.overdue_days,
          s.due_in_days, len(s.matches), len(s.public_keys), s.reason) for s in statuses])
    replace_matches(conn, {(s.expected.id, m.product_key, m.reason) for s in statuses for m in s.matches})


def replace_matches(conn: sqlite3.Connection, wanted: set[tuple[str, str, str]]) -> None:
    """Make `expected_products` hold exactly `wanted`, writing only the difference: a dense
    catalog matches a hundred thousand products and a rerun usually changes none of them."""
    existing = set(map(tuple, conn.execute("SELECT expected_id, product_key, reason FROM expected_products")))
    conn.executemany("DELETE FROM expected_products WHERE expected_id = ? AND product_key = ?",
                     [(e, p) for e, p, _ in existing - wanted])
    conn.executemany("INSERT INTO expected_products (expected_id, product_key, reason) VALUES (?, ?, ?)",
                     sorted(wanted - existing))


def _moment(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None
