"""Any ObsCore TAP service by position and time: survey frames that name a field, not the target
(SPHEREx at IRSA, ZTF, Swift UVOT at HEASARC ...), found from the target's ephemeris.

ADQL 2.0's `CONTAINS(POINT('ICRS', ra, dec), s_region) = 1` asks the service for the frames whose
footprint holds a point. The path is sampled every `query_step`; each sample t_i asks for frames
containing the position at t_i and exposed around it (`t_min <= t_i + step/2 AND t_max >= t_i -
step/2`), `points_per_query` samples OR-ed in one query (a year at 6-hour samples, 40 a query, is 37
queries, each a form of about 5 kB), keyset-paged on obs_publisher_did as the name
search is. Then each frame's own footprint and times decide (harvester.sources.footprint_search):
a frame exposed between two samples is judged at its own mid-time.

Products are built by the ObsCore adapter's own normalization (same key and columns, `archive`
naming the service: set it to the name search's archive, e.g. "irsa", so a frame found both ways
is one product) with `matched_by = ephemeris:<observer>`. Caveat: the samples only choose what
the service returns; a frame that holds the path only within `speed x query_step/2` of its edge
(3I moves at most about a degree a day) may hold no sample point and not be returned: make
`query_step` shorter for frames much smaller than SPHEREx's 3.5 degrees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harvester.errors import ConfigError, RecordRejected
from harvester.sources.base import Page, Probe
from harvester.sources.footprint_search import FootprintSettings, FootprintSource, release_since
from harvester.sources.obscore import ORDER, READ_COLUMNS, ObsCoreSource
from harvester.sources.obscore import Settings as ObsCoreSettings
from harvester.sources.tap import TapQuery, adql_timestamp, in_list, keyset_pages, run_sync, table_columns
from harvester.sources.values import number


@dataclass
class Settings(FootprintSettings, ObsCoreSettings):
    observer: str = "spherex"
    lookback_days: float = 30.0
    page_size: int = 2000
    query_step: str = "6h"          # the path's sample spacing in the CONTAINS queries
    points_per_query: int = 40      # samples OR-ed in one query

    def validate(self, *, where: str, path: str) -> None:
        FootprintSettings.validate(self, where=where, path=path)
        ObsCoreSettings.validate(self, where=where, path=path)
        from harvester.ephemeris.store import step_days

        try:
            step_days(self.query_step)
        except ConfigError as exc:
            raise ConfigError(f"{path}: [{where}] query_step: {exc}") from None
        if not 1 <= self.points_per_query <= 200:
            raise ConfigError(f"{path}: [{where}] points_per_query: between 1 and 200")


def point_clause(ra: float, dec: float, mjd: float, half: float) -> str:
    return (f"(CONTAINS(POINT('ICRS', {ra:.6f}, {dec:.6f}), s_region) = 1 "
            f"AND t_min <= {mjd + half:.6f} AND t_max >= {mjd - half:.6f})")


class ObsCorePositionSource(FootprintSource, ObsCoreSource):
    settings: Settings

    def position_queries(self, eph: Any, since: Any) -> list[TapQuery]:
        import numpy as np

        from harvester.ephemeris.store import step_days

        sample = step_days(self.settings.query_step)
        start, stop = self.window_mjd()
        start, stop = max(start, eph.start_mjd), min(stop, eph.stop_mjd)
        if stop <= start:
            return []
        times = np.arange(start, stop + sample / 2, sample)
        ras, decs, valid = eph.positions_at(times)
        points = [point_clause(float(r), float(d), float(t), sample / 2)
                  for r, d, t, ok in zip(ras, decs, times, valid, strict=True) if ok]
        common = []
        if self.settings.collections:
            common.append(in_list("obs_collection", self.settings.collections))
        if since is not None:
            common.append(f"(obs_release_date >= {adql_timestamp(since)} OR obs_release_date IS NULL)")
        size = self.settings.points_per_query
        return [TapQuery(table=self.settings.table,
                         where=[*common, "(" + " OR ".join(points[i:i + size]) + ")"], order=ORDER)
                for i in range(0, len(points), size)]

    def probe(self) -> Probe:
        """A COUNT of one CONTAINS clause over the search window (does the service take ADQL
        geometry?), then TAP_SCHEMA.columns: is what normalize() and the footprint test read
        there? (The path itself needs the ephemeris, which a doctor does not fetch.)"""
        start, stop = self.window_mjd()
        where = [point_clause(0.0, 0.0, (start + stop) / 2, (stop - start) / 2)]
        if self.settings.collections:
            where.insert(0, in_list("obs_collection", self.settings.collections))
        probe = Probe(request=f"{self.settings.base_url}/sync: COUNT(*) of a CONTAINS query, then "
                              f"TAP_SCHEMA.columns of {self.settings.table}")
        run_sync(self.http, self.settings.base_url,
                 f"SELECT COUNT(*) AS n FROM {self.settings.table} WHERE {' AND '.join(where)}",
                 maxrec=1, fmt=self.settings.format)
        names = {n.lower() for n in table_columns(self.http, self.settings.base_url, self.settings.table,
                                                   fmt=self.settings.format)}
        probe.missing = [c for c in (*READ_COLUMNS, "s_region") if c not in names]
        probe.note = "a positional search: target records are counted by a harvest"
        return probe

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        watermark = (cursor or {}).get("watermark")
        eph = self.ephemeris()
        queries = self.position_queries(eph, release_since(cursor, self.settings.lookback_days))
        seen: set[str] = set()
        for index, query in enumerate(queries):
            for page in keyset_pages(self.http, self.settings.base_url, query,
                                     page_size=self.settings.page_size, fmt=self.settings.format):
                fresh = [r for r in page.records if _key(r) not in seen]
                seen.update(_key(r) for r in fresh)
                self.judge(eph, fresh, region=lambda r: r.get("s_region"),
                           times=lambda r: (_mjd(r, "t_min"), _mjd(r, "t_max")))
                last = page.last and index == len(queries) - 1
                yield Page(records=fresh, bookmark={"watermark": self.now_iso if last else watermark},
                           note=f"query {index + 1}/{len(queries)} page {page.number}")
        if not queries:
            yield Page(records=[], bookmark={"watermark": self.now_iso}, note="no path in the window")

    def frame_id(self, record: dict[str, Any]) -> str:
        return str(record.get("obs_publisher_did"))


def _key(row: Any) -> str:
    return str(row.get("obs_publisher_did")) + "\x00" + str(row.get("obs_id")) if isinstance(row, dict) else ""


def _mjd(row: dict[str, Any], key: str) -> float | None:
    try:
        return number(row, key)
    except RecordRejected:
        return None


SOURCE = ObsCorePositionSource
