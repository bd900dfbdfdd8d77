"""Write harvester/sandbox/default_scenario_footprints.json: frames that never name 3I/ATLAS, for
the ephemeris search, placed on the sandbox's own path of the comet (default_scenario_horizons.json).

For each service, frames that contain the path (kept), frames that just miss it (dropped: the
path passes outside the footprint's edge), and frames at the right place at the wrong time
(dropped: the footprint held the comet's position of another day). TESS frames are placed on the
path as TESS sees it (observer 500@-95), including one small enough that only TESS's view puts
the comet inside; SPHEREx and CATCH frames on the geocentric path. Run: python tools/make_footprint_scenario.py
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harvester.sandbox.path import Path as SkyPath

ROOT = Path(__file__).resolve().parent.parent / "harvester" / "sandbox"
OUT = ROOT / "default_scenario_footprints.json"
EPOCH = datetime(1858, 11, 17, tzinfo=UTC)


def mjd(text: str) -> float:
    return (datetime.fromisoformat(text.replace("Z", "+00:00")) - EPOCH).total_seconds() / 86400


def iso(value: float) -> str:
    return (EPOCH + timedelta(days=value)).strftime("%Y-%m-%dT%H:%M:%SZ")


def box(ra: float, dec: float, width: float, height: float, frame: str = "ICRS") -> str:
    """An STC-S polygon: a width x height (degrees) rectangle centred on ra, dec."""
    corners = []
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        d = dec + dy * height / 2
        corners += [(ra + dx * width / 2 / math.cos(math.radians(d))) % 360, d]
    head = f"POLYGON {frame} " if frame else "POLYGON "
    return head + " ".join(f"{v:.6f}" for v in corners)


def fov(ra: float, dec: float, width: float) -> str:
    """CATCH's corners: "ra:dec,ra:dec,..."."""
    half = width / 2
    pts = [(ra - half / math.cos(math.radians(dec + s)), dec + s) for s in (-half, half)]
    pts += [(ra + half / math.cos(math.radians(dec + s)), dec + s) for s in (half, -half)]
    return ",".join(f"{r % 360:.6f}:{d:.6f}" for r, d in pts)


