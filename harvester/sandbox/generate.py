"""Large synthetic scenarios for benchmarks (e.g. 100,000 MAST rows + 50,000 PDS products).

Deterministic for a seed. Most products carry one of the 3I/ATLAS spellings so a
harvester's queries return them; about one in ten is a decoy a name matcher must
reject. PDS products are harvested in batches of 25 sharing one harvest time,
as bulk loads do, so paging on harvest time alone meets ties.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from .scenario import DEFAULT_CLOCK
from .timeutil import parse_time, to_mjd

ALIASES = ["3I/ATLAS", "3I-ATLAS", "C/2025 N1", "C2025N1", "3I_ATLAS", "ATLAS-3I",
           "C/2025 N1 (ATLAS)", "3IATLAS"]
DECOYS = ["C/2019 Y4 (ATLAS)", "ATLAS25abc", "M33I-FIELD", "W3IRS5", "C/2025 N10",
          "2I/Borisov"]
TARGET_3I_LID = "urn:nasa:pds:context:target:comet.3i_atlas"

_MAST_MISSIONS = [
    ("JWST", "NIRSPEC/IFU", "cube", "INFRARED"), ("HST", "WFC3/UVIS", "image", "OPTICAL"),
    ("TESS", "Photometer", "image", "OPTICAL"), ("SWIFT", "UVOT", "image", "UV"),
]
_PDS_MISSIONS = [
    ("mro_hirise", "Mars Reconnaissance Orbiter", "mission.mro", "HiRISE", "mro.hirise"),
    ("maven_iuvs", "MAVEN", "mission.maven", "IUVS", "maven.iuvs"),
    ("mars2020_mastcamz", "Mars 2020", "mission.mars2020", "Mastcam-Z", "mars2020.mastcamz"),
    ("psyche_mi", "Psyche", "mission.psyche", "Multispectral Imager", "psyche.mi"),
    ("lucy_llorri", "Lucy", "mission.lucy", "L'LORRI", "lucy.llorri"),
]


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def generate_scenario(mast: int = 1000, pds: int = 500, seed: int = 0,
                      clock: str | datetime = DEFAULT_CLOCK) -> dict[str, Any]:
    """Build a synthetic scenario with `mast` MAST rows and `pds` PDS products."""
    rng = random.Random(seed)
    clock_dt = parse_time(clock)
    start = datetime(2025, 5, 1, tzinfo=UTC)
    span_days = max((clock_dt - start).days - 30, 30)
    start_mjd = to_mjd(start)

    mast_rows: list[dict[str, Any]] = []
    for i in range(mast):
        collection, instrument, ptype, band = _MAST_MISSIONS[i % len(_MAST_MISSIONS)]
        t_min = start_mjd + rng.random() * span_days
        t_max = t_min + 0.01 + rng.random() * 0.2
        # Times stay MJD floats: the sandbox accepts them and skips ISO parsing.
        exclusive = collection in ("JWST", "HST") and rng.random() < 0.3
        name = rng.choice(DECOYS) if rng.random() < 0.1 else rng.choice(ALIASES)
        mast_rows.append({
            "obsid": 300000000 + i,
            "obs_id": f"synth-{collection.lower()}-{i:07d}",
            "obs_collection": collection, "instrument_name": instrument,
            "dataproduct_type": ptype, "wavelength_region": band,
            "calib_level": 2 + (i % 2), "target_name": name,
            "target_classification": "COMET",
            "t_min": t_min, "t_max": t_max,
            "t_obs_release": t_max + (365.0 if exclusive else 0.5),
            "proposal_id": str(9000 + i % 500), "proposal_pi": "Synthetic",
            "s_ra": round(rng.uniform(0, 360), 5), "s_dec": round(rng.uniform(-30, 30), 5),
        })

    pds_rows: list[dict[str, Any]] = []
    batch_time = datetime(2025, 11, 1, tzinfo=UTC)
    batch_step = timedelta(seconds=max(1, int(span_days * 86400 / max(pds // 25, 1)) // 2))
    harvest = ""
    for i in range(pds):
        if i % 25 == 0:
            batch_time += batch_step
            harvest = _iso(batch_time)
        bundle, host, inv, instrument, inst = _PDS_MISSIONS[i % len(_PDS_MISSIONS)]
        decoy = rng.random() < 0.1
        name = rng.choice(DECOYS) if decoy else rng.choice(ALIASES)
        target_lid = ("urn:nasa:pds:context:target:comet.decoy" if decoy else TARGET_3I_LID)
        obs = start + timedelta(days=rng.random() * span_days)
        pds_rows.append({
            "lidvid": f"urn:nasa:pds:synth_{bundle}:data:prod_{i:07d}::1.0",
            "title": f"Synthetic {instrument} product {i} of {name}",
            "product_class": "Product_Observational",
            "target_name": name, "target_lid": target_lid, "target_type": "Comet",
            "start_date_time": _iso(obs), "stop_date_time": _iso(obs + timedelta(minutes=5)),
            "harvest_date_time": harvest,
            "investigation": host, "investigation_lid": f"urn:nasa:pds:context:investigation:{inv}",
            "instrument": instrument, "instrument_lid": f"urn:nasa:pds:context:instrument:{inst}",
            "processing_level": "Raw" if i % 2 else "Calibrated",
            "file_ref": f"https://pds.example.invalid/synth/{bundle}/prod_{i:07d}.img",
            "file_size": str(100000 + i),
        })
    return {"_comment": f"synthetic scenario, seed {seed}", "clock": _iso(clock_dt),
            "mast": mast_rows, "pds": pds_rows}
