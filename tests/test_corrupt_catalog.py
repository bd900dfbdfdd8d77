"""`harvester run` refuses a damaged catalog: one line saying so and how to recover, and nothing
more written to it. Real damage to a real catalog file (bytes overwritten where SQLite keeps a
table), real `harvester` processes, and the recovery the message advises, done for real."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from harvester.sandbox import Sandbox
from tests.harvest_helpers import count, run_cli, snapshot, write_config
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE, LATE_3I_MAST, LATE_3I_PDS, engine_scenario


@pytest.fixture
def sandbox():
    with Sandbox(engine_scenario(), port=0) as sb:
        yield sb


@pytest.fixture
def harvested(tmp_path: Path, sandbox) -> tuple[str, str]:
    db = str(tmp_path / "catalog.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    first = run_cli(["run", "--config", config], now=CLOCK_EARLY)
    assert first.returncode == 0, first.stderr
    sandbox.set_clock(CLOCK_LATE)  # the next run would bring new products
    return config, db


def digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def damage_pages_of(db: str, table: str) -> list[int]:
    """Overwrite every page SQLite uses for `table` (its b-tree, per the dbstat table) with junk."""
    conn = sqlite3.connect(db)
    try:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = [r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,))]
    finally:
        conn.close()
    with open(db, "r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * size)
            handle.write(bytes((n * 37 + 11) % 256 for n in range(size)))
    return pages


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_run_refuses_a_catalog_with_a_damaged_schema_and_leaves_it_byte_for_byte(harvested):
    config, db = harvested
    with open(db, "r+b") as handle:  # the rest of page 1: where SQLite keeps the schema
        handle.seek(100)
        handle.write(b"\xde\xad\xbe\xef" * 900)
    before = digest(db)
    run = run_cli(["run", "--config", config], now=CLOCK_LATE)
    assert run.returncode == 1
    line = one_line(run.stderr)
    assert "is damaged" in line and f"sqlite3 {db} .recover" in line
    assert run.stdout == ""  # no source was harvested
    assert digest(db) == before
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


def test_run_stops_at_the_first_damaged_page_and_writes_nothing_more(harvested):
    config, db = harvested
    before = snapshot(db)
    runs_before = count(db, "SELECT COUNT(*) FROM runs")
    damage_pages_of(db, "products")
    run = run_cli(["run", "--config", config], now=CLOCK_LATE)
    assert run.returncode == 1
    line = one_line(run.stderr)
    assert "is damaged" in line and "nothing more was written" in line and ".recover" in line
    assert run.stdout == ""
    conn = sqlite3.connect(db)
    try:
        # The first source's run was started, then its first page met the damage: it is left
        # "running" (the next harvest marks it interrupted) and no other source was started.
        runs = conn.execute("SELECT source, status FROM runs ORDER BY id").fetchall()
        assert len(runs) == runs_before + 1 and runs[-1] == ("mast", "running")
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == len(before["events"])
        assert sorted(conn.execute("SELECT source, cursor FROM source_state")) == before["cursors"]
    finally:
        conn.close()
    # What `harvester sql` says about it is the same line, not a traceback, and the read-only
    # integrity checks are allowed to show the damage.
    read = run_cli(["sql", "--config", config, "select product_key, raw from products"])
    assert read.returncode == 1 and "is damaged" in one_line(read.stderr)
    check = run_cli(["sql", "--config", config, "--format", "json", "pragma quick_check"])
    if check.returncode == 0:  # the check could walk the file: it lists what it found
        assert json.loads(check.stdout) and '"ok"' not in check.stdout
    else:  # the damage stops the check itself: the same one line
        assert "is damaged" in one_line(check.stderr)


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 shell is not installed")
def test_the_recovery_the_message_gives_works(harvested, tmp_path):
    config, db = harvested
    damage_pages_of(db, "events")
    line = one_line(run_cli(["run", "--config", config], now=CLOCK_LATE).stderr)
    assert f"sqlite3 {db} .recover | sqlite3 recovered.db" in line
    recovered = tmp_path / "recovered.db"
    subprocess.run(f"sqlite3 {db} .recover | sqlite3 {recovered}", shell=True, check=True,
                   capture_output=True, timeout=60)
    rerun = run_cli(["run", "--full", "--config", config, "--catalog", str(recovered)],
                    now=CLOCK_LATE)
    assert rerun.returncode == 0, rerun.stderr
    assert count(str(recovered), "SELECT COUNT(*) FROM products") == LATE_3I_MAST + LATE_3I_PDS


def test_the_scheduler_stops_on_a_damaged_catalog_instead_of_retrying_into_it(harvested):
    config, db = harvested
    damage_pages_of(db, "products")
    runs_before = count(db, "SELECT COUNT(*) FROM runs")
    done = run_cli(["schedule", "--once", "--config", config], now=CLOCK_LATE)
    assert done.returncode == 1
    assert "is damaged" in one_line(done.stderr.replace(_log_lines(done.stderr), ""))
    assert count(db, "SELECT COUNT(*) FROM runs") == runs_before + 1  # the one that met it
    conn = sqlite3.connect(db)
    try:  # its last heartbeat is the one before the damage was met: nothing written after
        assert conn.execute("SELECT state FROM scheduler_heartbeats ORDER BY id DESC").fetchone() \
            != ("stopped",)
    finally:
        conn.close()


def _log_lines(stderr: str) -> str:
    """`harvester schedule` logs at info level: its own log lines, not errors."""
    return "".join(line + "\n" for line in stderr.splitlines() if " INFO " in line)
