"""Atom feeds: valid RFC 4287 documents, stable entry ids (a reader never sees an entry twice),
a bounded number of entries, atomic replacement, and the feed of every event."""

from __future__ import annotations

import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.alerts.conftest import harvester, ok
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_valid_feed(path: Path) -> list[ET.Element]:
    """Parse the file and check RFC 4287's must-haves; returns the entries."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{A}feed"
    for tag in ("id", "title", "updated"):
        assert len(root.findall(f"{A}{tag}")) == 1, f"feed needs exactly one {tag}"
    assert RFC3339.match(root.findtext(f"{A}updated"))
    assert root.find(f"{A}author/{A}name").text  # a feed-level author covers every entry
    entries = root.findall(f"{A}entry")
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{tag}")) == 1, f"entry needs exactly one {tag}"
        assert re.match(r"^tag:[a-z0-9.-]+,\d{4}:\S+$", entry.findtext(f"{A}id"))
        assert RFC3339.match(entry.findtext(f"{A}updated"))
        assert entry.find(f"{A}content").get("type") == "text"
    ids = [e.findtext(f"{A}id") for e in entries]
    assert len(ids) == len(set(ids)), "an entry id appears twice"
    return entries


def entry_ids(path: Path) -> list[str]:
    return [e.findtext(f"{A}id") for e in parse_valid_feed(path)]


def test_a_subscription_feed_is_valid_atom_with_one_entry_per_alert(make_config, tmp_path):
    path, _ = make_config()
    feed = tmp_path / "jwst.xml"
    ok(harvester(["subscribe", "add", "feed", "--where", "kind IN ('new', 'released')",
                  "--atom", str(feed), "--config", path]))
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    entries = parse_valid_feed(feed)
    assert len(entries) == 15
    titles = [e.findtext(f"{A}title") for e in entries]
    assert "New: JWST NIRSPEC/IFU mast:2001" in titles
    hirise = next(e for e in entries if "HIRISE" in e.findtext(f"{A}title"))
    assert hirise.find(f"{A}link").get("href").startswith("https://example.invalid/")
    assert hirise.find(f"{A}category").get("term") == "new"


def test_entry_ids_are_stable_across_rewrites(make_config, tmp_path, sandbox):
    path, _ = make_config()
    feed = tmp_path / "feed.xml"
    ok(harvester(["subscribe", "add", "feed", "--where", "kind IN ('new', 'released')",
                  "--atom", str(feed), "--config", path]))
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    before = {e.findtext(f"{A}id"): e.findtext(f"{A}updated") for e in parse_valid_feed(feed)}
    sandbox.set_clock(CLOCK_LATE)
    ok(harvester(["run", "--config", path], now=CLOCK_LATE))
    after = {e.findtext(f"{A}id"): e.findtext(f"{A}updated") for e in parse_valid_feed(feed)}
    assert set(before) < set(after)
    assert {k: after[k] for k in before} == before  # same ids, same timestamps: nothing "new"
    assert len(after) - len(before) == 4  # TESS, two late HiRISE frames, the JWST release
    assert list(tmp_path.glob(".feed.xml.*")) == []  # no temporary file left behind


def test_the_feed_keeps_only_the_newest_entries(make_config, tmp_path):
    path, db = make_config("feed_entries = 5")
    feed = tmp_path / "feed.xml"
    ok(harvester(["subscribe", "add", "feed", "--where", "kind = 'new'", "--atom", str(feed),
                  "--config", path]))
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    newest = [r[0] for r in sqlite3.connect(db).execute(
        "SELECT id FROM events WHERE kind = 'new' ORDER BY id DESC LIMIT 5")]
    assert [int(i.rsplit("/", 1)[1]) for i in entry_ids(feed)] == newest


def test_the_all_events_feed_holds_every_event_with_the_same_ids(make_config, tmp_path):
    every = tmp_path / "all.xml"
    path, db = make_config(f'all_events_feed = "{every}"')
    feed = tmp_path / "sub.xml"
    ok(harvester(["subscribe", "add", "jwst", "--where", "mission = 'JWST'", "--atom", str(feed),
                  "--config", path]))
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    all_ids = entry_ids(every)
    assert len(all_ids) == sqlite3.connect(db).execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert set(entry_ids(feed)) <= set(all_ids)


def test_an_unwritable_feed_is_a_failed_attempt(make_config, tmp_path):
    path, db = make_config()
    folder = tmp_path / "feeds"
    folder.mkdir()
    ok(harvester(["subscribe", "add", "feed", "--where", "kind = 'new'", "--atom", str(folder / "f.xml"),
                  "--config", path]))
    folder.rmdir()
    ok(harvester(["run", "--config", path], now=CLOCK_EARLY))
    from tests.harvest_helpers import count

    assert count(db, "SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND attempts = 1") == 15
    assert "cannot write Atom feed" in ok(harvester(["alerts", "list", "--config", path])).stdout

