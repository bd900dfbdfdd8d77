"""Atom feeds (RFC 4287): one file per Atom subscription, and optionally one of every event.

A feed is rebuilt from the catalog each time (the newest `feed_entries` entries) and replaces
the old file atomically, so a reader never sees half a file. An entry's id is a tag: URI made
from the catalog's instance token and the event id: it never changes, so a feed reader never
shows an entry twice, and rewriting a feed after a crash changes nothing it has seen.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from harvester.alerts.channels.base import DeliveryError, Unit
from harvester.alerts.message import Alert, alert_from_row, load_alerts
from harvester.output import xml_text
from harvester.timeutil import iso, utcnow

ATOM_NS = "http://www.w3.org/2005/Atom"
TAG_AUTHORITY = "harvester-3i,2025"


def entry_id(token: str, event_id: int) -> str:
    return f"tag:{TAG_AUTHORITY}:{token}/event/{event_id}"


def feed_id(token: str, what: str) -> str:
    return f"tag:{TAG_AUTHORITY}:{token}/{what}"


def render_feed(*, token: str, what: str, title: str, alerts: list[Alert], empty_updated: str,
                subtitle: str = "") -> bytes:
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}",
                                {k: xml_text(v) for k, v in attrs.items()})
        if text is not None:
            element.text = xml_text(text)
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", feed_id(token, what))
    sub(feed, "title", title)
    if subtitle:
        sub(feed, "subtitle", subtitle)
    sub(feed, "updated", max((a.event["time"] for a in alerts), default=empty_updated))
    author = sub(feed, "author")
    sub(author, "name", "harvester-3i")
    sub(feed, "generator", "harvester-3i")
    for alert in alerts:
        entry = sub(feed, "entry")
        sub(entry, "id", entry_id(token, alert.event_id))
        sub(entry, "title", alert.title())
        sub(entry, "updated", alert.event["time"])
        sub(entry, "published", alert.event["time"])
        sub(entry, "category", term=alert.event["kind"])
        url = (alert.product or {}).get("url")
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            sub(entry, "link", href=url, rel="alternate")
        text = "\n".join(f"{label}: {value}" for label, value in alert.lines())
        sub(entry, "content", text, type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def write_atomically(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename over `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a feed is for others to read, unlike mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class AtomChannel:
    def __init__(self, conn: sqlite3.Connection, *, token: str, entries: int) -> None:
        self.conn = conn
        self.token = token
        self.entries = entries

    def destination(self, unit: Unit) -> str:
        return f"file:{unit.subscription.address}"

    def send(self, unit: Unit) -> None:
        sub = unit.subscription
        # The feed: the newest `entries` of what was sent before and what is due now.
        due = unit.ids[-self.entries:]
        sent = [r[0] for r in self.conn.execute(
            "SELECT id FROM deliveries WHERE subscription_id = ? AND status = 'sent' "
            "ORDER BY event_id DESC LIMIT ?", (sub.id, self.entries))]
        by_id = load_alerts(self.conn, sorted(set(due) | set(sent)))
        newest = sorted(by_id.values(), key=lambda a: a.event_id, reverse=True)[:self.entries]
        data = render_feed(token=self.token, what=f"subscription/{sub.id}",
                           title=f"3I/ATLAS alerts: {sub.name}", subtitle=sub.predicate,
                           alerts=newest, empty_updated=sub.created_at)
        try:
            write_atomically(sub.address or "", data)
        except OSError as exc:
            raise DeliveryError(f"cannot write Atom feed {sub.address}: {exc}",
                                unreachable=True) from None

    def close(self) -> None:
        pass


def write_events_feed(conn: sqlite3.Connection, path: str, *, entries: int) -> int:
    """The feed of every event (`[alerts] all_events_feed`); returns how many entries it holds."""
    from harvester.alerts.message import instance_token

    token = instance_token(conn)
    rows = conn.execute("SELECT * FROM alerts ORDER BY event_id DESC LIMIT ?", (entries,)).fetchall()
    alerts = [alert_from_row(r, delivery=0, key="", subscription="") for r in rows]
    data = render_feed(token=token, what="events", title="3I/ATLAS: every new event",
                       alerts=alerts, empty_updated=iso(utcnow()))
    target = Path(path).expanduser()
    if not target.parent.is_dir():
        raise DeliveryError(f"[alerts] all_events_feed: directory {target.parent} does not exist")
    write_atomically(target, data)
    return len(alerts)
