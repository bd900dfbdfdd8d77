"""`harvester serve` keeps who gets alerts private, and bounds the SQL typed into it: a real
`harvester serve` process on a catalog with a webhook whose URL holds a token and a mail
subscription, read over HTTP as any visitor could."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest

from harvester.sandbox import Sandbox
from tests.harvest_helpers import run_cli, write_config
from tests.scenarios import CLOCK_EARLY, engine_scenario
from tests.test_serve_browser import fetch, read_line

pytest.importorskip("datasette")

SECRETS = ("XXXXTOKEN", "pa55word", "alice@example.org", "s3cr3tkey")
WEBHOOK = "https://user:pa55word@hooks.example.org/services/T000/B000/XXXXTOKEN?key=s3cr3tkey"


@pytest.fixture(scope="module")
def private_catalog(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("private")
    db = str(tmp / "catalog.db")
    with Sandbox(engine_scenario(), port=0) as sandbox:
        harvested = run_cli(["run", "--config", write_config(tmp, sandbox.base_urls, db)],
                            now=CLOCK_EARLY)
        assert harvested.returncode == 0, harvested.stderr
    for args in (["hook", "--webhook", WEBHOOK], ["mail", "--email", "alice@example.org"]):
        added = run_cli(["subscribe", "add", args[0], "--where", "kind = 'new'", *args[1:],
                         "--catalog", db])
        assert added.returncode == 0, added.stderr
    # A delivery error quoting the URL, as one stored before errors were redacted would.
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO deliveries (subscription_id, event_id, created_at, next_attempt_at, "
                 "status, error) SELECT id, 1, 't', 't', 'failed', 'POST ' || address || "
                 "' failed' FROM subscriptions WHERE name = 'hook'")
    conn.commit()
    conn.close()
    return db


def serving(db: str, *extra: str):
    from tests.harvest_helpers import start_cli

    proc = start_cli(["serve", "--catalog", db, "--port", "0", *extra])
    line = read_line(proc)
    return proc, line.split(" at ")[1].split()[0]


@pytest.fixture(scope="module")
def served_private(private_catalog):
    proc, url = serving(private_catalog)
    try:
        yield url, Path(private_catalog).stem
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def sql_json(base: str, database: str, sql: str) -> dict:
    return json.loads(fetch(f"{base}{database}.json?sql=" + urllib.parse.quote(sql)))


def test_alert_addresses_read_as_null_whatever_the_query(served_private):
    base, db = served_private
    listed = sql_json(base, db, "select name, address from subscriptions order by name")
    assert [row for row in listed["rows"] if row[0] != "demo"] == [["hook", None], ["mail", None]]
    probe = sql_json(base, db, "select count(*) from subscriptions where address like '%TOKEN%'")
    assert probe["rows"] == [[0]]  # not even a yes/no answer about the secret
    for sql in ("select (select group_concat(address) from subscriptions) as a",
                "select error, status from deliveries",
                "select * from subscriptions join deliveries on subscription_id = subscriptions.id"):
        answer = sql_json(base, db, sql)
        assert answer["ok"], answer
        for secret in SECRETS:
            assert secret not in json.dumps(answer["rows"])


def test_no_page_shows_a_secret_and_the_alert_tables_are_not_listed(served_private):
    base, db = served_private
    pages = [base, f"{base}{db}", f"{base}{db}/subscriptions", f"{base}{db}/subscriptions.json",
             f"{base}{db}/deliveries.json", f"{base}{db}/subscriptions/2",
             f"{base}{db}.json?sql=" + urllib.parse.quote("select * from subscriptions")]
    bodies = [fetch(page).decode() for page in pages]
    for body in bodies:
        for secret in SECRETS:
            assert secret not in body
    assert f'href="/{db}/subscriptions"' not in bodies[0] and "/deliveries" not in bodies[0]


def test_show_alerts_lists_them_with_addresses_redacted(private_catalog):
    proc, base = serving(private_catalog, "--show-alerts")
    db = Path(private_catalog).stem
    try:
        home = fetch(base).decode()
        assert "Alert subscriptions (addresses redacted)" in home
        rows = json.loads(fetch(f"{base}{db}/alert_subscriptions.json?_shape=array"))
        shown = {r["name"]: r["address"] for r in rows}
        assert shown["hook"].startswith("https://***@hooks.example.org/… [")
        assert shown["mail"] == "a***@example.org"
        errors = json.loads(fetch(f"{base}{db}/alert_deliveries.json?_shape=array"))
        assert errors[0]["error"].startswith("POST https://***@hooks.example.org/…")
        for body in (json.dumps(rows), json.dumps(errors), home):
            for secret in SECRETS:
                assert secret not in body
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_runaway_sql_is_cut_off_and_the_page_keeps_answering(served_private):
    base, db = served_private
    endless = sql_json(base, db, "with recursive c(x) as (select 1 union all select x + 1 "
                                 "from c) select count(*) from c")
    assert not endless["ok"] and "took too long" in endless["error"]
    huge = sql_json(base, db, "select zeroblob(500000000)")
    assert not huge["ok"] and "too big" in huge["error"]
    assert sql_json(base, db, "select count(*) from products")["ok"]
