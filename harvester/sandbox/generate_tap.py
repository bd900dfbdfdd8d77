"""Large synthetic PSA and ObsCore scenarios for benchmarks (e.g. 50,000 PSA granules).

Deterministic for a seed. Most rows carry one of the 3I/ATLAS spellings, about one in ten a
decoy the name matcher must reject (and that the archives' LIKE filters still return). PSA
granules are delivered in batches of 50 sharing one creation_date, as bulk ingests are, so
paging on creation_date alone would meet ties; some are embargoed (a release date six months
after creation, or the 2099-01-01 placeholder).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from .scenario import DEFAULT_CLOCK
from .timeutil import parse_time, to_mjd

ALIASES = ["3I/ATLAS", "C/2025 N1 (ATLAS)", "C/2025 N1", "3I", "3I-ATLAS", "C2025N1"]
DECOYS = ["C/2025 N12 (ATLAS)", "P/2025 N11 (PANSTARRS)", "M33I-FIELD", "C/2025 N10"]
_PSA_INSTRUMENTS = [
    ("em16_tgo_cas", "ExoMars Trace Gas Orbiter", "CaSSIS", "im"),
    ("em16_tgo_nmd", "ExoMars Trace Gas Orbiter", "NOMAD", "sp"),
    ("mex_hrsc", "Mars Express", "HRSC", "im"),
    ("mex_omega", "Mars Express", "OMEGA", "sc"),
    ("juice_janus", "Jupiter Icy Moons Explorer", "JANUS", "im"),
    ("juice_majis", "Jupiter Icy Moons Explorer", "MAJIS", "sc"),
]
_OBSCORE_INSTRUMENTS = [("FORS2", "image"), ("MUSE", "cube"), ("XSHOOTER", "spectrum"), ("UVES", "spectrum")]
JD_MJD_OFFSET = 2400000.5
BATCH = 50


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def generate_psa(count: int, seed: int = 0, clock: str | datetime = DEFAULT_CLOCK) -> list[dict[str, Any]]:
    """`count` PSA granules created between 2025-07-15 and a month before `clock`."""
    rng = random.Random(seed)
    start = datetime(2025, 7, 15, tzinfo=UTC)
    span = max((parse_time(clock) - start) - timedelta(days=30), timedelta(days=30))
    batches = max(count // BATCH, 1)
    granules: list[dict[str, Any]] = []
    created = start
    for i in range(count):
        if i % BATCH == 0:
            created = start + span * ((i // BATCH) / batches)
        bundle, host, instrument, ptype = _PSA_INSTRUMENTS[i % len(_PSA_INSTRUMENTS)]
        observed = created - timedelta(days=7 + rng.random() * 20)
        jd = to_mjd(observed) + JD_MJD_OFFSET
        roll = rng.random()
        if roll < 0.02:
            release = "2099-01-01T00:00:00.000"
        elif roll < 0.22:
            release = _iso(created + timedelta(days=182))
        else:
            release = _iso(created)
        name = rng.choice(DECOYS) if rng.random() < 0.1 else rng.choice(ALIASES)
        uid = f"urn:esa:psa:{bundle}:data_raw:synth_{i:07d}"
        stamp = _iso(created)
        granules.append({
            "granule_uid": uid, "granule_gid": "data_raw", "obs_id": f"synth_{i:07d}",
            "dataproduct_type": ptype, "target_name": name,
            "alt_target_name": "C/2025 N1#3I" if name in ALIASES else "",
            "time_min": round(jd, 6), "time_max": round(jd + 0.0001 + rng.random() * 0.01, 6),
            "instrument_host_name": host, "instrument_name": instrument,
            "processing_level": 2 + i % 2, "creation_date": stamp, "modification_date": stamp,
            "release_date": release,
            "access_url": None if release > stamp else f"https://psa.example/{uid}",
            "access_estsize": 1000 + i % 5000, "file_name": f"synth_{i:07d}.xml",
            "appears": to_mjd(created),
        })
    return granules


def generate_obscore(count: int, seed: int = 0, service: str = "eso",
                     clock: str | datetime = DEFAULT_CLOCK) -> list[dict[str, Any]]:
    """`count` ObsCore rows of one service, observed from 2025-07-03 to a month before `clock`."""
    rng = random.Random(seed + 1)
    start = datetime(2025, 7, 3, tzinfo=UTC)
    span = max((parse_time(clock) - start) - timedelta(days=30), timedelta(days=30))
    rows: list[dict[str, Any]] = []
    for i in range(count):
        observed = start + span * rng.random()
        instrument, ptype = _OBSCORE_INSTRUMENTS[i % len(_OBSCORE_INSTRUMENTS)]
        t_min = to_mjd(observed)
        proprietary = rng.random() < 0.5
        release = observed + timedelta(days=365 if proprietary else 1)
        rows.append({
            "service": service, "obs_publisher_did": f"ivo://{service}.example/ID?SYNTH.{i:07d}",
            "obs_id": f"SYNTH.{i:07d}", "obs_collection": instrument, "instrument_name": instrument,
            "dataproduct_type": ptype, "calib_level": 2,
            "target_name": rng.choice(DECOYS) if rng.random() < 0.1 else rng.choice(ALIASES),
            "t_min": t_min, "t_max": t_min + 0.01, "obs_release_date": _iso(release) + "Z",
            "access_estsize": 20000, "appears": to_mjd(observed + timedelta(days=1)),
        })
    return rows


def generate_tap_scenario(psa: int = 1000, obscore: int = 200, seed: int = 0,
                          clock: str | datetime = DEFAULT_CLOCK) -> dict[str, Any]:
    """A scenario with `psa` PSA granules and `obscore` rows at the sandbox's ESO service."""
    clock_text = clock if isinstance(clock, str) else _iso(clock) + "Z"
    return {"clock": clock_text, "psa": generate_psa(psa, seed, clock),
            "obscore": generate_obscore(obscore, seed, "eso", clock)}
