"""`harvester news`: a person's digest of what changed, from a real harvest of the sandbox: since
the reader last looked (remembered per reader in the catalog), or since a moment; grouped by
archive and instrument with counts, the newest titles, times and links; embargoes ended, the
release watch's overdue observations and silent sources; text, Markdown and JSON."""

from __future__ import annotations

import json
import sqlite3

import pytest

from harvester.links import Links
from harvester.news.digest import build_digest
from harvester.news.items import Item
from harvester.news.render import render_text
from harvester.sandbox import Sandbox
from tests.harvest_helpers import run_cli, write_config
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE, EARLY_3I_MAST, EARLY_3I_PDS, engine_scenario


@pytest.fixture
def sandbox():
    with Sandbox(engine_scenario(), port=0) as sb:
        yield sb


@pytest.fixture
def config(sandbox, tmp_path, db_path):
    path = write_config(tmp_path, sandbox.base_urls, db_path)
    assert run_cli(["run", "--config", path], now=CLOCK_EARLY).returncode == 0
    return path


def news(config: str, *args: str, now: str = CLOCK_EARLY):
    proc = run_cli(["news", "--config", config, *args], now=now)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def marks(db: str) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT reader, last_event_id FROM news_readers"))
    finally:
        conn.close()


def newest_event(db: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT MAX(id) FROM events").fetchone()[0]
    finally:
        conn.close()


def test_since_last_look_in_one_command(config, sandbox, db_path):
    first = news(config, "--reader", "ana")
    assert "First look for ana: the last 7 days." in first
    assert f"New products: {EARLY_3I_MAST + EARLY_3I_PDS} from 2 archives" in first
    assert "  2025-12-01 00:00  mast HST WFC3/UVIS: 8 new: \"3I/ATLAS ToO\"" in first
    assert "pds MRO HIRISE: 6 new: \"HiRISE observation 5\", \"HiRISE observation 4\"  " \
           "https://example.invalid/5.img" in first
    assert marks(db_path) == {"ana": newest_event(db_path)}

    again = news(config, "--reader", "ana")
    assert again.splitlines()[-1] == "Nothing new."

    sandbox.set_clock(CLOCK_LATE)
    assert run_cli(["run", "--config", config], now=CLOCK_LATE).returncode == 0
    later = news(config, "--reader", "ana", now=CLOCK_LATE)
    assert later.startswith("What's new in catalog.db since ana last looked\n"
                            "Since 2025-12-01 00:00 UTC, up to 2026-03-01 00:00 UTC.\n")
    assert "New products: 3 from 2 archives" in later
    assert "mast TESS Photometer: 1 new" in later and "pds MRO HIRISE: 2 new" in later
    assert "Embargoes ended: 1\n  2026-03-01 00:00  mast JWST NIRSPEC/IFU mast:2001, public since " \
           "2026-02-15" in later
    assert "HST WFC3/UVIS" not in later  # seen last time
    assert marks(db_path) == {"ana": newest_event(db_path)}


def test_each_reader_has_their_own_mark_and_peek_keeps_it(config, db_path):
    news(config, "--reader", "ana")
    assert news(config, "--reader", "ana", "--peek").splitlines()[-1] == "Nothing new."
    bob = news(config, "--reader", "bob", "--peek")
    assert "First look for bob" in bob and "New products: 15" in bob
    assert set(marks(db_path)) == {"ana"}  # bob peeked: nothing remembered
    assert "First look for bob" in news(config, "--reader", "bob")
    assert set(marks(db_path)) == {"ana", "bob"}


def test_json_has_exact_counts_and_every_line_a_time_and_link(config):
    data = json.loads(news(config, "--since", "2d", "--format", "json", "--peek"))
    assert data["since"] == "2025-11-29T00:00:00.000Z"
    assert (data["new"]["products"], data["new"]["archives"]) == (15, 2)
    groups = {(g["archive"], g["mission"], g["instrument"]): g for g in data["new"]["groups"]}
    assert {k: g["count"] for k, g in groups.items()} == {
        ("mast", "HST", "WFC3/UVIS"): 8, ("mast", "JWST", "NIRSPEC/IFU"): 1,
        ("pds", "MRO", "HIRISE"): 6}
    hirise = groups[("pds", "MRO", "HIRISE")]
    assert [p["title"] for p in hirise["newest"]] == [f"HiRISE observation {n}" for n in (5, 4, 3)]
    assert hirise["newest"][0]["link"] == "https://example.invalid/5.img"
    assert all(g["newest_time"] == "2025-12-01T00:00:00.000Z" for g in groups.values())
    watch = data["watch"]["items"]
    assert {i["state"] for i in watch} == {"OVERDUE"} and data["watch"]["total"] == len(watch) > 0
    assert all(i["time"] and i["link"].startswith("https://") for i in watch)
    assert [(i["state"], i["source"]) for i in data["sources"]["items"]] == [("SILENT", "pds")]


def test_markdown_for_a_chat_or_an_issue(config):
    text = news(config, "--since", "2025-11-30", "--format", "markdown", "--peek")
    assert text.startswith("## What's new in catalog.db\n\nSince 2025-11-30 00:00 UTC, up to "
                           "2025-12-01 00:00 UTC.\n")
    assert "### New products: 15 from 2 archives" in text
    assert "- 2025-12-01 00:00 **pds MRO HIRISE: 6 new**: [HiRISE observation 5]" \
           "(<https://example.invalid/5.img>)" in text
    assert "**OVERDUE**" in text and "**SILENT**" in text


@pytest.mark.parametrize("since, expect", [
    ("90m", "New products: 15"), ("1w", "New products: 15"),
    ("2025-12-01T00:00:00Z", "New products: 15"), ("2025-12-02", "Nothing new."),
])
def test_since_takes_durations_and_dates(config, since, expect):
    assert expect in news(config, "--since", since, "--peek")


@pytest.mark.parametrize("args, message", [
    (["--since", "yesterday"], "--since 'yesterday': not a duration (90m, 12h, 2d, 1w)"),
    (["--reader", "a b"], "--reader 'a b': use 1-64 letters"),
])
def test_a_bad_option_is_one_line(config, args, message):
    proc = run_cli(["news", "--config", config, *args])
    assert proc.returncode == 2 and message in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_a_missing_catalog_is_one_line(tmp_path):
    proc = run_cli(["news", "--catalog", str(tmp_path / "none.db")])
    assert proc.returncode == 1 and "no catalog here" in proc.stderr
    assert not (tmp_path / "none.db").exists()


# -- the digest itself -----------------------------------------------------------------------

def item(n: int, kind: str = "new", **fields) -> Item:
    base = {"archive": "mast", "mission": "HST", "instrument": f"I{n % 20}",
            "product_key": f"mast:{n}", "title": f"frame {n}"}
    return Item(event_id=n, time=f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000Z", kind=kind,
                **{**base, **fields})


def test_a_long_window_counts_everything_and_shows_a_few_lines():
    digest = build_digest((item(n) for n in range(1, 1001)), heading="h")
    assert digest.new_products == 1000 and digest.new.total == 20 and len(digest.new.shown) == 8
    assert all(g.count == 50 for g in digest.new.shown)
    text = render_text(digest)
    assert "New products: 1,000 from 1 archive" in text and "... and 12 more groups" in text
    assert len(text.splitlines()) < 20


def test_an_observation_overdue_then_cleared_in_one_window_is_one_line():
    overdue = Item(event_id=1, time="2026-01-01T00:00:00.000Z", kind="overdue",
                   expected_id="mro-hirise", detail={"what": "MRO HiRISE", "archive": "pds",
                                                     "overdue_days": 12.0, "due_date": "2025-12-20"})
    cleared = Item(event_id=2, time="2026-01-02T00:00:00.000Z", kind="overdue_cleared",
                   expected_id="mro-hirise", detail={"what": "MRO HiRISE", "archive": "pds",
                                                     "status": "released",
                                                     "overdue_since": "2026-01-01T00:00:00.000Z"})
    text = render_text(build_digest([overdue, cleared], heading="h"))
    assert "Release watch: 1 changed" in text
    assert "cleared    mro-hirise (MRO HiRISE, pds): now released (overdue since 2026-01-01)" in text
    assert "OVERDUE" not in text


def test_mast_uris_become_links_to_the_configured_mast():
    links = Links({"mast": "http://127.0.0.1:9/mast/"})
    assert links.web("mast:JWST/product/a b.fits", "mast") == \
        "http://127.0.0.1:9/mast/api/v0.1/Download/file?uri=mast:JWST/product/a%20b.fits"
    assert Links().web("mast:HST/product/x.jpg") == \
        "https://mast.stsci.edu/api/v0.1/Download/file?uri=mast:HST/product/x.jpg"
    assert links.web("https://psa.esa.int/x") == "https://psa.esa.int/x"
    assert links.web("ftp://old/x") is None and links.web(None) is None
    assert links.preview('{"thumbnail_url": "https://psa.esa.int/t.png"}') == "https://psa.esa.int/t.png"
    assert links.preview({"jpegURL": None}) is None and links.preview("not json") is None
