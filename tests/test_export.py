"""`harvester export parquet`: three datasets (products partitioned by archive, events,
expected_status) with typed columns (times timestamp[us, UTC], JSON columns strings described in
the schema), read back by pyarrow, DuckDB and pandas; replaced whole; never over a foreign
directory."""

import json

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from catalog import Catalog
from catalog.store import commit_page, start_run
from harvester.cli.main import cli
from harvester.engine import product_row
from harvester.product import Product
from harvester.sandbox import Sandbox
from tests.harvest_helpers import count, run_cli, write_config
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE, engine_scenario

NOW = "2026-01-01T00:00:00.000Z"
UTC_US = pa.timestamp("us", tz="UTC")


@pytest.fixture
def filled(db_path):
    with Catalog.open(db_path) as catalog:
        run_id = start_run(catalog, "x", "x", NOW)
        rows = [product_row(Product(archive=archive, native_id=str(i), target_name="3I/ATLAS",
                                    matched_by="alias:3I/ATLAS", access="public", size_bytes=i * 10,
                                    obs_start="2025-10-02T18:43:12.000Z", raw={"i": i}))
                for i, archive in enumerate(["mast", "mast", "pds"])]
        commit_page(catalog, source="x", archive="x", run_id=run_id, now=NOW, products=rows, cursor=None,
                    records=3, skipped=0, requests=1)
    return db_path


def export(db: str, out) -> object:
    return CliRunner().invoke(cli, ["export", "parquet", "--catalog", db, str(out)])


@pytest.fixture(scope="module")
def harvested(tmp_path_factory):
    """A real harvest, early then late: products, new/released events, the watch's statuses."""
    tmp = tmp_path_factory.mktemp("export")
    db = str(tmp / "catalog.db")
    with Sandbox(engine_scenario(), port=0) as sandbox:
        config = write_config(tmp, sandbox.base_urls, db)
        assert run_cli(["run", "--config", config], now=CLOCK_EARLY).returncode == 0
        sandbox.set_clock(CLOCK_LATE)
        assert run_cli(["run", "--config", config], now=CLOCK_LATE).returncode == 0
    out = tmp / "out"
    result = run_cli(["export", "parquet", "--catalog", db, str(out)])
    assert result.returncode == 0, result.stderr
    return db, out, result.stdout


def test_export_writes_three_datasets_products_partitioned_by_archive(filled, tmp_path):
    out = tmp_path / "parquet"
    result = export(filled, out)
    assert result.exit_code == 0, result.output
    assert "wrote 3 products (partitioned by archive), 3 events and 0 expected observations" \
        in result.output
    assert sorted(p.name for p in out.iterdir()) == ["events", "expected_status", "products"]
    assert sorted(p.name for p in (out / "products").iterdir()) == ["archive=mast", "archive=pds"]
    table = ds.dataset(out / "products", format="parquet", partitioning="hive").to_table()
    assert sorted(table.column("product_key").to_pylist()) == ["mast:0", "mast:1", "pds:2"]
    assert sorted(table.column("size_bytes").to_pylist()) == [0, 10, 20]
    assert pq.read_table(out / "expected_status").num_rows == 0  # the watch never ran here


def test_times_are_utc_timestamps_and_json_columns_say_what_they_are(harvested):
    _, out, _ = harvested
    products = pq.read_schema(next((out / "products").rglob("*.parquet")))
    for name in ("obs_start", "obs_end", "release_date", "first_seen", "last_seen", "updated_at",
                 "first_public"):
        assert products.field(name).type == UTC_US, name
    assert products.field("size_bytes").type == pa.int64()
    assert products.field("extra").type == pa.string()
    assert products.field("extra").metadata[b"format"] == b"json"
    assert b"exactly as the archive sent it" in products.field("raw").metadata[b"meaning"]
    described = json.loads(products.metadata[b"harvester.json_columns"])
    assert set(described) == {"extra", "raw"} and products.metadata[b"harvester.times"] == b"UTC"
    events = pq.read_schema(out / "events" / "part-0.parquet")
    assert events.field("time").type == UTC_US and events.field("id").type == pa.int64()
    assert events.field("detail").metadata[b"format"] == b"json"
    status = pq.read_schema(out / "expected_status" / "part-0.parquet")
    assert status.field("due_date").type == UTC_US and status.field("latency_days").type == pa.float64()


