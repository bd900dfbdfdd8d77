"""A full disk is one line, and the catalog keeps what it had.

Two honest ways to fill a disk, both making the kernel refuse real writes of the real harvester:
- a small tmpfs mounted in a private user and mount namespace (`unshare -rm`: no root needed,
  nothing mounted outside the namespace): writes fail with ENOSPC, exactly as on a full disk.
  The sandbox stays reachable (the network namespace is shared). Skipped where the kernel
  does not allow unprivileged namespaces;
- RLIMIT_FSIZE set for the harvester process: any write past the limit fails with EFBIG. Not
  "disk full" by name, but the same path through SQLite (a failed write in the middle of a
  transaction) and it runs everywhere.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harvester.sandbox import Sandbox
from tests.harvest_helpers import run_cli, snapshot, write_config
from tests.scenarios import CLOCK_EARLY, CLOCK_LATE, engine_scenario

WAIT = 120

# Runs inside the namespace: mount the small disk, put the catalog (and a config) on it, fill
# what is left, run one harvester command, and report what happened to the catalog.
DRIVER = textwrap.dedent("""
    import hashlib, json, os, shutil, sqlite3, subprocess, sys
    disk, size, catalog, config, free = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    args = json.loads(sys.argv[6])
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", disk], check=True)
    db = os.path.join(disk, "catalog.db")
    shutil.copy(catalog, db)
    stats = os.statvfs(disk)
    with open(os.path.join(disk, "filler"), "wb") as f:
        f.write(b"\\0" * max(stats.f_bavail * stats.f_frsize - free, 0))
    def state():
        conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
        try:
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("products", "events", "subscriptions", "deliveries")} | {
                   "cursors": sorted(conn.execute("SELECT source, cursor FROM source_state"))}
        finally:
            conn.close()
    before = (hashlib.sha256(open(db, "rb").read()).hexdigest(), state())
    env = dict(os.environ, HARVESTER_NOW=sys.argv[7])
    done = subprocess.run([sys.executable, "-m", "harvester.cli", *args, "--config", config,
                           "--catalog", db], capture_output=True, text=True, env=env, timeout=120)
    after = (hashlib.sha256(open(db, "rb").read()).hexdigest(), state())
    print(json.dumps({"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                      "before": before, "after": after,
                      "left": sorted(os.listdir(disk))}, default=list))
""")


def namespaces_work(tmp: Path) -> bool:
    probe = tmp / "probe"
    probe.mkdir()
    try:
        done = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                               str(probe)], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture
def sandbox():
    with Sandbox(engine_scenario(), port=0) as sb:
        yield sb


@pytest.fixture
def harvested(tmp_path: Path, sandbox) -> tuple[str, str]:
    db = str(tmp_path / "catalog.db")
    config = write_config(tmp_path, sandbox.base_urls, db)
    first = run_cli(["run", "--config", config], now=CLOCK_EARLY, timeout=WAIT)
    assert first.returncode == 0, first.stderr
    added = run_cli(["subscribe", "add", "jwst", "--where", "kind = 'new'", "--stdout",
                     "--config", config], timeout=WAIT)
    assert added.returncode == 0, added.stderr
    sandbox.set_clock(CLOCK_LATE)
    return config, db


def on_a_full_disk(tmp_path: Path, catalog: str, config: str, args: list[str], *,
                   free: int) -> dict:
    if not namespaces_work(tmp_path):
        pytest.skip("unprivileged user and mount namespaces are not allowed here")
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    disk = tmp_path / "disk"
    disk.mkdir()
    size = Path(catalog).stat().st_size + 1024 * 1024
    done = subprocess.run(
        ["unshare", "-rm", sys.executable, str(driver), str(disk), str(size), catalog, config,
         str(free), json.dumps(args), CLOCK_LATE],
        capture_output=True, text=True, timeout=WAIT, cwd=os.getcwd())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_run_full_on_a_full_disk_is_one_line_and_stores_nothing_half(tmp_path, harvested):
    config, db = harvested
    # Room for the WAL index and a frame or two (the run's own record), not for a page of products.
    result = on_a_full_disk(tmp_path, db, config, ["run", "--full"], free=48 * 1024)
    assert result["rc"] == 1
    line = one_line(result["stderr"])
    assert "cannot write the catalog: the disk is full" in line
    before, after = result["before"][1], result["after"][1]
    for key in ("products", "events", "subscriptions", "deliveries", "cursors"):
        assert after[key] == before[key], key


@pytest.mark.parametrize("args, says", [
    (["subscribe", "add", "more", "--where", "kind = 'released'", "--stdout"],
     "cannot write the catalog: the disk is full"),
    (["export", "parquet", "/DISK/out"], "No space left on device"),
])
def test_a_command_that_writes_on_a_full_disk_is_one_line_and_changes_nothing(
        tmp_path, harvested, args, says):
    config, db = harvested
    disk = str(tmp_path / "disk")
    result = on_a_full_disk(tmp_path, db, config, [a.replace("/DISK", disk) for a in args],
                            free=0)
    assert result["rc"] == 1
    assert says in one_line(result["stderr"])
    assert result["after"] == result["before"]  # the catalog file, byte for byte
    assert [name for name in result["left"] if "out" in name] == []  # no half export left


def test_run_with_writes_refused_past_a_file_size_limit_is_one_line(tmp_path, harvested):
    config, db = harvested
    before = snapshot(db)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    env["HARVESTER_NOW"] = CLOCK_LATE
    limit = 16 * 1024  # bytes: the WAL gets its header and a frame or so, then EFBIG

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run([sys.executable, "-m", "harvester.cli", "run", "--full", "--config",
                           config], capture_output=True, text=True, env=env, timeout=WAIT,
                          preexec_fn=limit_file_size)
    assert done.returncode == 1, done.stderr
    assert "cannot write the catalog" in one_line(done.stderr)
    after = snapshot(db)
    assert after == before
