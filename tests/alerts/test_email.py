"""Email alerts received by a real SMTP server (aiosmtpd on loopback): content, headers, digests,
retries with backoff, failure after max_attempts, STARTTLS."""

from __future__ import annotations

import re
import shutil
import sqlite3
import ssl
import subprocess

import pytest

from harvester.alerts.status import delivery_summary
from tests.alerts.conftest import harvester, ok
from tests.harvest_helpers import count
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE

MAST_NEW = "kind = 'new' AND archive = 'mast'"  # 9 events at CLOCK_EARLY


@pytest.fixture
def config(make_config):
    return make_config()


def subscribe(path: str, name: str, predicate: str, *extra: str) -> None:
    ok(harvester(["subscribe", "add", name, "--where", predicate, "--email", "me@example.org",
                  *extra, "--config", path]))


def statuses(db: str) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status"))
    finally:
        conn.close()


def section(text: str, title: str) -> list[str]:
    """The lines of a digest's section, from its title to the next blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def test_each_new_product_is_one_mail_with_text_and_html(config, smtp):
    path, db = config
    subscribe(path, "mast-new", MAST_NEW)
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    assert len(smtp.mails) == 9
    assert statuses(db) == {"sent": 9}
    jwst = next(m for m in smtp.mails if "mast:2001" in m["Subject"])
    assert jwst["From"] == "harvester@example.org"
    assert jwst["To"] == "me@example.org"
    assert jwst["Subject"] == "[3I/ATLAS] New: JWST NIRSPEC/IFU mast:2001"
    assert jwst["X-Harvester-Subscription"] == "mast-new"
    assert jwst.get_content_type() == "multipart/alternative"
    plain = jwst.get_body(("plain",)).get_content()
    html = jwst.get_body(("html",)).get_content()
    assert "mast:2001" in plain and "exclusive" in plain and "2026-02-15" in plain
    assert "<h3>New: JWST NIRSPEC/IFU mast:2001</h3>" in html
    assert "harvester subscribe remove mast-new" in plain
    assert smtp.envelopes[0] == ("harvester@example.org", ["me@example.org"])


def test_message_ids_are_unique_and_derived_from_the_delivery(config, smtp):
    path, db = config
    subscribe(path, "mast-new", MAST_NEW)
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    token = sqlite3.connect(db).execute("SELECT token FROM alerts_instance").fetchone()[0]
    ids = smtp.message_ids()
    assert len(set(ids)) == 9
    delivery_ids = [r[0] for r in sqlite3.connect(db).execute("SELECT id FROM deliveries ORDER BY id")]
    assert sorted(ids) == sorted(f"<alert.{token}-{d}@example.org>" for d in delivery_ids)
    for mail in smtp.mails:
        assert re.fullmatch(rf"<alert\.{token}-(\d+)@example\.org>", mail["Message-ID"])
        assert mail["Message-ID"][7:-13] in mail["X-Harvester-Delivery"]


def test_a_run_digest_is_one_mail_per_run(config, smtp, sandbox):
    path, db = config
    subscribe(path, "digest", "kind IN ('new', 'released')", "--digest", "run")
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    assert len(smtp.mails) == 1
    first = smtp.mails[0]
    assert first["Subject"] == "[3I/ATLAS] 15 alerts for digest (run of 2025-12-01)"
    plain = first.get_body(("plain",)).get_content()
    assert plain.count("New: ") == 15  # every alert on its own line, after the digest
    assert len(first["X-Harvester-Delivery"].split(", ")) == 15
    # The digest opening the mail is the one `harvester news` prints for the same events.
    assert plain.splitlines()[:2] == ["[3I/ATLAS] 15 alerts for digest (run of 2025-12-01)",
                                      "Since 2025-12-01 00:00 UTC, up to 2025-12-01 00:00 UTC."]
    news = harvester(["news", "--config", path, "--since", "2025-12-01", "--peek"], now=CLOCK_EARLY)
    assert section(plain, "New products:") == section(news.stdout, "New products:")
    assert "New products: 15 from 2 archives" in section(plain, "New products:")[0]
    html = first.get_body(("html",)).get_content()
    assert "<h3>New products: 15 from 2 archives</h3>" in html and "Every alert of this digest" in html
    sandbox.set_clock(CLOCK_LATE)
    ok(harvester(["run", "--config", path], now=CLOCK_LATE))
    assert len(smtp.mails) == 2
    second = smtp.mails[1].get_body(("plain",)).get_content()
    assert "Now public: JWST NIRSPEC/IFU mast:2001" in second   # the embargo ended
    assert section(second, "Embargoes ended:") == [
        "Embargoes ended: 1",
        "  2026-03-01 00:00  mast JWST NIRSPEC/IFU mast:2001, public since 2026-02-15"]
    assert "New: TESS" in second
    assert smtp.mails[0]["Message-ID"] != smtp.mails[1]["Message-ID"]
    assert statuses(db) == {"sent": 15 + 4}


def test_a_daily_digest_waits_for_the_end_of_the_day(config, smtp, sandbox):
    path, db = config
    subscribe(path, "daily", "kind = 'new'", "--digest", "day")
    ok(harvester(["run", "--config", path], now="2025-12-01T09:00:00Z"))
    ok(harvester(["alerts", "send", "--config", path], now="2025-12-01T23:59:00Z"))
    assert smtp.mails == []
    assert statuses(db) == {"pending": 15}
    ok(harvester(["alerts", "send", "--config", path], now="2025-12-02T00:05:00Z"))
    assert len(smtp.mails) == 1
    assert smtp.mails[0]["Subject"] == "[3I/ATLAS] 15 alerts for daily (UTC day 2025-12-01)"
    ok(harvester(["alerts", "send", "--config", path], now="2025-12-02T06:00:00Z"))
    assert len(smtp.mails) == 1  # sent once


def test_a_refused_mail_is_retried_after_its_backoff(config, smtp):
    path, db = config
    subscribe(path, "jwst", "kind = 'new' AND mission = 'JWST'")
    smtp.refuse_next("451 4.3.0 try again later")
    ok(harvester(["run", "--config", path], now="2025-12-01T00:00:00Z"))
    assert smtp.mails == []
    row = sqlite3.connect(db).execute(
        "SELECT status, attempts, next_attempt_at, error FROM deliveries").fetchone()
    assert row[:3] == ("pending", 1, "2025-12-01T00:01:00.000Z")  # backoff_initial = 60 s
    assert "451" in row[3]
    early = harvester(["alerts", "send", "--config", path], now="2025-12-01T00:00:30Z")
    assert early.returncode == 0 and smtp.mails == []  # not due yet
    ok(harvester(["alerts", "send", "--config", path], now="2025-12-01T00:01:05Z"))
    assert len(smtp.mails) == 1
    assert statuses(db) == {"sent": 1}


def test_after_max_attempts_a_delivery_is_failed_and_status_shows_it(config, smtp):
    path, db = config
    subscribe(path, "jwst", "kind = 'new' AND mission = 'JWST'")
    smtp.refuse_next("452 4.2.2 mailbox full", times=10)
    ok(harvester(["run", "--config", path], now="2025-12-01T00:00:00Z"))
    second = harvester(["alerts", "send", "--config", path], now="2025-12-01T00:01:00Z")
    assert second.returncode == 1 and "1 to retry" in second.stderr
    third = harvester(["alerts", "send", "--config", path], now="2025-12-01T00:03:00Z")
    assert third.returncode == 1 and "1 failed" in third.stderr
    assert statuses(db) == {"failed": 1}
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    summary = delivery_summary(conn, now="2025-12-01T01:00:00Z")
    assert (summary["failed"], summary["pending"], summary["subscriptions"]) == (1, 0, 1)
    assert summary["failures"][0]["subscription"] == "jwst"
    assert summary["failures"][0]["attempts"] == 3
    assert "452" in summary["failures"][0]["error"]
    # nothing more is tried on its own...
    ok(harvester(["alerts", "send", "--config", path], now="2025-12-02T00:00:00Z"))
    assert smtp.mails == []
    # ...until someone says so
    smtp.accept_all()
    assert "1 failed deliveries are pending again" in ok(
        harvester(["alerts", "retry", "--config", path], now="2025-12-02T00:00:00Z")).stdout
    ok(harvester(["alerts", "send", "--config", path], now="2025-12-02T00:00:00Z"))
    assert len(smtp.mails) == 1


def test_a_permanent_refusal_fails_at_once(config, smtp):
    path, db = config
    subscribe(path, "jwst", "kind = 'new' AND mission = 'JWST'")
    smtp.refuse_next("550 5.1.1 no such user")
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    assert statuses(db) == {"failed": 1}


def test_an_unreachable_server_costs_one_attempt_per_pass_not_one_per_mail(config, smtp):
    path, db = config
    subscribe(path, "mast-new", MAST_NEW)
    smtp.stop()
    run = ok(harvester(["run", "--config", path], now=CLOCK_EARLY))  # the harvest itself is fine
    assert "mast: ok" in run.stdout
    attempts = [r[0] for r in sqlite3.connect(db).execute("SELECT attempts FROM deliveries ORDER BY id")]
    assert attempts == [1] + [0] * 8
    assert statuses(db) == {"pending": 9}


@pytest.fixture
def tls_files(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_starttls_is_used_when_configured(tmp_path, sandbox, tls_files):
    from tests.alerts.conftest import ALERTS_BLOCK
    from tests.alerts.peers import SmtpPeer
    from tests.harvest_helpers import config_text

    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    peer = SmtpPeer(tls_context=context).start()
    try:
        db = str(tmp_path / "tls.db")
        text = config_text(sandbox.base_urls, db) + ALERTS_BLOCK.format(
            smtp_port=peer.port, extra="", smtp_extra='security = "starttls"')
        path = tmp_path / "tls.toml"
        path.write_text(text)
        subscribe(str(path), "jwst", "kind = 'new' AND mission = 'JWST'")
        # the peer refuses MAIL before STARTTLS, so a received mail went over TLS; the client
        # trusts the test certificate through OpenSSL's SSL_CERT_FILE
        ok(harvester(["run", "--config", str(path)], now=CLOCK_EARLY, env={"SSL_CERT_FILE": str(cert)}))
        assert len(peer.mails) == 1
        assert count(db, "SELECT COUNT(*) FROM deliveries WHERE status = 'sent'") == 1
    finally:
        peer.stop()