def test_duckdb_reads_every_dataset_with_types(harvested):
    duckdb = pytest.importorskip("duckdb")
    db, out, summary = harvested
    products = duckdb.sql(
        f"select archive, count(*), typeof(min(first_seen)) from read_parquet("
        f"'{out}/products/**/*.parquet', hive_partitioning=1) group by 1 order by 1").fetchall()
    assert [(a, n) for a, n, _ in products] == [
        ("mast", count(db, "SELECT COUNT(*) FROM products WHERE archive = 'mast'")),
        ("pds", count(db, "SELECT COUNT(*) FROM products WHERE archive = 'pds'"))]
    assert {t for _, _, t in products} == {"TIMESTAMP WITH TIME ZONE"}
    released = duckdb.sql(
        f"select product_key, json_extract_string(detail, '$.release_date') from read_parquet("
        f"'{out}/events/*.parquet') where kind = 'released'").fetchall()
    assert released == [("mast:2001", "2026-02-15T00:00:00.000Z")]
    statuses = duckdb.sql(f"select count(*), count(distinct status) from read_parquet("
                          f"'{out}/expected_status/*.parquet')").fetchall()[0]
    assert statuses[0] == count(db, "SELECT COUNT(*) FROM expected_status") > 0
    assert f"{statuses[0]} expected observations" in summary


def test_pandas_reads_every_dataset_with_utc_datetimes(harvested):
    pd = pytest.importorskip("pandas")
    db, out, _ = harvested
    products = pd.read_parquet(out / "products")
    assert len(products) == count(db, "SELECT COUNT(*) FROM products")
    assert str(products["first_seen"].dtype) == "datetime64[us, UTC]"
    jwst = products.set_index("product_key").loc["mast:2001"]
    assert jwst["release_date"] == pd.Timestamp("2026-02-15", tz="UTC")
    assert isinstance(json.loads(jwst["extra"]), dict)  # JSON text, as the schema says
    events = pd.read_parquet(out / "events")
    assert list(events["id"]) == sorted(events["id"]) and len(events) == count(db, "SELECT COUNT(*) FROM events")
    assert str(events["time"].dtype) == "datetime64[us, UTC]"
    status = pd.read_parquet(out / "expected_status")
    assert {"expected_id", "status", "platform", "mission", "due_date"} <= set(status.columns)
    assert str(status["due_date"].dtype) == "datetime64[us, UTC]"


def test_a_time_that_is_not_iso_is_left_empty_and_counted(db_path, tmp_path):
    with Catalog.open(db_path) as catalog:
        run_id = start_run(catalog, "x", "x", NOW)
        rows = [product_row(Product(archive="pds", native_id=str(i), target_name="3I/ATLAS",
                                    matched_by="alias:3I/ATLAS", access="public", obs_start=start,
                                    raw={}))
                for i, start in enumerate(["2025-10-02", "sometime in October", None])]
        commit_page(catalog, source="x", archive="x", run_id=run_id, now=NOW, products=rows,
                    cursor=None, records=3, skipped=0, requests=1)
    result = export(db_path, tmp_path / "out")
    assert result.exit_code == 0 and "1 time values were not ISO 8601 and are empty" in result.output
    table = pq.read_table(tmp_path / "out" / "products").to_pydict()
    starts = dict(zip(table["product_key"], table["obs_start"], strict=True))
    assert starts["pds:0"].isoformat() == "2025-10-02T00:00:00+00:00"
    assert starts["pds:1"] is None and starts["pds:2"] is None


def test_export_again_replaces_the_previous_one(filled, tmp_path):
    out = tmp_path / "parquet"
    for _ in range(2):
        assert export(filled, out).exit_code == 0
    assert len(list((out / "products").rglob("*.parquet"))) == 2
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging left


def test_an_export_of_the_older_layout_is_replaced(filled, tmp_path):
    out = tmp_path / "parquet"
    (out / "archive=mast").mkdir(parents=True)
    (out / "archive=mast" / "part-0.parquet").write_bytes(b"old")
    assert export(filled, out).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["events", "expected_status", "products"]


def test_export_refuses_a_directory_holding_other_files(filled, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = export(filled, tmp_path)
    assert result.exit_code == 1
    assert "not a previous export" in result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"
