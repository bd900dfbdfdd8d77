"""Names of the target: reading the real SBDB and MPC identifier answers, refusing designations
that would match other objects, `harvester target resolve` against the sandbox SBDB and MPC,
harvests matching on resolved aliases, and working offline with the config's aliases."""

from __future__ import annotations

import json
import socket
import sqlite3

import pytest

from catalog import Catalog
from harvester.config import load_config
from harvester.engine import build_matcher
from harvester.names.resolve import DECOYS, alias_problem, parse_mpc_identifier, parse_sbdb
from harvester.sandbox import Sandbox, default_scenario
from tests.conftest import load_json
from tests.harvest_helpers import FAST_HTTP, count, run_cli
from tests.scenarios import mast_row

NOW = "2025-12-01T00:00:00Z"


def texts(candidates, accepted=True):
    return {c.text for c in candidates if (c.refused is None) == accepted}


# ---- reading the services' real answers -------------------------------------------------------

def test_sbdb_answer_for_67p_gives_every_designation_it_lists():
    candidates, note = parse_sbdb(load_json("jpl/sbdb_67P.json"))
    assert note is None
    assert texts(candidates) == {
        "67P", "67P/Churyumov-Gerasimenko", "1989 VI", "1988i", "1982 VIII", "1982f", "1976 VII",
        "1975i", "67P/1975 P1", "1969 IV", "1969h", "67P/1969 R1"}
    assert {c.field for c in candidates} >= {"des", "fullname", "des_alt.yl", "des_alt.rn", "des_alt.des"}


def test_sbdb_answer_naming_several_objects_or_none_gives_no_designation():
    several, note = parse_sbdb({"code": "300", "list": [{"pdes": "3I"}, {"pdes": "C/2019 Y4"}]})
    assert several == [] and "several objects match (3I, C/2019 Y4)" in note
    nothing, note = parse_sbdb({"message": "specified object was not found"})
    assert nothing == [] and "specified object was not found" in note


def test_mpc_identifier_for_ceres_refuses_bare_numbers_and_the_bare_name():
    answer = load_json("mpc/api_query-identifier_Ceres_2020AB1.json")
    candidates, note = parse_mpc_identifier(answer, "Ceres")
    assert texts(candidates) == {"A801 AA", "I01A00A", "1943 XB", "A899 OF", "I99O00F", "J43X00B",
                                 "(1) Ceres"}
    assert texts(candidates, accepted=False) == {"(1)", "00001", "Ceres"}


def test_mpc_identifier_for_sedna_joins_its_number_and_name():
    candidates, _ = parse_mpc_identifier(load_json("mpc/api_query-identifier_Sedna.json"), "Sedna")
    assert {"2003 VB12", "K03V12B", "(90377) Sedna"} <= texts(candidates)
    assert texts(candidates, accepted=False) == {"(90377)", "Sedna"}


def test_mpc_identifier_that_finds_nothing_or_several_gives_no_designation():
    assert parse_mpc_identifier({"X": {"found": 0}}, "X") == ([], "no object: the MPC does not know it")
    candidates, note = parse_mpc_identifier({"ATLAS": {"found": 2}}, "ATLAS")
    assert candidates == [] and "2 objects match" in note


@pytest.mark.parametrize("alias, problem", [
    ("ATLAS", "a name, not a designation"), ("Borisov", "a name, not a designation"),
    ("1004083", "a bare number"), ("(1)", "a bare number"), ("I", "too short"),
    ("Y4", "would also match 'C/2019 Y4 (ATLAS)'"),
])
def test_a_designation_that_would_match_other_objects_is_refused(alias, problem):
    assert problem in alias_problem(alias)


@pytest.mark.parametrize("alias", ["3I", "C/2025 N1", "0003I", "CK25N010", "3I/ATLAS (C/2025 N1)",
                                   "C/2025 N1 (ATLAS)", "A11pl3Z"])
def test_the_targets_designations_are_accepted(alias):
    assert alias_problem(alias) is None


# ---- `harvester target resolve` against the sandbox SBDB and MPC ------------------------------

