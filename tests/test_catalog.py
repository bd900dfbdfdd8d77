import sqlite3

import pytest

from catalog import Catalog
from catalog.migrations import LATEST_VERSION, MIGRATIONS
from catalog.store import Reject, commit_page, finish_run, get_cursor, start_run
from harvester.engine import product_row
from harvester.errors import CatalogError
from harvester.product import Product

T1, T2, T3 = "2025-10-01T00:00:00.000Z", "2025-10-02T00:00:00.000Z", "2025-10-03T00:00:00.000Z"


def product(native_id="1", **changes):
    base = dict(archive="mast", native_id=native_id, target_name="3I/ATLAS", matched_by="alias:3I/ATLAS",
                mission="JWST", instrument="NIRSPEC/IFU", obs_start=T1, obs_end=T1,
                release_date="2026-12-22T00:00:00.000Z", access="exclusive", raw={"obsid": native_id})
    base.update(changes)
    return product_row(Product(**base))


def page(catalog, products, cursor=None, now=T1, rejects=()):
    run_id = start_run(catalog, "mast", "mast", now)
    result = commit_page(catalog, source="mast", archive="mast", run_id=run_id, now=now,
                         products=products, rejects=rejects, cursor=cursor, records=len(products),
                         skipped=0, requests=1)
    finish_run(catalog, run_id, source="mast", archive="mast", status="ok", now=now, requests=1)
    return result


def events(catalog):
    return [(r["kind"], r["product_key"]) for r in catalog.conn.execute("SELECT * FROM events ORDER BY id")]


@pytest.fixture
def catalog(db_path):
    with Catalog.open(db_path) as cat:
        yield cat


def test_new_catalog_is_wal_and_at_latest_schema(catalog):
    assert catalog.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert catalog.schema_version() == LATEST_VERSION
    tables = {r[0] for r in catalog.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"products", "events", "runs", "source_state", "rejects", "schema_version"} <= tables


def test_migrations_run_once(db_path):
    Catalog.open(db_path).close()
    with Catalog.open(db_path) as again:
        assert again.conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
        assert again.schema_version() == LATEST_VERSION


def test_a_migration_numbered_below_the_catalogs_highest_still_runs(db_path, monkeypatch):
    """Numbers are reserved for parallel branches: a catalog made without one of them (a branch
    at 9 before 6 merged) still gets it when it merges, once."""
    import catalog.db

    merged_later = sorted(MIGRATIONS)[-2]  # below the highest
    monkeypatch.setattr(catalog.db, "MIGRATIONS", [m for m in MIGRATIONS if m != merged_later])
    Catalog.open(db_path).close()
    with Catalog.open(db_path) as before:
        assert merged_later[0] not in before.applied_versions()
    monkeypatch.setattr(catalog.db, "MIGRATIONS", sorted(MIGRATIONS))
    with Catalog.open(db_path) as again:
        assert merged_later[0] in again.applied_versions()
    with Catalog.open(db_path) as third:  # and only once
        assert third.conn.execute("SELECT COUNT(*) FROM schema_version WHERE version = ?",
                                  (merged_later[0],)).fetchone()[0] == 1


def test_indexes_cover_what_users_ask(catalog):
    indexed = {r[0] for r in catalog.conn.execute(
        "SELECT il.name FROM sqlite_master m, pragma_index_list(m.name) il WHERE m.type='table'")}
    for name in ("idx_products_archive", "idx_products_obs_start", "idx_products_release_date",
                 "idx_products_first_seen", "idx_events_kind_time", "idx_events_time"):
        assert name in indexed


def test_a_newer_catalog_is_refused(db_path):
    Catalog.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO schema_version VALUES (999, 'future', '2030')")
    conn.commit()
    conn.close()
    with pytest.raises(CatalogError, match="newer than this harvester"):
        Catalog.open(db_path)


def test_a_new_product_gives_one_new_event_and_first_seen(catalog):
    result = page(catalog, [product()], cursor={"watermark": T1})
    assert result.new == 1
    row = catalog.conn.execute("SELECT * FROM products").fetchone()
    assert row["first_seen"] == T1 and row["last_seen"] == T1 and row["access"] == "exclusive"
    assert events(catalog) == [("new", "mast:1")]
    assert get_cursor(catalog, "mast") == {"watermark": T1}


def test_the_same_page_again_changes_nothing_but_last_seen(catalog):
    page(catalog, [product()])
    result = page(catalog, [product()], now=T2)
    assert (result.new, result.updated, result.released, result.unchanged) == (0, 0, 0, 1)
    row = catalog.conn.execute("SELECT first_seen, last_seen FROM products").fetchone()
    assert tuple(row) == (T1, T2)
    assert events(catalog) == [("new", "mast:1")]


def test_exclusive_to_public_is_a_released_event_only(catalog):
    page(catalog, [product()])
    result = page(catalog, [product(access="public")], now=T2)
    assert result.released == 1 and result.updated == 0
    assert events(catalog) == [("new", "mast:1"), ("released", "mast:1")]
    assert catalog.conn.execute("SELECT first_public FROM products").fetchone()[0] == T2


def test_changed_metadata_is_an_updated_event_naming_the_fields(catalog):
    page(catalog, [product()])
    page(catalog, [product(instrument="NIRSPEC/MSA", version="2")], now=T2)
    detail = catalog.conn.execute("SELECT detail FROM events WHERE kind='updated'").fetchone()[0]
    assert '"changed":["version","instrument"]' in detail
    assert catalog.conn.execute("SELECT first_seen FROM products").fetchone()[0] == T1


def test_a_page_repeating_a_row_stores_it_once(catalog):
    result = page(catalog, [product(), product()])
    assert result.new == 1
    assert catalog.conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 1


def test_a_failure_inside_the_page_transaction_leaves_nothing(catalog):
    run_id = start_run(catalog, "mast", "mast", T1)

    def boom():
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        commit_page(catalog, source="mast", archive="mast", run_id=run_id, now=T1, products=[product()],
                    cursor={"watermark": T3}, records=1, skipped=0, requests=1, before_commit=boom)
    assert catalog.conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 0
    assert events(catalog) == []
    assert get_cursor(catalog, "mast") is None


def test_rejects_are_kept_once_with_reason_and_raw(catalog):
    bad = Reject(reason="row has no obsid", raw={"target_name": "3I"}, native_id=None)
    page(catalog, [], rejects=[bad])
    page(catalog, [], rejects=[bad], now=T2)
    rows = catalog.conn.execute("SELECT reason, raw, times_seen FROM rejects").fetchall()
    assert [tuple(r) for r in rows] == [("row has no obsid", '{"target_name":"3I"}', 2)]


def test_new_events_are_unique_per_product_even_if_written_twice(catalog):
    page(catalog, [product()])
    with pytest.raises(sqlite3.IntegrityError):
        catalog.conn.execute("INSERT INTO events (time, kind, product_key) VALUES (?, 'new', 'mast:1')", (T2,))


def test_first_public_is_the_archives_date_when_it_gives_one(catalog):
    page(catalog, [product(native_id="9", access="public", public_since="2025-08-01T00:00:00.000Z")], now=T3)
    row = catalog.conn.execute("SELECT first_seen, first_public FROM products").fetchone()
    assert tuple(row) == (T3, "2025-08-01T00:00:00.000Z")


def test_public_since_alone_is_not_an_update(catalog):
    page(catalog, [product(access="public", public_since=T1)])
    result = page(catalog, [product(access="public", public_since=T2)], now=T2)
    assert result.unchanged == 1 and result.updated == 0
