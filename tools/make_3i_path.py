"""Write harvester/sandbox/default_scenario_horizons.json: the sandbox's model of 3I/ATLAS's path.

Not JPL's ephemeris (the machines that build this project have no internet): a two-body
hyperbolic orbit from 3I/ATLAS's published elements (q = 1.356 au, e = 6.14, i = 175.1 deg,
perihelion 2025-10-29; docs/archives.md), Earth from astropy's built-in ephemeris, no light time.
It puts the comet where it was to a fraction of a degree (2025-07-01: RA 272, Dec -18.7, 3.5 au
from Earth; 2025-12-19: 1.80 au), which is what the sandbox needs: frames that contain it,
frames that just miss it, and the parallax of spacecraft observers. TESS is modelled on a circle
of 0.0017 au about Earth with a 13.7-day period and JWST 0.01 au anti-sunward of Earth (L2);
HST is geocentric. Run: python tools/make_3i_path.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

Q, E = 1.35638, 6.1395
INC, NODE, PERI = (math.radians(v) for v in (175.113, 322.157, 128.010))
K = 0.01720209895
START, STOP, STEP = "2025-03-01", "2029-01-01", 0.5  # days
SOLUTION = "JPL#27"
OUT = Path(__file__).resolve().parent.parent / "harvester" / "sandbox" / "default_scenario_horizons.json"


def heliocentric(jd_tdb: np.ndarray, tp: float) -> np.ndarray:
    a = Q / (1 - E)
    mean = K / math.sqrt((-a) ** 3) * (jd_tdb - tp)
    h = np.arcsinh(mean / E)
    for _ in range(60):
        h = h - (E * np.sinh(h) - h - mean) / (E * np.cosh(h) - 1)
    nu = 2 * np.arctan(math.sqrt((E + 1) / (E - 1)) * np.tanh(h / 2))
    r = a * (1 - E * np.cosh(h))
    xo, yo = r * np.cos(nu), r * np.sin(nu)
    co, so, ci, si, cw, sw = (math.cos(NODE), math.sin(NODE), math.cos(INC), math.sin(INC),
                              math.cos(PERI), math.sin(PERI))
    x = (co * cw - so * sw * ci) * xo + (-co * sw - so * cw * ci) * yo
    y = (so * cw + co * sw * ci) * xo + (-so * sw + co * cw * ci) * yo
    z = (sw * si) * xo + (cw * si) * yo
    eps = math.radians(23.4392911)
    return np.stack([x, y * math.cos(eps) - z * math.sin(eps), y * math.sin(eps) + z * math.cos(eps)], axis=1)


def main() -> None:
    import astropy.units as u
    from astropy.coordinates import get_body_barycentric
    from astropy.time import Time

    times = Time(START) + np.arange(0, (Time(STOP) - Time(START)).to_value("d") + STEP, STEP) * u.day
    tp = Time("2025-10-29T11:35", scale="tdb").jd
    sun = get_body_barycentric("sun", times).xyz.to(u.au).value.T
    earth = get_body_barycentric("earth", times).xyz.to(u.au).value.T
    comet = heliocentric(times.tdb.jd, tp) + sun
    days = times.mjd - times.mjd[0]
    anti_sun = (earth - sun) / np.linalg.norm(earth - sun, axis=1)[:, None]
    phase = 2 * math.pi * days / 13.7
    observers = {
        "500": earth,
        "500@-95": earth + 0.0017 * np.stack([np.cos(phase), np.sin(phase), 0 * phase], axis=1),
        "500@-170": earth + 0.0100 * anti_sun,
        "500@-48": earth,
    }
    records = []
    for center, position in observers.items():
        v = comet - position
        delta = np.linalg.norm(v, axis=1)
        ra = np.degrees(np.arctan2(v[:, 1], v[:, 0])) % 360
        dec = np.degrees(np.arcsin(v[:, 2] / delta))
        records.append({
            "target": "C/2025 N1", "names": ["C/2025 N1", "3I", "3I/ATLAS", "C/2025 N1 (ATLAS)"],
            "body": "ATLAS (C/2025 N1)", "center": center, "solution": SOLUTION,
            "nodes": [[round(float(t), 4), round(float(r), 6), round(float(d), 6), round(float(x), 6)]
                      for t, r, d, x in zip(times.utc.mjd, ra, dec, delta, strict=True)],
        })
    OUT.write_text(json.dumps(records, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(records)} observers, {len(times)} nodes each)")


if __name__ == "__main__":
    main()
