"""One look at a catalog's news: from a path, a window and a reader to a digest."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from catalog.query import readonly_connection
from harvester.links import Links
from harvester.news.digest import PER_SECTION, Digest, build_digest
from harvester.news.items import items_after, items_since, newest_event_id
from harvester.news.readers import last_look
from harvester.news.since import Since
from harvester.timeutil import iso

FIRST_LOOK = timedelta(days=7)


def whats_new(path: str | Path, since: Since, *, now: datetime, reader: str | None = None,
              links: Links | None = None, per_section: int = PER_SECTION) -> Digest:
    """The digest of the events of `since`'s window. With `since.last`, the window starts after
    the newest event this reader was shown (their first look: the last 7 days). The window ends
    at the newest event when the look starts, so events a harvest adds meanwhile are the next
    look's, never lost between two. `digest.last_event_id` is what to remember."""
    name = Path(path).name
    links = links or Links()
    conn = readonly_connection(path)
    try:
        upto = newest_event_id(conn)
        notes: list[str] = []
        previous = last_look(conn, reader) if since.last and reader else None
        if previous is not None:
            heading = f"What's new in {name} since {reader} last looked"
            items = items_after(conn, previous.event_id, upto, links)
            start = previous.at
        else:
            moment = since.moment if not since.last else now - FIRST_LOOK
            if since.last:
                notes.append(f"First look for {reader or 'this reader'}: the last "
                             f"{FIRST_LOOK.days} days. Next time, what is new since now.")
            heading = f"What's new in {name}"
            items = items_since(conn, iso(moment), upto, links)
            start = iso(moment)
        digest = build_digest(items, heading=heading, since=start, per_section=per_section)
    finally:
        conn.close()
    digest.notes = notes + digest.notes
    digest.last_event_id = max(digest.last_event_id, upto)
    return digest
