"""The events of a window, each with what it is about: its product (new, updated, released) or
its expected observation (overdue, overdue_cleared), read in one pass so a window of a hundred
thousand new products is never held in memory."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from harvester.links import Links

_SELECT = """
SELECT e.id AS event_id, e.time AS time, e.kind AS kind, e.product_key AS product_key,
       e.source AS source, e.detail AS detail, e.expected_id AS expected_id,
       COALESCE(p.archive, json_extract(e.detail, '$.archive')) AS archive,
       p.mission AS mission, p.instrument AS instrument, p.title AS title, p.url AS url,
       p.access AS access, p.release_date AS release_date, p.obs_start AS obs_start,
       x.sources AS expected_sources
FROM events e
LEFT JOIN products p ON p.product_key = e.product_key
LEFT JOIN expected x ON x.id = e.expected_id
"""


@dataclass
class Item:
    """One event of a digest, with the columns a reader needs."""

    event_id: int
    time: str
    kind: str
    product_key: str | None = None
    source: str | None = None
    expected_id: str | None = None
    archive: str | None = None
    mission: str | None = None
    instrument: str | None = None
    title: str | None = None
    url: str | None = None
    access: str | None = None
    release_date: str | None = None
    obs_start: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    link: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row, links: Links) -> Item:
        detail = _json(row["detail"])
        item = cls(event_id=row["event_id"], time=row["time"], kind=row["kind"],
                   product_key=row["product_key"], source=row["source"],
                   expected_id=row["expected_id"] or detail.get("expected_id"),
                   archive=row["archive"], mission=row["mission"], instrument=row["instrument"],
                   title=row["title"], url=row["url"], access=row["access"],
                   release_date=row["release_date"], obs_start=row["obs_start"],
                   detail=detail if isinstance(detail, dict) else {})
        item.link = links.web(item.url, item.source) or _first_url(row["expected_sources"])
        return item


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text or {}
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return {"text": text}


def _first_url(sources: str | None) -> str | None:
    """The first web address documenting an expected observation (the campaign's sources)."""
    values = _json(sources) if sources else []
    for value in values if isinstance(values, list) else []:
        # An entry may carry a note after its address: "https://... (reprint of a release)".
        words = value.split() if isinstance(value, str) else []
        if words and words[0].startswith(("http://", "https://")):
            return words[0]
    return None


def newest_event_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]


def items_after(conn: sqlite3.Connection, after_id: int, upto_id: int, links: Links) -> Iterator[Item]:
    """Events with after_id < id <= upto_id, oldest first."""
    for row in conn.execute(_SELECT + " WHERE e.id > ? AND e.id <= ? ORDER BY e.id",
                            (after_id, upto_id)):
        yield Item.from_row(row, links)


def items_since(conn: sqlite3.Connection, moment: str, upto_id: int, links: Links) -> Iterator[Item]:
    """Events recorded at or after `moment` (the catalog's ISO form), up to id upto_id."""
    for row in conn.execute(_SELECT + " WHERE e.time >= ? AND e.id <= ? ORDER BY e.id",
                            (moment, upto_id)):
        yield Item.from_row(row, links)


def items_for(conn: sqlite3.Connection, event_ids: Sequence[int], links: Links) -> list[Item]:
    """These events (an email digest's), oldest first."""
    found: list[Item] = []
    for start in range(0, len(event_ids), 500):
        chunk = list(event_ids[start:start + 500])
        marks = ",".join("?" for _ in chunk)
        found += [Item.from_row(r, links) for r in conn.execute(_SELECT + f" WHERE e.id IN ({marks})", chunk)]
    return sorted(found, key=lambda i: i.event_id)
