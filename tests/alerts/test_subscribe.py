"""`harvester subscribe add|list|remove|test`: predicates checked by SQLite before anything is
stored, one channel each, only http(s) webhooks, no history unless --backfill."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.alerts.conftest import harvester, ok
from tests.harvest_helpers import count
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE

JWST = "kind = 'new' AND mission = 'JWST'"


@pytest.fixture
def config(make_config):
    return make_config()


def subscriptions(db: str) -> int:
    """Stored subscriptions; a refusal before the catalog was even opened stores nothing too."""
    if not Path(db).exists():
        return 0
    return count(db, "SELECT COUNT(*) FROM subscriptions")


def test_a_good_predicate_is_stored_and_listed(config):
    path, db = config
    added = ok(harvester(["subscribe", "add", "jwst", "--where", JWST, "--email",
                          "me@example.org", "--config", path]))
    assert "subscribed jwst: email m***@example.org" in added.stdout  # listings redact addresses
    listed = json.loads(ok(harvester(["subscribe", "list", "--format", "json", "--config", path])).stdout)
    assert [(r["name"], r["channel"], r["address"], r["predicate"]) for r in listed] == [
        ("jwst", "email", "m***@example.org", JWST)]
    assert count(db, "SELECT COUNT(*) FROM subscriptions WHERE address = 'me@example.org'") == 1


@pytest.mark.parametrize("predicate, message", [
    ("kind = 'new' AND", 'SQLite says: near ")": syntax error'),
    ("kind = 'new' AND colour = 'red'", "SQLite says: no such column: colour"),
    ("kind = 'new'; DROP TABLE products", "refused: ';'"),
    ("1) UNION SELECT event_id FROM events WHERE (1", "closes a parenthesis it never opened"),
    ("load_extension('/tmp/evil.so') IS NULL", "not authorized to use function: load_extension"),
    ("readfile('/etc/passwd') IS NOT NULL", "SQLite says: no such function: readfile"),
    ("kind = 'new' -- and a comment", "refused: a comment"),
    ("", "the predicate is empty"),
])
def test_a_bad_predicate_is_refused_with_the_reason_and_nothing_is_stored(config, predicate, message):
    path, db = config
    result = harvester(["subscribe", "add", "bad", "--where", predicate, "--stdout",
                        "--config", path])
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert subscriptions(db) == 0


def test_a_predicate_may_read_other_tables_through_a_subquery(config):
    path, db = config
    ok(harvester(["subscribe", "add", "known-programs", "--where",
                  "kind = 'new' AND program IN (SELECT program FROM products WHERE mission = 'HST')",
                  "--stdout", "--config", path]))
    assert subscriptions(db) == 1


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/hook", "javascript:alert(1)",
                                 "example.org/hook", "http://"])
def test_a_webhook_to_a_non_http_scheme_is_refused(config, url):
    path, db = config
    result = harvester(["subscribe", "add", "hook", "--where", "1", "--webhook", url,
                        "--config", path])
    assert result.returncode == 2
    assert "only http(s) URLs are accepted" in result.stderr
    assert subscriptions(db) == 0


@pytest.mark.parametrize("args, message", [
    ([], "give exactly one channel"),
    (["--stdout", "--email", "me@example.org"], "give exactly one channel"),
    (["--email", "not-an-address"], "not an email address"),
    (["--stdout", "--digest", "day"], "--digest applies to --email subscriptions only"),
    (["--email", "me@example.org", "--secret-env", "X"], "--secret-env applies to --webhook"),
    (["--webhook", "https://example.org/h", "--secret-env", "BAD-NAME"], "not an environment variable"),
    (["--atom", "/no/such/dir/feed.xml"], "directory /no/such/dir does not exist"),
])
def test_channel_options_are_checked(config, args, message):
    path, db = config
    result = harvester(["subscribe", "add", "x", "--where", "1", *args, "--config", path])
    assert result.returncode == 2
    assert message in result.stderr
    assert subscriptions(db) == 0


def test_a_name_is_unique(config):
    path, _ = config
    ok(harvester(["subscribe", "add", "twice", "--where", "1", "--stdout", "--config", path]))
    again = harvester(["subscribe", "add", "twice", "--where", "1", "--stdout", "--config", path])
    assert again.returncode == 2 and "exists already" in again.stderr


def test_remove_drops_the_subscription_and_its_outbox(config):
    path, db = config
    ok(harvester(["subscribe", "add", "all", "--where", "kind = 'new'", "--stdout", "--config", path]))
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    assert count(db, "SELECT COUNT(*) FROM deliveries") == 15
    removed = ok(harvester(["subscribe", "remove", "all", "--config", path]))
    assert "15 outbox rows" in removed.stdout
    assert count(db, "SELECT COUNT(*) FROM deliveries") == 0
    missing = harvester(["subscribe", "remove", "all", "--config", path])
    assert missing.returncode == 2 and "no subscription named 'all'" in missing.stderr


def test_a_new_subscription_gets_no_history_unless_backfill(config):
    path, db = config
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))  # 15 events already there
    ok(harvester(["subscribe", "add", "fresh", "--where", "kind = 'new'", "--stdout", "--config", path]))
    ok(harvester(["subscribe", "add", "history", "--where", "kind = 'new'", "--stdout", "--backfill",
                  "--config", path]))
    ok(harvester(["alerts", "send", "--config", path], now=CLOCK_EARLY))
    per_sub = dict(count_rows(db, "SELECT s.name, COUNT(d.id) FROM subscriptions s "
                                  "LEFT JOIN deliveries d ON d.subscription_id = s.id GROUP BY s.name"))
    assert per_sub == {"fresh": 0, "history": 15}


def count_rows(db: str, sql: str) -> list[tuple]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_subscribe_test_shows_recent_matches_and_sends_nothing(config, smtp):
    path, db = config
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    ok(harvester(["subscribe", "add", "jwst", "--where", JWST, "--email", "me@example.org",
                  "--config", path], now=CLOCK_EARLY))
    shown = ok(harvester(["subscribe", "test", "jwst", "--days", "10", "--config", path],
                         now=CLOCK_EARLY))
    assert "mast:2001" in shown.stdout
    assert "1 events of the last 10 days match jwst" in shown.stdout
    assert smtp.mails == []
    assert count(db, "SELECT COUNT(*) FROM deliveries") == 0
    # long after the events, the window holds nothing
    later = ok(harvester(["subscribe", "test", "jwst", "--days", "10", "--config", path],
                         now=CLOCK_LATE))
    assert "0 events of the last 10 days" in later.stdout


def test_subscribe_test_send_mails_one_marked_test_alert(config, smtp):
    path, db = config
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    ok(harvester(["subscribe", "add", "jwst", "--where", JWST, "--email", "me@example.org",
                  "--config", path]))
    sent = ok(harvester(["subscribe", "test", "jwst", "--send", "--config", path], now=CLOCK_EARLY))
    assert "sent a test alert about event" in sent.stdout
    assert len(smtp.mails) == 1
    mail = smtp.mails[0]
    assert mail["X-Harvester-Test"] == "yes"
    assert "[test]" in mail["Subject"] and "mast:2001" in mail["Subject"]
    assert count(db, "SELECT COUNT(*) FROM deliveries") == 0  # a test is not an outbox entry
