"""The demo ends with a release watch that never calls an observation overdue while its products
sit in the catalog: which products are which observation is read from the scenario's own notes
(tests/scenario_evidence.py), not from the harvester's matching that is under test."""

from __future__ import annotations

import re
import sqlite3

from harvester.demo import run_demo
from harvester.sandbox import default_scenario
from tests.scenario_evidence import evidence


def test_the_demo_ends_with_a_watch_that_calls_nothing_overdue_whose_products_are_in_the_catalog(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines: list[str] = []
    run_demo(None, str(tmp_path / "demo.db"), keep=False, echo=lines.append)
    text = "\n".join(lines).splitlines()
    start = max(i for i, line in enumerate(text) if line.startswith("== harvester gaps"))
    # The watch is the last section, as of the last harvest (2027-01-05).
    assert "--as-of 2027-01-05" in text[start]
    assert not any(line.startswith("== ") for line in text[start + 1:])
    printed = {m.group(1) for line in text[start:] if (m := re.match(r"\s+overdue\s+(\S+)", line))}

    conn = sqlite3.connect(tmp_path / "demo.db")
    try:
        in_catalog = {(a, n) for a, n in conn.execute("SELECT archive, native_id FROM products")}
        status = dict(conn.execute("SELECT expected_id, status FROM expected_status"))
        watched = {e for (e,) in conn.execute("SELECT id FROM expected WHERE watch AND status = 'documented'")}
    finally:
        conn.close()
    assert printed == {e for e, s in status.items() if s == "overdue"}
    held = {}
    for key, expected_id in evidence(default_scenario()).items():
        if key in in_catalog:
            held.setdefault(expected_id, []).append(key)
    overdue_with_products = {e: held[e] for e in printed if e in held}
    assert overdue_with_products == {}
    # And every watched observation the catalog holds products of has left `pending`/`overdue`.
    assert {e: status[e] for e in held if e in watched and status[e] in ("pending", "overdue")} == {}
    # The scenario still has an observation whose products have not arrived: it is overdue.
    assert "europa-clipper-uvs" in printed and "europa-clipper-uvs" not in held
