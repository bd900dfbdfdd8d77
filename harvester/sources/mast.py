"""MAST (STScI): JWST, HST, TESS, Swift through the portal API service Mast.Caom.Filtered.

MAST has no ingest timestamp. Metadata of observations still under exclusive access is public,
with `t_obs_release` in the future, so "what is new" is a window on `t_obs_release` starting at
the last complete run minus a look-back, open into the future. The cursor (`watermark`) only
moves when the last page of a run is stored; a run killed half-way starts its window again and
the catalog's idempotent upserts absorb the repeats.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from harvester.errors import ConfigError, RecordRejected, SourceError
from harvester.product import Product
from harvester.settings import SourceSettings
from harvester.sources.base import Page, Source
from harvester.sources.values import number as _number
from harvester.timeutil import datetime_to_mjd, mjd_to_iso, parse_iso

CALIB_LEVELS = {0: "raw", 1: "raw", 2: "calibrated", 3: "derived", 4: "derived"}


@dataclass
class Settings(SourceSettings):
    base_url: str = "https://mast.stsci.edu"
    collections: list[str] = field(default_factory=lambda: ["JWST", "HST", "TESS", "SWIFT"])
    # SQL-LIKE free-text patterns on target_name, one query each; the alias matcher then
    # decides. Two cover every spelling in docs/archives.md ("3I..." and "...2025 N1...").
    target_patterns: list[str] = field(default_factory=lambda: ["%3I%", "%2025%N1%"])
    lookback_days: float = 30.0
    page_size: int = 10000
    executing_polls: int = 30
    executing_interval: float = 2.0

    def validate(self, *, where: str, path: str) -> None:
        if not self.target_patterns:
            raise ConfigError(f"{path}: [{where}] target_patterns: must name at least one pattern")



class MastSource(Source):
    archive = "mast"
    settings: Settings

    @functools.cached_property
    def _now_mjd(self) -> float:
        return datetime_to_mjd(self.now)

    @property
    def invoke_url(self) -> str:
        return f"{self.settings.base_url}/api/v0/invoke"

    def request_payload(self, pattern: str, release_min_mjd: float | None, page: int) -> dict:
        filters: list[dict[str, Any]] = [
            {"paramName": "target_name", "values": [], "freeText": pattern},
        ]
        if self.settings.collections:
            filters.append({"paramName": "obs_collection", "values": self.settings.collections})
        if release_min_mjd is not None:
            # MAST wants a closed range; 100000 MJD is the year 2132.
            filters.append({"paramName": "t_obs_release",
                            "values": [{"min": release_min_mjd, "max": 100000.0}]})
        return {
            "service": "Mast.Caom.Filtered",
            "format": "json",
            "pagesize": self.settings.page_size,
            "page": page,
            "params": {"columns": "*", "filters": filters},
        }

    def invoke(self, payload: dict[str, Any]) -> dict[str, Any]:
        form = {"request": json.dumps(payload)}
        for _ in range(self.settings.executing_polls + 1):
            answer = self.http.post_form_json(self.invoke_url, form)
            if not isinstance(answer, dict) or "status" not in answer:
                raise SourceError(f"MAST answered without a status envelope: {str(answer)[:200]}")
            status = answer["status"]
            if status == "COMPLETE":
                return answer
            if status == "ERROR":
                raise SourceError(f"MAST error: {answer.get('msg') or 'no message'}")
            if status != "EXECUTING":
                raise SourceError(f"MAST answered with unknown status {status!r}")
            time.sleep(self.settings.executing_interval)
        raise SourceError(
            f"MAST still EXECUTING after {self.settings.executing_polls} polls; try again later"
        )

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        watermark = (cursor or {}).get("watermark")
        release_min = None
        if watermark:
            start = parse_iso(watermark) - timedelta(days=self.settings.lookback_days)
            release_min = datetime_to_mjd(start)
        new_watermark = self.now_iso
        patterns = self.settings.target_patterns
        for index, pattern in enumerate(patterns):
            page = 1
            while True:
                answer = self.invoke(self.request_payload(pattern, release_min, page))
                rows = answer.get("data")
                if not isinstance(rows, list):
                    raise SourceError("MAST answer has no data list")
                paging = answer.get("paging") or {}
                total = int(paging.get("rowsFiltered", len(rows)))
                done = not rows or page * self.settings.page_size >= total
                last_of_run = done and index == len(patterns) - 1
                yield Page(
                    records=rows,
                    bookmark={"watermark": new_watermark if last_of_run else watermark},
                    note=f"{pattern} page {page}",
                )
                if done:
                    break
                page += 1

    def native_id_of(self, record: Any) -> str | None:
        if isinstance(record, dict) and record.get("obsid") is not None:
            return str(record["obsid"])
        return None

    def normalize(self, record: Any) -> Product | None:
        if not isinstance(record, dict):
            raise RecordRejected(f"expected a row object, got {type(record).__name__}")
        obsid = record.get("obsid")
        if obsid is None or str(obsid).strip() == "":
            raise RecordRejected("row has no obsid")
        target_name = record.get("target_name")
        match = self.matcher.match(target_name if isinstance(target_name, str) else None)
        if match is None:
            return None
        t_min, t_max = _number(record, "t_min"), _number(record, "t_max")
        release = _number(record, "t_obs_release")
        release_date = mjd_to_iso(release)
        if release is None:
            access = "unknown"
        else:
            access = "exclusive" if release > self._now_mjd else "public"
        calib = record.get("calib_level")
        extra = {
            key: record.get(key)
            for key in ("obs_id", "proposal_pi", "target_classification", "filters",
                        "t_exptime", "s_ra", "s_dec", "wavelength_region", "jpegURL", "project")
            if record.get(key) not in (None, "")
        }
        return Product(
            archive=self.archive,
            native_id=str(obsid).strip(),
            target_name=target_name,
            matched_by=match.matched_by,
            mission=_text(record.get("obs_collection")),
            instrument=_text(record.get("instrument_name")),
            product_type=_text(record.get("dataproduct_type")),
            processing_level=CALIB_LEVELS.get(calib) if isinstance(calib, int) else None,
            obs_start=mjd_to_iso(t_min),
            obs_end=mjd_to_iso(t_max),
            release_date=release_date,
            access=access,
            url=_text(record.get("dataURL")),
            program=_text(record.get("proposal_id")),
            title=_text(record.get("obs_title")),
            extra=extra,
            raw=record,
            public_since=release_date if access == "public" else None,
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


SOURCE = MastSource
