"""Which catalog products are the expected observations: same archive, the mission and
instrument as the campaign spells them (or, through the platforms table, the same platform and
instrument however the archive spelled it: MARS_RECONNAISSANCE_ORBITER is MRO), observed within
the window (plus a tolerance), and the program when the campaign knows it. Each match keeps its
reason so a user can audit it.

The catalog can hold a million products, so the work goes through the index on (archive,
mission, instrument, obs_start, obs_end): first the distinct (archive, mission, instrument)
groups are read with a loose index scan (a few dozen lookups, not a table scan), the campaign's
spellings are compared with those few names in Python, and only the matching groups are
searched by time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import timedelta
from typing import NamedTuple

from harvester.names.matcher import fold, words
from harvester.names.platforms import Platforms
from harvester.timeutil import iso
from harvester.watch.campaign import Expected

Group = tuple[str, str | None, str | None]


class Matched(NamedTuple):
    """A catalog product matched to an expected observation, with what it looked like (a
    tuple: a dense catalog makes a hundred thousand of them per evaluation)."""

    product_key: str
    archive: str
    mission: str | None
    instrument: str | None
    program: str | None
    obs_start: str | None
    obs_end: str | None
    release_date: str | None
    access: str
    first_seen: str
    first_public: str | None
    reason: str


def same_name(spelling: str, value: str | None) -> bool:
    """Does the campaign's `spelling` name the catalog's `value`? Equal ignoring case and
    punctuation (Mastcam-Z = MASTCAMZ), or its words appear in order within the value's words
    (WFC3 in WFC3/UVIS, NAVCAM in NAVCAM_RIGHT, TGO in "ExoMars 2016 TGO"; MI is not MIRI)."""
    if value is None:
        return False
    if fold(spelling) == fold(value):
        return True
    wanted, have = words(spelling), words(value)
    if not wanted:
        return False
    size = len(wanted)
    return any(have[i:i + size] == wanted for i in range(len(have) - size + 1))


def names_any(spellings: Iterable[str], value: str | None) -> str | None:
    """The first spelling that names `value`, else None."""
    return next((s for s in spellings if same_name(s, value)), None)


def _distinct(conn: sqlite3.Connection, column: str, where: str, params: tuple) -> list[str | None]:
    """The distinct values of `column` under an index prefix, one index seek each."""
    values: list[str | None] = []
    if conn.execute(f"SELECT 1 FROM products WHERE {where} {column} IS NULL LIMIT 1",
                    params).fetchone():
        values.append(None)
    value = conn.execute(f"SELECT min({column}) FROM products WHERE {where} {column} IS NOT NULL",
                         params).fetchone()[0]
    while value is not None:
        values.append(value)
        value = conn.execute(f"SELECT min({column}) FROM products WHERE {where} {column} > ?",
                             (*params, value)).fetchone()[0]
    return values


def product_groups(conn: sqlite3.Connection) -> list[Group]:
    """Every (archive, mission, instrument) present in the catalog."""
    groups: list[Group] = []
    for archive in _distinct(conn, "archive", "", ()):
        for mission in _distinct(conn, "mission", "archive = ? AND", (archive,)):
            for instrument in _distinct(conn, "instrument", "archive = ? AND mission IS ? AND",
                                        (archive, mission)):
                groups.append((archive, mission, instrument))
    return groups


def _group_reason(expected: Expected, group: Group, platforms: Platforms | None = None) -> str | None:
    """Why this group can hold the observation, or None when it cannot."""
    archive, mission, instrument = group
    if archive not in expected.archives:
        return None
    parts = [f"archive {archive}"]
    for label, spellings, value in (("mission", expected.missions, mission),
                                    ("instrument", expected.instruments, instrument)):
        if not spellings:
            continue
        spelling = names_any(spellings, value)
        how = "~"
        if spelling is None and platforms is not None:
            spelling = _same_identity(platforms, label, spellings, value, mission, expected)
            how = "= (platforms table)"
        if spelling is None:
            return None
        parts.append(f"{label} {value}" + ("" if fold(spelling) == fold(value or "") else
                                           f" {how} {spelling}"))
    return ", ".join(parts)


def _same_identity(platforms: Platforms, label: str, spellings: list[str], value: str | None,
                   mission: str | None, expected: Expected) -> str | None:
    """The campaign spelling that is the same platform (or instrument of it) as `value`."""
    if label == "mission":
        return next((s for s in spellings if platforms.same_platform(s, value)), None)
    hosts = [mission, *expected.missions]
    return next((s for s in spellings for host in hosts
                 if platforms.same_instrument(host, s, value)), None)


_SELECT = (
    "SELECT product_key, archive, mission, instrument, program, obs_start, obs_end, "
    "release_date, access, first_seen, first_public FROM products "
    "WHERE archive = ? AND mission IS ? AND instrument IS ? "
    "AND obs_start < ? AND coalesce(obs_end, obs_start) >= ?"
)


def match_products(conn: sqlite3.Connection, observations: list[Expected], *,
                   tolerance_days: float, platforms: Platforms | None = None) -> dict[str, list[Matched]]:
    """For each expected observation, the products that are it (ids without any are absent)."""
    groups = product_groups(conn)
    tolerance = timedelta(days=tolerance_days)
    found: dict[str, list[Matched]] = {}
    for expected in observations:
        if expected.window_start is None or expected.window_end is None:
            continue
        start, end = expected.window_start - tolerance, expected.window_end + tolerance
        window = f", observed in {expected.obs_start}..{expected.obs_end} +/- {tolerance_days:g} d"
        for group in groups:
            reason = _group_reason(expected, group, platforms)
            if reason is None:
                continue
            # One reason string per group (and program), shared by its products: a dense
            # catalog matches a hundred thousand products and each needs no text of its own.
            reasons: dict[str | None, str | None] = {}
            cursor = conn.cursor()
            cursor.row_factory = None  # plain tuples: far cheaper than sqlite3.Row per product
            for row in cursor.execute(_SELECT, (*group, iso(end), iso(start))):
                program = row[4]
                if program not in reasons:
                    reasons[program] = _program_reason(expected, program, reason + window)
                if reasons[program] is not None:
                    found.setdefault(expected.id, []).append(Matched(*row, reasons[program]))
    return found


def _program_reason(expected: Expected, program: str | None, reason: str) -> str | None:
    """The reason with the program, or None when the campaign's program rules the product out
    (another program observing at the same time with the same camera)."""
    if not expected.programs or not program:
        return reason
    return reason + f", program {program}" if names_any(expected.programs, program) else None
