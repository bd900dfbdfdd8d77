"""ADQL 2.0 geometry in the sandbox's TAP services: `CONTAINS(a, b)` and `INTERSECTS(a, b)` over
`POINT('ICRS', ra, dec)`, `CIRCLE('ICRS', ra, dec, r)` and a footprint column (`s_region`, read
as STC-S), answering 1 or 0 as ADQL 2.0 section 2.4.11 says (so queries compare them `= 1`).
A real polygon test (sky.py), not a bounding box: a frame whose corner region is empty does not
contain a point there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .sky import Region, RegionError, contains, meets_cone, parse, vector

Geometry = Callable[[dict[str, Any]], Any]
FUNCTIONS = ("contains", "intersects")


class GeometryError(Exception):
    """ADQL geometry this service does not support (tap.py answers it as a query error)."""


def geometry_getter(parser: Any) -> Callable[[dict[str, Any]], int | None]:
    """Parse `CONTAINS(a, b)` or `INTERSECTS(a, b)` at the parser's position: a row -> 1 or 0."""
    name = parser.expect("name").text.lower()
    parser.expect("punct", "(")
    first, first_kind = _geometry(parser)
    parser.expect("punct", ",")
    second, second_kind = _geometry(parser)
    parser.expect("punct", ")")
    if name == "contains" and first_kind != "point":
        raise GeometryError("CONTAINS: only a POINT inside a region is supported here")
    if name == "intersects" and "region" in (first_kind, second_kind) and \
            not {first_kind, second_kind} & {"point", "circle"}:
        raise GeometryError("INTERSECTS: give a POINT or CIRCLE and a region")

    def value(row: dict[str, Any]) -> int | None:
        a, b = first(row), second(row)
        if a is None or b is None:
            return None
        if name == "contains":
            return int(_holds(b, a[1], a[2]))
        if a[0] in ("circle", "point") and b[0] == "region":
            a, b = b, a
        if b[0] == "circle":
            return int(_meets(a, b[1], b[2], b[3]))
        return int(_holds(a, b[1], b[2]))

    return value


def _holds(geometry: tuple, ra: float, dec: float) -> bool:
    if geometry[0] == "region":
        return contains(geometry[1], ra, dec)
    if geometry[0] == "circle":
        return contains([Region("circle", centre=vector(geometry[1], geometry[2]),
                                radius=geometry[3] * 3.141592653589793 / 180)], ra, dec)
    return False


def _meets(geometry: tuple, ra: float, dec: float, radius: float) -> bool:
    if geometry[0] == "region":
        return meets_cone(geometry[1], ra, dec, radius)
    if geometry[0] == "point":
        return _holds(("circle", ra, dec, radius), geometry[1], geometry[2])
    return meets_cone([Region("circle", centre=vector(geometry[1], geometry[2]),
                              radius=geometry[3] * 3.141592653589793 / 180)], ra, dec, radius)


def _geometry(parser: Any) -> tuple[Geometry, str]:
    token = parser.expect("name")
    word = token.text.lower()
    if word in ("point", "circle"):
        parser.expect("punct", "(")
        parser.expect("string")  # the coordinate system: ICRS (ADQL 2.1 makes it optional)
        numbers = []
        while parser.accept("punct", ","):
            numbers.append(float(parser.expect("number").text))
        parser.expect("punct", ")")
        if len(numbers) != (2 if word == "point" else 3):
            raise GeometryError(f"{word.upper()} takes {'2' if word == 'point' else '3'} numbers")
        constant = (word, numbers[0] % 360.0, *numbers[1:])
        return (lambda row: constant), word
    column = parser.column(token.text)

    def region(row: dict[str, Any]) -> Any:
        text = row.get(column)
        if text is None:
            return None
        try:
            return ("region", parse(text))
        except RegionError:
            return None  # a footprint the service cannot read matches nothing

    return region, "region"
