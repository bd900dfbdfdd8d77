"""Matching events into the outbox, in process on a real catalog file: once per subscription
and event, cursors that only move forward when a predicate ran, events without a product
(the watch's) matchable too, and predicates that can only read even if the table was edited."""

from __future__ import annotations

import json

import pytest

from catalog import Catalog
from catalog.store import commit_page, start_run
from harvester.alerts.match import first_due, match_new_events
from harvester.alerts.predicate import check_predicate
from harvester.alerts.subscriptions import add_subscription
from harvester.engine import product_row
from harvester.product import Product
from harvester.timeutil import parse_iso

NOW = "2026-01-10T12:00:00.000Z"


def product(n: int, mission: str = "JWST", instrument: str = "NIRSPEC/IFU") -> dict:
    return product_row(Product(archive="mast", native_id=str(n), target_name="3I/ATLAS",
                               matched_by="alias:3I", mission=mission, instrument=instrument,
                               access="public", title=f"obs {n}", program="100"))


def store(catalog: Catalog, products: list[dict]) -> None:
    run = start_run(catalog, "mast", "mast", NOW)
    commit_page(catalog, source="mast", archive="mast", run_id=run, now=NOW, products=products,
                cursor=None, records=len(products), skipped=0, requests=1)


@pytest.fixture
def catalog(db_path):
    cat = Catalog.open(db_path)
    yield cat
    cat.close()


def subscribe(catalog: Catalog, name: str, predicate: str, **kwargs) -> None:
    add_subscription(catalog.conn, name=name, predicate=check_predicate(catalog.path, predicate),
                     channel="stdout", address=None, now=NOW, **kwargs)


def outbox(catalog: Catalog) -> list[tuple]:
    return catalog.conn.execute(
        "SELECT s.name, e.product_key FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
        "JOIN events e ON e.id = d.event_id ORDER BY s.name, e.id").fetchall()


def test_each_subscription_gets_each_matching_event_once(catalog):
    subscribe(catalog, "jwst", "kind = 'new' AND mission = 'JWST'")
    subscribe(catalog, "nircam", "instrument LIKE 'NIRCAM%'")
    store(catalog, [product(1), product(2, instrument="NIRCAM/IMAGE"), product(3, "HST", "WFC3/UVIS")])
    report = match_new_events(catalog.conn, now=NOW)
    assert (report.events, report.deliveries) == (3, 3)
    assert [tuple(r) for r in outbox(catalog)] == [
        ("jwst", "mast:1"), ("jwst", "mast:2"), ("nircam", "mast:2")]
    again = match_new_events(catalog.conn, now=NOW)
    assert (again.events, again.deliveries) == (0, 0)
    # even with the cursors wound back, the unique (subscription, event) keeps one row each
    catalog.conn.execute("UPDATE subscriptions SET matched_through = 0")
    assert match_new_events(catalog.conn, now=NOW).deliveries == 0
    assert len(outbox(catalog)) == 3


def test_a_correlated_subquery_sees_the_event_it_is_asked_about(catalog):
    # matching copies only the columns predicates read: the outer `alerts.program` must be one
    subscribe(catalog, "repeat-programs", "kind = 'new' AND EXISTS (SELECT 1 FROM products p "
              "WHERE p.program = alerts.program AND p.product_key != alerts.product_key)")
    store(catalog, [product(1), product(2)])
    store(catalog, [product_row_with_program(3, "777")])
    match_new_events(catalog.conn, now=NOW)
    assert [r[1] for r in outbox(catalog)] == ["mast:1", "mast:2"]


def product_row_with_program(n: int, program: str) -> dict:
    return product_row(Product(archive="mast", native_id=str(n), target_name="3I/ATLAS",
                               matched_by="alias:3I", mission="HST", access="public", program=program))


def test_a_subscription_added_later_starts_after_the_newest_event(catalog):
    store(catalog, [product(1)])
    subscribe(catalog, "late", "kind = 'new'")
    subscribe(catalog, "history", "kind = 'new'", backfill=True)
    store(catalog, [product(2)])
    match_new_events(catalog.conn, now=NOW)
    assert [tuple(r) for r in outbox(catalog)] == [
        ("history", "mast:1"), ("history", "mast:2"), ("late", "mast:2")]


def test_events_without_a_product_are_matchable(catalog):
    subscribe(catalog, "silence", "kind = 'silent' AND archive = 'pds'")
    catalog.conn.execute(
        "INSERT INTO events (time, kind, product_key, source, detail) VALUES (?, 'silent', NULL, "
        "'pds', ?)", (NOW, json.dumps({"archive": "pds", "message": "nothing new for 40 days"})))
    assert match_new_events(catalog.conn, now=NOW).deliveries == 1


def test_a_predicate_failing_at_run_time_keeps_its_cursor_and_spares_the_others(catalog):
    subscribe(catalog, "fine", "kind = 'new'")
    # json_extract of a title that is not JSON fails only when a row is read
    subscribe(catalog, "brittle", "json_extract(title, '$.x') = 1")
    store(catalog, [product(1)])
    report = match_new_events(catalog.conn, now=NOW)
    assert report.by_subscription == {"fine": 1}
    assert "malformed JSON" in report.errors["brittle"]
    rows = dict(catalog.conn.execute("SELECT name, matched_through FROM subscriptions").fetchall())
    assert rows["brittle"] == 0 and rows["fine"] == 1
    error = catalog.conn.execute("SELECT match_error FROM subscriptions WHERE name = 'brittle'").fetchone()[0]
    assert "malformed JSON" in error


def test_a_predicate_edited_into_the_table_still_cannot_call_unsafe_functions(catalog):
    subscribe(catalog, "edited", "kind = 'new'")
    # someone bypasses `subscribe add` with the sqlite3 shell
    catalog.conn.execute("UPDATE subscriptions SET predicate = 'load_extension(''x'') IS NULL'")
    store(catalog, [product(1)])
    report = match_new_events(catalog.conn, now=NOW)
    assert "not authorized" in report.errors["edited"]
    assert outbox(catalog) == []


def test_a_daily_digest_is_first_due_at_the_next_midnight():
    assert first_due("day", parse_iso("2026-01-10T23:59:00Z")) == "2026-01-11T00:00:00.000Z"
    assert first_due("each", parse_iso("2026-01-10T23:59:00Z")) == "2026-01-10T23:59:00.000Z"


def test_the_alerts_view_has_the_documented_columns(catalog):
    columns = [r[1] for r in catalog.conn.execute("PRAGMA table_info(alerts)")]
    assert columns[:8] == ["event_id", "time", "kind", "product_key", "source", "run_id", "detail",
                           "archive"]
    for name in ("mission", "instrument", "access", "release_date", "obs_start", "url", "extra"):
        assert name in columns
    assert len(columns) == len(set(columns))

