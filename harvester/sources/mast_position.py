"""MAST by position and time: frames that never name the target (TESS full-frame images, TESS
pixel files named by TIC id, HST/JWST parallels), found from the target's ephemeris.

The portal service `Mast.Caom.Filtered.Position` takes the same filters as Mast.Caom.Filtered
plus `"position": "ra, dec, radius"` (degrees; astroquery's `query_criteria(coordinates=...)`
sends exactly this) and answers the observations whose footprint meets that cone. The path is
cut into stretches each inside one cone (`cone_radius` degrees, at most `segment_days` long); each
stretch is one query, filtered on the collections and on observation times overlapping the
stretch (`t_min` <= its end, `t_max` >= its start) and, after a first complete run, on
`t_obs_release` from the last run minus `lookback_days`, as the name search does. Then each
frame's own footprint (`s_region`) and times decide (harvester.sources.footprint_search).

Products are built by the MAST adapter's own normalization (same key `mast:<obsid>`, same
columns) with `matched_by = ephemeris:<observer>`: a frame found by name and by position is one
product. The cursor, like MAST's, is the run's start, committed with the last page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from harvester.ephemeris.model import Ephemeris
from harvester.errors import ConfigError, SourceError
from harvester.sources.base import Page, Probe
from harvester.sources.footprint_search import (
    FootprintSettings,
    FootprintSource,
    Segment,
    release_since,
)
from harvester.sources.mast import READ_COLUMNS, MastSource
from harvester.sources.values import number
from harvester.timeutil import datetime_to_mjd


@dataclass
class Settings(FootprintSettings):
    base_url: str = "https://mast.stsci.edu"
    collections: list[str] = field(default_factory=lambda: ["TESS"])
    observer: str = "tess"
    cone_radius: float = 3.0        # degrees: the largest cone one query asks about
    segment_days: float = 10.0      # and the longest stretch of the path it covers
    lookback_days: float = 30.0
    page_size: int = 5000
    executing_polls: int = 30
    executing_interval: float = 2.0

    def validate(self, *, where: str, path: str) -> None:
        super().validate(where=where, path=path)
        if not 0 < self.cone_radius <= 10:
            raise ConfigError(f"{path}: [{where}] cone_radius: between 0 and 10 degrees, got {self.cone_radius!r}")
        if self.segment_days <= 0:
            raise ConfigError(f"{path}: [{where}] segment_days: must be greater than 0")


class MastPositionSource(FootprintSource, MastSource):
    archive = "mast"
    settings: Settings

    def position_payload(self, segment: Any, release_min_mjd: float | None, page: int) -> dict:
        filters: list[dict[str, Any]] = [
            {"paramName": "t_min", "values": [{"min": 0.0, "max": segment.stop_mjd}]},
            {"paramName": "t_max", "values": [{"min": segment.start_mjd, "max": 100000.0}]},
        ]
        if self.settings.collections:
            filters.insert(0, {"paramName": "obs_collection", "values": self.settings.collections})
        if release_min_mjd is not None:
            filters.append({"paramName": "t_obs_release",
                            "values": [{"min": release_min_mjd, "max": 100000.0}]})
        return {
            "service": "Mast.Caom.Filtered.Position",
            "format": "json",
            "pagesize": self.settings.page_size,
            "page": page,
            "params": {"columns": "*", "filters": filters,
                       "position": f"{segment.ra:.6f}, {segment.dec:.6f}, {segment.radius:.6f}"},
        }

    def probe(self) -> Probe:
        """One Mast.Caom.Filtered.Position page of one row over the search window, in a small cone
        where the path began: is the positional service there, does it take the query, does
        the answer carry the columns normalize() and the footprint test read? (The path itself
        needs the ephemeris, which a doctor does not fetch.)"""
        start, stop = self.window_mjd()
        cone = Segment(start_mjd=start, stop_mjd=stop, ra=0.0, dec=0.0, radius=0.01,
                       times=None, ras=None, decs=None)
        payload = self.position_payload(cone, None, 1)
        payload["pagesize"] = 1
        answer = self.invoke(payload)
        probe = Probe(request=f"POST {self.invoke_url} Mast.Caom.Filtered.Position, pagesize 1")
        names = {f.get("name") for f in answer.get("fields") or [] if isinstance(f, dict)}
        probe.missing = [c for c in (*READ_COLUMNS, "s_region") if c not in names]
        if not isinstance(answer.get("data"), list):
            probe.missing.insert(0, "data")
        probe.note = "a positional search: target records are counted by a harvest"
        return probe

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        from harvester.ephemeris.store import step_days

        watermark = (cursor or {}).get("watermark")
        since = release_since(cursor, self.settings.lookback_days)
        release_min = datetime_to_mjd(since) if since is not None else None
        eph = self.ephemeris()
        segments = self.segments(eph, max_radius=self.settings.cone_radius,
                                 max_days=self.settings.segment_days,
                                 sample_days=step_days(self.settings.step))
        seen: set[str] = set()
        for index, segment in enumerate(segments):
            page = 1
            while True:
                answer = self.invoke(self.position_payload(segment, release_min, page))
                rows = answer.get("data")
                if not isinstance(rows, list):
                    raise SourceError("MAST answer has no data list")
                total = int((answer.get("paging") or {}).get("rowsFiltered", len(rows)))
                done = not rows or page * self.settings.page_size >= total
                # A frame near two stretches comes back twice: judge and store it once.
                fresh = [r for r in rows if not isinstance(r, dict) or _key(r) not in seen]
                seen.update(_key(r) for r in fresh if isinstance(r, dict))
                self.judge_rows(eph, fresh)
                last = done and index == len(segments) - 1
                yield Page(records=fresh,
                           bookmark={"watermark": self.now_iso if last else watermark},
                           note=f"stretch {index + 1}/{len(segments)} page {page}")
                if done:
                    break
                page += 1
        if not segments:
            yield Page(records=[], bookmark={"watermark": self.now_iso}, note="no path in the window")

    def judge_rows(self, eph: Ephemeris, rows: list[Any]) -> None:
        frames = [r for r in rows if isinstance(r, dict)]
        self.judge(eph, frames, region=lambda r: r.get("s_region"),
                   times=lambda r: (_mjd(r, "t_min"), _mjd(r, "t_max")))

    def frame_id(self, record: dict[str, Any]) -> str:
        return _key(record)


def _key(row: dict[str, Any]) -> str:
    return str(row.get("obsid"))


def _mjd(row: dict[str, Any], key: str) -> float | None:
    try:
        return number(row, key)
    except Exception:
        return None


SOURCE = MastPositionSource
