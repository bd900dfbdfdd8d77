"""Webhook alerts received by a real HTTP server on loopback: JSON body of the event and its
product, Standard Webhooks headers checked by the stock `standardwebhooks` verifier (and the old
HMAC header), idempotency key, retries with backoff, permanent failures, Slack form, and the
addresses a webhook may not reach."""

from __future__ import annotations

import base64
import hashlib
import hmac
import sqlite3
import time

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
    assert all(h.standard_ok for h in hook.hits)  # the stock Standard Webhooks verifier agrees
    assert all(h.signature_ok for h in hook.hits)  # and the old header is still right
    token = sqlite3.connect(db).execute("SELECT token FROM alerts_instance").fetchone()[0]
    assert sorted(hook.keys()) == sorted(f"{token}-{d[0]}" for d in deliveries(db))
    assert all(h.headers["webhook-id"] == h.key for h in hook.hits)
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
    # A passphrase is not a Standard Webhooks secret (base64): no stock verifier could use it,
    # so only the old header carries a signature.
    assert "webhook-signature" not in {k.lower() for k in hit.headers}


def test_a_whsec_secret_signs_id_timestamp_and_body_so_replays_and_edits_are_refused(make_config):
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    from tests.alerts.peers import WebhookPeer

    secret = "whsec_" + base64.b64encode(bytes(range(32))).decode()
    peer = WebhookPeer(secret=secret.encode()).start()
    try:
        path, _ = make_config()
        subscribe(path, peer.url)
        ok(harvester(["run", "--config", path], now=CLOCK_EARLY, env={SECRET_ENV: secret}))
        assert peer.hits and all(h.standard_ok for h in peer.hits)
        hit = peer.hits[0]
        verifier = Webhook(secret)
        assert verifier.verify(hit.body, hit.headers)["delivery_id"] == hit.headers["webhook-id"]
        replayed = dict(hit.headers, **{"webhook-timestamp": str(int(time.time()) - 3600)})
        with pytest.raises(WebhookVerificationError):  # an old request sent again
            verifier.verify(hit.body, replayed)
        with pytest.raises(WebhookVerificationError):  # the body changed on the way
            verifier.verify(hit.body.replace(b'"new"', b'"released"'), hit.headers)
        other_id = dict(hit.headers, **{"webhook-id": hit.headers["webhook-id"] + "0"})
        with pytest.raises(WebhookVerificationError):  # the id is signed too
            verifier.verify(hit.body, other_id)
    finally:
        peer.stop()


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/",
                                 "http://[fe80::1]/hook", "http://[::ffff:169.254.169.254]/",
                                 "http://100.100.100.200/latest", "http://0.0.0.0:8080/hook"])
def test_a_webhook_to_a_metadata_or_link_local_address_is_refused(config, url):
    path, db = config
    result = harvester(["subscribe", "add", "hook", "--where", "1", "--webhook", url,
                        "--config", path])
    assert result.returncode == 2, result.stderr
    assert "link-local or cloud metadata range" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_name_that_resolves_to_a_blocked_address_is_refused_when_sending(monkeypatch, hook):
    import socket

    from harvester.alerts.channels.guard import BlockedDestination, guarded_session

    real = socket.getaddrinfo

    def fake_dns(host, *args, **kwargs):  # the one outside collaborator: the resolver
        if host == "hook.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", args[0]))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    session = guarded_session()
    with pytest.raises(BlockedDestination, match="resolves to 169.254.169.254"):
        session.post("http://hook.example/latest/meta-data/", data=b"{}", timeout=1)
    with pytest.raises(BlockedDestination):
        session.post("http://[::ffff:169.254.169.254]/", data=b"{}", timeout=1)
    assert session.post(hook.url, data=b"{}", timeout=5).status_code == 200  # loopback is fine
    assert hook.hits


def test_an_allowed_network_may_be_reached(make_config):
    path, _ = make_config('webhook_allow_networks = ["169.254.0.0/16"]')
    added = harvester(["subscribe", "add", "hook", "--where", "1", "--webhook",
                       "http://169.254.169.254/hook", "--config", path])
    assert added.returncode == 0, added.stderr


def test_webhook_secrets_in_urls_never_show_in_listings_or_errors(config, hook):
    path, db = config
    url = hook.url.replace("http://", "http://user:pa55word@") + "/T000/B000/XXXXTOKEN?key=k3y"
    subscribe(path, url, "kind = 'new' AND mission = 'JWST'")
    hook.fail_next(500)
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    shown = (ok(harvester(["subscribe", "list", "--config", path])).stdout
             + ok(harvester(["subscribe", "list", "--format", "json", "--config", path])).stdout
             + ok(harvester(["alerts", "list", "--config", path])).stdout
             + ok(harvester(["status", "--config", path])).stdout)
    assert "http://***@127.0.0.1:" in shown and "HTTP 500" in shown
    for secret in ("pa55word", "XXXXTOKEN", "k3y", "user:"):
        assert secret not in shown


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