def main() -> None:
    paths = {p["center"]: SkyPath.from_record(p) for p in
             json.loads((ROOT / "default_scenario_horizons.json").read_text())}
    tess, geo = paths["500@-95"], paths["500"]
    mast: list[dict] = []

    def tess_row(obsid: int, obs_id: str, target: str, t0: str, t1: str, region: str,
                 product: str, note: str, release: str) -> None:
        mast.append({"obsid": obsid, "obs_id": obs_id, "obs_collection": "TESS",
                     "instrument_name": "Photometer", "target_name": target, "t_min": t0,
                     "t_max": t1, "t_obs_release": release, "appears": release,
                     "dataproduct_type": product, "calib_level": 2, "filters": "TESS",
                     "proposal_id": "N/A", "proposal_pi": "Ricker, George", "project": "TESS",
                     "s_region": region, "dataURL": f"mast:TESS/product/{obs_id}.fits",
                     "_footprint_case": note})

    # Sector 92 (the 2025 precovery): camera/CCD footprints as TESS sees the comet.
    start, stop = mjd("2025-05-07T00:00:00Z"), mjd("2025-06-02T00:00:00Z")
    decs = [tess.at(start + i)[1] for i in range(27)]
    mid_ra, mid_dec = tess.at((start + stop) / 2)[:2]
    tess_row(2001909233, "tess-s0092-3-3", "TESS FFI", "2025-05-07T00:00:00Z", "2025-06-02T00:00:00Z",
             box(mid_ra, mid_dec, 12, 12, ""), "image",
             "kept: the path crosses this CCD during the sector", "2025-06-13T00:00:00Z")
    north = max(decs) + 0.3 + 6
    tess_row(2001909234, "tess-s0092-3-4", "TESS FFI", "2025-05-07T00:00:00Z", "2025-06-02T00:00:00Z",
             box(mid_ra, north, 12, 12, ""), "image",
             "dropped: the neighbouring CCD, whose edge the path passes 0.3 deg south of", "2025-06-13T00:00:00Z")
    may20 = tess.at(mjd("2025-05-20T00:00:00Z"))
    tess_row(2001909712, "tess-s0097-1-2", "TESS FFI", "2025-09-10T00:00:00Z", "2025-10-05T00:00:00Z",
             box(may20[0], may20[1], 12, 12, ""), "image",
             "dropped: where the comet was on 2025-05-20, but exposed in September", "2025-10-15T00:00:00Z")
    # Sector 1751 (the dedicated pointing): target pixel files of TIC stars along the track.
    t0, t1 = "2026-01-15T06:00:00Z", "2026-01-22T12:00:00Z"
    for i, day in enumerate(("2026-01-15T18:00:00Z", "2026-01-17T06:00:00Z", "2026-01-18T18:00:00Z",
                             "2026-01-20T06:00:00Z", "2026-01-21T18:00:00Z")):
        ra, dec, _ = tess.at(mjd(day))
        tic = 431000100 + 37 * i
        tess_row(2001917600 + i, f"tess2026015060000-s1751-0000000{tic}-0301-s", f"TIC {tic}", t0, t1,
                 box(ra, dec, 50 * 21 / 3600, 50 * 21 / 3600), "timeseries",
                 f"kept: the comet crosses this 50x50-pixel box around {day[:13]}", "2026-01-27T00:00:00Z")
    ra, dec, _ = tess.at(mjd("2026-01-19T00:00:00Z"))
    tess_row(2001917610, "tess2026015060000-s1751-0000000431009999-0301-s", "TIC 431009999", t0, t1,
             box(ra, dec + 1.0, 50 * 21 / 3600, 50 * 21 / 3600), "timeseries",
             "dropped: a TIC star a degree off the track", "2026-01-27T00:00:00Z")
    moment = mjd("2026-01-18T00:00:00Z")
    ra, dec, _ = tess.at(moment)
    tess_row(2001917611, "tess2026018000000-s1751-0000000431008888-0301-f", "TIC 431008888",
             iso(moment - 1 / 48), iso(moment + 1 / 48), box(ra, dec, 0.03, 0.03), "timeseries",
             "kept from TESS only: from the geocentre the comet is ~2.5 arcmin away, outside this box",
             "2026-01-27T00:00:00Z")
    ra, dec, _ = tess.at(mjd("2026-01-16T00:00:00Z"))
    tess_row(2001917612, "tess2026015060000-s1751-0000000431007777-0301-s", "TIC 431007777",
             "2026-01-20T00:00:00Z", "2026-01-21T00:00:00Z", box(ra, dec, 0.3, 0.3), "timeseries",
             "dropped: the comet's place on 2026-01-16, exposed on 2026-01-20", "2026-01-27T00:00:00Z")

    obscore: list[dict] = []

    def spherex(did: str, t0: str, minutes: float, region: str, note: str, release: str) -> None:
        t1 = iso(mjd(t0) + minutes / 1440)
        obscore.append({"service": "irsa", "obs_publisher_did": f"ivo://irsa.ipac/spherex/qr/level2/{did}",
                        "obs_id": did, "obs_collection": "SPHEREx", "instrument_name": "SPHEREx",
                        "facility_name": "SPHEREx", "target_name": "", "t_min": t0, "t_max": t1,
                        "obs_release_date": release, "appears": release, "dataproduct_type": "image",
                        "calib_level": 2, "s_region": region, "data_rights": "public",
                        "access_url": f"https://irsa.ipac.caltech.edu/ibe/data/spherex/qr/{did}.fits",
                        "access_estsize": 70000, "_footprint_case": note})

    for i, when in enumerate(("2025-08-08T03:00:00Z", "2025-08-10T14:00:00Z", "2025-08-12T22:00:00Z",
                              "2025-08-15T05:00:00Z")):
        ra, dec, _ = geo.at(mjd(when) + 1 / 288)
        spherex(f"2025W32_3I{i}_D{i + 1}", when, 10, box(ra + 1.0, dec - 0.8, 3.5, 3.5),
                "kept: the comet is inside this detector's 3.5-degree square", "2025-08-22T00:00:00Z")
    ra, dec, _ = geo.at(mjd("2025-08-11T10:05:00Z"))
    spherex("2025W32_MISS_D3", "2025-08-11T10:00:00Z", 10, box(ra, dec + 1.75 + 0.15, 3.5, 3.5),
            "dropped: its southern edge passes 0.15 deg north of the comet", "2025-08-22T00:00:00Z")
    ra, dec, _ = geo.at(mjd("2025-08-09T00:05:00Z"))
    spherex("2025W34_LATE_D2", "2025-08-21T00:00:00Z", 10, box(ra, dec, 3.5, 3.5),
            "dropped: the comet's place on 2025-08-09, exposed twelve days later", "2025-08-29T00:00:00Z")
    for i, when in enumerate(("2025-12-09T07:00:00Z", "2025-12-13T19:00:00Z")):
        ra, dec, _ = geo.at(mjd(when) + 1 / 288)
        spherex(f"2025W50_3I{i}_D4", when, 10, box(ra - 0.6, dec + 0.9, 3.5, 3.5),
                "kept: post-perihelion frame holding the comet", "2026-01-12T00:00:00Z")

    catch: list[dict] = []

    def frame(product_id: str, source: str, when: str, seconds: float, width: float, offset: float,
              note: str, archive_url: str) -> None:
        ra, dec, _ = geo.at(mjd(when) + seconds / 172800)
        catch.append({"product_id": product_id, "source": source, "mjd_start": mjd(when),
                      "mjd_stop": mjd(when) + seconds / 86400,
                      "fov": fov(ra + offset / math.cos(math.radians(dec)), dec, width),
                      "filter": "o" if source.startswith("atlas") else "G", "exposure": seconds,
                      "archive_url": archive_url, "appears": iso(mjd(when) + 20),
                      "_footprint_case": note})

    frame("urn:nasa:pds:gbo.ast.atlas.survey.24:data:03m60878o0412c", "atlas_rio_hurtado",
          "2025-07-01T05:12:00Z", 30, 5.4, 1.1, "kept: ATLAS discovery-night frame",
          "https://sbnarchive.psi.edu/pds4/surveys/atlas/03m60878o0412c.fits.fz")
    frame("urn:nasa:pds:gbo.ast.atlas.survey.24:data:03m60860o0318c", "atlas_rio_hurtado",
          "2025-06-14T06:40:00Z", 30, 5.4, -1.9, "kept: ATLAS pre-discovery frame",
          "https://sbnarchive.psi.edu/pds4/surveys/atlas/03m60860o0318c.fits.fz")
    frame("urn:nasa:pds:gbo.ast.catalina.survey:data_calibrated:g96_20250703_2b_n18031_01_0003.arch",
          "catalina_lemmon", "2025-07-03T07:55:00Z", 30, 2.2, 0.5, "kept: Mt. Lemmon frame",
          "https://sbnarchive.psi.edu/pds4/surveys/gbo.ast.catalina.survey/g96_20250703_0003.fz")
    frame("rings.v3.skycell.1101.012.wrp.i.60862_45512", "ps1dr2", "2025-06-16T10:55:00Z", 45, 0.4,
          0.1, "kept: Pan-STARRS warp (not a PDS product)",
          "https://ps1images.stsci.edu/rings.v3.skycell/1101/012/rings.v3.skycell.1101.012.wrp.i.60862_45512.fits")
    frame("urn:nasa:pds:gbo.ast.atlas.survey.24:data:03m60880o0520c", "atlas_rio_hurtado",
          "2025-07-03T05:30:00Z", 30, 5.4, 2.7 + 0.2, "not caught: its edge is 0.2 deg from the comet",
          "https://sbnarchive.psi.edu/pds4/surveys/atlas/03m60880o0520c.fits.fz")

    OUT.write_text(json.dumps({"_comment": "frames for the ephemeris search (tools/make_footprint_scenario.py)",
                               "mast": mast, "obscore": obscore, "catch": catch}, indent=1) + "\n")
    print(f"wrote {OUT}: {len(mast)} MAST, {len(obscore)} ObsCore, {len(catch)} CATCH frames")


if __name__ == "__main__":
    main()
