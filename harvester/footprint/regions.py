"""Footprint strings to shapes.

Archives write a frame's footprint as IVOA STC-S (ObsCore `s_region`, MAST `s_region`):
`POLYGON ICRS 10.1 -5.2 10.3 -5.2 ...`, `CIRCLE ICRS 10.2 -5.1 0.05`, `BOX ICRS ra dec w h`, the
frame name optional (MAST writes `POLYGON 10.1 -5.2 ...`, some services `POLYGON J2000 ...`), and a
frame made of several detectors as several shapes one after the other (or inside `UNION (...)`).
CATCH writes `ra:dec,ra:dec,...`. A string that is none of these raises FootprintError naming it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from harvester.errors import HarvesterError

# Frames whose coordinates are (to well under an arcsecond) ICRS; anything else is refused
# rather than silently misplaced (GALACTIC, ECLIPTIC ...).
_EQUATORIAL_FRAMES = {"ICRS", "J2000", "FK5", "ICRF", "UNKNOWNFRAME"}
_FILLERS = {"UNION", "INTERSECTION", "(", ")", "TOPOCENTER", "GEOCENTER", "BARYCENTER",
            "UNKNOWNREFPOS", "SPHERICAL2", "SPHERICAL", "CARTESIAN2"}
_SHAPES = {"POLYGON": None, "CIRCLE": 3, "BOX": 4, "POSITION": 2}
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


class FootprintError(HarvesterError):
    """A footprint string that cannot be read as a sky region."""


@dataclass(frozen=True)
class Polygon:
    """Vertices in degrees, in the order given (either winding)."""

    ra: tuple[float, ...]
    dec: tuple[float, ...]


@dataclass(frozen=True)
class Circle:
    ra: float
    dec: float
    radius: float  # degrees


Shape = Polygon | Circle


def parse_region(text: object) -> list[Shape]:
    """Every shape of a footprint string (one frame may be several detectors)."""
    if not isinstance(text, str) or not text.strip():
        raise FootprintError("no footprint (s_region is empty)")
    simple = _simple_polygon(text)
    if simple is not None:
        return [simple]
    stripped = text.strip()
    if ":" in stripped and not re.search(r"[A-Za-z]", stripped):
        return [_catch_polygon(stripped)]
    tokens = _TOKEN.findall(stripped)
    shapes: list[Shape] = []
    index = 0
    while index < len(tokens):
        word = tokens[index].upper()
        index += 1
        if word in _FILLERS:
            continue
        if word not in _SHAPES:
            raise FootprintError(f"not a footprint: unexpected {tokens[index - 1]!r} in {_short(text)}")
        if index < len(tokens) and not _is_number(tokens[index]):
            frame = tokens[index].upper()
            if frame not in _EQUATORIAL_FRAMES and frame not in _FILLERS:
                raise FootprintError(f"footprint frame {tokens[index]} is not equatorial: {_short(text)}")
            index += 1
            while index < len(tokens) and tokens[index].upper() in _FILLERS - {"(", ")"}:
                index += 1
        numbers: list[float] = []
        while index < len(tokens) and _is_number(tokens[index]):
            numbers.append(float(tokens[index]))
            index += 1
        shapes.append(_shape(word, numbers, text))
    if not shapes:
        raise FootprintError(f"not a footprint: {_short(text)}")
    return shapes


def _simple_polygon(text: str) -> Polygon | None:
    """The common case, one `POLYGON [frame] ra dec ...`, without the tokenizer (a search reads
    hundreds of thousands); anything else, or anything odd, takes the general path."""
    words = text.split()
    if len(words) < 7 or words[0].upper() != "POLYGON" or "(" in text:
        return None
    try:
        numbers = list(map(float, words[2:] if words[1].upper() in _EQUATORIAL_FRAMES else words[1:]))
    except ValueError:
        return None
    # A NaN or an infinity anywhere makes the sum non-finite.
    if len(numbers) < 6 or len(numbers) % 2 or not math.isfinite(sum(numbers)):
        return None
    ra, dec = numbers[0::2], numbers[1::2]
    if len(ra) > 3 and ra[0] == ra[-1] and dec[0] == dec[-1]:
        ra, dec = ra[:-1], dec[:-1]
    if min(dec) < -90.0 or max(dec) > 90.0:
        return None
    # RA is kept as written (unit vectors do not mind 361 or -1).
    return Polygon(tuple(ra), tuple(dec))


def _shape(word: str, numbers: list[float], text: str) -> Shape:
    if any(not math.isfinite(n) for n in numbers):
        raise FootprintError(f"footprint has a value that is not finite: {_short(text)}")
    if word == "POLYGON":
        if len(numbers) < 6 or len(numbers) % 2:
            raise FootprintError(f"a POLYGON needs at least 3 ra/dec pairs: {_short(text)}")
        ra, dec = numbers[0::2], numbers[1::2]
        if len(ra) > 3 and ra[0] == ra[-1] and dec[0] == dec[-1]:
            ra, dec = ra[:-1], dec[:-1]  # closed rings repeat the first vertex
        _check_dec(dec, text)
        return Polygon(tuple(r % 360.0 for r in ra), tuple(dec))
    expected = _SHAPES[word]
    if len(numbers) != expected:
        raise FootprintError(f"a {word} takes {expected} numbers, got {len(numbers)}: {_short(text)}")
    if word == "POSITION":
        raise FootprintError(f"a POSITION is a point, not a footprint: {_short(text)}")
    if word == "CIRCLE":
        ra, dec, radius = numbers
        _check_dec([dec], text)
        if not 0 < radius < 90:
            raise FootprintError(f"CIRCLE radius must be between 0 and 90 degrees: {_short(text)}")
        return Circle(ra % 360.0, dec, radius)
    return _box(*numbers, text=text)


def _box(ra: float, dec: float, width: float, height: float, *, text: str) -> Polygon:
    """STC-S BOX: a rectangle of the given width and height centred on (ra, dec), its sides along
    the local meridian and parallel; its corners as a polygon."""
    _check_dec([dec], text)
    if not (0 < width < 180 and 0 < height < 180):
        raise FootprintError(f"BOX sides must be between 0 and 180 degrees: {_short(text)}")
    corners = [(-width / 2, -height / 2), (width / 2, -height / 2), (width / 2, height / 2),
               (-width / 2, height / 2)]
    ras, decs = [], []
    for dx, dy in corners:
        corner_dec = max(-90.0, min(90.0, dec + dy))
        ras.append((ra + dx / max(math.cos(math.radians(corner_dec)), 1e-9)) % 360.0)
        decs.append(corner_dec)
    return Polygon(tuple(ras), tuple(decs))


def _catch_polygon(text: str) -> Polygon:
    ras, decs = [], []
    for pair in text.split(","):
        parts = pair.strip().split(":")
        if len(parts) != 2 or not all(_is_number(p) for p in parts):
            raise FootprintError(f"not a CATCH fov (ra:dec,...): {_short(text)}")
        ras.append(float(parts[0]) % 360.0)
        decs.append(float(parts[1]))
    if len(ras) < 3:
        raise FootprintError(f"a footprint needs at least 3 corners: {_short(text)}")
    _check_dec(decs, text)
    return Polygon(tuple(ras), tuple(decs))


def _check_dec(decs: list[float], text: str) -> None:
    if any(not -90.0 <= d <= 90.0 for d in decs):
        raise FootprintError(f"declination outside -90..90 in footprint: {_short(text)}")


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _short(text: object) -> str:
    value = str(text)
    return repr(value if len(value) <= 120 else value[:117] + "...")
