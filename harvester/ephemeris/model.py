"""An ephemeris: the target's astrometric RA/Dec seen from one observer at regular times.

Positions between two tabulated times are interpolated on the unit sphere (linear in the unit
vector, renormalised): at 1-hour steps a comet 1.8 au away moves a few arcminutes, and the
curvature of its path over one step is far below an arcsecond.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Ephemeris:
    target: str
    observer: str          # the Horizons location code, e.g. "500" or "500@-95"
    step: str              # the Horizons step, e.g. "1h"
    mjd: Any               # numpy arrays (UTC MJD, degrees, au), ascending in time
    ra: Any
    dec: Any
    delta: Any = None
    solution: str | None = None   # the orbit solution Horizons used ("JPL#27")
    query: str = ""               # the request that produced it
    fetched_at: str = ""
    _vectors: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.mjd)

    @property
    def start_mjd(self) -> float:
        return float(self.mjd[0])

    @property
    def stop_mjd(self) -> float:
        return float(self.mjd[-1])

    def covers(self, start_mjd: float, stop_mjd: float) -> bool:
        return len(self) > 1 and self.start_mjd <= start_mjd and stop_mjd <= self.stop_mjd

    def positions_at(self, mjd: Any) -> tuple[Any, Any, Any]:
        """RA, Dec (degrees) at each time, and a mask of the times the table covers (outside it
        the position is NaN: an ephemeris is never extrapolated)."""
        import numpy as np

        times = np.atleast_1d(np.asarray(mjd, dtype=float))
        table = self.mjd
        if self._vectors is None:
            from harvester.footprint.inside import unit_vectors

            self._vectors = unit_vectors(self.ra, self.dec)
        valid = (times >= table[0]) & (times <= table[-1]) & np.isfinite(times)
        index = np.clip(np.searchsorted(table, times, side="right") - 1, 0, len(table) - 2)
        span = table[index + 1] - table[index]
        weight = np.where(span > 0, (times - table[index]) / np.where(span > 0, span, 1.0), 0.0)
        vectors = (1.0 - weight)[:, None] * self._vectors[index] + weight[:, None] * self._vectors[index + 1]
        vectors /= np.linalg.norm(vectors, axis=1)[:, None]
        ra = np.degrees(np.arctan2(vectors[:, 1], vectors[:, 0])) % 360.0
        dec = np.degrees(np.arcsin(np.clip(vectors[:, 2], -1.0, 1.0)))
        ra[~valid] = np.nan
        dec[~valid] = np.nan
        return ra, dec, valid

    def to_json(self) -> str:
        """Compact columns for the catalog's cache (a year at 1-hour steps is about 400 kB)."""
        return json.dumps({
            "mjd": [round(float(t), 7) for t in self.mjd],
            "ra": [round(float(v), 6) for v in self.ra],
            "dec": [round(float(v), 6) for v in self.dec],
            "delta": None if self.delta is None else [round(float(v), 6) for v in self.delta],
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, **meta: Any) -> Ephemeris:
        import numpy as np

        data = json.loads(text)
        delta = data.get("delta")
        return cls(mjd=np.asarray(data["mjd"], dtype=float), ra=np.asarray(data["ra"], dtype=float),
                   dec=np.asarray(data["dec"], dtype=float),
                   delta=None if delta is None else np.asarray(delta, dtype=float), **meta)


class EphemerisProvider:
    """What a source is given to ask for an ephemeris (the engine passes a catalog-backed one)."""

    def ephemeris(self, observer: str, start_mjd: float, stop_mjd: float, step: str) -> Ephemeris:
        raise NotImplementedError

    def observer_code(self, observer: str) -> str:
        raise NotImplementedError
