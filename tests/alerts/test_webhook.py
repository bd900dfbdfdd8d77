"""Webhook alerts received by a real HTTP server on loopback: JSON body of the event and its
product, HMAC signature, idempotency key, retries with backoff, permanent failures, Slack form."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3

import pytest

from tests.alerts.conftest import SECRET_ENV, harvester, ok
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE


@pytest.fixture
def config(make_config):
    return make_config()


def subscribe(path: str, url: str, predicate: str = "kind = 'new' AND archive = 'pds'",
              *extra: str) -> None:
    ok(harvester(["subscribe", "add", "hook", "--where", predicate, "--webhook", url,
                  "--secret-env", SECRET_ENV, *extra, "--config", path]))


def deliveries(db: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT id, status, attempts FROM deliveries ORDER BY id").fetchall()
    finally:
        conn.close()


def test_each_event_is_posted_signed_with_its_delivery_id_as_idempotency_key(config, hook):
    path, db = config
    subscribe(path, hook.url)
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    assert len(hook.hits) == 6
    assert all(h.signature_ok for h in hook.hits)
    token = sqlite3.connect(db).execute("SELECT token FROM alerts_instance").fetchone()[0]
    assert sorted(hook.keys()) == sorted(f"{token}-{d[0]}" for d in deliveries(db))
    body = hook.hits[0].json()
    assert body["delivery_id"] == hook.hits[0].key
    assert body["subscription"] == "hook"
    assert body["event"]["kind"] == "new"
    assert body["product"]["archive"] == "pds"
    assert body["product"]["product_key"] == body["event"]["product_key"]
    assert body["product"]["instrument"] == "HIRISE"
    assert hook.hits[0].headers["Content-Type"] == "application/json"
    assert {d[1] for d in deliveries(db)} == {"sent"}


def test_the_signature_is_an_hmac_of_the_exact_body(config, hook):
    path, _ = config
    subscribe(path, hook.url)
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY,
                 env={SECRET_ENV: "another secret"}))
    hit = hook.hits[0]
    assert not hit.signature_ok  # the peer expects "s3cret"
    expected = "sha256=" + hmac.new(b"another secret", hit.body, hashlib.sha256).hexdigest()
    assert hit.headers["X-Harvester-Signature"] == expected


def test_a_missing_secret_is_a_failed_attempt_not_an_unsigned_post(config, hook):
    path, db = config
    subscribe(path, hook.url)
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY, env={SECRET_ENV: ""}))
    assert hook.hits == []
    assert {d[1:] for d in deliveries(db)} == {("pending", 1)}


def test_a_failing_receiver_gets_the_delivery_again_after_the_backoff(config, hook):
    path, db = config
    subscribe(path, hook.url, "kind = 'new' AND mission = 'JWST'")
    hook.fail_next(503)
    ok(harvester(["run", "--config", path], now="2025-12-01T00:00:00Z"))
    assert hook.hits == []
    assert deliveries(db)[0][1:] == ("pending", 1)
    not_yet = harvester(["alerts", "send", "--config", path], now="2025-12-01T00:00:59Z")
    assert not_yet.returncode == 0 and hook.hits == []
    ok(harvester(["alerts", "send", "--config", path], now="2025-12-01T00:01:00Z"))
    assert len(hook.hits) == 1
    assert deliveries(db)[0][1:] == ("sent", 2)


def test_after_max_attempts_the_delivery_is_failed(config, hook):
    path, db = config
    subscribe(path, hook.url, "kind = 'new' AND mission = 'JWST'")
    hook.fail_next(500, times=3)
    ok(harvester(["run", "--config", path], now="2025-12-01T00:00:00Z"))
    harvester(["alerts", "send", "--config", path], now="2025-12-01T00:01:00Z")
    last = harvester(["alerts", "send", "--config", path], now="2025-12-01T00:03:00Z")
    assert last.returncode == 1 and "1 failed" in last.stderr
    assert deliveries(db)[0][1:] == ("failed", 3)
    listed = ok(harvester(["alerts", "list", "--status", "failed", "--config", path])).stdout
    assert "HTTP 500" in listed


def test_a_client_error_is_permanent(config, hook):
    path, db = config
    subscribe(path, hook.url, "kind = 'new' AND mission = 'JWST'")
    hook.fail_next(410)
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    assert deliveries(db)[0][1:] == ("failed", 1)


def test_a_receiver_that_is_down_is_tried_once_per_pass(config, hook):
    path, db = config
    url = hook.url
    hook.stop()
    subscribe(path, url)
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    assert [d[2] for d in deliveries(db)] == [1, 0, 0, 0, 0, 0]


def test_slack_format_posts_a_text_line(config, hook, sandbox):
    path, _ = config
    subscribe(path, hook.url, "kind = 'released'", "--format", "slack")
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    sandbox.set_clock(CLOCK_LATE)
    ok(harvester(["run", "--config", path], now=CLOCK_LATE))
    assert [h.json() for h in hook.hits] == [{"text": "Now public: JWST NIRSPEC/IFU mast:2001"}]
    assert hook.hits[0].signature_ok


def test_a_harvest_stops_sending_after_its_budget_and_alerts_send_finishes(make_config, hook):
    path, db = make_config("send_budget = 0.001")
    subscribe(path, hook.url)
    hook.delay = 0.05
    run = ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    assert "mast: ok" in run.stdout
    early = len(hook.hits)
    assert 1 <= early < 6
    assert [d[1:] for d in deliveries(db)].count(("pending", 0)) == 6 - early  # not tried: no attempt
    sent = ok(harvester(["alerts", "send", "--config", path], now=CLOCK_EARLY))
    assert f"{6 - early} sent" in sent.stderr
    assert sorted(hook.keys()) == sorted(set(hook.keys())) and len(hook.hits) == 6
