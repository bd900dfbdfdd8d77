"""Helpers for the release-watch tests: a small campaign, a config pointing at it and at the
sandbox archives, and in-process harvests on the sandbox's clock."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from harvester.config import load_config
from harvester.engine import harvest
from tests.harvest_helpers import write_config

HIRISE_CAMPAIGN = """
[[period]]
id = "us-shutdown-2025"
label = "US government shutdown"
start = 2025-10-01
end = 2025-11-12

[[period]]
id = "solar-conjunction"
label = "3I solar conjunction"
start = 2025-10-01
end = 2025-11-09

[[observation]]
id = "mro-hirise"
platform = "Mars Reconnaissance Orbiter"
archive = "pds"
mission = "MRO"
instrument = "HIRISE"
obs_start = 2025-10-02
obs_end = 2025-10-02
released_on = 2025-11-19

[[observation]]
id = "vlt-fors2"
platform = "ESO VLT"
archive = "eso"
instrument = "FORS2"
obs_start = 2025-07-03
obs_end = 2025-07-03

[[observation]]
id = "juno-flyby"
status = "unconfirmed"
platform = "Juno"
archive = "pds"
"""


def pds_frame(n: int, harvested: str, *, instrument: str = "hirise", host: str = "mro",
              start: str = "2025-10-02T18:43:12.000Z") -> dict:
    """A PDS product of 3I as the sandbox serves it once its clock passes `harvested`."""
    return {
        "lidvid": f"urn:nasa:pds:{host}_{instrument}:data:frame_{n:05d}::1.0",
        "title": f"{instrument} frame {n} of 3I/ATLAS",
        "product_class": "Product_Observational",
        "target_name": "3I/ATLAS",
        "target_lid": "urn:nasa:pds:context:target:comet.3i_atlas",
        "start_date_time": start, "stop_date_time": start,
        "harvest_date_time": harvested,
        "instrument_host_lid": f"urn:nasa:pds:context:instrument_host:spacecraft.{host}",
        "instrument_lid": f"urn:nasa:pds:context:instrument:{host}.{instrument}",
        "processing_level": "Raw",
        "file_ref": f"https://example.invalid/{n}.img", "file_size": "1000",
    }


@pytest.fixture
def campaign_file(tmp_path: Path) -> Path:
    path = tmp_path / "campaign.toml"
    path.write_text(HIRISE_CAMPAIGN)
    return path


@pytest.fixture
def watch_config(tmp_path: Path, campaign_file: Path, db_path: str):
    """make(sandbox, **watch_keys) -> (config path, config) for mast + pds on the sandbox."""

    def make(sandbox, **watch: object) -> tuple[str, object]:
        keys = {"campaign": campaign_file.name, **watch}
        block = "[watch]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
        path = write_config(tmp_path, sandbox.base_urls, db_path, extra=block)
        return path, load_config(path)

    return make


@pytest.fixture
def harvest_at(monkeypatch):
    """harvest_at(sandbox, config, clock): move the archives' clock and ours, then harvest."""

    def run(sandbox, config, clock: str):
        sandbox.set_clock(clock)
        monkeypatch.setenv("HARVESTER_NOW", clock)
        return harvest(config)

    return run


def rows(db: str, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def watch_events(db: str) -> list[tuple]:
    return rows(db, "SELECT kind, coalesce(expected_id, source) FROM events "
                    "WHERE kind NOT IN ('new', 'updated', 'released') ORDER BY id")


def status_of(db: str, expected_id: str) -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM expected_status WHERE expected_id = ?",
                           (expected_id,)).fetchone()
        return dict(row) if row else {}
    finally:
        conn.close()
