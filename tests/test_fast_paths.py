"""The fast paths of issue 15 change the speed of a harvest, never what it stores: a backfill
with its indexes built after the load and reruns that skip normalizing unchanged records leave
the catalog identical, column for column, to a harvest without them."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta

import pytest

from catalog import Catalog
from catalog.bulk import deferrable, finish_load, loading
from catalog.status import source_status
from harvester.config import load_config
from harvester.demo import sandbox_config
from harvester.engine import build_source, harvest
from harvester.names.matcher import AliasMatcher
from harvester.sandbox import Sandbox, default_scenario
from harvester.timeutil import iso, parse_iso
from harvester.unchanged import fingerprint, release_horizon

# Tables a harvest does not write, or writes with the real wall clock or the process id.
NOT_COMPARED = {"schema_version", "sqlite_sequence", "deferred_schema", "alerts_instance"}
NOT_COMPARED_COLUMNS = {("runs", "pid"), ("ephemerides", "query")}  # the query names the port
# The sandbox's clock at each harvest, in days before its final clock: products appear and
# exclusive ones are released as it moves (MAST's a month after its final clock); the last
# harvest repeats the one before it.
HARVEST_DAYS = (60, 20, 0, -40, -40)


def set_fast_paths(config, *, on: bool):
    catalog = dataclasses.replace(config.catalog, bulk_load=on, skip_unchanged=on)
    return dataclasses.replace(config, catalog=catalog)


def harvest_the_campaign(sandbox, tmp_path, monkeypatch, name: str, *, fast: bool):
    """The default scenario harvested at each clock of HARVEST_DAYS; the catalog's path and
    each harvest's report. The same sandbox for both campaigns: its address is in the source
    settings, which are in each record's fingerprint."""
    db = str(tmp_path / f"{name}.db")
    reports = []
    final = sandbox.clock
    config = set_fast_paths(sandbox_config(load_config(None, catalog_override=db),
                                           sandbox.base_urls), on=fast)
    for days in HARVEST_DAYS:
        clock = final - timedelta(days=days)
        sandbox.set_clock(clock)
        monkeypatch.setenv("HARVESTER_NOW", iso(clock))
        reports.append(harvest(config))
    return db, reports


