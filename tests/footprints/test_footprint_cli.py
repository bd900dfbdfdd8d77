"""The footprint searches through the CLI: kill -9 in the middle and rerun loses and repeats
nothing, their products reach the alerts like any other, and a bad block is one line."""

from __future__ import annotations

import json
import signal
import sqlite3

import pytest

from harvester.sandbox import Sandbox, default_scenario
from tests.harvest_helpers import fast_http, run_cli, snapshot

CLOCK = "2026-11-21T00:00:00Z"


@pytest.fixture
def sandbox():
    with Sandbox(default_scenario(), port=0) as sb:
        yield sb


# A year of hourly positions is a 1.4 MB Horizons answer, which a loaded machine may take a few
# seconds to serve: the read timeout here is 10 s, as in the in-process footprint tests.
HTTP = fast_http(read_timeout=10)


def config(tmp_path, sb: Sandbox, db: str, extra: str = "") -> str:
    urls = sb.base_urls
    path = tmp_path / f"footprints-{abs(hash(db)) % 10**6}.toml"
    path.write_text(f"""
[catalog]
path = "{db}"
{HTTP}
[ephemeris]
horizons_url = "{urls['horizons']}"
[sources.mast-tess]
kind = "mast-position"
base_url = "{urls['mast']}"
page_size = 3
executing_interval = 0.0
[sources.irsa-spherex]
kind = "obscore-position"
base_url = "{urls['irsa']}"
archive = "irsa"
collections = ["SPHEREx"]
page_size = 2
[sources.catch]
kind = "catch"
base_url = "{urls['catch']}"
poll_interval = 0.01
{extra}
""")
    return str(path)


def matches(db: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute("SELECT product_key, source, rule, detail FROM product_matches"))
    finally:
        conn.close()


@pytest.mark.parametrize("point", ["page_commit:2", "page_committed:9", "page_commit:30"])
def test_kill_in_a_footprint_harvest_then_rerun_equals_an_uninterrupted_one(sandbox, tmp_path, point):
    sandbox.set_clock(CLOCK)
    reference = str(tmp_path / "reference.db")
    done = run_cli(["run", "--config", config(tmp_path, sandbox, reference)], now=CLOCK)
    assert done.returncode == 0, done.stdout + done.stderr
    crashed = str(tmp_path / "crashed.db")
    path = config(tmp_path, sandbox, crashed)
    killed = run_cli(["run", "--config", path], now=CLOCK, env={"HARVESTER_CRASHPOINT": point})
    assert killed.returncode == -signal.SIGKILL
    assert snapshot(crashed) != snapshot(reference)
    resumed = run_cli(["run", "--config", path], now=CLOCK)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert snapshot(crashed) == snapshot(reference)
    assert matches(crashed) == matches(reference)


def test_products_found_by_footprint_reach_the_alerts(sandbox, tmp_path):
    sandbox.set_clock(CLOCK)
    db = str(tmp_path / "alerts.db")
    path = config(tmp_path, sandbox, db)
    added = run_cli(["subscribe", "add", "unnamed", "--config", path, "--where",
                     "kind = 'new' AND matched_by LIKE 'ephemeris:%'", "--stdout"], now=CLOCK)
    assert added.returncode == 0, added.stderr
    assert run_cli(["run", "--config", path], now=CLOCK).returncode == 0
    sent = run_cli(["alerts", "send", "--config", path], now=CLOCK)
    lines = [json.loads(line) for line in sent.stdout.splitlines() if line.strip()]
    rules = {line["product"]["matched_by"] for line in lines}
    assert {"ephemeris:tess", "ephemeris:spherex"} <= rules
    conn = sqlite3.connect(db)
    try:
        found = conn.execute("SELECT COUNT(*) FROM products WHERE matched_by LIKE 'ephemeris:%'").fetchone()[0]
    finally:
        conn.close()
    assert len(lines) == found > 10


@pytest.mark.parametrize("extra, words", [
    ('[sources.bad]\nkind = "mast-position"\nbase_url = "http://127.0.0.1:1/mast"\nstep = "1 fortnight"',
     "[sources.bad] step"),
    ('[sources.bad]\nkind = "obscore-position"\nbase_url = "http://127.0.0.1:1/tap"\npoints_per_query = 0',
     "[sources.bad] points_per_query"),
    ('[sources.bad]\nkind = "catch"\nbase_url = "http://127.0.0.1:1/catch"\npadding = 500',
     "[sources.bad] padding"),
    ('[ephemeris.observers]\nvoyager = "500@-31; DROP"', "[ephemeris.observers] voyager"),
])
def test_a_bad_footprint_block_is_one_line_naming_the_key(sandbox, tmp_path, extra, words):
    path = config(tmp_path, sandbox, str(tmp_path / "bad.db"), extra)
    proc = run_cli(["run", "--config", path], now=CLOCK)
    assert proc.returncode == 2
    assert words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
