"""What an alert says: the event and its product as JSON, a title and a few text lines.

Every channel renders from here, so an email, a webhook body, a feed entry and a stdout line
about one delivery tell the same story. The JSON is serialized with sorted keys, so a re-sent
delivery has byte-identical content (and the same webhook signature).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

EVENT_COLUMNS = ("event_id", "time", "kind", "product_key", "source", "run_id", "detail")
PRODUCT_COLUMNS = ("archive", "native_id", "version", "mission", "instrument", "target_name",
                   "matched_by", "product_type", "processing_level", "obs_start", "obs_end",
                   "release_date", "access", "first_seen", "first_public", "url", "size_bytes",
                   "program", "title", "extra")
_JSON_COLUMNS = ("detail", "extra")


@dataclass
class Alert:
    """One delivery's content: `delivery` is its row id, `key` its public id."""

    delivery: int
    key: str
    subscription: str
    event: dict[str, Any]
    product: dict[str, Any] | None

    @property
    def event_id(self) -> int:
        return int(self.event["id"])

    def payload(self) -> dict[str, Any]:
        return {"delivery_id": self.key, "subscription": self.subscription,
                "event": self.event, "product": self.product}

    def body(self) -> bytes:
        return json.dumps(self.payload(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode()

    def title(self) -> str:
        kind = self.event["kind"]
        p = self.product
        if p is None:
            detail = self.event.get("detail")
            detail = detail if isinstance(detail, dict) else {}
            where = (detail.get("what") or self.event.get("source") or detail.get("archive")
                     or "the harvester")
            return f"{kind}: {where}{_detail_note(detail)}"
        what = " ".join(x for x in (p.get("mission"), p.get("instrument")) if x) or p["archive"]
        head = {"new": "New", "released": "Now public", "updated": "Updated"}.get(kind, kind)
        return f"{head}: {what} {self.event['product_key']}"

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs worth showing a person, in reading order."""
        e, p = self.event, self.product or {}
        pairs = [("event", f"{e['kind']} #{e['id']} at {e['time']}")]
        if e.get("product_key"):
            pairs.append(("product", e["product_key"]))
        for label, key in (("title", "title"), ("mission", "mission"), ("instrument", "instrument"),
                           ("observed", "obs_start"), ("access", "access"),
                           ("release date", "release_date"), ("program", "program"),
                           ("url", "url")):
            if p.get(key) not in (None, ""):
                pairs.append((label, str(p[key])))
        detail = e.get("detail")
        if detail:
            pairs.append(("detail", json.dumps(detail, sort_keys=True, ensure_ascii=False)))
        return pairs


def _detail_note(detail: dict[str, Any]) -> str:
    for key in ("reason", "message", "error"):
        if detail.get(key):
            return f": {detail[key]}"
    return ""


def _json_or_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def alert_from_row(row: sqlite3.Row | dict[str, Any], *, delivery: int, key: str,
                   subscription: str) -> Alert:
    """An Alert from a row of the `alerts` view (joined to a delivery)."""
    event = {("id" if c == "event_id" else c): row[c] for c in EVENT_COLUMNS}
    event["detail"] = _json_or_text(event["detail"])
    product = None
    if row["product_key"] is not None and row["native_id"] is not None:
        product = {c: row[c] for c in PRODUCT_COLUMNS}
        product["extra"] = _json_or_text(product["extra"])
        product["product_key"] = row["product_key"]
    return Alert(delivery=delivery, key=key, subscription=subscription, event=event,
                 product=product)


def instance_token(conn: sqlite3.Connection) -> str:
    return conn.execute("SELECT token FROM alerts_instance WHERE id = 1").fetchone()[0]


def delivery_key(token: str, delivery: int) -> str:
    """The public id of a delivery: Idempotency-Key, the Message-ID's local part, JSON delivery_id."""
    return f"{token}-{delivery}"


def load_alerts(conn: sqlite3.Connection, delivery_ids: list[int]) -> dict[int, Alert]:
    """The content of these deliveries, by delivery id."""
    token = instance_token(conn)
    found: dict[int, Alert] = {}
    for start in range(0, len(delivery_ids), 500):
        chunk = delivery_ids[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        rows = conn.execute(
            f"SELECT d.id AS delivery, s.name AS subscription_name, a.* FROM deliveries d "
            f"JOIN subscriptions s ON s.id = d.subscription_id "
            f"JOIN alerts a ON a.event_id = d.event_id WHERE d.id IN ({marks})", chunk)
        for row in rows:
            found[row["delivery"]] = alert_from_row(
                row, delivery=row["delivery"], key=delivery_key(token, row["delivery"]),
                subscription=row["subscription_name"])
    return found
