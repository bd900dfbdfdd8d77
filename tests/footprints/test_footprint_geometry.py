"""Footprint strings and the inside/offset test (harvester.footprint)."""

from __future__ import annotations

import math
import random

import pytest

from harvester.footprint.inside import footprint_offsets, point_offset, unit_vectors
from harvester.footprint.regions import Circle, FootprintError, Polygon, parse_region


@pytest.mark.parametrize("text", [
    "POLYGON ICRS 10 20 11 20 11 21 10 21",
    "POLYGON 10 20 11 20 11 21 10 21",            # MAST writes no frame
    "Polygon J2000 10 20 11 20 11 21 10 21 10 20",  # a closed ring repeats its first vertex
    "POLYGON ICRS TOPOCENTER 10 20 11 20 11 21 10 21",
])
def test_stc_s_polygons_in_the_forms_archives_write(text):
    (shape,) = parse_region(text)
    assert shape == Polygon((10.0, 11.0, 11.0, 10.0), (20.0, 20.0, 21.0, 21.0))


def test_a_frame_of_several_detectors_is_several_shapes():
    shapes = parse_region("UNION (POLYGON ICRS 1 1 2 1 2 2 CIRCLE ICRS 5 5 0.5)")
    assert shapes == [Polygon((1.0, 2.0, 2.0), (1.0, 1.0, 2.0)), Circle(5.0, 5.0, 0.5)]
    assert point_offset(shapes, 5.0, 5.2) > 0 and point_offset(shapes, 1.9, 1.2) > 0


def test_catch_corners_and_stc_s_box():
    (fov,) = parse_region("85.383465:22.519352,85.373646:20.898981,83.639129:20.898979,83.629305:22.519349")
    assert len(fov.ra) == 4 and point_offset([fov], 84.5, 21.7) > 0
    (box,) = parse_region("BOX ICRS 180 0 2 1")
    assert point_offset([box], 180.9, 0.4) > 0 and point_offset([box], 181.1, 0) < 0


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("POLYGON GALACTIC 1 2 3 4 5 6", "not equatorial"),
    ("POLYGON ICRS 1 2 3 4 5", "3 ra/dec pairs"),
    ("POLYGON ICRS 1 2 3 95 5 6", "declination"),
    ("CIRCLE ICRS 1 2", "takes 3 numbers"),
    ("POSITION ICRS 1 2", "a point"),
    ("HEXAGON 1 2 3", "not a footprint"),
    ("10:20,11,12:21", "CATCH fov"),
])
def test_unreadable_footprints_say_what_is_wrong(text, words):
    with pytest.raises(FootprintError, match=words):
        parse_region(text)


def test_offset_is_the_distance_to_the_nearest_edge_signed_by_side():
    square = parse_region("POLYGON ICRS 10 20 11 20 11 21 10 21")
    # 0.1 degree north of the southern edge, mid-way along it: 360 arcsec inside, less the few
    # arcseconds by which the edge (a great circle, not a parallel) bulges towards the pole.
    assert point_offset(square, 10.5, 20.1) == pytest.approx(357.5, abs=1)
    assert point_offset(square, 10.5, 19.9) == pytest.approx(-362.5, abs=1)
    # Beyond a corner the nearest point of the outline is the corner, not the edge's circle.
    beyond = point_offset(square, 11.0 + 0.1 / math.cos(math.radians(19.9)), 19.9)
    assert beyond == pytest.approx(-math.hypot(360, 360), rel=0.02)
    # Either winding gives the same answer.
    assert point_offset(parse_region("POLYGON ICRS 10 21 11 21 11 20 10 20"), 10.5, 20.1) == \
        pytest.approx(point_offset(square, 10.5, 20.1))


def test_circle_offset():
    circle = parse_region("CIRCLE ICRS 10 20 0.5")
    assert point_offset(circle, 10, 20.4) == pytest.approx(360, abs=1)
    assert point_offset(circle, 10, 20.6) == pytest.approx(-360, abs=1)


def test_a_concave_outline_is_decided_by_the_library_not_by_its_hull():
    ell = parse_region("POLYGON ICRS 0 0 2 0 2 2 1 2 1 1 0 1")   # an L: the notch is outside
    assert point_offset(ell, 0.5, 0.5) > 0
    assert point_offset(ell, 1.5, 1.5) > 0
    assert point_offset(ell, 0.5, 1.5) < 0                        # inside the hull, outside the L


def test_footprints_across_ra_zero_and_near_the_pole():
    wrap = parse_region("POLYGON ICRS 359.5 -1 0.5 -1 0.5 1 359.5 1")
    assert point_offset(wrap, 0.0, 0.0) > 0 and point_offset(wrap, 180.0, 0.0) < 0
    polar = parse_region("POLYGON ICRS 0 88 90 88 180 88 270 88")
    assert point_offset(polar, 45.0, 89.5) > 0 and point_offset(polar, 45.0, 87.0) < 0


def test_the_bulk_path_agrees_with_spherical_geometry_on_random_frames():
    from spherical_geometry.polygon import SphericalPolygon

    rng = random.Random(13)
    frames, ras, decs, expected = [], [], [], []
    for _ in range(300):
        ra, dec = rng.uniform(0, 360), rng.uniform(-80, 80)
        w, h = rng.uniform(0.05, 6), rng.uniform(0.05, 6)
        corners = [(ra - w / 2, dec - h / 2), (ra + w / 2, dec - h / 2), (ra + w / 2, dec + h / 2),
                   (ra - w / 2, dec + h / 2)]
        text = "POLYGON ICRS " + " ".join(f"{r % 360:.6f} {d:.6f}" for r, d in corners)
        frames.append(parse_region(text))
        px, py = ra + rng.uniform(-w, w), dec + rng.uniform(-h, h)
        ras.append(px % 360)
        decs.append(py)
        shape = SphericalPolygon.from_radec([c[0] for c in corners], [c[1] for c in corners],
                                            center=(ra, dec))
        expected.append(bool(shape.contains_point(unit_vectors(px, py))))
    offsets = footprint_offsets(frames, ras, decs)
    assert [bool(o > 0) for o in offsets] == expected
    assert 50 < sum(expected) < 250   # both answers are exercised
