"""The target's path as the sandbox knows it: a scenario's `"horizons"` records, one per (target,
observer), each a table of nodes `[mjd, ra, dec, delta]`, interpolated on the sphere.

    {"target": "C/2025 N1", "names": ["C/2025 N1", "3I"], "center": "500", "solution": "JPL#27",
     "body": "ATLAS (C/2025 N1)", "nodes": [[60796.0, 287.1, -18.7, 5.42], ...]}
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

from .sky import radec, vector


@dataclass
class Path:
    target: str
    names: tuple[str, ...]
    center: str
    solution: str
    body: str
    mjd: list[float]
    ra: list[float]
    dec: list[float]
    delta: list[float]

    @classmethod
    def from_record(cls, raw: dict[str, Any]) -> Path:
        nodes = sorted(raw["nodes"])
        names = tuple(str(n) for n in raw.get("names") or [raw["target"]])
        return cls(target=str(raw["target"]), names=names, center=str(raw.get("center", "500")),
                   solution=str(raw.get("solution", "JPL#1")),
                   body=str(raw.get("body", raw["target"])), mjd=[n[0] for n in nodes],
                   ra=[n[1] for n in nodes], dec=[n[2] for n in nodes],
                   delta=[n[3] if len(n) > 3 else 1.0 for n in nodes])

    def covers(self, mjd: float) -> bool:
        return self.mjd[0] <= mjd <= self.mjd[-1]

    def at(self, mjd: float) -> tuple[float, float, float]:
        """RA, Dec (degrees) and distance (au) at a time within the table."""
        i = min(max(bisect.bisect_right(self.mjd, mjd) - 1, 0), len(self.mjd) - 2)
        t0, t1 = self.mjd[i], self.mjd[i + 1]
        w = 0.0 if t1 == t0 else (mjd - t0) / (t1 - t0)
        a, b = vector(self.ra[i], self.dec[i]), vector(self.ra[i + 1], self.dec[i + 1])
        v = tuple((1 - w) * a[k] + w * b[k] for k in range(3))
        ra, dec = radec(v)  # type: ignore[arg-type]
        return ra, dec, (1 - w) * self.delta[i] + w * self.delta[i + 1]

    def rate(self, mjd: float) -> float:
        """Distance rate (km/s) from the table, for Horizons' deldot column."""
        step = 1.0 / 24
        lo, hi = max(self.mjd[0], mjd - step), min(self.mjd[-1], mjd + step)
        if hi <= lo:
            return 0.0
        return (self.at(hi)[2] - self.at(lo)[2]) * 149597870.7 / ((hi - lo) * 86400.0)


def designation_matches(path: Path, asked: str) -> bool:
    folded = _fold(asked)
    return any(_fold(name) == folded for name in path.names)


def _fold(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def angular_rate(path: Path, mjd: float) -> float:
    """Degrees per day, for choosing sampling in tests."""
    a, b = path.at(mjd), path.at(min(mjd + 1, path.mjd[-1]))
    return math.degrees(math.acos(min(1.0, sum(x * y for x, y in zip(vector(*a[:2]), vector(*b[:2]), strict=True)))))