@pytest.fixture
def sandbox():
    scenario = default_scenario()
    scenario["clock"] = NOW
    scenario["mast"] = [
        # named only by the packed permanent designation: no config alias matches it
        mast_row(7001, "0003I", release="2025-11-20T00:00:00Z"),
        mast_row(7002, "3I/ATLAS", release="2025-11-20T00:00:00Z"),
        mast_row(7003, "C/2019 Y4 (ATLAS)", release="2025-11-20T00:00:00Z"),
    ]
    scenario["pds"] = []
    with Sandbox(scenario, port=0) as sb:
        yield sb


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def config(tmp_path, db: str, *, sbdb: str, mpc: str, mast: str | None = None,
           designation: str = "C/2025 N1") -> str:
    text = (f'[catalog]\npath = "{db}"\n{FAST_HTTP}\n[target]\ndesignation = "{designation}"\n'
            f'sbdb_url = "{sbdb}"\nmpc_url = "{mpc}"\n')
    if mast:
        text += f'[sources.mast]\nbase_url = "{mast}"\nexecuting_interval = 0.0\n'
    path = tmp_path / f"resolve-{abs(hash((db, sbdb, mpc, designation))) % 10**6}.toml"
    path.write_text(text)
    return str(path)


def sandbox_config(tmp_path, sandbox, db, **kwargs) -> str:
    urls = sandbox.base_urls
    return config(tmp_path, db, sbdb=urls["sbdb"], mpc=urls["mpc"], mast=urls["mast"], **kwargs)


def stored(db: str) -> set[tuple]:
    conn = sqlite3.connect(db)
    try:
        return set(conn.execute("SELECT service, alias, field, refused IS NOT NULL FROM aliases"))
    finally:
        conn.close()


def test_resolve_stores_every_designation_with_where_it_came_from(sandbox, tmp_path, db_path):
    proc = run_cli(["target", "resolve", "--config", sandbox_config(tmp_path, sandbox, db_path)], now=NOW)
    assert proc.returncode == 0, proc.stderr
    rows = stored(db_path)
    assert {("sbdb", "3I", "des", 0), ("sbdb", "C/2025 N1", "fullname.inner", 0),
            ("sbdb", "3I/ATLAS (C/2025 N1)", "fullname", 0),
            ("mpc", "0003I", "packed_permid", 0), ("mpc", "CK25N010", "packed_primary_provisional_designation", 0),
            ("mpc", "C/2025 N1 (ATLAS)", "provisional+name", 0), ("mpc", "ATLAS", "name", 1)} <= rows
    assert count(db_path, "SELECT COUNT(*) FROM aliases WHERE alias='ATLAS' AND refused LIKE 'a name%'") == 1
    assert count(db_path, "SELECT COUNT(*) FROM aliases WHERE first_seen != ?", "2025-12-01T00:00:00.000Z") == 0
    assert "0003I" in proc.stdout and "refused" in proc.stdout


def test_resolving_again_adds_nothing_and_keeps_first_seen(sandbox, tmp_path, db_path):
    cfg = sandbox_config(tmp_path, sandbox, db_path)
    run_cli(["target", "resolve", "--config", cfg], now=NOW)
    before = stored(db_path)
    again = run_cli(["target", "resolve", "--config", cfg], now="2026-01-01T00:00:00Z")
    assert again.returncode == 0 and "0 new designations stored" in again.stdout
    assert stored(db_path) == before
    assert count(db_path, "SELECT COUNT(*) FROM aliases WHERE first_seen LIKE '2025-12-01%' "
                          "AND last_seen LIKE '2026-01-01%'") == len(before)


def test_a_harvest_matches_a_product_named_only_by_a_resolved_alias(sandbox, tmp_path, db_path):
    cfg = sandbox_config(tmp_path, sandbox, db_path)
    assert run_cli(["run", "--config", cfg], now=NOW).returncode == 0
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE product_key='mast:7001'") == 0
    assert run_cli(["target", "resolve", "--config", cfg], now=NOW).returncode == 0
    assert run_cli(["run", "--config", cfg], now=NOW).returncode == 0
    audit = run_cli(["sql", "--config", cfg, "--format", "json",
                     "select product_key, matched_by from products order by product_key"])
    assert json.loads(audit.stdout) == [{"product_key": "mast:7001", "matched_by": "alias:0003I"},
                                        {"product_key": "mast:7002", "matched_by": "alias:3I/ATLAS"}]


