import json
import shutil
import sqlite3

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
        run_id = start_run(catalog, "mast", "mast", NOW)
        rows = [product_row(Product(archive="mast", native_id=str(i), target_name="3I/ATLAS",
                                    matched_by="alias:3I/ATLAS", mission="HST", instrument="WFC3/UVIS",
                                    access="public", raw={"i": i})) for i in range(3)]
        commit_page(catalog, source="mast", archive="mast", run_id=run_id, now=NOW, products=rows,
                    cursor=None, records=3, skipped=0, requests=1)
    return db_path


def sql(db, *args):
    return CliRunner().invoke(cli, ["sql", "--catalog", db, *args])


def test_sql_answers_as_a_table(filled):
    result = sql(filled, "select archive, count(*) as n from products group by archive")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1].split() == ["mast", "3"]


def test_sql_answers_as_json_and_csv(filled):
    as_json = json.loads(sql(filled, "--format", "json", "select native_id from products order by 1").output)
    assert as_json == [{"native_id": "0"}, {"native_id": "1"}, {"native_id": "2"}]
    as_csv = sql(filled, "--format", "csv", "select native_id from products order by 1").output
    assert as_csv == "native_id\n0\n1\n2\n"


@pytest.mark.parametrize("statement", [
    "delete from products",
    "update products set mission = 'X'",
    "insert into events (time, kind) values ('t', 'new')",
    "drop table products",
    "create table x (a)",
    "attach database 'other.db' as other",
    "vacuum into 'copy.db'",
    "pragma journal_mode = delete",
    "select 1; delete from products",
])
def test_sql_refuses_writes_and_changes_nothing(filled, tmp_path, monkeypatch, statement):
    monkeypatch.chdir(tmp_path)
    before = (tmp_path / "before.db")
    shutil.copy(filled, before)
    result = sql(filled, statement)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    conn = sqlite3.connect(filled)
    assert conn.execute("select count(*) from products").fetchone()[0] == 3
    assert conn.execute("select count(*) from sqlite_master where name = 'x'").fetchone()[0] == 0
    assert not (tmp_path / "copy.db").exists() and not (tmp_path / "other.db").exists()


def test_sql_on_a_missing_catalog_says_so(tmp_path):
    result = sql(str(tmp_path / "none.db"), "select 1")
    assert result.exit_code == 1
    assert "no catalog here" in result.output
    assert not (tmp_path / "none.db").exists()


def test_sql_syntax_error_is_one_line_with_sqlites_message(filled):
    result = sql(filled, "selec * from products")
    assert result.exit_code == 2
    assert 'near "selec": syntax error' in result.output


def test_reading_schema_pragmas_is_allowed(filled):
    result = sql(filled, "--format", "json", "select name from pragma_table_info('products') limit 1")
    assert result.exit_code == 0 and "product_key" in result.output


def test_json_is_strict_json_with_every_value_kept(filled):
    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")

    result = sql(filled, "--format", "json",
                 "select 1e999 as big, -1e999 as small, x'00ff' as blob, x'6869' as text_blob, "
                 "1 as a, 2 as a, 3 as a")
    assert result.exit_code == 0
    rows = json.loads(result.stdout, parse_constant=refuse)  # Infinity/NaN would raise
    assert rows == [{"big": None, "small": None, "blob": {"$base64": True, "encoded": "AP8="},
                     "text_blob": "hi", "a": 1, "a:1": 2, "a:2": 3}]


def test_the_table_is_capped_and_says_so(filled):
    result = sql(filled, "--max-rows", "2", "select native_id from products order by 1")
    assert result.exit_code == 0
    assert result.stdout.split() == ["native_id", "-----------", "0", "1"]
    assert "showing the first 2 rows; there are more" in result.stderr


def test_an_endless_query_in_table_format_ends(filled):
    result = sql(filled, "--time-limit", "60",
                 "with recursive c(x) as (select 1 union all select x + 1 from c) select x from c")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 1002  # header, rule, the first 1,000 rows


@pytest.mark.parametrize("statement", ["pragma integrity_check", "pragma quick_check",
                                       "pragma quick_check(1)", "pragma integrity_check(products)"])
def test_integrity_checks_only_read_and_are_allowed(filled, tmp_path, statement):
    before = open(filled, "rb").read()
    result = sql(filled, "--format", "json", statement)
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)[0].values()) == ["ok"]
    assert open(filled, "rb").read() == before
