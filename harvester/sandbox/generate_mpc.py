"""A large synthetic MPC scenario for benchmarks: N astrometric observations of 3I/ATLAS.

Deterministic for a seed. Observations spread over the stations that followed the comet,
from the first precoveries to the clock; each reaches the MPC a day after it was made and is
published (its `ref` filled in) days to weeks later, so a few near the clock are still
unpublished. A sprinkling of observations of another comet called ATLAS shares the stations;
get-obs for 3I must leave them out.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from .scenario import DEFAULT_CLOCK
from .timeutil import parse_time

STATIONS = ["W68", "M22", "T05", "T08", "I41", "X05", "F51", "G96", "309", "568", "807", "Z84"]
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
IDENTITY_3I = {
    "found": 1, "iau_designation": "3I", "name": "ATLAS", "object_type": ["Interstellar", 11],
    "orbfit_name": "3I", "packed_permid": "0003I", "permid": "3I",
    "packed_primary_provisional_designation": "CK25N010",
    "unpacked_primary_provisional_designation": "C/2025 N1",
    "packed_secondary_provisional_designations": [], "unpacked_secondary_provisional_designations": [],
    "citation": None, "disambiguation_list": None, "dual_status_info": None,
}


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _obsid(rng: random.Random) -> str:
    return "".join(rng.choice(_BASE62) for _ in range(25))


def generate_mpc_scenario(observations: int = 20000, seed: int = 0,
                          clock: str | datetime = DEFAULT_CLOCK,
                          decoy_fraction: float = 0.02) -> dict[str, Any]:
    """A scenario with `observations` observations of 3I (plus a few of a decoy comet)."""
    rng = random.Random(seed)
    clock_dt = parse_time(clock)
    start = datetime(2025, 6, 14, tzinfo=UTC)
    span = (clock_dt - timedelta(days=2) - start).total_seconds()
    records: list[dict[str, Any]] = [{"identifier": dict(IDENTITY_3I)}]
    decoys = int(observations * decoy_fraction)
    for i in range(observations + decoys):
        decoy = i >= observations
        when = start + timedelta(seconds=rng.random() * span)
        appears = when + timedelta(days=1)
        published = appears + timedelta(days=rng.uniform(1, 30))
        records.append({
            "obsid": _obsid(rng), "trksub": f"t{rng.randrange(16**6):06x}",
            "permid": None if decoy else "3I", "provid": "C/2019 Y4" if decoy else "C/2025 N1",
            "obstime": _iso(when), "ra": round(rng.uniform(0, 360), 6),
            "dec": round(rng.uniform(-30, 30), 6), "stn": rng.choice(STATIONS), "mode": "CCD",
            "astcat": "Gaia3", "mag": round(rng.uniform(12, 24), 1), "band": rng.choice("oGrVcw"),
            "rmsra": round(rng.uniform(0.05, 0.8), 3), "rmsdec": round(rng.uniform(0.05, 0.8), 3),
            "ref": f"MPS {2400000 + i}", "appears": _iso(appears), "published": _iso(published),
        })
    return {"clock": _iso(clock_dt), "mpc": records}
