"""A catalog in a read-only directory (a team's shared copy, an NFS export mounted ro) can be read
by every reading command, as it is; only a harvest, which must write, says in one line why not.

The directory is made read-only for real: a read-only bind mount in a private user and mount
namespace (`unshare -rm`), so even root cannot write there (a chmod would not stop root).
Skipped where the kernel does not allow unprivileged namespaces.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harvester.sandbox import Sandbox
from tests.harvest_helpers import count, run_cli, write_config
from tests.scenarios import CLOCK_EARLY, EARLY_3I_MAST, EARLY_3I_PDS, engine_scenario

DRIVER = textwrap.dedent("""
    import json, os, subprocess, sys, urllib.request
    shared, out, commands = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    subprocess.run(["mount", "--bind", shared, shared], check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", shared], check=True)
    harvester = [sys.executable, "-m", "harvester.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    results = {}
    for name, args in commands.items():
        done = subprocess.run(harvester + args, capture_output=True, text=True, env=env, timeout=120)
        results[name] = {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
    serve = subprocess.Popen(harvester + ["serve", "--catalog", os.path.join(shared, "catalog.db"),
                                          "--port", "0"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = serve.stdout.readline().split(" at ")[1].split()[0]
        with urllib.request.urlopen(url + "catalog.json?sql=select+count(*)+from+products"
                                    "&_shape=array", timeout=30) as answer:
            results["serve"] = {"rc": 0, "stdout": answer.read().decode(), "stderr": ""}
    finally:
        serve.terminate()
        serve.wait(timeout=10)
    results["left"] = sorted(os.listdir(shared))
    print(json.dumps(results))
""")


def namespaces_work(tmp: Path) -> bool:
    probe = tmp / "probe"
    probe.mkdir()
    try:
        done = subprocess.run(["unshare", "-rm", "mount", "--bind", str(probe), str(probe)],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    pytest.importorskip("datasette")
    tmp = tmp_path_factory.mktemp("readonly")
    if not namespaces_work(tmp):
        pytest.skip("unprivileged user and mount namespaces are not allowed here")
    shared = tmp / "shared"
    shared.mkdir()
    db = str(shared / "catalog.db")
    with Sandbox(engine_scenario(), port=0) as sandbox:
        config = write_config(tmp, sandbox.base_urls, db)
        first = run_cli(["run", "--config", config], now=CLOCK_EARLY)
        assert first.returncode == 0, first.stderr
    added = run_cli(["subscribe", "add", "jwst", "--where", "kind = 'new'", "--stdout",
                     "--catalog", db])
    assert added.returncode == 0, added.stderr
    out = tmp / "out"
    out.mkdir()
    on = ["--config", config, "--catalog", db]
    commands = {
        "sql": ["sql", *on, "--format", "json", "select count(*) as n from products"],
        "status": ["status", *on, "--format", "json"],
        "gaps": ["gaps", *on, "--format", "json", "--section", "sources"],
        "export": ["export", "parquet", *on, str(out / "products")],
        "subscribe-list": ["subscribe", "list", *on, "--format", "json"],
        "alerts-list": ["alerts", "list", *on],
        "run": ["run", *on],
    }
    driver = tmp / "driver.py"
    driver.write_text(DRIVER)
    done = subprocess.run(["unshare", "-rm", sys.executable, str(driver), str(shared), str(out),
                           json.dumps(commands)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    found["db"] = db
    return found


@pytest.mark.parametrize("command", ["sql", "status", "gaps", "export", "subscribe-list",
                                     "alerts-list", "serve"])
def test_readers_read_a_catalog_in_a_read_only_directory(results, command):
    result = results[command]
    assert result["rc"] == 0, result["stderr"]
    assert result["stderr"] == ""


def test_what_they_read_is_the_catalog(results):
    assert json.loads(results["sql"]["stdout"]) == [{"n": EARLY_3I_MAST + EARLY_3I_PDS}]
    assert json.loads(results["serve"]["stdout"]) == [{"count(*)": EARLY_3I_MAST + EARLY_3I_PDS}]
    assert [s["name"] for s in json.loads(results["subscribe-list"]["stdout"])] == ["jwst"]
    assert "wrote 15 products" in results["export"]["stdout"]
    assert count(results["db"], "SELECT COUNT(*) FROM products") == EARLY_3I_MAST + EARLY_3I_PDS


def test_a_harvest_there_is_one_line_and_nothing_is_left_behind(results):
    run = results["run"]
    assert run["rc"] == 1 and "Traceback" not in run["stderr"]
    (line,) = run["stderr"].strip().splitlines()
    assert "cannot create the lock file" in line and "Read-only file system" in line
    # Readers made no WAL or shared-memory file there (they could not); the lock files are the
    # ones the harvest before the directory went read-only left, as locks always stay.
    assert [n for n in results["left"] if n.endswith(("-wal", "-shm"))] == []
