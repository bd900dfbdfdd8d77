"""stdout JSON lines (only from `harvester alerts send`, never mixed into a harvest's output),
the outbox summary for `harvester status`, and the demo's "alerts it would send"."""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import redirect_stdout

from harvester.alerts.demo import DEMO_NAME, add_demo_subscription, show_pending_alerts
from harvester.alerts.status import delivery_summary, summary_lines
from harvester.engine import harvest
from tests.alerts.conftest import harvester, ok
from tests.harvest_helpers import in_process_config
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE


def test_stdout_alerts_are_json_lines_from_alerts_send_only(make_config):
    path, db = make_config()
    ok(harvester(["subscribe", "add", "pipe", "--where", "kind = 'new' AND archive = 'pds'",
                  "--stdout", "--config", path]))
    run = ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    assert "{" not in run.stdout  # the harvest's own output stays summary lines
    sent = ok(harvester(["alerts", "send", "--config", path], now=CLOCK_EARLY))
    lines = [json.loads(line) for line in sent.stdout.splitlines()]
    assert len(lines) == 6
    assert {line["product"]["archive"] for line in lines} == {"pds"}
    assert len({line["delivery_id"] for line in lines}) == 6
    assert "6 sent" in sent.stderr
    assert ok(harvester(["alerts", "send", "--config", path], now=CLOCK_EARLY)).stdout == ""


def test_alerts_send_for_one_subscription_leaves_the_others(make_config):
    path, db = make_config()
    for name in ("one", "two"):
        ok(harvester(["subscribe", "add", name, "--where", "kind = 'new'", "--stdout", "--config", path]))
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    sent = ok(harvester(["alerts", "send", "--subscription", "one", "--config", path], now=CLOCK_EARLY))
    assert {json.loads(x)["subscription"] for x in sent.stdout.splitlines()} == {"one"}
    conn = sqlite3.connect(db)
    assert dict(conn.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status")) == {
        "sent": 15, "pending": 15}


def test_a_second_sender_is_refused_while_one_holds_the_outbox(make_config):
    from catalog import Catalog
    from harvester.alerts.lock import OutboxLock

    path, db = make_config()
    Catalog.open(db).close()  # `subscribe list` only reads (it used to create the catalog)
    with OutboxLock(db):
        busy = harvester(["alerts", "send", "--config", path])
    assert busy.returncode == 75
    assert "another sender is delivering alerts" in busy.stderr


def test_the_status_summary_counts_the_outbox(make_config, smtp):
    path, db = make_config()
    ok(harvester(["subscribe", "add", "mail", "--where", "kind = 'new' AND archive = 'mast'",
                  "--email", "me@example.org", "--config", path]))
    ok(harvester(["subscribe", "add", "pipe", "--where", "kind = 'new'", "--stdout", "--config", path]))
    smtp.refuse_next("550 5.1.1 no such user")
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    summary = delivery_summary(conn, now=CLOCK_EARLY)
    assert (summary["subscriptions"], summary["sent"], summary["failed"], summary["pending"],
            summary["due"]) == (2, 8, 1, 15, 15)
    text = "\n".join(summary_lines(summary))
    assert "2 subscriptions, 8 sent, 15 pending (15 due), 1 failed" in text
    assert "failed: delivery" in text and "550" in text


def test_the_status_summary_of_a_catalog_without_the_outbox_is_empty(tmp_path):
    db = tmp_path / "old.db"
    sqlite3.connect(db).execute("CREATE TABLE products (x)").connection.close()
    summary = delivery_summary(sqlite3.connect(db))
    assert summary["subscriptions"] == 0 and summary["failed"] == 0
    assert summary_lines(summary) == ["alerts: no subscriptions (harvester subscribe add ...)"]


def test_the_demo_subscription_shows_the_alerts_it_would_send(sandbox, db_path, monkeypatch):
    said: list[str] = []
    add_demo_subscription(db_path, said.append)
    add_demo_subscription(db_path, said.append)  # a kept demo catalog is subscribed once
    assert said[0].startswith(f"\n== harvester subscribe add {DEMO_NAME}") and len(said) == 1
    config = in_process_config(sandbox.base_urls, db_path)
    for clock in (CLOCK_EARLY, CLOCK_LATE):
        sandbox.set_clock(clock)
        monkeypatch.setenv("HARVESTER_NOW", clock)
        harvest(config)
    out = io.StringIO()
    with redirect_stdout(out):
        total = show_pending_alerts(db_path, lambda text: print(text))
    # 8 HST + 1 JWST new at the first look, the JWST release at the second (TESS is neither)
    assert total == 10
    printed = out.getvalue()
    assert f"The alerts subscription {DEMO_NAME} would send (10;" in printed
    assert "released" in printed and "mast:2001" in printed
