"""Small, hand-made scenarios for engine tests (the packaged default is for demos)."""

from __future__ import annotations

CLOCK_EARLY = "2025-12-01T00:00:00Z"
CLOCK_LATE = "2026-03-01T00:00:00Z"


def mast_row(obsid: int, target: str, *, collection: str = "HST", instrument: str = "WFC3/UVIS",
             start: str = "2025-07-21T10:00:00Z", end: str = "2025-07-21T11:00:00Z",
             release: str = "2025-07-22T00:00:00Z", appears: str | None = None, **extra) -> dict:
    row = {"obsid": obsid, "obs_id": f"id{obsid}", "obs_collection": collection,
           "instrument_name": instrument, "target_name": target, "t_min": start, "t_max": end,
           "t_obs_release": release, "appears": appears or release, "proposal_id": "17000",
           "dataproduct_type": "image", "calib_level": 2, "obs_title": "3I/ATLAS ToO"}
    row.update(extra)
    return row


def pds_product(n: int, target: str, *, harvested: str, instrument: str = "hirise",
                start: str = "2025-10-02T10:00:00Z", version: str = "1.0") -> dict:
    return {
        "lidvid": f"urn:nasa:pds:mro_hirise:data:esp_{n:06d}::{version}",
        "title": f"HiRISE observation {n}",
        "product_class": "Product_Observational",
        "target_name": target,
        "target_lid": "urn:nasa:pds:context:target:comet.3i_atlas" if target == "3I/ATLAS" else
        "urn:nasa:pds:context:target:comet.other",
        "start_date_time": start, "stop_date_time": start,
        "harvest_date_time": harvested,
        "investigation": "Mars Reconnaissance Orbiter",
        "investigation_lid": "urn:nasa:pds:context:investigation:mission.mro",
        "instrument": instrument.upper(), "instrument_lid": f"urn:nasa:pds:context:instrument:mro.{instrument}",
        "instrument_host": "Mars Reconnaissance Orbiter", "processing_level": "Raw",
        "file_ref": f"https://example.invalid/{n}.img", "file_size": "1000",
    }


def engine_scenario() -> dict:
    mast = [mast_row(1000 + i, name) for i, name in enumerate(
        ["3I/ATLAS", "3I-ATLAS", "C/2025 N1", "C2025N1", "3I_ATLAS", "ATLAS 3I", "3I/ATLAS",
         "C/2025 N1 (ATLAS)"])]
    mast += [
        # a JWST GO observation: metadata public at once, data exclusive until 2026-02-15
        mast_row(2001, "3I/ATLAS", collection="JWST", instrument="NIRSPEC/IFU",
                 start="2025-11-20T00:00:00Z", end="2025-11-20T05:00:00Z",
                 release="2026-02-15T00:00:00Z", appears="2025-11-21T00:00:00Z"),
        # TESS data that appears only after the first harvest
        mast_row(3001, "3I/ATLAS", collection="TESS", instrument="Photometer",
                 start="2026-01-15T00:00:00Z", end="2026-01-22T00:00:00Z",
                 release="2026-01-23T00:00:00Z"),
        # decoys the loose %3I% / %2025%N1% queries return
        mast_row(9001, "C/2019 Y4 (ATLAS)"), mast_row(9002, "M31I-FIELD"),
        mast_row(9003, "C/2025 N10"), mast_row(9004, "ATLAS25abc"),
    ]
    pds = [pds_product(i, "3I/ATLAS", harvested=f"2025-11-{10 + i:02d}T00:00:00.000Z") for i in range(6)]
    pds += [
        pds_product(50, "C/2025 N10", harvested="2025-11-05T00:00:00.000Z"),
        # HiRISE frames held back: archived only in February
        pds_product(60, "3I/ATLAS", harvested="2026-02-10T00:00:00.000Z"),
        pds_product(61, "3I/ATLAS", harvested="2026-02-10T00:00:00.000Z"),
    ]
    return {"clock": CLOCK_EARLY, "mast": mast, "pds": pds}


EARLY_3I_MAST = 9       # 8 HST + the exclusive JWST row visible at CLOCK_EARLY
EARLY_3I_PDS = 6
LATE_3I_MAST = 10
LATE_3I_PDS = 8
