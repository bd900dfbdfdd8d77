"""MAST (STScI): JWST, HST, TESS, Swift and high-level science products through the portal API
service Mast.Caom.Filtered.

MAST has no ingest timestamp. Metadata of observations still under exclusive access is public,
with `t_obs_release` in the future, so "what is new" is a window on `t_obs_release` starting at
the last complete run minus a look-back, open into the future. The cursor (`watermark`) only
moves when the last page of the name queries is stored; a run killed half-way starts its window
again and the catalog's idempotent upserts absorb the repeats.

Not every 3I product names the comet: TESS's dedicated Sector 1751 target pixel files are named
by TIC ids (docs/archives.md). `queries` are name-free queries (collections plus a TESS sector
by `sequence_number`, or an observation-time window); their products are kept with `matched_by`
`mast_query:<name>`. They run at most every `queries_every_hours`, each with its own window and
its own time in the cursor (`queries`), so a poll with nothing new stays one request per pattern.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from harvester.errors import ConfigError, RecordRejected, SourceError
from harvester.product import Product
from harvester.settings import SourceSettings
from harvester.sources.base import Page, Probe, Source
from harvester.sources.values import number as _number
from harvester.timeutil import datetime_to_mjd, iso, mjd_to_iso, parse_iso

CALIB_LEVELS = {0: "raw", 1: "raw", 2: "calibrated", 3: "derived", 4: "derived"}
# The columns normalize() and the cursor cannot do without.
READ_COLUMNS = ("obsid", "target_name", "obs_collection", "instrument_name", "t_min", "t_max",
                "t_obs_release")
_QUERY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_QUERY_KEYS = {"name", "collections", "sequence_number", "window", "instruments"}
# MAST's t_obs_release filter wants a closed range; 100000 MJD is the year 2132.
_FAR_MJD = 100000.0
# hlsp_<project>_<observatory>_<instrument>_...: the observatory of a high-level science product.
_HLSP = re.compile(r"^hlsp_[^_]+_(?P<observatory>[^_]+)_", re.IGNORECASE)


@dataclass(frozen=True)
class NameFreeQuery:
    """A `[[sources.mast.queries]]` entry: products found by collection and sector or window."""

    name: str
    collections: tuple[str, ...]
    sequence_numbers: tuple[int, ...] = ()
    window: tuple[str, str] | None = None      # ISO start, end of the observation
    instruments: tuple[str, ...] = ()

    @property
    def matched_by(self) -> str:
        return f"mast_query:{self.name}"

    def filters(self) -> list[dict[str, Any]]:
        filters: list[dict[str, Any]] = [{"paramName": "obs_collection", "values": list(self.collections)}]
        if self.sequence_numbers:
            filters.append({"paramName": "sequence_number",
                            "values": [str(n) for n in self.sequence_numbers]})
        if self.instruments:
            filters.append({"paramName": "instrument_name", "values": list(self.instruments)})
        if self.window:
            # Overlapping the window: starts before its end and ends after its start.
            start, end = (datetime_to_mjd(parse_iso(t)) for t in self.window)
            filters.append({"paramName": "t_min", "values": [{"min": 0.0, "max": end}]})
            filters.append({"paramName": "t_max", "values": [{"min": start, "max": _FAR_MJD}]})
        return filters

    def selects(self, row: dict[str, Any]) -> bool:
        """Would MAST have answered this row to the query? (normalize() sees rows of every query.)"""
        if str(row.get("obs_collection") or "").casefold() not in {c.casefold() for c in self.collections}:
            return False
        if self.sequence_numbers:
            number = _number(row, "sequence_number")
            if number is None or int(number) not in self.sequence_numbers:
                return False
        if self.instruments and str(row.get("instrument_name") or "").casefold() not in {
                i.casefold() for i in self.instruments}:
            return False
        if self.window:
            start, end = (datetime_to_mjd(parse_iso(t)) for t in self.window)
            t_min, t_max = _number(row, "t_min"), _number(row, "t_max")
            if t_min is None or t_min > end or (t_max if t_max is not None else t_min) < start:
                return False
        return True


def name_free_query(entry: dict[str, Any], *, where: str, path: str) -> NameFreeQuery:
    """One `queries` entry, checked: one line naming the key for any mistake."""
    unknown = sorted(set(entry) - _QUERY_KEYS)
    if unknown:
        raise ConfigError(f"{path}: [{where}] queries: {unknown[0]}: unknown key "
                          f"(allowed: {', '.join(sorted(_QUERY_KEYS))})")
    name = entry.get("name")
    if not isinstance(name, str) or not _QUERY_NAME.match(name):
        raise ConfigError(f"{path}: [{where}] queries: name: lower-case letters, digits, - and _, got {name!r}")
    where = f"{where}] queries [{name}"
    collections = entry.get("collections")
    if not isinstance(collections, list) or not collections or not all(isinstance(c, str) for c in collections):
        raise ConfigError(f"{path}: [{where}] collections: a non-empty list of obs_collection values")
    numbers = entry.get("sequence_number", [])
    if isinstance(numbers, int):
        numbers = [numbers]
    if not isinstance(numbers, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise ConfigError(f"{path}: [{where}] sequence_number: an integer or a list of integers (a TESS sector)")
    window = entry.get("window")
    if window is not None:
        try:
            if not isinstance(window, list) or len(window) != 2:
                raise ValueError("two dates")
            start, end = (parse_iso(str(w)) for w in window)
            if len(str(window[1]).strip()) == 10:
                end += timedelta(days=1)  # a date-only end includes its day
            window = (iso(start), iso(end))
        except ValueError:
            raise ConfigError(f"{path}: [{where}] window: two ISO dates [start, end], got {window!r}") from None
    if not numbers and window is None:
        raise ConfigError(f"{path}: [{where}] needs sequence_number or window: a query by collection "
                          "alone would read the whole collection")
    instruments = entry.get("instruments", [])
    if not isinstance(instruments, list) or not all(isinstance(i, str) for i in instruments):
        raise ConfigError(f"{path}: [{where}] instruments: a list of instrument_name values")
    return NameFreeQuery(name=name, collections=tuple(collections), sequence_numbers=tuple(numbers),
                         window=window, instruments=tuple(instruments))


@dataclass
class Settings(SourceSettings):
    base_url: str = "https://mast.stsci.edu"
    # HLSP: high-level science products, e.g. TESS-3I's comet-centred Sector 1751 product.
    collections: list[str] = field(default_factory=lambda: ["JWST", "HST", "TESS", "SWIFT", "HLSP"])
    # SQL-LIKE free-text patterns on target_name, one query each; the alias matcher then
    # decides. Two cover every spelling in docs/archives.md ("3I..." and "...2025 N1...").
    target_patterns: list[str] = field(default_factory=lambda: ["%3I%", "%2025%N1%"])
    lookback_days: float = 30.0
    page_size: int = 10000
    executing_polls: int = 30
    executing_interval: float = 2.0
    # Name-free queries ([[sources.mast.queries]]), and how often they run.
    queries: list[dict] = field(default_factory=list)
    queries_every_hours: float = 24.0

    def validate(self, *, where: str, path: str) -> None:
        if not self.target_patterns:
            raise ConfigError(f"{path}: [{where}] target_patterns: must name at least one pattern")
        names = [name_free_query(q, where=where, path=path).name for q in self.queries]
        if len(set(names)) != len(names):
            raise ConfigError(f"{path}: [{where}] queries: each name once, got {', '.join(names)}")
        if self.queries_every_hours < 0:
            raise ConfigError(f"{path}: [{where}] queries_every_hours: must be 0 or more")

    def name_free_queries(self) -> list[NameFreeQuery]:
        return [name_free_query(q, where="sources.mast", path="") for q in self.queries]



class MastSource(Source):
    archive = "mast"
    settings: Settings

    @functools.cached_property
    def _now_mjd(self) -> float:
        return datetime_to_mjd(self.now)

    @property
    def invoke_url(self) -> str:
        return f"{self.settings.base_url}/api/v0/invoke"

    def request_payload(self, pattern: str | NameFreeQuery, release_min_mjd: float | None,
                        page: int) -> dict:
        if isinstance(pattern, NameFreeQuery):
            filters = pattern.filters()
        else:
            filters = [{"paramName": "target_name", "values": [], "freeText": pattern}]
            if self.settings.collections:
                filters.append({"paramName": "obs_collection", "values": self.settings.collections})
        if release_min_mjd is not None:
            filters.append({"paramName": "t_obs_release",
                            "values": [{"min": release_min_mjd, "max": _FAR_MJD}]})
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

    def _release_min(self, since: str | None) -> float | None:
        if not since:
            return None
        return datetime_to_mjd(parse_iso(since) - timedelta(days=self.settings.lookback_days))

    def _pages(self, question: str | NameFreeQuery, release_min: float | None) -> Iterator[tuple[list, bool, int]]:
        """(rows, last page?, page number) of one query, paged until rowsFiltered."""
        page = 1
        while True:
            answer = self.invoke(self.request_payload(question, release_min, page))
            rows = answer.get("data")
            if not isinstance(rows, list):
                raise SourceError("MAST answer has no data list")
            paging = answer.get("paging") or {}
            total = int(paging.get("rowsFiltered", len(rows)))
            done = not rows or page * self.settings.page_size >= total
            yield rows, done, page
            if done:
                return
            page += 1

    def due_queries(self, checked: dict[str, Any]) -> list[NameFreeQuery]:
        """Name-free queries not run within `queries_every_hours`."""
        due = []
        for query in self.settings.name_free_queries():
            last = checked.get(query.name)
            try:
                age = self.now - parse_iso(last) if isinstance(last, str) else None
            except ValueError:
                age = None
            if age is None or not timedelta(0) <= age < timedelta(hours=self.settings.queries_every_hours):
                due.append(query)
        return due

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        cursor = cursor or {}
        watermark = cursor.get("watermark")
        checked = dict(cursor.get("queries") or {}) if isinstance(cursor.get("queries"), dict) else {}
        started = self.now_iso

        def bookmark() -> dict[str, Any]:
            mark: dict[str, Any] = {"watermark": watermark}
            if checked:
                mark["queries"] = dict(checked)
            return mark

        patterns = self.settings.target_patterns
        release_min = self._release_min(watermark)
        for index, pattern in enumerate(patterns):
            for rows, done, page in self._pages(pattern, release_min):
                if done and index == len(patterns) - 1:
                    watermark = started
                yield Page(records=rows, bookmark=bookmark(), note=f"{pattern} page {page}")
        for query in self.due_queries(checked):
            since = checked.get(query.name)
            for rows, done, page in self._pages(query, self._release_min(since if isinstance(since, str) else None)):
                if done:
                    checked[query.name] = started
                yield Page(records=rows, bookmark=bookmark(), note=f"query {query.name} page {page}")

    def unchanged_context(self) -> Any:
        return ""  # normalize reads only the record, the settings, the matcher and the clock

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
        if match is not None:
            matched_by = match.matched_by
        else:
            rule = next((q for q in self._queries if q.selects(record)), None)
            if rule is None:
                return None
            matched_by = rule.matched_by
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
                        "t_exptime", "s_ra", "s_dec", "wavelength_region", "jpegURL", "project",
                        "provenance_name", "sequence_number")
            if record.get(key) not in (None, "")
        }
        return Product(
            archive=self.archive,
            native_id=str(obsid).strip(),
            target_name=target_name,
            matched_by=matched_by,
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
            mission_names=_hlsp_observatory(record),
        )

    def probe(self) -> Probe:
        """One Mast.Caom.Filtered page of one row for the first name pattern: its envelope and
        columns, and rowsFiltered, how many observations the pattern finds."""
        payload = self.request_payload(self.settings.target_patterns[0], None, 1)
        payload["pagesize"] = 1
        answer = self.invoke(payload)
        probe = Probe(request=f"POST {self.invoke_url} Mast.Caom.Filtered "
                              f"target_name {self.settings.target_patterns[0]!r}, pagesize 1")
        names = {f.get("name") for f in answer.get("fields") or [] if isinstance(f, dict)}
        probe.missing = [c for c in READ_COLUMNS if c not in names]
        if not isinstance(answer.get("data"), list):
            probe.missing.insert(0, "data")
        total = (answer.get("paging") or {}).get("rowsFiltered")
        probe.records = total if isinstance(total, int) else None
        if probe.records is None:
            probe.missing.append("paging.rowsFiltered")
        return probe

    @functools.cached_property
    def _queries(self) -> list[NameFreeQuery]:
        return self.settings.name_free_queries()


def _hlsp_observatory(record: dict[str, Any]) -> list[str]:
    """A high-level science product's observatory, from its name (hlsp_tess-3i_tess_ffi_...):
    collection HLSP says what kind of product it is, not whose data it holds."""
    if str(record.get("obs_collection") or "").upper() != "HLSP":
        return []
    found = _HLSP.match(str(record.get("obs_id") or ""))
    return [found["observatory"]] if found else []


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


SOURCE = MastSource