def test_resolved_aliases_keep_rejecting_decoys(sandbox, tmp_path, db_path):
    cfg = sandbox_config(tmp_path, sandbox, db_path)
    assert run_cli(["target", "resolve", "--config", cfg], now=NOW).returncode == 0
    with Catalog.open(db_path) as catalog:
        matcher = build_matcher(catalog, load_config(cfg))
    assert {"0003I", "CK25N010", "3I/ATLAS (C/2025 N1)"} <= set(matcher.aliases)
    assert "ATLAS" not in matcher.aliases
    assert [d for d in DECOYS if matcher.match(d)] == []
    assert matcher.match("CK25N010").matched_by == "alias:CK25N010"


def test_offline_a_harvest_works_with_the_config_aliases_alone(sandbox, tmp_path, db_path):
    cfg = config(tmp_path, db_path, sbdb=dead_url(), mpc=dead_url(), mast=sandbox.base_urls["mast"])
    proc = run_cli(["run", "--config", cfg], now=NOW)
    assert proc.returncode == 0, proc.stderr
    assert count(db_path, "SELECT COUNT(*) FROM products WHERE product_key='mast:7002' "
                          "AND matched_by='alias:3I/ATLAS'") == 1
    assert count(db_path, "SELECT COUNT(*) FROM aliases") == 0


def test_resolve_with_one_service_unreachable_says_so_in_one_line_and_keeps_the_other(
        sandbox, tmp_path, db_path):
    cfg = config(tmp_path, db_path, sbdb=dead_url(), mpc=sandbox.base_urls["mpc"])
    proc = run_cli(["target", "resolve", "--config", cfg], now=NOW)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("Error: sbdb: connection to") and "kept 6 designations" in line
    assert "Traceback" not in proc.stderr
    assert {service for service, *_ in stored(db_path)} == {"mpc"}


def test_resolve_with_every_service_failing_stores_nothing(sandbox, tmp_path, db_path):
    sandbox.faults.add("http500", path_prefix="/jpl", count=1000)
    sandbox.faults.add("http503", path_prefix="/mpc", count=1000)
    proc = run_cli(["target", "resolve", "--config", sandbox_config(tmp_path, sandbox, db_path)], now=NOW)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert "sbdb: HTTP 500" in line and "mpc: HTTP 503" in line and "kept 0 designations" in line
    assert stored(db_path) == set()


def test_a_name_many_objects_share_resolves_to_nothing(sandbox, tmp_path, db_path):
    proc = run_cli(["target", "resolve", "--config",
                    sandbox_config(tmp_path, sandbox, db_path, designation="ATLAS")], now=NOW)
    assert proc.returncode == 0, proc.stderr
    assert "several objects match" in proc.stdout and "2 objects match" in proc.stdout
    assert stored(db_path) == set()


def test_target_aliases_lists_the_config_and_the_resolved_with_provenance(sandbox, tmp_path, db_path):
    cfg = sandbox_config(tmp_path, sandbox, db_path)
    run_cli(["target", "resolve", "--config", cfg], now=NOW)
    proc = run_cli(["target", "aliases", "--config", cfg, "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert {"alias": "3I/ATLAS", "kind": "designation", "source": "config", "field": "name",
            "first_seen": "", "status": "used"} in rows
    assert {"alias": "0003I", "kind": "designation", "source": "mpc", "field": "packed_permid",
            "first_seen": "2025-12-01T00:00:00.000Z", "status": "used"} in rows
    (atlas,) = [r for r in rows if r["alias"] == "ATLAS"]
    assert atlas["status"].startswith("refused: a name")


def test_target_aliases_without_a_catalog_lists_the_config(tmp_path):
    cfg = config(tmp_path, str(tmp_path / "none.db"), sbdb=dead_url(), mpc=dead_url())
    proc = run_cli(["target", "aliases", "--config", cfg, "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    assert {r["source"] for r in json.loads(proc.stdout)} == {"config"}


def test_a_resolver_url_that_is_not_http_is_a_one_line_config_error(tmp_path, db_path):
    cfg = config(tmp_path, db_path, sbdb=dead_url(), mpc=dead_url())
    proc = run_cli(["target", "resolve", "--config", cfg, "--sbdb-url", "ftp://ssd-api.jpl.nasa.gov"])
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "[target] sbdb_url: not an http(s) URL: 'ftp://ssd-api.jpl.nasa.gov'" in line
