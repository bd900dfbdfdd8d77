"""CATCH (PDS Small Bodies Node): which survey images caught the target, from its ephemeris.
The path to the ground surveys (Catalina, Pan-STARRS, ATLAS, Spacewatch, SkyMapper, NEAT ...),
whose frames name a field, never a comet.

The protocol is the service's published OpenAPI spec (Small-Bodies-Node/catch-apis,
`src/catch_apis/api/openapi.yaml`): `GET {base_url}/catch?target=...&sources=...&start_date=
&stop_date=&cached=true` starts a job and answers `{"job_id", "queued", "queue_full", "error",
"message", "results"}`; while the job runs, `GET {base_url}/status/{job_id}` lists each survey's
`status` ("in progress", "finished", "errored"); then `GET {base_url}/caught/{job_id}` answers
`{"count", "data": [...]}`, one row per frame with `product_id`, `source`, `mjd_start`,
`mjd_stop`, the ephemeris position `ra`/`dec` and, when the service gives it, the frame's `fov`
(`ra:dec,...` corners). CATCH walks the path itself (with the survey site as observer); the
harvester asks in windows of `window_days` and, where a frame's corners are given, checks that
CATCH's own position falls inside them (a padded search can return frames that only come close).

Key: a frame archived at the PDS (a `urn:nasa:pds:` LID) is `pds:<lid>`, the same product the PDS
name search would store; any other is `catch:<source>:<product_id>`. `matched_by` is
`ephemeris:<source>` (the survey whose site is the observer).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from harvester.errors import ConfigError, RecordRejected, SourceError
from harvester.product import Product
from harvester.settings import SourceSettings
from harvester.sources.base import Page, Probe, Source
from harvester.sources.footprint_search import VERDICT
from harvester.sources.values import number
from harvester.timeutil import mjd_to_iso, normalize_iso, parse_iso

FINISHED = "finished"
FAILED = ("errored", "failed", "error")
_EXTRA = ("source_name", "filter", "exposure", "seeing", "airmass", "maglimit", "cutout_url",
          "preview_url", "diff_url")


@dataclass
class Settings(SourceSettings):
    base_url: str = "https://catch-api.astro.umd.edu"
    target: str = "C/2025 N1"
    sources: list[str] = field(default_factory=list)   # [] = every survey CATCH has
    search_start: str = "2025-03-01"
    search_end: str = ""                               # "" = the run's clock
    window_days: float = 120.0
    padding: float = 0.0          # arcmin CATCH adds around the ephemeris (0..120)
    poll_interval: float = 2.0
    max_polls: int = 150
    lookback_days: float = 0.0
    page_size: int = 5000

    def validate(self, *, where: str, path: str) -> None:
        if not self.target.strip():
            raise ConfigError(f"{path}: [{where}] target: must not be empty")
        if not 0 <= self.padding <= 120:
            raise ConfigError(f"{path}: [{where}] padding: between 0 and 120 arcmin")
        if self.window_days <= 0 or self.max_polls < 1 or self.poll_interval < 0:
            raise ConfigError(f"{path}: [{where}] window_days and max_polls must be positive")
        for key in ("search_start", "search_end"):
            value = getattr(self, key)
            if value:
                try:
                    parse_iso(value)
                except ValueError:
                    raise ConfigError(f"{path}: [{where}] {key}: not a date: {value!r}") from None


class CatchSource(Source):
    archive = "catch"
    settings: Settings

    def windows(self) -> list[tuple[str, str]]:
        start = parse_iso(self.settings.search_start)
        end = parse_iso(self.settings.search_end) if self.settings.search_end else self.now
        windows = []
        while start < end:
            stop = min(end, start + timedelta(days=self.settings.window_days))
            windows.append((start.strftime("%Y-%m-%d %H:%M"), stop.strftime("%Y-%m-%d %H:%M")))
            start = stop
        return windows

    def start_job(self, start: str, stop: str) -> str:
        params: list[tuple[str, str]] = [("target", self.settings.target), ("start_date", start),
                                         ("stop_date", stop), ("cached", "true")]
        params += [("sources", s) for s in self.settings.sources]
        if self.settings.padding:
            params.append(("padding", str(self.settings.padding)))
        answer = self.http.get_json(f"{self.settings.base_url}/catch", params=params)
        if not isinstance(answer, dict):
            raise SourceError(f"CATCH answered /catch without an object: {str(answer)[:200]}")
        if answer.get("error"):
            raise SourceError(f"CATCH refused the query: {answer.get('message') or 'no message'}")
        if answer.get("queue_full"):
            raise SourceError("CATCH's job queue is full; the next run tries again")
        job = answer.get("job_id")
        if not isinstance(job, str) or not job.strip():
            raise SourceError(f"CATCH answered /catch without a job_id: {str(answer)[:200]}")
        if answer.get("queued"):
            self.wait(job)
        return job

    def wait(self, job: str) -> None:
        for _ in range(self.settings.max_polls):
            answer = self.http.get_json(f"{self.settings.base_url}/status/{quote(job)}")
            states = [s for s in (answer or {}).get("status") or [] if isinstance(s, dict)]
            pending = [s for s in states if s.get("status") not in (FINISHED, *FAILED)]
            if states and not pending:
                failed = [str(s.get("source")) for s in states if s.get("status") in FAILED]
                if failed and len(failed) == len(states):
                    raise SourceError(f"CATCH job {job}: every survey errored ({', '.join(failed)})")
                return
            time.sleep(self.settings.poll_interval)
        raise SourceError(f"CATCH job {job} still running after {self.settings.max_polls} polls; "
                          "the next run asks again (CATCH keeps the cached search)")

    def probe(self) -> Probe:
        """The harvest's first request: a CATCH job for the first window of the path. Is the
        service there, does it take the query and answer with a job id?"""
        start, stop = self.windows()[0]
        job = self.start_job(start, stop)
        return Probe(request=f"GET {self.settings.base_url}/catch target={self.settings.target!r} "
                             f"{start}..{stop}", note=f"job {job}; caught frames are counted by a harvest")

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        windows = self.windows()
        for index, (start, stop) in enumerate(windows):
            job = self.start_job(start, stop)
            answer = self.http.get_json(f"{self.settings.base_url}/caught/{quote(job)}")
            rows = (answer or {}).get("data") if isinstance(answer, dict) else None
            if not isinstance(rows, list):
                raise SourceError(f"CATCH results of job {job} have no data list")
            judge(rows)
            last = index == len(windows) - 1
            yield Page(records=rows, bookmark={"checked_at": self.now_iso} if last else cursor,
                       note=f"{start}..{stop}: job {job}, {len(rows)} frames")
        if not windows:
            yield Page(records=[], bookmark={"checked_at": self.now_iso}, note="empty window")

    def native_id_of(self, record: Any) -> str | None:
        return str(record.get("product_id")) if isinstance(record, dict) else None

    def normalize(self, record: Any) -> Product | None:
        if not isinstance(record, dict):
            raise RecordRejected(f"expected a frame object, got {type(record).__name__}")
        verdict = record.pop(VERDICT, None) or {}
        if verdict.get("error"):
            raise RecordRejected(f"cannot test the frame's footprint: {verdict['error']}")
        if verdict.get("inside") is False:
            return None
        product_id = _text(record.get("product_id"))
        survey = _text(record.get("source"))
        if not product_id or not survey:
            raise RecordRejected("frame without product_id or source")
        start, stop = number(record, "mjd_start"), number(record, "mjd_stop")
        if start is None:
            raise RecordRejected("frame without mjd_start")
        archive, native = (("pds", product_id) if product_id.startswith("urn:nasa:pds:")
                           else ("catch", f"{survey}:{product_id}"))
        evidence = {key: value for key, value in {
            "observer": survey, "time": _when(record.get("date")),
            "ra": _round(record.get("ra")), "dec": _round(record.get("dec")),
            "offset_arcsec": verdict.get("offset_arcsec"),
            "checked": "fov" if "offset_arcsec" in verdict else "catch",
            "rh": record.get("rh"), "delta": record.get("delta"),
        }.items() if value is not None}
        extra = {k: record.get(k) for k in _EXTRA if record.get(k) not in (None, "")}
        extra["ephemeris"] = evidence
        return Product(
            archive=archive, native_id=native, target_name="", matched_by=f"ephemeris:{survey}",
            mission=_text(record.get("source_name")) or survey, instrument=survey,
            product_type="image", obs_start=mjd_to_iso(start),
            obs_end=mjd_to_iso(stop if stop is not None else start), access="public",
            url=_text(record.get("archive_url")), title=product_id, extra=extra, raw=record,
            evidence=evidence)


def judge(rows: list[Any]) -> None:
    """Where CATCH gives the frame's corners, its own ephemeris position must be inside them."""
    from harvester.footprint.inside import point_offset
    from harvester.footprint.regions import FootprintError, parse_region

    for row in rows:
        if not isinstance(row, dict) or not row.get("fov"):
            continue
        try:
            ra, dec = float(row["ra"]), float(row["dec"])
            offset = point_offset(parse_region(row["fov"]), ra, dec)
        except (KeyError, TypeError, ValueError, FootprintError) as exc:
            row[VERDICT] = {"inside": False, "error": f"{type(exc).__name__}: {exc}"}
            continue
        row[VERDICT] = {"inside": offset > 0, "offset_arcsec": round(offset, 1)}


def _when(value: Any) -> str | None:
    """CATCH writes "2025-07-01 05:12:15.000"; the catalog's form is ISO with a Z."""
    try:
        return normalize_iso(str(value)) if value not in (None, "") else None
    except ValueError:
        return _text(value)


def _round(value: Any) -> float | None:
    try:
        return round(float(value), 6)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


SOURCE = CatchSource
