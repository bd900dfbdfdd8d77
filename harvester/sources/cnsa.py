"""CNSA's lunar and planetary data system (moon.bao.ac.cn): Tianwen-1 HiRIC. EXPERIMENTAL.

There is no documented API: this adapter reads the JSON endpoints the portal itself uses
(docs/archives.md), unverified and liable to change. Their answers are RuoYi-style envelopes:
lists `{"total", "code", "rows"}`, single values `{"msg", "code", "data"}`.

CNSA files name no target, so 3I frames are found by instrument and time: a file of a
configured instrument whose time span overlaps the campaign window. Files are published in
batches (catalogue datasets, each with a `releaseTime`) months after the observations. A run
reads the catalogue, lists the files of each batch of the mission and instruments that is not
stored yet and whose observation span may overlap the window (`dataInfoList`, paged), and asks
for the public link of each matching file (`dataInfo/getAnnexZip/{id}`). Metadata and links
only: files are never downloaded (the archive's terms forbid redistribution).

The cursor remembers each batch fully stored, by id with a fingerprint (release time and file
count), so a poll with nothing new is the catalogue request alone; a batch that shows up late,
whatever its releaseTime, is still listed, and one whose catalogue entry changes is listed
again. `lookback_days` (default 0) also re-lists the batches released within that many days
of the newest one, for files added to a batch after its release.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from harvester.errors import ConfigError, FatalHTTPError, RecordRejected, SourceError
from harvester.names.matcher import fold
from harvester.product import Product
from harvester.settings import SourceSettings
from harvester.sources.base import Page, Probe, Source, SourceContext
from harvester.timeutil import iso, parse_iso

# The portal is Beijing's: a release time without a zone is China Standard Time. File start
# and end times come from the data labels, which are UTC.
BEIJING = timezone(timedelta(hours=8), "CST")
_HAS_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
_SIZE = re.compile(r"^\s*([\d.]+)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
# CNSA data levels: 0x/01 as received, 2A/2B radiometrically and photometrically corrected,
# 2C and up geometrically corrected or mapped.
_LEVELS = {"0": "raw", "1": "raw", "2A": "calibrated", "2B": "calibrated"}
# Tianwen-1's cameras; other instruments' files are not images.
_CAMERAS = {"hiric", "moric"}


@dataclass
class Settings(SourceSettings):
    base_url: str = "https://moon.bao.ac.cn/moon-admin/client/science"
    mission: str = "Tianwen-1"
    # How the archive may spell the mission in `taskName` (compared without case or punctuation).
    task_names: list[str] = field(default_factory=lambda: ["Tianwen-1", "TW1", "HX1"])
    instruments: list[str] = field(default_factory=lambda: ["HiRIC"])
    # The 3I campaign seen from Mars orbit (HiRIC tracked it 2025-10-01..04), with margin.
    window_start: str = "2025-09-25"
    window_end: str = "2025-10-10"
    lookback_days: float = 0.0
    page_size: int = 500

    def validate(self, *, where: str, path: str) -> None:
        if not self.mission.strip():
            raise ConfigError(f"{path}: [{where}] mission: must not be empty")
        if not [name for name in self.instruments if fold(name)]:
            raise ConfigError(f"{path}: [{where}] instruments: must name at least one instrument")
        start = _window_bound(self.window_start, key="window_start", where=where, path=path)
        end = _window_bound(self.window_end, key="window_end", where=where, path=path)
        if start > end:
            raise ConfigError(f"{path}: [{where}] window_end: {self.window_end!r} is before "
                              f"window_start {self.window_start!r}")


def _window_bound(value: str, *, key: str, where: str, path: str) -> datetime:
    try:
        return parse_iso(value)
    except ValueError:
        raise ConfigError(f"{path}: [{where}] {key}: not an ISO date: {value!r}") from None


def archive_time(value: Any, *, naive_zone: timezone = UTC) -> str | None:
    """The archive's time as canonical ISO UTC: 'yyyy-MM-dd HH:mm:ss' or ISO text (a value
    without a zone is read in `naive_zone`), or epoch milliseconds. None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return iso(datetime.fromtimestamp(value / 1000, UTC))
    if not isinstance(value, str):
        raise ValueError(f"not a time: {value!r}")
    moment = parse_iso(value)
    if not _HAS_ZONE.search(value.strip()):
        moment = moment.replace(tzinfo=naive_zone)
    return iso(moment)


