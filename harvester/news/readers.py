"""What each reader of a catalog last saw: the newest event `harvester news` showed them (table
`news_readers`, migration 8). A reader is a name: the login name unless `--reader` says
otherwise, so people sharing a catalog, and a cron job mailing the news, each keep their own."""

from __future__ import annotations

import getpass
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from catalog.db import Catalog
from harvester.errors import CatalogError, ConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class LastLook:
    event_id: int
    at: str


def reader_name(explicit: str | None = None) -> str:
    if explicit is not None:
        if not _NAME.match(explicit):
            raise ConfigError(f"--reader {explicit!r}: use 1-64 letters, digits, '.', '_', '@' or '-'")
        return explicit
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "default"
    return name if _NAME.match(name or "") else "default"


def last_look(conn: sqlite3.Connection, reader: str) -> LastLook | None:
    try:
        row = conn.execute("SELECT last_event_id, last_looked_at FROM news_readers WHERE reader = ?",
                           (reader,)).fetchone()
    except sqlite3.OperationalError:  # a catalog from before migration 8, opened read-only
        return None
    return LastLook(row[0], row[1]) if row else None


def remember(path: str | Path, reader: str, event_id: int, now: str) -> None:
    """Record that `reader` has seen every event up to `event_id`. A mark never moves back (an
    older look finishing late cannot undo a newer one). Raises CatalogError when the catalog
    cannot be written (a read-only file or disk)."""
    try:
        with Catalog.open(path) as catalog, catalog.transaction() as conn:
            conn.execute(
                "INSERT INTO news_readers (reader, last_event_id, last_looked_at) VALUES (?, ?, ?) "
                "ON CONFLICT (reader) DO UPDATE SET "
                "last_event_id = max(last_event_id, excluded.last_event_id), "
                "last_looked_at = excluded.last_looked_at", (reader, event_id, now))
    except sqlite3.Error as exc:
        raise CatalogError(f"{path}: cannot record what {reader} has seen: {exc}") from None
