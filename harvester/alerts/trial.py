"""`harvester subscribe test`: what a subscription would have matched lately, and an optional
test send of the newest match (marked as a test, not recorded in the outbox)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

from catalog.limits import Bounded, Limits
from harvester.alerts.match import DEFAULT_PREDICATE_SECONDS
from harvester.alerts.message import alert_from_row, instance_token
from harvester.alerts.predicate import reading_authorizer, where_clause
from harvester.alerts.subscriptions import Subscription, get_subscription
from harvester.errors import ConfigError
from harvester.timeutil import iso, utcnow


def recent_matches(conn: sqlite3.Connection, catalog_path: str, name: str, *, days: float,
                   limit: int, limits: Limits | None = None
                   ) -> tuple[Subscription, int, list[sqlite3.Row]]:
    """The subscription, how many events of the last `days` match it, and the newest `limit`."""
    from catalog.db import open_readonly

    sub = get_subscription(conn, name)
    since = iso(utcnow() - timedelta(days=days))
    reader = open_readonly(catalog_path)
    try:
        reader.set_authorizer(reading_authorizer)
        where = f"time >= ? AND {where_clause(sub.predicate)}"
        with Bounded(reader, limits or Limits(seconds=DEFAULT_PREDICATE_SECONDS)) as bound:
            try:
                total = reader.execute(f"SELECT COUNT(*) FROM alerts WHERE {where}",
                                       (since,)).fetchone()[0]
                bound.restart()
                rows = reader.execute(f"SELECT * FROM alerts WHERE {where} ORDER BY event_id DESC "
                                      "LIMIT ?", (since, limit)).fetchall()
            except (sqlite3.Error, MemoryError) as exc:
                if bound.reason is None and "interrupted" in str(exc):
                    raise KeyboardInterrupt from None
                limited = bound.explain(exc, "the predicate")
                raise ConfigError(f"subscription {name}: {limited or f'the predicate fails: {exc}'}"
                                  ) from None
    finally:
        reader.close()
    return sub, total, rows


def send_test(conn: sqlite3.Connection, settings: Any, sub: Subscription,
              row: sqlite3.Row | None) -> str:
    """Send one alert about `row` through the subscription's channel now; says what it did."""
    from harvester.alerts.channels.base import DeliveryError, Unit
    from harvester.alerts.channels.registry import Channels

    if row is None:
        return "nothing matched, so nothing was sent"
    if sub.channel == "atom":
        return "an Atom feed has no receiver to test; the feed is written at the next send"
    stamp = iso(utcnow()).replace(":", "").replace("-", "").replace(".", "")
    key = f"{instance_token(conn)}-test-{row['event_id']}-{stamp}"
    alert = alert_from_row(row, delivery=0, key=key, subscription=sub.name)
    channels = Channels(conn, settings, test=True)
    try:
        channels.get(sub.channel).send(Unit(subscription=sub, alerts=[alert]))
    except DeliveryError as exc:
        raise ConfigError(f"test send to {sub.describe_channel()} failed: {exc}") from None
    finally:
        channels.close()
    return f"sent a test alert about event {row['event_id']} to {sub.describe_channel()}"
