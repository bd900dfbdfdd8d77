"""The cone of MAST's `Mast.Caom.Filtered.Position`: `params.position` is "ra, dec, radius" in
degrees (what astroquery's `query_criteria(coordinates=..., radius=...)` sends), and the answer
holds the observations whose footprint (`s_region`) meets that cone. Rows without a footprint
are matched on their centre (`s_ra`, `s_dec`), as a point."""

from __future__ import annotations

from typing import Any

from .sky import RegionError, angle, meets_cone, parse, vector


class PositionError(ValueError):
    """A position parameter MAST would refuse."""


def parse_position(value: Any) -> tuple[float, float, float]:
    try:
        ra, dec, radius = (float(part) for part in str(value).split(","))
    except ValueError:
        raise PositionError(f"position must be 'ra, dec, radius' in degrees, got {value!r}") from None
    if not -90 <= dec <= 90 or not 0 < radius <= 30:
        raise PositionError(f"position out of range: {value!r}")
    return ra % 360.0, dec, radius


def in_cone(row: dict[str, Any], ra: float, dec: float, radius: float) -> bool:
    region = row.get("s_region")
    if isinstance(region, str) and region.strip():
        try:
            return meets_cone(parse(region), ra, dec, radius)
        except RegionError:
            return False
    s_ra, s_dec = row.get("s_ra"), row.get("s_dec")
    if isinstance(s_ra, int | float) and isinstance(s_dec, int | float):
        return angle(vector(s_ra, s_dec), vector(ra, dec)) <= radius * 3.141592653589793 / 180
    return False
