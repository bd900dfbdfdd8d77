"""What the sources that find frames by the target's position share (MAST by position, ObsCore
TAP CONTAINS, CATCH): their settings, walking the path in segments a service can answer, and the
verdict on each frame the service returns.

A service is asked for frames near the path; the verdict is ours: the target's position is
interpolated at times across the frame's exposure (its mid-time, or every ephemeris step of a
long one), and the frame is kept only if a position falls inside its footprint (`s_region`).
A frame at the right place at the wrong time, or that only grazes the search cone, is dropped
with its reason. Frames kept become ordinary products with `matched_by = ephemeris:<observer>`
and the evidence (predicted position, offset from the footprint's edge, the orbit solution) in
`extra["ephemeris"]`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from harvester.errors import ConfigError, RecordRejected, SourceError
from harvester.names.matcher import Match
from harvester.product import Product
from harvester.settings import SourceSettings
from harvester.sources.base import Source
from harvester.timeutil import datetime_to_mjd, mjd_to_iso, parse_iso

log = logging.getLogger("harvester.footprint")
VERDICT = "_footprint"          # the key a judged row carries its verdict under (never stored)
MAX_SAMPLES_PER_FRAME = 2000    # a 27-day TESS sector at 1-hour steps is about 650


@dataclass
class FootprintSettings(SourceSettings):
    """Keys every footprint-search source accepts (with its kind's own)."""

    observer: str = "geocentric"     # an [ephemeris.observers] name
    step: str = "1h"                 # the ephemeris step (Horizons STEP_SIZE)
    search_start: str = "2025-05-01"  # the part of the path to search (UTC dates)
    search_end: str = ""             # "" = the run's clock

    def validate(self, *, where: str, path: str) -> None:
        from harvester.ephemeris.store import step_days

        try:
            step_days(self.step)
        except ConfigError as exc:
            raise ConfigError(f"{path}: [{where}] step: {exc}") from None
        for key in ("search_start", "search_end"):
            value = getattr(self, key)
            if value:
                try:
                    parse_iso(value)
                except ValueError:
                    raise ConfigError(f"{path}: [{where}] {key}: not a date: {value!r}") from None
        if self.search_end and parse_iso(self.search_end) <= parse_iso(self.search_start):
            raise ConfigError(f"{path}: [{where}] search_end: must be after search_start")


class ObserverMatcher:
    """Stands in for the alias matcher when the geometry, not the name, has decided: every row
    it is shown was kept by the footprint test, so it names the rule and the observer."""

    def __init__(self, observer: str) -> None:
        self.rule = Match(alias=observer, rule="ephemeris")

    def match(self, target_name: str | None) -> Match:
        return self.rule


@dataclass
class Segment:
    """A stretch of the path a single query covers: a cone around it and its time span."""

    start_mjd: float
    stop_mjd: float
    ra: float
    dec: float
    radius: float          # degrees: every path position of the stretch is within it
    times: Any             # the path's sample times, positions and (for TAP) the points to ask
    ras: Any
    decs: Any


class FootprintSource(Source):
    """Shared by the footprint-search sources: the ephemeris, the window, the verdicts."""

    settings: FootprintSettings

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.observer = self.settings.observer
        self.matcher = ObserverMatcher(self.observer)  # type: ignore[assignment]

    def unchanged_context(self) -> Any:
        return None  # a verdict comes from the ephemeris, which no record fingerprint holds

    # ---- the path

    def window_mjd(self) -> tuple[float, float]:
        start = datetime_to_mjd(parse_iso(self.settings.search_start))
        end = parse_iso(self.settings.search_end) if self.settings.search_end else self.now
        return start, datetime_to_mjd(end)

    def ephemeris(self) -> Any:
        provider = self.context.ephemerides
        if provider is None:
            raise SourceError(f"source {self.name} searches by position and needs the "
                              "ephemeris service, which this harvest does not have")
        start, stop = self.window_mjd()
        if stop <= start:
            raise SourceError(f"source {self.name}: the search window ends before it starts")
        return provider.ephemeris(self.observer, start, stop, self.settings.step)

    def segments(self, eph: Any, *, max_radius: float, max_days: float,
                 sample_days: float) -> list[Segment]:
        return path_segments(eph, *self.window_mjd(), max_radius=max_radius, max_days=max_days,
                             sample_days=sample_days)

    # ---- verdicts

    def judge(self, eph: Any, rows: list[dict[str, Any]], *, region: Callable[[dict], Any],
              times: Callable[[dict], tuple[float | None, float | None]]) -> None:
        """Attach a verdict to each row (in place), all rows of a page in one vectorized pass."""
        from harvester.ephemeris.store import step_days

        judge_rows(eph, rows, region=region, times=times, step=step_days(self.settings.step),
                   observer=self.observer)

    def kept(self, verdict: dict[str, Any], frame: str) -> bool:
        """Whether a judged frame is kept; a dropped one is logged with its reason (`-vv`)."""
        if verdict.get("inside"):
            return True
        log.debug("frame %s dropped: %s", frame, verdict.get("reason") or "not judged")
        return False

    def frame_id(self, record: dict[str, Any]) -> str:
        """The frame's id in the archive's terms, for the log of dropped frames."""
        raise NotImplementedError

    def normalize(self, record: Any) -> Product | None:
        """The archive's own normalization of a frame judged inside the path, carrying its
        evidence; None for a frame outside it."""
        if not isinstance(record, dict):
            return super().normalize(record)
        verdict = record.pop(VERDICT, None) or {}
        if verdict.get("error"):
            raise RecordRejected(f"cannot test the frame's footprint: {verdict['error']}")
        if not self.kept(verdict, self.frame_id(record)):
            return None
        product = super().normalize(record)
        if product is not None:
            evidence = self.evidence(verdict)
            product.extra["ephemeris"] = evidence
            product.evidence = evidence
        return product

    def evidence(self, verdict: dict[str, Any]) -> dict[str, Any]:
        """What a kept frame carries in extra["ephemeris"] and product_matches."""
        keep = ("observer", "location", "time", "ra", "dec", "offset_arcsec", "inside_from",
                "inside_until", "solution")
        return {key: verdict[key] for key in keep if verdict.get(key) is not None}


def path_segments(eph: Any, start_mjd: float, stop_mjd: float, *, max_radius: float,
                  max_days: float, sample_days: float) -> list[Segment]:
    """Cut the path between the two times into stretches, each within `max_radius` degrees of
    its middle position and at most `max_days` long, sampled every `sample_days`."""
    import numpy as np

    start_mjd = max(start_mjd, eph.start_mjd)
    stop_mjd = min(stop_mjd, eph.stop_mjd)
    if stop_mjd <= start_mjd:
        return []
    count = int(math.ceil((stop_mjd - start_mjd) / sample_days)) + 1
    times = np.linspace(start_mjd, stop_mjd, count)
    ras, decs, _ = eph.positions_at(times)
    from harvester.footprint.inside import unit_vectors

    vectors = unit_vectors(ras, decs)
    segments: list[Segment] = []
    first = 0
    while first < count - 1:
        # The stretch grows while its chord stays short and it is not too long in time.
        reach = int(np.searchsorted(times, times[first] + max_days, side="right"))
        ahead = vectors[first + 1:reach]
        spread = _angles_deg(vectors[first], ahead)
        too_far = np.flatnonzero(spread > 2 * max_radius * 0.9)
        last = first + 1 + (int(too_far[0]) - 1 if len(too_far) else len(ahead) - 1)
        last = max(last, first + 1)
        chunk = slice(first, last + 1)
        middle = vectors[chunk].sum(axis=0)
        middle /= np.linalg.norm(middle)
        radius = float(_angles_deg(middle, vectors[chunk]).max())
        ra = math.degrees(math.atan2(middle[1], middle[0])) % 360.0
        dec = math.degrees(math.asin(max(-1.0, min(1.0, middle[2]))))
        segments.append(Segment(float(times[first]), float(times[last]), ra, dec,
                                max(radius, 1.0 / 3600), times[chunk], ras[chunk], decs[chunk]))
        first = last
    return segments


def _angles_deg(a: Any, many: Any) -> Any:
    import numpy as np

    return np.degrees(np.arctan2(np.linalg.norm(np.cross(a, many), axis=-1), many @ a))


def judge_rows(eph: Any, rows: Sequence[dict[str, Any]], *, region: Callable[[dict], Any],
               times: Callable[[dict], tuple[float | None, float | None]], step: float,
               observer: str) -> None:
    """Give each row a verdict: inside (with where and by how much), or why not."""
    import numpy as np

    from harvester.footprint.inside import footprint_offsets
    from harvester.footprint.regions import FootprintError, parse_region

    frame_of: list[int] = []
    shapes_of: list[Any] = []
    sample_times: list[float] = []
    first_mjd, last_mjd = eph.start_mjd, eph.stop_mjd
    for index, row in enumerate(rows):
        try:
            shapes = parse_region(region(row))
        except FootprintError as exc:
            row[VERDICT] = {"inside": False, "error": str(exc)}
            continue
        t_min, t_max = times(row)
        if t_min is None and t_max is None:
            row[VERDICT] = {"inside": False, "error": "frame has no observation time"}
            continue
        t_min = t_max if t_min is None else t_min
        t_max = t_min if t_max is None else t_max
        if t_max < t_min:
            t_min, t_max = t_max, t_min
        if not (first_mjd <= t_max and t_min <= last_mjd):
            row[VERDICT] = {"inside": False, "reason": "observed outside the ephemeris window"}
            continue
        row[VERDICT] = None
        if t_max - t_min <= step:
            frame_of.append(index)
            shapes_of.append(shapes)
            sample_times.append((t_min + t_max) / 2)
            continue
        count = min(MAX_SAMPLES_PER_FRAME, int(math.ceil((t_max - t_min) / step)) + 1)
        frame_of.extend([index] * count)
        shapes_of.extend([shapes] * count)
        sample_times.extend(np.linspace(t_min, t_max, count).tolist())
    if not frame_of:
        return
    moments = np.asarray(sample_times)
    ras, decs, valid = eph.positions_at(moments)
    offsets = np.full(len(moments), -np.inf)
    if valid.any():
        chosen = np.flatnonzero(valid)
        offsets[chosen] = footprint_offsets([shapes_of[i] for i in chosen], ras[chosen], decs[chosen])
    frames = np.asarray(frame_of)
    # Samples of one frame are contiguous: the best sample of each frame, in bulk.
    starts = np.concatenate(([0], np.flatnonzero(np.diff(frames)) + 1))
    sizes = np.diff(np.append(starts, len(frames)))
    best = starts.copy()
    for group in np.flatnonzero(sizes > 1):
        span = slice(starts[group], starts[group] + sizes[group])
        best[group] += int(np.argmax(offsets[span]))
    best_offsets = offsets[best]
    finite = np.isfinite(best_offsets)
    times_iso = _iso_many(moments[best])
    ra_list = np.round(ras[best], 6).tolist()
    dec_list = np.round(decs[best], 6).tolist()
    offset_list = np.round(np.where(finite, best_offsets, 0.0), 1).tolist()
    for group, first in enumerate(starts.tolist()):
        row = rows[frame_of[first]]
        offset = float(best_offsets[group])
        if offset > 0:
            verdict: dict[str, Any] = {
                "inside": True, "observer": observer, "location": eph.observer,
                "solution": eph.solution, "time": times_iso[group], "ra": ra_list[group],
                "dec": dec_list[group], "offset_arcsec": offset_list[group],
            }
            if sizes[group] > 1:
                span = slice(first, first + sizes[group])
                inside_times = moments[span][offsets[span] > 0]
                verdict["inside_from"] = mjd_to_iso(float(inside_times.min()))
                verdict["inside_until"] = mjd_to_iso(float(inside_times.max()))
        elif finite[group]:
            verdict = {"inside": False, "offset_arcsec": offset_list[group],
                       "reason": "the target's path was outside the footprint while the frame was "
                                 f"exposed (closest {abs(offset):.0f} arcsec from its edge)"}
        else:
            verdict = {"inside": False, "reason": "no position for the frame's time"}
        row[VERDICT] = verdict


def _iso_many(mjd: Any) -> list[str]:
    """MJDs as the catalog's ISO text (2025-08-08T03:05:00.000Z), in bulk."""
    import numpy as np

    millis = np.floor((np.asarray(mjd, dtype=float) - 40587.0) * 86400000.0).astype("int64")
    return [text + "Z" for text in np.datetime_as_string(millis.astype("datetime64[ms]"), unit="ms").tolist()]


def release_since(cursor: dict[str, Any] | None, lookback_days: float) -> Any:
    """The release-time lower bound of a rerun (None on a first run): as the name sources do,
    a rerun reads only frames released since the last complete run minus the look-back."""
    watermark = (cursor or {}).get("watermark")
    if not watermark:
        return None
    return parse_iso(watermark) - timedelta(days=lookback_days)
