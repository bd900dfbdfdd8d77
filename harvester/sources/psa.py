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
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from harvester.errors import RecordRejected
from harvester.names.matcher import fold
from harvester.product import Product
from harvester.sources.base import Page, Source
from harvester.sources.tap import TapQuery, TapSettings, adql_timestamp, any_like, keyset_pages
from harvester.sources.values import number as _number
from harvester.timeutil import jd_to_iso, normalize_iso, parse_iso

TARGET_COLUMNS = ("target_name", "alt_target_name")
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


@dataclass
class Settings(TapSettings):
    base_url: str = "https://psa.esa.int/psa-tap/tap"
    table: str = "psa.epn_core"
    format: str = "json"
    lookback_days: float = 7.0
    # At or below the row limit of most TAP services: a JSON answer cannot say it was capped.
    page_size: int = 2000


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

    def query(self, created_through: str | None, checked_at: str | None) -> TapQuery:
        where = [any_like(TARGET_COLUMNS, self.settings.target_patterns)]
        if checked_at:
            # Before a first complete run nothing is bounded: an interrupted first run starts over.
            lookback = timedelta(days=self.settings.lookback_days)
            changed_since = adql_timestamp(parse_iso(created_through or checked_at) - lookback)
            released_since = adql_timestamp(parse_iso(checked_at) - lookback)
            where.append(f"(creation_date >= {changed_since} OR modification_date >= {changed_since}"
                         f" OR (release_date >= {released_since} AND release_date <= {adql_timestamp(self.now)}))")
        return TapQuery(table=self.settings.table, where=where, order=ORDER)

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        created_through = (cursor or {}).get("created_through")
        checked_at = (cursor or {}).get("checked_at")
        started = self.now_iso
        pages = keyset_pages(self.http, self.settings.base_url, self.query(created_through, checked_at),
                             page_size=self.settings.page_size, fmt=self.settings.format)
        for page in pages:
            # Rows come in creation order: the newest readable creation_date is the last one.
            for record in reversed(page.records):
                created = _creation_time(record)
                if created:
                    if created_through is None or created > created_through:
                        created_through = created
                    break
            yield Page(records=page.records,
                       bookmark={"created_through": created_through,
                                 "checked_at": started if page.last else checked_at},
                       note=f"page {page.number}: {len(page.records)} granules")

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
        if match is None:
            return None
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
            target_name=target_name or alt_names[0],
            matched_by=match.matched_by,
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
        )

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
