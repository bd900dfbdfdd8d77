"""Sky geometry for the sandbox's position searches: footprints (STC-S `POLYGON`/`CIRCLE`, CATCH's
`ra:dec,...`), "is this point inside?" and "does this footprint meet this cone?".

Standard library only and written apart from the harvester's own geometry (which uses numpy and
spherical_geometry), so that the sandbox's answers are an independent check on it. A point is
tested in the gnomonic projection centred on it, where great-circle edges are straight lines: a
plane crossing count is then exact for any polygon, concave ones too.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

Vector = tuple[float, float, float]
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


class RegionError(ValueError):
    pass


@dataclass(frozen=True)
class Region:
    kind: str                     # "polygon" | "circle"
    vertices: tuple[Vector, ...] = ()
    centre: Vector = (0.0, 0.0, 1.0)
    radius: float = 0.0           # radians


def vector(ra: float, dec: float) -> Vector:
    r, d = math.radians(ra), math.radians(dec)
    return (math.cos(d) * math.cos(r), math.cos(d) * math.sin(r), math.sin(d))


def radec(v: Vector) -> tuple[float, float]:
    x, y, z = v
    norm = math.sqrt(x * x + y * y + z * z)
    return math.degrees(math.atan2(y, x)) % 360.0, math.degrees(math.asin(max(-1.0, min(1.0, z / norm))))


def _dot(a: Vector, b: Vector) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Vector, b: Vector) -> Vector:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _norm(a: Vector) -> float:
    return math.sqrt(_dot(a, a))


def angle(a: Vector, b: Vector) -> float:
    return math.atan2(_norm(_cross(a, b)), _dot(a, b))


def parse(text: object) -> list[Region]:
    """The regions of a footprint string (cached: a search asks about the same frames often)."""
    if not isinstance(text, str):
        raise RegionError("empty region")
    return list(_parse(text))


@functools.lru_cache(maxsize=65536)
def _parse(text: str) -> tuple[Region, ...]:
    if not text.strip():
        raise RegionError("empty region")
    if ":" in text and not re.search(r"[A-Za-z]", text):
        corners = [pair.split(":") for pair in text.split(",")]
        return (Region("polygon", tuple(vector(float(r), float(d)) for r, d in corners)),)
    words = text.replace("(", " ").replace(")", " ").split()
    regions, index = [], 0
    while index < len(words):
        word = words[index].upper()
        index += 1
        if word not in ("POLYGON", "CIRCLE"):
            continue
        numbers = []
        shapes = ("POLYGON", "CIRCLE")
        while index < len(words) and not _NUMBER.match(words[index]) and words[index].upper() not in shapes:
            index += 1  # the frame (ICRS, J2000 ...)
        while index < len(words) and _NUMBER.match(words[index]):
            numbers.append(float(words[index]))
            index += 1
        if word == "CIRCLE" and len(numbers) == 3:
            regions.append(Region("circle", centre=vector(numbers[0], numbers[1]),
                                  radius=math.radians(numbers[2])))
        elif word == "POLYGON" and len(numbers) >= 6 and len(numbers) % 2 == 0:
            regions.append(Region("polygon", tuple(vector(numbers[i], numbers[i + 1])
                                                   for i in range(0, len(numbers), 2))))
        else:
            raise RegionError(f"bad {word} in {text[:80]!r}")
    if not regions:
        raise RegionError(f"no region in {text[:80]!r}")
    return tuple(regions)


def contains(regions: list[Region], ra: float, dec: float) -> bool:
    point = vector(ra, dec)
    return any(_contains(region, point) for region in regions)


def _contains(region: Region, point: Vector) -> bool:
    if region.kind == "circle":
        return angle(region.centre, point) <= region.radius
    # Gnomonic projection on the plane tangent at the point: the point is the origin.
    east = _cross((0.0, 0.0, 1.0), point)
    if _norm(east) < 1e-12:
        east = (1.0, 0.0, 0.0)
    east = tuple(c / _norm(east) for c in east)
    north = _cross(point, east)
    plane = []
    for v in region.vertices:
        depth = _dot(v, point)
        if depth <= 1e-9:
            return False  # a vertex 90 degrees away: the (small) footprint is elsewhere
        plane.append((_dot(v, east) / depth, _dot(v, north) / depth))
    inside = False
    for (x1, y1), (x2, y2) in zip(plane, plane[1:] + plane[:1], strict=True):
        if (y1 > 0) != (y2 > 0) and x1 + (0 - y1) * (x2 - x1) / (y2 - y1) > 0:
            inside = not inside
    return inside


def distance_to_arc(point: Vector, a: Vector, b: Vector) -> float:
    normal = _cross(a, b)
    length = _norm(normal)
    if length > 0:
        n = tuple(c / length for c in normal)
        if _dot(_cross(a, point), n) >= 0 and _dot(_cross(point, b), n) >= 0:
            return math.asin(min(1.0, abs(_dot(n, point))))
    return min(angle(point, a), angle(point, b))


def meets_cone(regions: list[Region], ra: float, dec: float, radius_deg: float) -> bool:
    """Does the footprint overlap the cone (any part of it within the radius of the centre)?"""
    centre, radius = vector(ra, dec), math.radians(radius_deg)
    for region in regions:
        if region.kind == "circle":
            if angle(region.centre, centre) <= region.radius + radius:
                return True
            continue
        if _contains(region, centre):
            return True
        edges = zip(region.vertices, region.vertices[1:] + region.vertices[:1], strict=True)
        if any(distance_to_arc(centre, a, b) <= radius for a, b in edges):
            return True
    return False
