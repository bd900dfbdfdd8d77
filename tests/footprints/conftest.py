"""A sandbox with the default scenario and a config whose footprint searches point at it."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

import pytest

from harvester.config import load_config
from harvester.demo import sandbox_config
from harvester.engine import harvest
from harvester.sandbox import Sandbox, default_scenario


@pytest.fixture
def sandbox():
    with Sandbox(default_scenario()) as sb:
        yield sb


@pytest.fixture
def footprint_harvest(sandbox, tmp_path, monkeypatch):
    """harvest(only=..., at=clock, **settings overrides) into one catalog; returns the report."""
    config = sandbox_config(load_config(), sandbox.base_urls)
    config.catalog.path = str(tmp_path / "catalog.db")
    config = dataclasses.replace(config, http=dataclasses.replace(
        config.http, retries=2, backoff_initial=0.01, backoff_max=0.02, connect_timeout=3,
        read_timeout=10))

    def run(only: list[str], at: str = "2026-11-21T00:00:00Z", **overrides):
        sandbox.set_clock(at)
        monkeypatch.setenv("HARVESTER_NOW", at)
        for name in only:
            for key, value in overrides.items():
                if hasattr(config.sources[name], key):
                    setattr(config.sources[name], key, value)
        return harvest(config, only=only)

    run.config = config
    run.db = config.catalog.path
    return run


def rows(db: str, sql: str, *params) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def scenario_cases(archive: str, key: str) -> dict[str, str]:
    """The footprint frames of the packaged scenario: id -> why it is there ("kept: ...")."""
    from importlib import resources

    part = json.loads(resources.files("harvester.sandbox").joinpath(
        "default_scenario_footprints.json").read_text("utf-8"))
    return {str(r[key]): r["_footprint_case"] for r in part[archive]}
