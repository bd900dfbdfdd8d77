"""Log lines of a real `harvester` subprocess: human by default, JSON lines with --log-format
json, to stderr or --log-file, and the run id (the `runs` table's id) on every line written
during a harvest, whichever part of the harvester wrote it."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from harvester.sandbox import Sandbox
from tests.harvest_helpers import run_cli, write_config
from tests.scenarios import CLOCK_EARLY, engine_scenario


@pytest.fixture
def sandbox():
    with Sandbox(engine_scenario(), port=0) as sb:
        yield sb


def run_ids(db: str) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT source, id FROM runs ORDER BY id"))
    finally:
        conn.close()


def test_json_logs_are_one_object_per_line_with_the_run_id(sandbox, tmp_path, db_path):
    config = write_config(tmp_path, sandbox.base_urls, db_path)
    # One retry on MAST, so a line from the HTTP client (not the engine) is among them.
    sandbox.faults.add("http503", path_prefix="/mast", count=1)
    proc = run_cli(["--log-format", "json", "-vv", "run", "--config", config], now=CLOCK_EARLY)
    assert proc.returncode == 0, proc.stderr
    entries = [json.loads(line) for line in proc.stderr.splitlines()]  # every line parses
    assert entries and all({"time", "level", "logger", "message", "run_id", "source"} <= set(e)
                           for e in entries)
    ids = run_ids(db_path)
    harvest_lines = [e for e in entries if e["logger"].startswith("harvester.engine")]
    assert {(e["source"], e["run_id"]) for e in harvest_lines} == set(ids.items())
    retry = [e for e in entries if e["logger"] == "harvester.http" and "retrying" in e["message"]]
    assert retry and all(e["run_id"] == ids["mast"] and e["source"] == "mast" for e in retry)
    pages = [e for e in entries if e["message"].startswith("page ")]
    assert pages and all(e["run_id"] == ids[e["source"]] for e in pages)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"]) for e in entries)


def test_human_logs_tag_each_harvest_line_with_run_and_source(sandbox, tmp_path, db_path):
    config = write_config(tmp_path, sandbox.base_urls, db_path)
    proc = run_cli(["-v", "run", "--config", config], now=CLOCK_EARLY)
    assert proc.returncode == 0, proc.stderr
    ids = run_ids(db_path)
    engine_lines = [line for line in proc.stderr.splitlines() if " harvester.engine " in line]
    assert engine_lines
    for line in engine_lines:
        run_id, source = re.search(r"\[run (\d+) (\w+)\]: ", line).groups()
        assert ids[source] == int(run_id)
    assert any(f"run {ids['pds']} of pds started" in line for line in engine_lines)
    assert not proc.stderr.lstrip().startswith("{")


def test_quiet_by_default(sandbox, tmp_path, db_path):
    config = write_config(tmp_path, sandbox.base_urls, db_path)
    proc = run_cli(["run", "--config", config], now=CLOCK_EARLY)
    assert proc.returncode == 0 and proc.stderr == ""


def test_log_file_receives_the_lines_and_is_appended_across_runs(sandbox, tmp_path, db_path):
    config = write_config(tmp_path, sandbox.base_urls, db_path)
    log_file = tmp_path / "harvest.log"
    for _ in range(2):
        proc = run_cli(["--log-file", str(log_file), "--log-format", "json", "-v", "run",
                        "--config", config], now=CLOCK_EARLY)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""  # the lines went to the file, not stderr
    entries = [json.loads(line) for line in log_file.read_text().splitlines()]
    started = [e["run_id"] for e in entries if " started from cursor " in e["message"]]
    assert started == [1, 2, 3, 4]  # both runs' lines, in order, none lost to truncation


def test_an_unwritable_log_file_is_one_line_naming_it(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "h.log"
    proc = run_cli(["--log-file", str(missing), "status"])
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"Error: --log-file {missing}: cannot open for writing: "
                                   "No such file or directory")
