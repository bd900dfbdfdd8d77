"""Alerts in `harvester demo`: a stdout subscription made before the first harvest, and, after
the harvests, the alerts it would send (left in the outbox: `harvester alerts send` prints
them as JSON lines)."""

from __future__ import annotations

from collections.abc import Callable

DEMO_NAME = "demo-jwst-hst"
DEMO_PREDICATE = "kind IN ('new', 'released') AND mission IN ('JWST', 'HST')"


def add_demo_subscription(catalog_path: str, echo: Callable[[str], None]) -> None:
    """Subscribe the demo catalog to new and released JWST/HST products (once)."""
    from catalog import Catalog
    from harvester.alerts.predicate import check_predicate
    from harvester.alerts.subscriptions import add_subscription
    from harvester.timeutil import iso, utcnow

    catalog = Catalog.open(catalog_path)
    try:
        if catalog.conn.execute("SELECT 1 FROM subscriptions WHERE name = ?", (DEMO_NAME,)).fetchone():
            return
        predicate = check_predicate(catalog_path, DEMO_PREDICATE)
        add_subscription(catalog.conn, name=DEMO_NAME, predicate=predicate, channel="stdout",
                         address=None, now=iso(utcnow()))
    finally:
        catalog.close()
    echo(f"\n== harvester subscribe add {DEMO_NAME} --where \"{DEMO_PREDICATE}\" --stdout "
         f"--catalog {catalog_path}")


def show_pending_alerts(catalog_path: str, echo: Callable[[str], None], *, limit: int = 15) -> int:
    """Print the demo subscription's alerts waiting in the outbox; returns how many there are."""
    from catalog.db import open_readonly
    from harvester.output import write_rows

    conn = open_readonly(catalog_path)
    try:
        total = conn.execute(
            "SELECT COUNT(*) FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
            "WHERE s.name = ? AND d.status = 'pending'", (DEMO_NAME,)).fetchone()[0]
        rows = conn.execute(
            "SELECT d.id, a.time, a.kind, a.product_key, a.mission, a.instrument, a.access "
            "FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
            "JOIN alerts a ON a.event_id = d.event_id "
            "WHERE s.name = ? AND d.status = 'pending' ORDER BY d.id LIMIT ?",
            (DEMO_NAME, limit)).fetchall()
    finally:
        conn.close()
    echo(f"\n== The alerts subscription {DEMO_NAME} would send ({total}; "
         f"`harvester alerts send --catalog {catalog_path}` prints them as JSON lines)")
    write_rows(["delivery", "time", "kind", "product_key", "mission", "instrument", "access"],
               [tuple(r) for r in rows], "table")
    if total > limit:
        echo(f"... and {total - limit} more")
    return total
