import pytest
from click.testing import CliRunner

from catalog import Catalog
from catalog.store import commit_page, start_run
from harvester.cli.main import cli
from harvester.engine import product_row
from harvester.product import Product

NOW = "2026-01-01T00:00:00.000Z"


@pytest.fixture
def filled(db_path):
    with Catalog.open(db_path) as catalog:
        run_id = start_run(catalog, "x", "x", NOW)
        rows = [product_row(Product(archive=archive, native_id=str(i), target_name="3I/ATLAS",
                                    matched_by="alias:3I/ATLAS", access="public", size_bytes=i * 10,
                                    raw={"i": i}))
                for i, archive in enumerate(["mast", "mast", "pds"])]
        commit_page(catalog, source="x", archive="x", run_id=run_id, now=NOW, products=rows, cursor=None,
                    records=3, skipped=0, requests=1)
    return db_path


def test_export_writes_a_dataset_partitioned_by_archive(filled, tmp_path):
    out = tmp_path / "parquet"
    result = CliRunner().invoke(cli, ["export", "parquet", "--catalog", filled, str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["archive=mast", "archive=pds"]
    import pyarrow.dataset as ds

    table = ds.dataset(out, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 3
    assert sorted(table.column("product_key").to_pylist()) == ["mast:0", "mast:1", "pds:2"]
    assert sorted(table.column("size_bytes").to_pylist()) == [0, 10, 20]


def test_duckdb_reads_the_export(filled, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "parquet"
    CliRunner().invoke(cli, ["export", "parquet", "--catalog", filled, str(out)])
    rows = duckdb.sql(
        f"select archive, count(*) from read_parquet('{out}/**/*.parquet', hive_partitioning=1) "
        "group by 1 order by 1").fetchall()
    assert rows == [("mast", 2), ("pds", 1)]


def test_export_again_replaces_the_previous_one(filled, tmp_path):
    out = tmp_path / "parquet"
    for _ in range(2):
        assert CliRunner().invoke(cli, ["export", "parquet", "--catalog", filled, str(out)]).exit_code == 0
    files = list(out.rglob("*.parquet"))
    assert len(files) == 2


def test_export_refuses_a_directory_holding_other_files(filled, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["export", "parquet", "--catalog", filled, str(tmp_path)])
    assert result.exit_code == 1
    assert "not a previous export" in result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"
