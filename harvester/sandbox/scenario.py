"""Scenario files: the clock and the products each archive holds.

    {"clock": "2026-11-21T00:00:00Z",
     "mast": [{"obsid": ..., "obs_id": ..., "t_min": iso, "t_max": iso,
               "t_obs_release": iso, "appears": iso, ...any MAST column...}],
     "pds":  [{"lidvid": ..., "harvest_date_time": iso, ...}]}

Keys starting with "_" (e.g. "_comment") are notes and are ignored everywhere.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

DEFAULT_CLOCK = "2026-11-21T00:00:00Z"


def _check(scenario: Any, origin: str) -> dict[str, Any]:
    if not isinstance(scenario, dict):
        raise TypeError(f"{origin}: a scenario is a JSON object")
    from .archive import ARCHIVES

    for archive in ARCHIVES:
        records = scenario.get(archive, [])
        if not isinstance(records, list):
            raise TypeError(f"{origin}: '{archive}' must be a list of records")
        for i, rec in enumerate(records):
            if not isinstance(rec, dict):
                raise TypeError(f"{origin}: {archive}[{i}] is not an object")
    scenario.setdefault("clock", DEFAULT_CLOCK)
    for archive in ARCHIVES:
        scenario.setdefault(archive, [])
    return scenario


def load_scenario(path: str | Path) -> dict[str, Any]:
    """Read a scenario JSON file."""
    p = Path(path)
    with p.open(encoding="utf-8") as fh:
        return _check(json.load(fh), str(p))


def default_scenario() -> dict[str, Any]:
    """The packaged realistic 3I/ATLAS scenario (a fresh copy each call): default_scenario.json
    (MAST, PDS) plus each archive's own default_scenario_<archive>.json where one exists, plus
    topic files default_scenario_<topic>.json holding records of several archives."""
    from .archive import ARCHIVES

    package = resources.files(__package__)
    scenario = json.loads(package.joinpath("default_scenario.json").read_text("utf-8"))
    for archive in ARCHIVES:
        part = package.joinpath(f"default_scenario_{archive}.json")
        if part.is_file():
            scenario.setdefault(archive, []).extend(json.loads(part.read_text("utf-8")))
    # Topic files hold records for several archives: {"mast": [...], "obscore": [...]}.
    for part in sorted(package.iterdir(), key=lambda p: p.name):
        topic = part.name.removeprefix("default_scenario_").removesuffix(".json")
        if part.name.startswith("default_scenario_") and part.name.endswith(".json") \
                and topic not in ARCHIVES:
            for archive, records in json.loads(part.read_text("utf-8")).items():
                if archive in ARCHIVES:
                    scenario.setdefault(archive, []).extend(records)
    return _check(scenario, "default_scenario.json")


def empty_scenario(clock: str = DEFAULT_CLOCK) -> dict[str, Any]:
    return {"clock": clock, "mast": [], "pds": []}  # _check adds the other archives

