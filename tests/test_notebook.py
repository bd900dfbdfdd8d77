"""The notebook API: `harvester.open_catalog(path)` returns pandas DataFrames with proper dtypes,
agrees with the CLI (`gaps`, `sql`), never writes, and pandas is imported only when it is used
(`harvester --help` imports neither pandas nor Datasette)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import harvester
from harvester.errors import ConfigError, ReadOnlyQueryError
from harvester.sandbox import Sandbox
from tests.harvest_helpers import run_cli, write_config
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE, EARLY_3I_MAST, EARLY_3I_PDS, engine_scenario

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def harvested(tmp_path_factory):
    """A catalog harvested early, then late (the JWST embargo ended in between); its config."""
    tmp = tmp_path_factory.mktemp("notebook")
    db = str(tmp / "catalog.db")
    with Sandbox(engine_scenario(), port=0) as sandbox:
        config = write_config(tmp, sandbox.base_urls, db)
        assert run_cli(["run", "--config", config], now=CLOCK_EARLY).returncode == 0
        sandbox.set_clock(CLOCK_LATE)
        assert run_cli(["run", "--config", config], now=CLOCK_LATE).returncode == 0
    return db, config


@pytest.fixture
def cat(harvested):
    db, config = harvested
    return harvester.open_catalog(db, config=config)


def test_products_have_utc_datetimes_categories_and_json_objects(cat):
    products = cat.products()
    assert len(products) == EARLY_3I_MAST + EARLY_3I_PDS + 3
    assert str(products["first_seen"].dtype) in ("datetime64[us, UTC]", "datetime64[ns, UTC]")
    assert str(products["obs_start"].dtype).endswith(", UTC]")
    assert products["archive"].dtype == "category" and products["access"].dtype == "category"
    assert products["size_bytes"].dtype == "Int64"
    jwst = products.set_index("product_key").loc["mast:2001"]
    assert jwst["release_date"] == pd.Timestamp("2026-02-15", tz="UTC")
    assert isinstance(jwst["extra"], dict) and jwst["mission"] == "JWST"
    assert list(products["first_seen"]) == sorted(products["first_seen"], reverse=True)


def test_products_filter_and_search(cat):
    assert set(cat.products(archive="pds")["archive"]) == {"pds"}
    both = cat.products(archive=["mast", "pds"], access="public")
    assert set(both["access"]) == {"public"} and len(both) == len(cat.products(access="public"))
    hirise = cat.products(search="hirise")
    assert len(hirise) == EARLY_3I_PDS + 2 and set(hirise["instrument"]) == {"HIRISE"}
    assert list(cat.products(search="jwst", archive="mast")["product_key"]) == ["mast:2001"]
    late = cat.products(observed_after="2026-01-01")
    assert list(late["product_key"]) == ["mast:3001"]
    assert len(cat.products(limit=2)) == 2
    with pytest.raises(ConfigError, match="no filter colour"):
        cat.products(colour="red")


def test_events_since_and_by_kind(cat):
    released = cat.events(kind="released")
    assert list(released["product_key"]) == ["mast:2001"]
    assert released["time"].iloc[0] == pd.Timestamp("2026-03-01", tz="UTC")
    assert released["kind"].dtype == "category"
    new = cat.events(kind=["new"], since="2026-02-01")
    assert len(new) == 3 and (new["time"] >= pd.Timestamp("2026-02-01", tz="UTC")).all()
    assert isinstance(cat.events(kind="released")["detail"].iloc[0], dict)


def test_gaps_and_latency_agree_with_harvester_gaps(cat, harvested):
    db, config = harvested
    frame = cat.gaps(as_of="2026-03-01")
    cli = json.loads(run_cli(["gaps", "--config", config, "--catalog", db, "--format", "json",
                              "--as-of", "2026-03-01"]).stdout)
    assert dict(zip(frame["id"], frame["status"].astype(str), strict=True)) == {
        e["id"]: e["status"] for e in cli["expected"]}
    assert list(frame["status"].cat.categories) == ["released", "exclusive", "pending", "overdue",
                                                    "not_watched", "unconfirmed"]
    assert str(frame["due_date"].dtype).endswith(", UTC]") and frame["overdue_days"].dtype == "float64"
    latency = cat.latency()
    assert [(r["archive"], r["instrument"], r["count"]) for r in cli["latency"]] == \
        list(zip(latency["archive"], latency["instrument"], latency["count"], strict=True))


def test_sql_and_news(cat):
    counts = cat.sql("select kind, count(*) as n, max(time) as time from events group by kind")
    assert dict(zip(counts["kind"], counts["n"], strict=True))["released"] == 1
    assert str(counts["time"].dtype).endswith(", UTC]")
    news = cat.news("1000d")
    assert "Embargoes ended: 1" in str(news) and "### Embargoes ended: 1" in news._repr_markdown_()
    assert news.to_dict()["released"]["items"][0]["product_key"] == "mast:2001"


def test_it_never_writes(cat, harvested):
    db, _ = harvested
    before = hashlib.sha256(Path(db).read_bytes()).hexdigest()
    wal = Path(db + "-wal")
    wal_before = wal.stat().st_size if wal.exists() else 0
    with pytest.raises(ReadOnlyQueryError):
        cat.sql("delete from products")
    cat.products(), cat.events(), cat.gaps(), cat.latency(), cat.news("7d")
    assert hashlib.sha256(Path(db).read_bytes()).hexdigest() == before
    assert (wal.stat().st_size if wal.exists() else 0) == wal_before
    assert cat.sql("select count(*) as n from news_readers")["n"].iloc[0] == 0


def test_a_missing_catalog_is_one_clear_error(tmp_path):
    from harvester.errors import CatalogError

    with pytest.raises(CatalogError, match="no catalog here"):
        harvester.open_catalog(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


def test_pandas_comes_only_with_the_first_dataframe(harvested):
    db, config = harvested
    code = (f"import sys, harvester; cat = harvester.open_catalog({db!r}, config={config!r}); "
            "before = 'pandas' in sys.modules; cat.products(); "
            "print(before, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "True"], out.stderr


def test_the_cli_starts_without_the_heavy_libraries():
    code = ("import sys; from harvester.cli.main import cli\n"
            "try:\n    cli(['--help'], prog_name='harvester')\nexcept SystemExit:\n    pass\n"
            "heavy = ['pandas', 'numpy', 'datasette', 'pyarrow', 'sqlite_utils', 'uvicorn']\n"
            "print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr
