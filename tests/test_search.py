"""Full-text search over the products (migration 8): found after a real harvest, kept in step by
the triggers when products change, usable from `harvester sql`, words taken literally, and an
older catalog (or a damaged index) rebuilt by `harvester search --rebuild`."""

from __future__ import annotations

import json
import sqlite3

import pytest

from catalog import Catalog
from catalog.migrations import MIGRATIONS
from catalog.search import index_problem
from catalog.store import PRODUCT_COLUMNS, commit_page, start_run
from harvester.engine import product_row
from harvester.lock import CatalogLock
from harvester.product import Product
from harvester.sandbox import Sandbox
from tests.harvest_helpers import run_cli, write_config
from tests.scenarios import CLOCK_EARLY, EARLY_3I_MAST, EARLY_3I_PDS, engine_scenario

NOW = "2026-01-01T00:00:00.000Z"


@pytest.fixture(scope="module")
def harvested(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("search")
    db = str(tmp / "catalog.db")
    with Sandbox(engine_scenario(), port=0) as sandbox:
        config = write_config(tmp, sandbox.base_urls, db)
        proc = run_cli(["run", "--config", config], now=CLOCK_EARLY)
        assert proc.returncode == 0, proc.stderr
    return db


def search(db: str, *args: str):
    return run_cli(["search", "--catalog", db, *args])


def keys(proc) -> list[str]:
    assert proc.returncode == 0, proc.stderr
    return [row["product_key"] for row in json.loads(proc.stdout)]


def test_a_harvest_is_searchable_by_instrument_mission_and_title(harvested):
    hirise = keys(search(harvested, "hirise", "--format", "json"))
    assert len(hirise) == EARLY_3I_PDS and all(k.startswith("pds:") for k in hirise)
    jwst = keys(search(harvested, "jwst", "--format", "json"))
    assert jwst == ["mast:2001"]
    titled = keys(search(harvested, "HiRISE observation 3", "--format", "json"))
    assert titled[0] == "pds:urn:nasa:pds:mro_hirise:data:esp_000003"
    assert len(keys(search(harvested, "atlas", "--format", "json", "--limit", "500"))) == \
        EARLY_3I_MAST + EARLY_3I_PDS


def test_the_table_names_the_products_and_fits_100_columns(harvested):
    proc = search(harvested, "hirise")
    assert proc.returncode == 0, proc.stderr
    assert "mro_hirise" in proc.stdout
    assert max(len(line) for line in proc.stdout.splitlines()) <= 100


def test_filters_and_no_match(harvested):
    assert keys(search(harvested, "hirise", "--archive", "mast", "--format", "json")) == []
    none = search(harvested, "spherex")
    assert none.returncode == 0 and none.stdout.strip() == "no product matches 'spherex'"


@pytest.mark.parametrize("words", ['Mastcam-Z', 'NOT hirise', '"unbalanced', "near(a b)", "*"])
def test_query_syntax_is_taken_as_words_never_an_error(harvested, words):
    proc = search(harvested, words, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert isinstance(json.loads(proc.stdout), list)


def test_sql_can_use_the_index_read_only(harvested):
    proc = run_cli(["sql", "--catalog", harvested, "--format", "json",
                    "select p.product_key from products_fts f join products p on p.rowid = f.rowid "
                    "where products_fts match 'jwst' order by rank"])
    assert proc.returncode == 0, proc.stderr
    assert [r["product_key"] for r in json.loads(proc.stdout)] == ["mast:2001"]
    refused = run_cli(["sql", "--catalog", harvested,
                       "insert into products_fts(products_fts) values ('delete-all')"])
    assert refused.returncode == 2 and "read-only" in refused.stderr


def page(catalog: Catalog, products: list[Product]) -> None:
    run_id = start_run(catalog, "mast", "mast", NOW)
    commit_page(catalog, source="mast", archive="mast", run_id=run_id, now=NOW,
                products=[product_row(p) for p in products], cursor=None, records=len(products),
                skipped=0, requests=1)


def product(title: str, instrument: str = "NIRCAM") -> Product:
    return Product(archive="mast", native_id="1", target_name="3I/ATLAS", matched_by="alias:3I/ATLAS",
                   access="public", mission="JWST", instrument=instrument, title=title, raw={})


def found(db: str, words: str) -> list[str]:
    return keys(search(db, words, "--format", "json"))


def test_the_index_follows_updates_and_only_indexed_writes_touch_it(db_path):
    with Catalog.open(db_path) as catalog:
        page(catalog, [product("coma imaging, first epoch")])
        page(catalog, [product("coma imaging, second epoch", instrument="MIRI")])
        assert index_problem(catalog.conn) is None
        # a harvest that only sees the product again writes last_seen: not an indexed column
        segments = catalog.conn.execute("SELECT COUNT(*) FROM products_fts_data").fetchone()[0]
        page(catalog, [product("coma imaging, second epoch", instrument="MIRI")])
        assert catalog.conn.execute("SELECT COUNT(*) FROM products_fts_data").fetchone()[0] == segments
    assert found(db_path, "second epoch") == ["mast:1"] and found(db_path, "miri") == ["mast:1"]
    assert found(db_path, "first") == [] and found(db_path, "nircam") == []


def test_a_rolled_back_page_leaves_no_index_entry(db_path):
    with Catalog.open(db_path) as catalog:
        page(catalog, [product("kept")])

        def fail() -> None:
            raise RuntimeError("killed before commit")

        run_id = start_run(catalog, "mast", "mast", NOW)
        with pytest.raises(RuntimeError):
            commit_page(catalog, source="mast", archive="mast", run_id=run_id, now=NOW,
                        products=[product_row(Product(archive="mast", native_id="2", target_name="3I",
                                                      matched_by="x", access="public", title="lost",
                                                      raw={}))],
                        cursor=None, records=1, skipped=0, requests=1, before_commit=fail)
        assert index_problem(catalog.conn) is None
    assert found(db_path, "lost") == [] and found(db_path, "kept") == ["mast:1"]


def older_catalog(path: str) -> None:
    """A catalog as a harvester from before search left it: migrations 1-5, products stored."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT, "
                 "applied_at TEXT)")
    for number, description, sql in MIGRATIONS:
        if number < 8:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_version VALUES (?, ?, 'then')", (number, description))
    row = {c: v for c, v in product_row(product("an old granule", instrument="HRSC")).items()
           if c in PRODUCT_COLUMNS}
    row.update(source="mast", first_seen=NOW, last_seen=NOW, updated_at=NOW)
    columns = ", ".join(row)
    conn.execute(f"INSERT INTO products ({columns}) VALUES ({', '.join('?' for _ in row)})",
                 list(row.values()))
    conn.close()


def test_an_older_catalog_is_told_to_rebuild_then_searchable(db_path):
    older_catalog(db_path)
    before = search(db_path, "hrsc")
    assert before.returncode == 1 and "harvester search --rebuild" in before.stderr
    assert before.stderr.count("\n") == 1
    rebuilt = search(db_path, "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "search index rebuilt: 1 products" in rebuilt.stdout
    assert found(db_path, "hrsc") == ["mast:1"]


def test_rebuild_repairs_an_emptied_index(db_path):
    with Catalog.open(db_path) as catalog:
        page(catalog, [product("nucleus photometry")])
        catalog.conn.execute("INSERT INTO products_fts(products_fts) VALUES ('delete-all')")
    assert found(db_path, "nucleus") == []
    assert search(db_path, "--rebuild").returncode == 0
    assert found(db_path, "nucleus") == ["mast:1"]


def test_rebuild_waits_for_no_harvest(db_path):
    Catalog.open(db_path).close()
    with CatalogLock(db_path):
        busy = search(db_path, "--rebuild")
    assert busy.returncode == 75 and "another harvest is running" in busy.stderr


def test_usage_mistakes_are_one_line(db_path):
    Catalog.open(db_path).close()
    assert search(db_path).returncode == 2
    both = search(db_path, "x", "--rebuild")
    assert both.returncode == 2 and "--rebuild takes no words" in both.stderr
    blank = search(db_path, "  ")
    assert blank.returncode == 2 and "give some words" in blank.stderr
