"""What the release watch last concluded of each source, for `harvester status`: apart from
the report so that status, which only reads one table, does not import the watch's evaluation."""

from __future__ import annotations

import sqlite3
from typing import Any


def source_flags(conn: Any) -> dict[str, str]:
    """Per source, what the watch last concluded when it is worth a glance, e.g. {"pds":
    "silent since 2026-11-21"} (for `harvester status`); empty for a catalog without the watch."""

    try:
        rows = conn.execute("SELECT subject, state, since FROM watch_state WHERE "
                            "(subject LIKE 'health:%' AND state = 'failing') OR "
                            "(subject LIKE 'silence:%' AND state = 'silent') ORDER BY subject").fetchall()
    except sqlite3.OperationalError:
        return {}
    flags: dict[str, str] = {}
    for subject, state, since in rows:
        source = subject.split(":", 1)[1]
        text = f"{state} since {since[:10]}"
        flags[source] = f"{flags[source]}, {text}" if source in flags else text
    return flags
