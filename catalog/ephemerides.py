"""The ephemeris cache: one row per (target, observer, step) with the Horizons query that
produced it, the orbit solution it came from, and when the solution was last confirmed."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.db import Catalog


@dataclass
class StoredEphemeris:
    target: str
    observer: str
    step: str
    start: str
    stop: str
    solution: str | None
    query: str
    fetched_at: str
    checked_at: str
    points: int
    data: str


def load_ephemeris(catalog: Catalog, target: str, observer: str, step: str) -> StoredEphemeris | None:
    row = catalog.conn.execute(
        "SELECT target, observer, step, start, stop, solution, query, fetched_at, checked_at, "
        "points, data FROM ephemerides WHERE target = ? AND observer = ? AND step = ?",
        (target, observer, step)).fetchone()
    return StoredEphemeris(*row) if row else None


def save_ephemeris(catalog: Catalog, stored: StoredEphemeris) -> None:
    with catalog.transaction() as conn:
        conn.execute(
            "INSERT INTO ephemerides (target, observer, step, start, stop, solution, query, "
            "fetched_at, checked_at, points, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (target, observer, step) DO UPDATE SET start = excluded.start, "
            "stop = excluded.stop, solution = excluded.solution, query = excluded.query, "
            "fetched_at = excluded.fetched_at, checked_at = excluded.checked_at, "
            "points = excluded.points, data = excluded.data",
            (stored.target, stored.observer, stored.step, stored.start, stored.stop,
             stored.solution, stored.query, stored.fetched_at, stored.checked_at, stored.points,
             stored.data))


def confirm_solution(catalog: Catalog, target: str, solution: str | None, checked_at: str) -> int:
    """Mark every cached ephemeris of `target` computed from `solution` as checked now; returns
    how many are still current."""
    with catalog.transaction() as conn:
        cursor = conn.execute(
            "UPDATE ephemerides SET checked_at = ? WHERE target = ? AND solution IS ?",
            (checked_at, target, solution))
        return cursor.rowcount