def size_in_bytes(value: Any) -> int | None:
    """`dataSize` as bytes: '49152.0', '48 KB', '463.8GB'; None when it says nothing usable."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    match = _SIZE.match(value) if isinstance(value, str) else None
    if not match:
        return None
    try:
        return int(float(match[1]) * _UNITS[match[2].upper()])
    except ValueError:
        return None


def processing_level(level_name: Any) -> str | None:
    if not isinstance(level_name, str) or not level_name.strip():
        return None
    level = level_name.strip().upper()
    if level in _LEVELS:
        return _LEVELS[level]
    if level[0] in "01":
        return "raw"
    return "derived" if level[0].isdigit() else None


def link_of(answer: Any, data_info_id: str) -> str:
    """The public file URL in a `getAnnexZip` answer `{"msg", "code", "data": URL}`."""
    if isinstance(answer, dict):
        link = answer.get("data")
        if answer.get("code", 200) == 200 and isinstance(link, str) and link.startswith(("http://", "https://")):
            return link
    raise RecordRejected(f"getAnnexZip answer for {data_info_id} has no link: {str(answer)[:160]}")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(eq=False)
class Batch:
    """One catalogue dataset: a release of files of one mission, instrument and level."""

    id: str
    name: str | None
    task_name: str
    load_name: str
    level_name: str | None
    release: str
    obtain_start: str | None
    obtain_end: str | None
    total: Any
    row: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        return f"{self.release}|{self.total}"


def _rows(answer: Any, what: str) -> tuple[list[Any], int | None]:
    """The rows and total of a list answer; SourceError when the envelope is not one."""
    if not isinstance(answer, dict):
        raise SourceError(f"CNSA {what} answer is not a JSON object: {str(answer)[:160]}")
    code = answer.get("code", 200)
    if code != 200:
        raise SourceError(f"CNSA {what} answered code {code!r}: {str(answer.get('msg'))[:160]}")
    rows = answer.get("rows")
    if not isinstance(rows, list):
        raise SourceError(f"CNSA {what} answer has no rows list (keys: {', '.join(map(str, answer))})")
    total = answer.get("total")
    return rows, total if isinstance(total, int) and not isinstance(total, bool) else None


class CnsaSource(Source):
    archive = "cnsa"
    settings: Settings

    def __init__(self, context: SourceContext) -> None:
        super().__init__(context)
        self._task_names = {fold(n) for n in [self.settings.mission, *self.settings.task_names] if fold(n)}
        self._instruments = {fold(n): n for n in self.settings.instruments if fold(n)}
        start = parse_iso(self.settings.window_start)
        end = parse_iso(self.settings.window_end)
        if len(self.settings.window_end.strip()) <= 10:
            end += timedelta(days=1)  # a date-only end includes its whole day
        self._window = (iso(start), iso(end))
        self.matched_by_window = f"time_window:{self.settings.window_start}..{self.settings.window_end}"
        self.scope = f"{self._window[0]}..{self._window[1]}:{','.join(sorted(self._instruments))}"

    # ---- the catalogue: which batches to list

    def is_ours(self, row: dict[str, Any]) -> bool:
        task = row.get("taskName")
        return isinstance(task, str) and fold(task) in self._task_names

    def read_batch(self, row: Any) -> Batch:
        """A catalogue row of our mission as a Batch; RecordRejected naming what is missing."""
        if not isinstance(row, dict):
            raise RecordRejected(f"catalogue row is not an object: {str(row)[:80]}")
        for key in ("id", "loadName", "releaseTime"):
            if _text(row.get(key)) is None:
                raise RecordRejected(f"catalogue row has no {key}")
        try:
            release = archive_time(row["releaseTime"], naive_zone=BEIJING)
        except ValueError:
            raise RecordRejected(f"catalogue row releaseTime is not a time: {row['releaseTime']!r}") from None
        try:
            obtain = (archive_time(row.get("obtainTime")), archive_time(row.get("obtainTimeEnd")))
        except ValueError:
            obtain = (None, None)  # optional: without it the batch is simply listed
        return Batch(id=str(row["id"]).strip(), name=_text(row.get("name")), task_name=str(row["taskName"]),
                     load_name=str(row["loadName"]).strip(), level_name=_text(row.get("dataLevelName")),
                     release=release or "", obtain_start=obtain[0], obtain_end=obtain[1],
                     total=row.get("releaseTotal"), row=row)

    def may_overlap(self, batch: Batch) -> bool:
        """False only when the batch says its observations lie wholly outside the window."""
        if batch.obtain_start is None or batch.obtain_end is None:
            return True
        return batch.obtain_start < self._window[1] and batch.obtain_end >= self._window[0]

    def read_catalogue(self) -> tuple[list[Batch], list[Any]]:
        """Every batch of the mission and instruments, and the catalogue rows of the mission
        that cannot be read (they become rejects)."""
        batches: list[Batch] = []
        unreadable: list[Any] = []
        rows_seen = recognisable = 0
        for row in self._all_rows("catalogue", f"{self.settings.base_url}/catalogue", {}):
            rows_seen += 1
            if not isinstance(row, dict):
                unreadable.append(row)
                continue
            if isinstance(row.get("taskName"), str):
                recognisable += 1
            load = _text(row.get("loadName"))
            if not self.is_ours(row) or (load is not None and fold(load) not in self._instruments):
                continue
            try:
                batch = self.read_batch(row)
            except RecordRejected:
                unreadable.append(row)
                continue
            batches.append(batch)
        if rows_seen and not recognisable:
            # Per-row rejects would hide it: no row says its mission, so none can be chosen.
            raise SourceError("CNSA catalogue rows carry no taskName: the answer's shape has changed")
        return batches, unreadable

    def _all_rows(self, what: str, url: str, params: dict[str, str]) -> Iterator[Any]:
        for rows, _ in self._pages(what, url, params):
            yield from rows

    def _pages(self, what: str, url: str, params: dict[str, str]) -> Iterator[tuple[list[Any], bool]]:
        """Each page of a paged list, and whether it is the last."""
        size = self.settings.page_size
        number, seen = 1, 0
        while True:
            answer = self.http.get_json(url, params={**params, "pageNum": str(number), "pageSize": str(size)})
            rows, total = _rows(answer, what)
            seen += len(rows)
            last = len(rows) < size or (total is not None and seen >= total)
            yield rows, last
            if last:
                return
            number += 1

    def to_list(self, batches: list[Batch], cursor: dict[str, Any]) -> list[Batch]:
        done = cursor.get("batches") or {}
        through = cursor.get("released_through")
        relist_from = None
        if through and self.settings.lookback_days > 0:
            relist_from = iso(parse_iso(through) - timedelta(days=self.settings.lookback_days))
        chosen = [
            b for b in batches if self.may_overlap(b)
            and (done.get(b.id) != b.fingerprint or (relist_from is not None and b.release >= relist_from))
        ]
        return sorted(chosen, key=lambda b: (b.release, b.id))

    # ---- the files of a batch

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        cursor = cursor or {}
        if cursor.get("scope") != self.scope:
            # Another window or instrument list: what was listed before proves nothing now.
            cursor = {"released_through": cursor.get("released_through")}
        done: dict[str, str] = dict(cursor.get("batches") or {})
        through: str | None = cursor.get("released_through")
        batches, unreadable = self.read_catalogue()
        by_id = {b.id: b for b in batches}
        pending = self.to_list(batches, cursor)
        if unreadable or not pending:
            yield Page(records=[{"catalogue": row} for row in unreadable],
                       bookmark=self._bookmark(through, done),
                       note=f"catalogue: {len(pending)} batches to list, {len(unreadable)} unreadable")
        for batch in pending:
            params = {"taskName": batch.task_name, "loadName": batch.load_name, "dataCatalogueId": batch.id}
            if batch.level_name:
                params["levelName"] = batch.level_name
            for number, (rows, last) in enumerate(
                    self._pages("dataInfoList", f"{self.settings.base_url}/dataInfoList", params), start=1):
                records = [self.file_record(row, by_id, batch) for row in rows]
                if last:
                    done[batch.id] = batch.fingerprint
                    through = max(filter(None, (through, batch.release)))
                yield Page(records=records, bookmark=self._bookmark(through, done),
                           note=f"batch {batch.id} page {number}")

    def _bookmark(self, through: str | None, done: dict[str, str]) -> dict[str, Any]:
        return {"released_through": through, "batches": dict(done), "scope": self.scope}

    def file_record(self, row: Any, batches: dict[str, Batch], listed: Batch) -> dict[str, Any]:
        """What normalize reads: the file row, its batch and, for a matching file, the answer
        that gives its link, each as the archive sent it."""
        batch = listed
        if isinstance(row, dict):
            batch = batches.get(_text(row.get("dataCatalogueId")) or "", listed)
        record: dict[str, Any] = {"file": row, "batch": batch.row}
        try:
            in_scope = self.file_match(row, batch) is not None
        except RecordRejected:
            in_scope = False  # normalize rejects it, with the reason
        if in_scope:
            record["annex"] = self.annex(str(row["dataInfoId"]).strip())
        return record

    def annex(self, data_info_id: str) -> Any:
        try:
            return self.http.get_json(f"{self.settings.base_url}/dataInfo/getAnnexZip/{quote(data_info_id)}")
        except FatalHTTPError as exc:
            # This file's link is refused (a 404, say): a reject, not a run stuck on one file.
            return {"error": str(exc)}

    def file_match(self, row: Any, batch: Batch) -> tuple[str, str, str] | None:
        """(instrument, start, end) of a file in scope; None when it is out of the window or of
        another instrument; RecordRejected naming what cannot be read."""
        if not isinstance(row, dict):
            raise RecordRejected(f"file row is not an object: {str(row)[:80]}")
        if _text(row.get("dataInfoId")) is None:
            raise RecordRejected("file row has no dataInfoId")
        load = _text(row.get("loadName")) or batch.load_name
        instrument = self._instruments.get(fold(load))
        if instrument is None:
            return None
        if _text(row.get("startTime")) is None:
            raise RecordRejected("file row has no startTime")
        try:
            start = archive_time(row["startTime"])
            end = archive_time(row.get("endTime")) or start
        except ValueError as exc:
            raise RecordRejected(f"file row time is not a time: {exc}") from None
        if not (start < self._window[1] and end >= self._window[0]):
            return None
        return instrument, start, end

    # ---- products

    def probe(self) -> Probe:
        """The first catalogue page: its envelope, the fields batches are chosen and dated by,
        and how many batches of the mission and instruments it lists."""
        url = f"{self.settings.base_url}/catalogue"
        answer = self.http.get_json(url, params={"pageNum": "1", "pageSize": str(self.settings.page_size)})
        rows, total = _rows(answer, "catalogue")
        probe = Probe(request=f"GET {url}?pageNum=1&pageSize={self.settings.page_size}")
        dicts = [r for r in rows if isinstance(r, dict)]
        probe.missing = [k for k in ("id", "taskName", "loadName", "releaseTime")
                         if dicts and not any(k in r for r in dicts)]
        if total is None:
            probe.missing.append("total")
        ours = [r for r in dicts if self.is_ours(r) and fold(str(r.get("loadName") or "")) in self._instruments]
        probe.records = len(ours)
        probe.note = (f"{len(ours)} batches of {self.settings.mission} {', '.join(self.settings.instruments)} "
                      f"on the first page of {total if total is not None else '?'}")
        return probe

    def native_id_of(self, record: Any) -> str | None:
        if isinstance(record, dict):
            row = record.get("file", record.get("catalogue"))
            if isinstance(row, dict):
                return _text(row.get("dataInfoId", row.get("id")))
        return None

    def normalize(self, record: Any) -> Product | None:
        if not isinstance(record, dict) or not ({"file", "catalogue"} & record.keys()):
            raise RecordRejected(f"not a CNSA record: {str(record)[:80]}")
        if "catalogue" in record:
            self.read_batch(record["catalogue"])  # raises with the reason it is unreadable
            return None
        batch = self.read_batch(record.get("batch"))
        match = self.file_match(record["file"], batch)
        if match is None:
            return None
        instrument, start, end = match
        row = record["file"]
        native_id = str(row["dataInfoId"]).strip()
        url = link_of(record.get("annex"), native_id)
        level = _text(row.get("dataLevelName")) or batch.level_name
        extra = {
            "batch_id": batch.id,
            "batch_name": batch.name,
            "task_name": _text(row.get("taskName")) or batch.task_name,
            "data_level": level,
            "data_size": _text(row.get("dataSize")),
            "orbit": row.get("orbitalNumber"),
        }
        return Product(
            archive=self.archive,
            native_id=native_id,
            version=_text(row.get("dataVersion")),
            target_name="",  # CNSA files name no target; matched_by says why this one is here
            matched_by=f"{self.matched_by_window}:{instrument}",
            mission=self.settings.mission,
            instrument=instrument,
            product_type="image" if fold(instrument) in _CAMERAS else None,
            processing_level=processing_level(level),
            obs_start=start,
            obs_end=end,
            release_date=batch.release,
            access="public",
            url=url,
            size_bytes=size_in_bytes(row.get("dataSize")),
            title=_text(row.get("name")),
            extra={k: v for k, v in extra.items() if v not in (None, "")},
            raw=record,
            public_since=batch.release,
        )


SOURCE = CnsaSource
