"""Is a point inside a footprint, and how far from its edge? In bulk.

The geometry is on the sphere, with unit vectors: a polygon's edges are great-circle arcs, a
circle is a cap. spherical_geometry (STScI's library, the one drizzlepac and MAST's footprint
tools use) is the reference: its great-circle arc intersection decides every polygon that is not
convex, and the tests compare it with the bulk path. The bulk path is the same vector algebra
in numpy for the shapes nearly every frame has, convex polygons (detector outlines) and circles, because a search tests
hundreds of thousands of frames: for a convex polygon a point is inside when it lies on the
inner side of every edge's great circle. The offset is the angular distance to the nearest edge
arc (to the nearest point of the arc, not of its whole great circle), positive inside and
negative outside; for a point beyond a cap that holds the whole outline it is a lower bound of
the distance (the cap's edge), which is all a frame that missed needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harvester.footprint.regions import Circle, Polygon, Shape

ARCSEC_PER_RADIAN = 206264.80624709636


def unit_vectors(ra_deg: Any, dec_deg: Any) -> Any:
    """(N, 3) unit vectors of ra/dec in degrees."""
    import numpy as np

    ra = np.radians(np.asarray(ra_deg, dtype=float))
    dec = np.radians(np.asarray(dec_deg, dtype=float))
    cos_dec = np.cos(dec)
    return np.stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)], axis=-1)


def footprint_offsets(frames: Sequence[Sequence[Shape]], ra_deg: Any, dec_deg: Any) -> Any:
    """For frame i and point i, the signed offset (arcsec) of the point from the frame's edge:
    > 0 inside, < 0 outside. A frame of several shapes counts its best one."""
    import numpy as np

    count = len(frames)
    points = unit_vectors(ra_deg, dec_deg).reshape(count, 3)
    best = np.full(count, -np.inf)
    circles: list[tuple[int, Circle]] = []
    polygons: dict[int, list[tuple[int, Polygon]]] = {}
    for index, shapes in enumerate(frames):
        for shape in shapes:
            if shape.__class__ is Circle:
                circles.append((index, shape))
            else:
                size = len(shape.ra)
                group = polygons.get(size)
                if group is None:
                    group = polygons[size] = []
                group.append((index, shape))
    if circles:
        _circles(circles, points, best)
    for group in polygons.values():
        _polygons(group, points, best)
    return best


def point_offset(shapes: Sequence[Shape], ra_deg: float, dec_deg: float) -> float:
    """footprint_offsets for one frame and one point."""
    return float(footprint_offsets([shapes], [ra_deg], [dec_deg])[0])


def _circles(circles: list[tuple[int, Circle]], points: Any, best: Any) -> None:
    import numpy as np

    rows = np.array([i for i, _ in circles])
    centres = unit_vectors([c.ra for _, c in circles], [c.dec for _, c in circles])
    radius = np.radians([c.radius for _, c in circles])
    separation = _angle(centres, points[rows])
    offsets = (radius - separation) * ARCSEC_PER_RADIAN
    np.maximum.at(best, rows, offsets)


def _polygons(group: list[tuple[int, Polygon]], points: Any, best: Any) -> None:
    """Polygons with the same number of vertices, as (n, k, 3) arrays."""
    import numpy as np

    rows = np.fromiter((i for i, _ in group), dtype=np.int64, count=len(group))
    size = len(group[0][1].ra)
    ras = np.fromiter((v for _, p in group for v in p.ra), dtype=float, count=len(group) * size)
    decs = np.fromiter((v for _, p in group for v in p.dec), dtype=float, count=len(group) * size)
    vertices = unit_vectors(ras.reshape(-1, size), decs.reshape(-1, size))      # (n, k, 3)
    chosen = points[rows]
    # A cap around each outline first: a point beyond it is outside, at least (distance to the
    # cap's centre - its radius) from the outline. Only points within a cap take the exact test,
    # which spares most of a search's frames (far away, or exposed while the comet was elsewhere).
    centres = vertices.sum(axis=1)
    centres /= np.linalg.norm(centres, axis=1)[:, None]
    radius = _angle(centres[:, None, :], vertices).max(axis=1)
    from_centre = _angle(centres, chosen)
    offsets = -(from_centre - radius)
    near = np.flatnonzero(from_centre <= radius)
    if len(near):
        offsets[near] = _exact(vertices[near], chosen[near], [group[i][1] for i in near])
    np.maximum.at(best, rows, offsets * ARCSEC_PER_RADIAN)


def _exact(vertices: Any, chosen: Any, polygons: list[Polygon]) -> Any:
    """Signed offsets (radians) of points from their polygons' outlines."""
    import numpy as np

    following = np.roll(vertices, -1, axis=1)
    after_next = np.roll(vertices, -2, axis=1)
    normals = np.cross(vertices, following)                                       # edge planes
    turns = np.einsum("nkj,nkj->nk", normals, after_next)
    convex = np.all(turns > 0, axis=1) | np.all(turns < 0, axis=1)
    # Orient every convex polygon so that its inside is on the positive side of each edge.
    orientation = np.where(np.sum(turns, axis=1) >= 0, 1.0, -1.0)
    sides = np.einsum("nkj,nj->nk", normals, chosen) * orientation[:, None]
    inside = np.all(sides > 0, axis=1)
    distance = _distance_to_edges(vertices, following, normals, chosen)
    if not np.all(convex):
        inside = inside.copy()
        for position in np.flatnonzero(~convex):
            inside[position] = _library_contains(polygons[position], chosen[position])
    return np.where(inside, distance, -distance)


def _distance_to_edges(start: Any, end: Any, normals: Any, points: Any) -> Any:
    """Angular distance (radians) from each point to the nearest of its polygon's edge arcs."""
    import numpy as np

    lengths = np.linalg.norm(normals, axis=2)
    unit_normals = normals / np.where(lengths > 0, lengths, 1.0)[..., None]
    p = np.broadcast_to(points[:, None, :], start.shape)
    to_circle = np.arcsin(np.clip(np.abs(np.einsum("nkj,nkj->nk", unit_normals, p)), 0, 1))
    # The foot of the perpendicular lies on the arc when it is between the two end points.
    after_start = np.einsum("nkj,nkj->nk", np.cross(start, p), unit_normals) >= 0
    before_end = np.einsum("nkj,nkj->nk", np.cross(p, end), unit_normals) >= 0
    to_ends = np.minimum(_angle(start, p), _angle(end, p))
    per_edge = np.where(after_start & before_end & (lengths > 0), to_circle, to_ends)
    return per_edge.min(axis=1)


def _angle(a: Any, b: Any) -> Any:
    """The angle between unit vectors, stable for tiny and large angles."""
    import numpy as np

    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.sum(a * b, axis=-1))


def _library_contains(polygon: Polygon, point: Any) -> bool:
    """Crossing parity with spherical_geometry's arc intersection: the arc from the point to a
    point surely outside (opposite the vertices' mean; every frame is far smaller than a
    hemisphere) crosses the outline an odd number of times when the point is inside. The library's
    own contains_point guesses an inside point that can fall outside a concave outline."""
    import numpy as np
    from spherical_geometry.great_circle_arc import intersects

    vertices = unit_vectors(polygon.ra, polygon.dec)
    outside = -vertices.mean(axis=0)
    outside /= np.linalg.norm(outside)
    crossings = intersects(point, outside, vertices, np.roll(vertices, -1, axis=0))
    return bool(np.count_nonzero(crossings) % 2)
