"""`harvester doctor` against the sandbox archives: every contract holds on the default
scenario, and an archive that changed shape, refuses the query or cannot be reached is named on
one line with exit status 1."""

from __future__ import annotations

import json
import socket

import pytest

from harvester.config import load_config
from harvester.demo import sandbox_config
from harvester.doctor import run_doctor
from harvester.sandbox import Sandbox, default_scenario
from tests.harvest_helpers import run_cli


@pytest.fixture
def sandbox():
    with Sandbox(default_scenario()) as sb:
        yield sb


def config_file(tmp_path, sandbox, *, broken_url: str | None = None) -> str:
    """Every source of the shipped config at the sandbox (ObsCore blocks enabled)."""
    config = sandbox_config(load_config(), sandbox.base_urls)
    lines = ["[http]", "retries = 1", "backoff_initial = 0.01", "backoff_max = 0.05",
             "connect_timeout = 2", "read_timeout = 5", "rate_limit = 1000"]
    for name, settings in config.sources.items():
        lines += [f"[sources.{name}]", f'kind = "{settings.kind}"', f"enabled = {str(settings.enabled).lower()}",
                  f'base_url = "{broken_url if broken_url and name == "mpc" else settings.base_url}"']
    path = tmp_path / "doctor.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_every_archive_of_the_default_scenario_keeps_its_contract(sandbox):
    checks = {c.source: c for c in run_doctor(sandbox_config(load_config(), sandbox.base_urls))}
    assert set(checks) == {"mast", "pds", "psa", "eso", "irsa", "heasarc", "cadc", "mpc", "cnsa",
                           "mast-tess", "irsa-spherex", "catch"}
    assert {s: c.verdict for s, c in checks.items() if not c.ok} == {}
    footprints = {"mast-tess", "irsa-spherex", "catch"}  # positional: no count of target records
    assert all(c.records and c.records > 0 for s, c in checks.items() if s not in footprints)
    assert all("positional search" in checks[s].detail or "job" in checks[s].detail for s in footprints)
    assert "comet.c2025_n1_atlas" in checks["pds"].detail  # the context the registry names
    assert "no alt_target_name" in checks["psa"].detail


def test_the_table_and_exit_status_0_when_all_hold(sandbox, tmp_path):
    proc = run_cli(["doctor", "--config", config_file(tmp_path, sandbox)])
    assert proc.returncode == 0, proc.stderr
    header = proc.stdout.splitlines()[0]
    assert all(word in header for word in ("source", "verdict", "reachable", "accepted", "missing", "records"))
    assert proc.stderr == ""


def test_an_archive_that_changed_shape_is_named_on_one_line(sandbox, tmp_path):
    # The PSA stops serving release_date, which decides access and the release events.
    sandbox.archive("psa").add([{"schema": {"absent": ["release_date"]}}])
    proc = run_cli(["doctor", "--config", config_file(tmp_path, sandbox)])
    assert proc.returncode == 1
    broken = [line for line in proc.stderr.splitlines() if line.startswith("psa (")]
    assert broken == [f"psa (psa, {sandbox.base_urls['psa']}): changed: the answer lacks release_date, "
                      "which the adapter reads"]
    assert proc.stderr.strip().splitlines()[-1] == "Error: 1 of 12 archives broke their contract: psa"


def test_unreachable_and_refused_are_told_apart_in_json(sandbox, tmp_path):
    sandbox.faults.add("http500", path_prefix="/pds", count=100)
    proc = run_cli(["doctor", "--config", config_file(tmp_path, sandbox, broken_url=dead_url()),
                    "--format", "json", "--source", "pds", "--source", "mpc", "--source", "mast"])
    assert proc.returncode == 1
    checks = {c["source"]: c for c in json.loads(proc.stdout)}
    assert (checks["pds"]["verdict"], checks["pds"]["reachable"]) == ("unreachable", False)
    assert (checks["mpc"]["verdict"], checks["mpc"]["reachable"]) == ("unreachable", False)
    assert checks["mast"]["verdict"] == "ok" and checks["mast"]["missing"] == []


def test_a_refused_query_and_a_missing_table_are_told_apart(sandbox):
    config = sandbox_config(load_config(), sandbox.base_urls)
    config.sources["eso"].table = "ivoa.nothing"
    (check,) = run_doctor(config, only=["eso"])
    assert (check.verdict, check.reachable, check.accepted) == ("refused", True, False)
    assert "refused the query" in check.detail and "ivoa.nothing" in check.detail
    config.sources["psa"].table = "psa.no_such_table"
    (check,) = run_doctor(config, only=["psa"])
    # The PSA's query is built from TAP_SCHEMA, which lists nothing for that table.
    assert check.verdict == "changed" and check.missing == ["TAP_SCHEMA.columns of psa.no_such_table"]


def test_an_unknown_source_is_a_usage_error(sandbox, tmp_path):
    proc = run_cli(["doctor", "--config", config_file(tmp_path, sandbox), "--source", "nope"])
    assert proc.returncode == 2 and "no source named nope" in proc.stderr
