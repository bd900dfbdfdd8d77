import json
import re
import subprocess
import sys
import time

import requests

from tests.harvest_helpers import run_cli


def test_demo_harvests_the_sandbox_and_answers_sql(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    proc = run_cli(["demo"])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert out.count("== Harvest at") == 3
    assert re.search(r"mast: ok: .* [1-9]\d* new", out)
    assert re.search(r"mast: ok: .* [1-9]\d* released", out)  # the JWST embargo ends in the tour
    assert "What each archive holds" in out
    last_harvest = re.findall(r"== Harvest at (\d{4}-\d\d-\d\d)", out)[-1]
    assert f"--as-of {last_harvest}" in out  # the watch is told as of the last harvest
    assert f"Release watch as of {last_harvest}:" in out
    assert "alerts: alerts:" not in out
    news = out[out.index("== harvester news"):]
    assert "Embargoes ended:" in news and "JWST NIRSPEC/IFU" in news  # in plain words
    rows = json.loads(run_cli(["sql", "--catalog", "harvester-demo.db", "--format", "json",
                               "select archive, count(*) as n from products group by archive"]).stdout)
    counts = {r["archive"]: r["n"] for r in rows}
    assert counts["mast"] > 0 and counts["pds"] > 0
    decoys = run_cli(["sql", "--catalog", "harvester-demo.db", "--format", "json",
                      "select target_name from products where target_name like '%Y4%' "
                      "or target_name like 'ATLAS25%'"]).stdout
    assert json.loads(decoys) == []
    # Frames that never name 3I, found by its ephemeris, each with its rule and offset ...
    found = re.findall(r"^(\S+)\s+(TESS|SPHEREx)\s.*?(ephemeris:\w+)\s+(\d+(?:\.\d+)?)\s", out, re.M)
    assert {(mission, rule) for _, mission, rule, _ in found} == {("TESS", "ephemeris:tess"),
                                                                  ("SPHEREx", "ephemeris:spherex")}
    assert all(float(offset) > 0 for *_, offset in found)
    # ... so the release watch no longer calls those observations unwatched.
    gaps = json.loads(run_cli(["gaps", "--catalog", "harvester-demo.db", "--format", "json",
                               "--section", "expected", "--as-of", "2026-11-21"]).stdout)
    statuses = {e["id"]: e["status"] for e in gaps["expected"]}
    for expected in ("tess-precovery", "tess-sector-1751", "spherex-aug2025", "spherex-dec2025"):
        assert statuses[expected] == "released", expected


def test_demo_twice_starts_fresh_and_gives_the_same_catalog(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    query = ["sql", "--catalog", "harvester-demo.db", "select count(*) from events"]
    run_cli(["demo"])
    first = run_cli(query).stdout
    run_cli(["demo"])
    assert run_cli(query).stdout == first


def test_sandbox_command_serves_until_stopped():
    proc = subprocess.Popen([sys.executable, "-m", "harvester.cli", "sandbox", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)", first).group(1)
        deadline = time.monotonic() + 10
        while True:
            try:
                health = requests.get(f"{url}/_sandbox/health", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert health.status_code == 200
        answer = requests.get(f"{url}/pds/api/search/1/products",
                              params={"q": '(pds:Target_Identification.pds:name eq "3I/ATLAS")'},
                              headers={"Accept": "application/json"}, timeout=5).json()
        assert answer["summary"]["hits"] > 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