def table_contents(db: str) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' "
            "AND name NOT LIKE 'products_fts%' ORDER BY name")]
        contents = {}
        for table in tables:
            if table in NOT_COMPARED:
                continue
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')
                       if (table, r[1]) not in NOT_COMPARED_COLUMNS]
            names = ", ".join(f'"{c}"' for c in columns)
            rows = [tuple(zip(columns, row, strict=True)) for row in conn.execute(
                f'SELECT {names} FROM "{table}" ORDER BY {names}')]
            if table == "runs":
                # CATCH keeps a search's results (the sandbox as the real service): the second
                # campaign against the same sandbox asks it fewer times.
                rows = [tuple((c, None if c == "requests" and ("source", "catch") in row else v)
                              for c, v in row) for row in rows]
            contents[table] = rows
        contents["search"] = sorted(conn.execute(
            "SELECT p.product_key FROM products_fts f JOIN products p ON p.rowid = f.rowid "
            "WHERE products_fts MATCH 'atlas OR c2025n1 OR n1 OR hirise OR nirspec'"))
        contents["schema"] = sorted(conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex%'"))
        return contents
    finally:
        conn.close()


@pytest.fixture(scope="module")
def campaigns(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    try:
        tmp = tmp_path_factory.mktemp("fast")
        with Sandbox(default_scenario(), port=0) as sandbox:
            final = sandbox.clock
            fast = harvest_the_campaign(sandbox, tmp, monkeypatch, "fast", fast=True)
            sandbox.set_clock(final)
            slow = harvest_the_campaign(sandbox, tmp, monkeypatch, "slow", fast=False)
    finally:
        monkeypatch.undo()
    return fast, slow


def test_fast_paths_store_exactly_what_the_plain_harvest_stores(campaigns):
    (fast_db, _), (slow_db, _) = campaigns
    fast, slow = table_contents(fast_db), table_contents(slow_db)
    assert fast.keys() == slow.keys()
    for table in fast:
        assert fast[table] == slow[table], f"{table} differs"
    assert len(fast["products"]) > 100 and fast["search"]
    assert any(kind == "released" for row in fast["events"] for col, kind in row if col == "kind")


def test_a_rerun_knows_unchanged_records_without_normalizing_them(campaigns):
    (fast_db, fast_reports), (_, slow_reports) = campaigns
    rerun = {r.source: r for r in fast_reports[-1].results}
    plain = {r.source: r for r in slow_reports[-1].results}
    conn = sqlite3.connect(fast_db)
    last_clock = conn.execute("SELECT MAX(started_at) FROM runs").fetchone()[0]
    try:
        for name in ("mast", "pds", "psa"):
            assert rerun[name].records > 0
            assert rerun[name].new == rerun[name].updated == rerun[name].released == 0
            # Every record re-read that is about the target was recognised by its fingerprint,
            # except those of exclusive products whose release may have come (the clock is
            # not in the fingerprint): those are normalized again.
            due = conn.execute(
                "SELECT COUNT(*) FROM products WHERE source = ? AND access = 'exclusive' "
                "AND (release_date IS NULL OR release_date <= ?)",
                (name, release_horizon(parse_iso(last_clock)))).fetchone()[0]
            about_the_target = rerun[name].records - rerun[name].skipped
            assert about_the_target - due <= rerun[name].unchanged <= about_the_target, name
            assert rerun[name].unchanged > 0
            assert plain[name].unchanged == 0
    finally:
        conn.close()
    footprint = [r for r in rerun.values() if r.source in ("mast-position", "catch")]
    assert all(r.unchanged == 0 for r in footprint)


def test_the_first_harvest_is_a_load_and_leaves_every_index_built(campaigns):
    (fast_db, _), _ = campaigns
    with Catalog.open(fast_db) as catalog:
        assert not loading(catalog.conn)
        built = {name for _, name, _, _ in deferrable(catalog.conn)}
    assert {"idx_products_obs_start", "idx_events_time", "products_ai", "products_count_ai"} <= built


def test_status_reads_the_kept_counts_which_match_a_count_of_the_products(campaigns):
    (fast_db, _), _ = campaigns
    conn = sqlite3.connect(fast_db)
    conn.row_factory = sqlite3.Row
    try:
        counted = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT source, COUNT(*), SUM(access = 'exclusive') FROM products GROUP BY source")}
        kept = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT * FROM source_counts")}
        assert kept == counted
        shown = {r["source"]: (r["products"], r["exclusive"]) for r in source_status(conn)
                 if r.get("products")}
        assert shown == counted
    finally:
        conn.close()


def test_counts_follow_inserts_releases_moves_and_deletes(tmp_path):
    with Catalog.open(tmp_path / "c.db") as catalog:
        conn = catalog.conn
        columns = ("product_key", "archive", "native_id", "source", "access", "first_seen",
                   "last_seen", "updated_at", "content_hash")
        insert = f"INSERT INTO products ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        for n, access in enumerate(["exclusive", "exclusive", "public"]):
            conn.execute(insert, (f"mast:{n}", "mast", str(n), "mast", access, "t", "t", "t", "h"))
        conn.execute("UPDATE products SET access = 'public' WHERE product_key = 'mast:0'")
        conn.execute("UPDATE products SET source = 'mast-position' WHERE product_key = 'mast:1'")
        conn.execute("UPDATE products SET last_seen = 'u', access = access")  # no change of count
        conn.execute("DELETE FROM products WHERE product_key = 'mast:2'")
        kept = dict((r[0], (r[1], r[2])) for r in conn.execute("SELECT * FROM source_counts"))
        assert kept == {"mast": (1, 0), "mast-position": (1, 1)}


def test_a_load_killed_before_its_end_is_finished_by_the_next_harvest(tmp_path, monkeypatch):
    """Set aside and recorded: status counts instead of trusting the counts, and the next
    harvest (here with loads turned off) builds every object back."""
    db = str(tmp_path / "killed.db")
    with Sandbox(default_scenario(), port=0) as sandbox:
        monkeypatch.setenv("HARVESTER_NOW", iso(sandbox.clock))
        config = sandbox_config(load_config(None, catalog_override=db), sandbox.base_urls)
        with Catalog.open(db) as catalog:
            full_schema = sorted(tuple(r) for r in catalog.conn.execute(
                "SELECT name, sql FROM sqlite_master"))
            from catalog.bulk import begin_load
            assert begin_load(catalog, iso(sandbox.clock))  # what a killed load leaves behind
            assert loading(catalog.conn)
            assert not {n for _, n, _, _ in deferrable(catalog.conn)} & {"idx_products_obs_start"}
        report = harvest(set_fast_paths(config, on=False), only=["mast"])
        assert report.ok
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        assert sorted(tuple(r) for r in conn.execute(
            "SELECT name, sql FROM sqlite_master")) == full_schema
        assert conn.execute("SELECT COUNT(*) FROM deferred_schema").fetchone()[0] == 0
        stored = conn.execute("SELECT COUNT(*) FROM products").fetchone()[0]
        assert stored > 0
        assert conn.execute("SELECT products FROM source_counts WHERE source = 'mast'"
                            ).fetchone()[0] == stored
        found = conn.execute("SELECT COUNT(*) FROM products_fts WHERE products_fts MATCH 'atlas'"
                             ).fetchone()[0]
        assert found > 0
    finally:
        conn.close()


def test_status_counts_the_products_while_a_load_has_its_triggers_aside(tmp_path):
    with Catalog.open(tmp_path / "c.db") as catalog:
        from catalog.bulk import begin_load
        assert begin_load(catalog, "2026-01-01T00:00:00.000Z")
        catalog.conn.execute(
            "INSERT INTO products (product_key, archive, native_id, source, access, first_seen, "
            "last_seen, updated_at, content_hash) VALUES ('mast:1', 'mast', '1', 'mast', "
            "'exclusive', 't', 't', 't', 'h')")
        rows = {r["source"]: r for r in source_status(catalog.conn, ["mast"])}
        assert (rows["mast"]["products"], rows["mast"]["exclusive"]) == (1, 1)
        assert finish_load(catalog) > 0
        rows = {r["source"]: r for r in source_status(catalog.conn, ["mast"])}
        assert (rows["mast"]["products"], rows["mast"]["exclusive"]) == (1, 1)


def test_what_normalization_depends_on_is_in_the_fingerprint(tmp_path):
    config = load_config(None, catalog_override=str(tmp_path / "c.db"))
    matcher = AliasMatcher(config.target.name, config.target.aliases)

    def print_of(name, config=config, matcher=matcher, target_ids=()):
        return fingerprint(build_source(config, name, matcher, None, list(target_ids)), None)

    base = print_of("pds")
    assert base and base == print_of("pds")
    assert print_of("pds", target_ids=["urn:nasa:pds:context:target:comet.c2025_n1_another"]) != base
    assert print_of("pds", matcher=AliasMatcher(config.target.name, ["3I", "Oumuamua"])) != base
    changed = dataclasses.replace(config.sources["pds"], page_size=7)
    other = dataclasses.replace(config, sources={**config.sources, "pds": changed})
    assert print_of("pds", config=other) != base
    assert print_of("mast") != base
    assert print_of("catch") is None  # a footprint verdict is not in any record
