"""ESA PSA (ExoMars TGO CaSSIS/NOMAD, Mars Express HRSC/OMEGA, Juice) through its TAP service,
table `psa.epn_core` (IVOA EPN-TAP 2.0).

What a run asks for: granules whose target_name or alt_target_name matches a pattern, and, once
a run has completed, only those that are

- created or modified since the newest `creation_date` seen, minus the look-back (new granules,
  and granules whose metadata changed, e.g. a placeholder release date replaced), or
- released between the last completed run (minus the look-back) and now: the embargoes that
  ended meanwhile, so no `released` event is missed however long the harvester was stopped.
  A release date still in the future changes nothing until it passes, so those granules are
  not read again on every run.

Pages are keyset pages ordered by (creation_date, granule_uid), so the newest creation date of a
stored page is a safe bookmark at once; `checked_at` (the run's start) moves only with the last
page. time_min/time_max are Julian Dates. A release_date in the future, or a placeholder far in
the future (2099-01-01 has been seen), means exclusive; a placeholder is not kept as a date.

Which columns exist: alt_target_name is optional in EPN-TAP 2.0 and in no public PSA column list,
and a query naming a column the table lacks fails whole. The service's TAP_SCHEMA.columns is asked
once a day (`columns_refresh_hours`, kept in the cursor), and at once again when the service
refuses a query; the query names only columns that exist.

Mars-orbit frames of 3I may name no target at all. `windows` are instrument + time-window queries
(TGO and Mars Express in 2025-10-01..07): their frames that name no target are kept as candidates,
`matched_by` `time_window:<start>..<end>:<instrument>`, as the CNSA adapter does.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from harvester.errors import ConfigError, HTTPError, RecordRejected
from harvester.names.matcher import fold
from harvester.product import Product
from harvester.sources.base import Page, Probe, Source
from harvester.sources.tap import (
    TapQuery,
    TapQueryError,
    TapSettings,
    adql_timestamp,
    any_like,
    in_list,
    keyset_pages,
    run_sync,
    table_columns,
)
from harvester.sources.values import number as _number
from harvester.timeutil import datetime_to_mjd, jd_to_iso, normalize_iso, parse_iso

log = logging.getLogger("harvester.sources.psa")

TARGET_COLUMNS = ("target_name", "alt_target_name")
# What normalize() reads that EPN-TAP 2.0 makes mandatory (a service lacking one broke its contract).
READ_COLUMNS = ("granule_uid", "target_name", "time_min", "time_max", "instrument_host_name",
                "instrument_name", "processing_level", "creation_date", "modification_date",
                "release_date")
JD_MJD_OFFSET = 2400000.5
_WINDOW_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_WINDOW_KEYS = {"name", "instruments", "instrument_hosts", "start", "end"}
ORDER = ["creation_date", "granule_uid"]
# A release date in or after this year is an embargo placeholder, not a date.
PLACEHOLDER_YEAR = 2099
# EPN-TAP processing_level is CODMAC-like: 1 raw telemetry ... 5 derived, 6 ancillary.
PROCESSING_LEVELS = {1: "raw", 2: "raw", 3: "calibrated", 4: "derived", 5: "derived", 6: "ancillary"}
PRODUCT_TYPES = {
    "im": "image", "sp": "spectrum", "sc": "cube", "cu": "cube", "ds": "spectrum",
    "ts": "timeseries", "mo": "movie", "pr": "profile", "vo": "volume", "ca": "catalog",
    "ci": "catalog", "sv": "vector", "ma": "map", "ev": "event",
}
# Folded fragments of instrument_host_name -> the short mission name the catalog uses.
MISSIONS = [
    ("tracegasorbiter", "TGO"), ("exomars", "TGO"), ("marsexpress", "MEX"), ("juice", "JUICE"),
    ("jupitericymoons", "JUICE"), ("bepicolombo", "BEPICOLOMBO"), ("rosetta", "ROSETTA"),
    ("venusexpress", "VEX"), ("smart1", "SMART-1"), ("hera", "HERA"),
]
SHORT_MISSIONS = {"tgo": "TGO", "mex": "MEX", "mpo": "BEPICOLOMBO", "mmo": "BEPICOLOMBO"}
# modification_date is left in `raw` only: every re-delivery moves it, which is no news.
EXTRA_COLUMNS = (
    "granule_gid", "obs_id", "alt_target_name", "target_class", "measurement_type",
    "creation_date", "service_title", "access_format", "thumbnail_url", "file_name",
    "instrument_host_name",
)


@dataclass(frozen=True)
class TimeWindow:
    """A `[[sources.psa.windows]]` entry: frames of these instruments observed in the window
    that name no target, kept as candidates."""

    name: str
    instruments: tuple[str, ...]
    start: str                       # the dates as configured (for matched_by)
    end: str
    instrument_hosts: tuple[str, ...] = ()

    @functools.cached_property
    def _jd(self) -> tuple[float, float]:
        start = parse_iso(self.start)
        end = parse_iso(self.end)
        if len(self.end.strip()) == 10:
            end += timedelta(days=1)  # a date-only end includes its day
        return datetime_to_mjd(start) + JD_MJD_OFFSET, datetime_to_mjd(end) + JD_MJD_OFFSET

    def clause(self) -> str:
        start, end = self._jd
        parts = [in_list("instrument_name", self.instruments),
                 f"time_min <= {end!r}", f"time_max >= {start!r}",
                 "(target_name IS NULL OR target_name = '')"]
        if self.instrument_hosts:
            parts.insert(0, in_list("instrument_host_name", self.instrument_hosts))
        return "(" + " AND ".join(parts) + ")"

    def selects(self, row: dict[str, Any]) -> bool:
        if _text(row.get("target_name")) or row.get("instrument_name") not in self.instruments:
            return False
        if self.instrument_hosts and row.get("instrument_host_name") not in self.instrument_hosts:
            return False
        start, end = self._jd
        t_min, t_max = _number(row, "time_min"), _number(row, "time_max")
        return t_min is not None and t_min <= end and (t_max if t_max is not None else t_min) >= start

    def matched_by(self, row: dict[str, Any]) -> str:
        return f"time_window:{self.start}..{self.end}:{row.get('instrument_name')}"


def time_window(entry: dict[str, Any], *, where: str, path: str) -> TimeWindow:
    unknown = sorted(set(entry) - _WINDOW_KEYS)
    if unknown:
        raise ConfigError(f"{path}: [{where}] windows: {unknown[0]}: unknown key "
                          f"(allowed: {', '.join(sorted(_WINDOW_KEYS))})")
    name = entry.get("name")
    if not isinstance(name, str) or not _WINDOW_NAME.match(name):
        raise ConfigError(f"{path}: [{where}] windows: name: lower-case letters, digits, - and _, got {name!r}")
    where = f"{where}] windows [{name}"
    for key in ("instruments", "instrument_hosts"):
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{path}: [{where}] {key}: a list of names as the PSA spells them")
    if not entry.get("instruments"):
        raise ConfigError(f"{path}: [{where}] instruments: name at least one (instrument_name, case counts)")
    for key in ("start", "end"):
        try:
            parse_iso(str(entry.get(key)))
        except ValueError:
            raise ConfigError(f"{path}: [{where}] {key}: an ISO date, got {entry.get(key)!r}") from None
    if str(entry["end"]) < str(entry["start"]):
        raise ConfigError(f"{path}: [{where}] end is before start")
    return TimeWindow(name=name, instruments=tuple(entry["instruments"]), start=str(entry["start"]),
                      end=str(entry["end"]), instrument_hosts=tuple(entry.get("instrument_hosts", [])))


@dataclass
class Settings(TapSettings):
    base_url: str = "https://psa.esa.int/psa-tap/tap"
    table: str = "psa.epn_core"
    format: str = "json"
    lookback_days: float = 7.0
    # At or below the row limit of most TAP services: a JSON answer cannot say it was capped.
    page_size: int = 2000
    # How often the table's columns are asked for again (TAP_SCHEMA.columns).
    columns_refresh_hours: float = 24.0
    # Instrument + time-window queries for frames that name no target ([[sources.psa.windows]]).
    windows: list[dict] = field(default_factory=list)

    def validate(self, *, where: str, path: str) -> None:
        super().validate(where=where, path=path)
        if self.columns_refresh_hours <= 0:
            raise ConfigError(f"{path}: [{where}] columns_refresh_hours: must be greater than 0")
        names = [time_window(w, where=where, path=path).name for w in self.windows]
        if len(set(names)) != len(names):
            raise ConfigError(f"{path}: [{where}] windows: each name once, got {', '.join(names)}")

    def time_windows(self) -> list[TimeWindow]:
        return [time_window(w, where="sources.psa", path="") for w in self.windows]


def mission_of(host: str | None) -> str | None:
    if not host:
        return None
    folded = fold(host)
    if folded in SHORT_MISSIONS:
        return SHORT_MISSIONS[folded]
    for fragment, mission in MISSIONS:
        if fragment in folded:
            return mission
    return host.strip().upper() or None



def _julian(record: dict[str, Any], key: str) -> str | None:
    """A Julian Date column as UTC ISO."""
    value = _number(record, key)
    try:
        return jd_to_iso(value)
    except (OverflowError, ValueError):
        raise RecordRejected(f"{key} is not a Julian Date in range: {value!r}") from None


@functools.lru_cache(maxsize=4096)
def _canonical(text: Any) -> str | None:
    # Granules of one delivery share their creation and release dates: parse each text once.
    return normalize_iso(text)


def _date(record: dict[str, Any], key: str) -> str | None:
    try:
        return _canonical(record.get(key))
    except (TypeError, ValueError):
        raise RecordRejected(f"{key} is not a date: {record.get(key)!r}") from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class PsaSource(Source):
    archive = "psa"
    settings: Settings

    @functools.cached_property
    def windows(self) -> list[TimeWindow]:
        return self.settings.time_windows()

    def query(self, created_through: str | None, checked_at: str | None,
              columns: set[str] | None = None) -> TapQuery:
        """The run's query, naming only `columns` that exist (all of EPN-TAP's when unknown)."""
        targets = [c for c in TARGET_COLUMNS if columns is None or c in columns] or ["target_name"]
        wanted = [any_like(targets, self.settings.target_patterns)[1:-1]]
        wanted += [w.clause() for w in self.windows]
        where = ["(" + " OR ".join(wanted) + ")" if len(wanted) > 1 else "(" + wanted[0] + ")"]
        if checked_at:
            # Before a first complete run nothing is bounded: an interrupted first run starts over.
            lookback = timedelta(days=self.settings.lookback_days)
            changed_since = adql_timestamp(parse_iso(created_through or checked_at) - lookback)
            released_since = adql_timestamp(parse_iso(checked_at) - lookback)
            where.append(f"(creation_date >= {changed_since} OR modification_date >= {changed_since}"
                         f" OR (release_date >= {released_since} AND release_date <= {adql_timestamp(self.now)}))")
        return TapQuery(table=self.settings.table, where=where, order=ORDER)

    # ---- columns

    def ask_columns(self) -> set[str] | None:
        """The table's columns from TAP_SCHEMA.columns, lower case; None when the service
        cannot say (no TAP_SCHEMA, refused): then only mandatory columns are named."""
        try:
            names = table_columns(self.http, self.settings.base_url, self.settings.table,
                                  fmt=self.settings.format)
        except (TapQueryError, HTTPError) as exc:
            log.warning("TAP_SCHEMA.columns of %s could not be read (%s); naming mandatory "
                        "EPN-TAP columns only", self.settings.table, exc)
            return None
        return {n.lower() for n in names} or None

    def columns(self, cursor: dict[str, Any], *, refresh: bool = False) -> dict[str, Any]:
        """The cursor's record of the table's columns, asked again when older than
        `columns_refresh_hours` (or when `refresh`)."""
        cached = cursor.get("columns")
        if not refresh and isinstance(cached, dict) and isinstance(cached.get("checked_at"), str):
            try:
                age = self.now - parse_iso(cached["checked_at"])
                if timedelta(0) <= age < timedelta(hours=self.settings.columns_refresh_hours):
                    return cached
            except ValueError:
                pass
        names = self.ask_columns()
        return {"checked_at": self.now_iso, "names": sorted(names) if names else None}

    # ---- pages

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        cursor = cursor or {}
        created_through = cursor.get("created_through")
        checked_at = cursor.get("checked_at")
        started = self.now_iso
        columns = self.columns(cursor)
        fresh = columns is not cursor.get("columns")
        first = True
        while True:
            names = set(columns["names"]) if columns.get("names") else {"target_name"}
            pages = keyset_pages(self.http, self.settings.base_url,
                                 self.query(created_through, checked_at, names),
                                 page_size=self.settings.page_size, fmt=self.settings.format)
            try:
                for page in pages:
                    first = False
                    # Rows come in creation order: the newest readable creation_date is the last one.
                    for record in reversed(page.records):
                        created = _creation_time(record)
                        if created:
                            if created_through is None or created > created_through:
                                created_through = created
                            break
                    yield Page(records=page.records,
                               bookmark={"created_through": created_through,
                                         "checked_at": started if page.last else checked_at,
                                         "columns": columns},
                               note=f"page {page.number}: {len(page.records)} granules")
                return
            except TapQueryError:
                # A column known yesterday may be gone today: ask once more, then give up.
                if fresh or not first:
                    raise
                columns, fresh = self.columns(cursor, refresh=True), True

    def unchanged_context(self) -> Any:
        return ""  # normalize reads only the record, the settings, the matcher and the clock

    def native_id_of(self, record: Any) -> str | None:
        if isinstance(record, dict) and _text(record.get("granule_uid")):
            return _text(record["granule_uid"])
        return None

    def normalize(self, record: Any) -> Product | None:
        if not isinstance(record, dict):
            raise RecordRejected(f"expected a row, got {type(record).__name__}")
        uid = _text(record.get("granule_uid"))
        if uid is None:
            raise RecordRejected("row has no granule_uid")
        target_name = _text(record.get("target_name"))
        alt_names = [n.strip() for n in str(record.get("alt_target_name") or "").split("#") if n.strip()]
        match = self.matcher.match_any([target_name, *alt_names])
        if match is not None:
            matched_by = match.matched_by
        else:
            window = next((w for w in self.windows if w.selects(record)), None)
            if window is None:
                return None
            matched_by = window.matched_by(record)
        release_date, access = self._release(record)
        level = _number(record, "processing_level")
        size_kb = _number(record, "access_estsize")
        product_type = _text(record.get("dataproduct_type"))
        if product_type:
            product_type = PRODUCT_TYPES.get(product_type.split("#")[0].lower(), product_type)
        extra = {key: record.get(key) for key in EXTRA_COLUMNS if record.get(key) not in (None, "")}
        if "creation_date" in extra:
            extra["creation_date"] = _date(record, "creation_date")
        if _text(record.get("release_date")) and release_date is None:
            extra["release_date_placeholder"] = record["release_date"]
        instrument = _text(record.get("instrument_name"))
        return Product(
            archive=self.archive,
            native_id=uid,
            target_name=target_name or (alt_names[0] if alt_names else ""),
            matched_by=matched_by,
            mission=mission_of(_text(record.get("instrument_host_name"))),
            instrument=instrument.upper() if instrument else None,
            product_type=product_type,
            processing_level=PROCESSING_LEVELS.get(int(level)) if level is not None else None,
            obs_start=_julian(record, "time_min"),
            obs_end=_julian(record, "time_max"),
            release_date=release_date,
            access=access,
            url=_text(record.get("access_url")),
            size_bytes=int(size_kb * 1024) if size_kb is not None else None,
            title=_text(record.get("file_name")) or _text(record.get("obs_id")),
            extra=extra,
            raw=record,
            public_since=release_date if access == "public" else None,
            mission_names=[_text(record.get("instrument_host_name")) or ""],
        )

    def probe(self) -> Probe:
        """TAP_SCHEMA.columns (does the table have what normalize() reads?) and a COUNT of the
        granules the run's query selects."""
        names = self.ask_columns()
        probe = Probe(request=f"{self.settings.base_url}/sync: TAP_SCHEMA.columns of "
                              f"{self.settings.table}, then COUNT(*) of the target query")
        if names is None:
            probe.missing = [f"TAP_SCHEMA.columns of {self.settings.table}"]
            return probe
        probe.missing = [c for c in READ_COLUMNS if c not in names]
        if "alt_target_name" not in names:
            probe.note = "no alt_target_name (optional in EPN-TAP 2.0): names matched on target_name"
        where = self.query(None, None, names).where[0]
        answer = run_sync(self.http, self.settings.base_url,
                          f"SELECT COUNT(*) AS n FROM {self.settings.table} WHERE {where}",
                          maxrec=1, fmt=self.settings.format)
        value = answer.rows[0][0] if answer.rows and answer.rows[0] else None
        probe.records = int(value) if isinstance(value, int | float) else None
        return probe

    def _release(self, record: dict[str, Any]) -> tuple[str | None, str]:
        """(release_date kept in the catalog, access) from the granule's release_date."""
        release = _date(record, "release_date")
        if release is None:
            # No date at all: a download link is the only evidence of public data.
            return None, "public" if _text(record.get("access_url")) else "unknown"
        if int(release[:4]) >= PLACEHOLDER_YEAR:
            return None, "exclusive"
        return release, "exclusive" if release > self.now_iso else "public"


def _creation_time(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    try:
        return _canonical(record.get("creation_date"))
    except (TypeError, ValueError):
        return None  # the row is rejected by normalize(); it must not move the cursor


SOURCE = PsaSource
