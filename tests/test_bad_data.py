"""Hostile data from an archive: one odd character never breaks a source or a feed. A record with
a character UTF-8 cannot hold (a lone surrogate, from a name decoded the wrong way) is a reject
with its reason, the source's other records are stored and the source stays ok, run after run;
a NUL or another control character in a title is dropped from the Atom feeds, which stay valid
XML. The real sandbox serves the records as JSON, the real harvester reads them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from harvester.sandbox import Sandbox
from tests.harvest_helpers import count, run_cli, write_config
from tests.scenarios import CLOCK_EARLY, engine_scenario, mast_row

A = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def sandbox():
    scenario = engine_scenario()
    scenario["mast"] += [
        mast_row(7001, "3I/ATLAS \udcff"),                      # a lone surrogate in the name
        mast_row(7002, "3I/ATLAS", obs_title="Comet 3I\x00ATLAS \x07 ToO\x1b[31m"),  # controls
    ]
    with Sandbox(scenario, port=0) as sb:
        yield sb


def test_a_lone_surrogate_is_one_reject_and_the_source_stays_ok(sandbox, tmp_path):
    db = str(tmp_path / "catalog.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    for again in ([], ["--full"]):  # the same record read again: still one reject, still ok
        run = run_cli(["run", "--config", config, *again], now=CLOCK_EARLY)
        assert run.returncode == 0, run.stderr
        assert "mast: ok" in run.stdout and "Traceback" not in run.stderr
    assert count(db, "SELECT COUNT(*) FROM products WHERE native_id = '7001'") == 0
    assert count(db, "SELECT COUNT(*) FROM products WHERE native_id = '7002'") == 1
    (reason, raw, seen) = _one(db, "SELECT reason, raw, times_seen FROM rejects WHERE native_id = '7001'")
    assert "target_name holds a character that is not valid Unicode" in reason
    assert json.loads(raw)["obsid"] == 7001 and seen == 2
    listed = run_cli(["sql", "--config", config, "--format", "json", "select reason from rejects"])
    assert listed.returncode == 0 and "not valid Unicode" in listed.stdout


def test_control_characters_in_a_title_never_break_an_atom_feed(sandbox, tmp_path):
    db = str(tmp_path / "catalog.db")
    every = tmp_path / "every.xml"
    feed = tmp_path / "jwst.xml"
    config = write_config(tmp_path, sandbox.base_urls, db,
                          extra=f'[alerts]\nall_events_feed = "{every}"\n')
    added = run_cli(["subscribe", "add", "feed", "--where", "kind = 'new'", "--backfill",
                     "--atom", str(feed), "--config", config])
    assert added.returncode == 0, added.stderr
    run = run_cli(["run", "--config", config], now=CLOCK_EARLY)
    assert run.returncode == 0, run.stderr
    assert count(db, "SELECT COUNT(*) FROM products WHERE instr(title, char(0)) > 0") == 1
    for path in (feed, every):
        root = ET.parse(path).getroot()  # raises on a NUL: XML cannot hold one, even escaped
        contents = " ".join(e.findtext(f"{A}content") or "" for e in root.iter(f"{A}entry"))
        assert "Comet 3IATLAS  ToO[31m" in contents
        assert not any(ch in contents for ch in "\x00\x07\x1b")


def _one(db: str, sql: str) -> tuple:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(sql).fetchall()
    finally:
        conn.close()
    assert len(rows) == 1, rows
    return rows[0]


def test_the_web_page_atom_feed_drops_them_too(sandbox, tmp_path):
    pytest.importorskip("datasette")
    from harvester.web.atom import render_atom

    class Request:
        url = "http://127.0.0.1/catalog/q.atom"

    response = render_atom(None, Request(), ["atom_id", "atom_updated", "atom_title"],
                           [("tag:x,2025:1", "2025-12-01T00:00:00Z", "New\x00: 3I\x0cATLAS\udcff")],
                           "catalog", None, "select 1")
    root = ET.fromstring(response.body)
    assert root.find(f"{A}entry/{A}title").text == "New: 3IATLAS"
