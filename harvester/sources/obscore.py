"""Any IVOA ObsCore TAP service (ESO, IRSA, HEASARC, CADC...): one adapter, one config block each.

    [sources.eso]
    kind = "obscore"
    base_url = "http://archive.eso.org/tap_obs"

The archive name is the block's `archive` key, else the block's name, so `[sources.eso]` fills
products `eso:<obs_publisher_did>`. Adding an archive that speaks ObsCore is a config block.

ObsCore has no ingest time. As with MAST, metadata of data still under exclusive access is
public with `obs_release_date` in the future, so "what is new" is a window on obs_release_date
from the last completed run minus the look-back, open into the future; rows without a release
date are read on every run (there is no other way to see them again). Pages are keyset pages on
(obs_publisher_did, obs_id): ordering by a column that may be NULL could not be paged strictly
after a NULL, and both are mandatory in ObsCore. The cursor (`watermark`, the run's start)
therefore moves only with the last page; a run killed half-way reads its window again and the
idempotent upserts absorb the repeats.

A product is one (obs_publisher_did, obs_id): a real ALMA answer repeats one publisher DID over
two rows with different obs_ids, so the DID alone would store one and lose the other. The
native id is `<obs_publisher_did>#<obs_id>` (the DID alone when a row has no obs_id). An answer
that says OVERFLOW with no rows (KOA's) is capped, never "nothing there": the run fails and the
cursor stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from harvester.errors import ConfigError, RecordRejected
from harvester.product import Product
from harvester.sources.base import Page, Probe, Source, SourceContext
from harvester.sources.tap import (
    TapQuery,
    TapSettings,
    adql_timestamp,
    any_like,
    in_list,
    keyset_pages,
    run_sync,
    table_columns,
)
from harvester.sources.values import number as _number
from harvester.timeutil import mjd_to_iso, normalize_iso, parse_iso

ORDER = ["obs_publisher_did", "obs_id"]
# The columns normalize() and the paging read (ObsCore 1.1 makes them mandatory).
READ_COLUMNS = ("obs_publisher_did", "obs_id", "target_name", "obs_collection", "instrument_name",
                "t_min", "t_max", "obs_release_date")
CALIB_LEVELS = {0: "raw", 1: "raw", 2: "calibrated", 3: "derived", 4: "derived"}
_ARCHIVE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
EXTRA_COLUMNS = (
    "obs_id", "data_rights", "access_format", "facility_name", "s_ra", "s_dec", "t_exptime",
    "em_min", "em_max", "o_ucd", "obs_creator_did", "target_class",
)


@dataclass
class Settings(TapSettings):
    # No default service: each block names its own (ESO, IRSA, HEASARC, CADC ... see README).
    base_url: str = ""
    archive: str = ""
    table: str = "ivoa.obscore"
    collections: list[str] = field(default_factory=list)
    format: str = "votable"
    lookback_days: float = 30.0
    page_size: int = 2000

    def validate(self, *, where: str, path: str) -> None:
        super().validate(where=where, path=path)
        if self.archive and not _ARCHIVE_NAME.match(self.archive):
            raise ConfigError(f"{path}: [{where}] archive: lower-case letters, digits, - and _ only, "
                              f"starting with a letter; got {self.archive!r}")



def _mjd(record: dict[str, Any], key: str) -> str | None:
    """An MJD column as UTC ISO."""
    value = _number(record, key)
    try:
        return mjd_to_iso(value)
    except (OverflowError, ValueError):
        raise RecordRejected(f"{key} is not an MJD in range: {value!r}") from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def native_id(record: dict[str, Any]) -> str:
    """`<obs_publisher_did>#<obs_id>`: one publisher DID can hold several observations (ALMA).
    A row without obs_id (mandatory in ObsCore, but not every service fills it) keeps the DID."""
    did, obs_id = _text(record.get("obs_publisher_did")), _text(record.get("obs_id"))
    return f"{did}#{obs_id}" if obs_id else str(did)


class ObsCoreSource(Source):
    settings: Settings

    def __init__(self, context: SourceContext) -> None:
        super().__init__(context)
        self.archive = self.settings.archive or context.name

    def query(self, watermark: str | None) -> TapQuery:
        where = [any_like(["target_name"], self.settings.target_patterns)]
        if self.settings.collections:
            where.append(in_list("obs_collection", self.settings.collections))
        if watermark:
            since = parse_iso(watermark) - timedelta(days=self.settings.lookback_days)
            where.append(f"(obs_release_date >= {adql_timestamp(since)} OR obs_release_date IS NULL)")
        return TapQuery(table=self.settings.table, where=where, order=ORDER)

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        watermark = (cursor or {}).get("watermark")
        started = self.now_iso
        pages = keyset_pages(self.http, self.settings.base_url, self.query(watermark),
                             page_size=self.settings.page_size, fmt=self.settings.format)
        for page in pages:
            yield Page(records=page.records,
                       bookmark={"watermark": started if page.last else watermark},
                       note=f"page {page.number}: {len(page.records)} rows")

    def unchanged_context(self) -> Any:
        return ""  # normalize reads only the record, the settings, the matcher and the clock

    def native_id_of(self, record: Any) -> str | None:
        if isinstance(record, dict) and _text(record.get("obs_publisher_did")):
            return native_id(record)
        return None

    def normalize(self, record: Any) -> Product | None:
        if not isinstance(record, dict):
            raise RecordRejected(f"expected a row, got {type(record).__name__}")
        did = _text(record.get("obs_publisher_did"))
        if did is None:
            raise RecordRejected("row has no obs_publisher_did")
        target_name = _text(record.get("target_name"))
        match = self.matcher.match(target_name)
        if match is None:
            return None
        try:
            release_date = normalize_iso(record.get("obs_release_date"))
        except (TypeError, ValueError):
            raise RecordRejected(f"obs_release_date is not a date: {record.get('obs_release_date')!r}") from None
        access = self._access(release_date, _text(record.get("data_rights")))
        calib = _number(record, "calib_level")
        size_kb = _number(record, "access_estsize")
        extra = {key: record.get(key) for key in EXTRA_COLUMNS if record.get(key) not in (None, "")}
        return Product(
            archive=self.archive,
            native_id=native_id(record),
            target_name=target_name,
            matched_by=match.matched_by,
            mission=_text(record.get("obs_collection")),
            instrument=_text(record.get("instrument_name")),
            product_type=_text(record.get("dataproduct_type")),
            processing_level=CALIB_LEVELS.get(int(calib)) if calib is not None else None,
            obs_start=_mjd(record, "t_min"),
            obs_end=_mjd(record, "t_max"),
            release_date=release_date,
            access=access,
            url=_text(record.get("access_url")),
            size_bytes=int(size_kb * 1024) if size_kb is not None else None,
            program=_text(record.get("proposal_id")),
            title=_text(record.get("obs_title")) or _text(record.get("obs_id")),
            extra=extra,
            raw=record,
            public_since=release_date if access == "public" else None,
        )

    def probe(self) -> Probe:
        """A COUNT of the rows the run's name query selects (is the query accepted?), then
        TAP_SCHEMA.columns of the table: is what normalize() reads there?"""
        probe = Probe(request=f"{self.settings.base_url}/sync: COUNT(*) of the target query, then "
                              f"TAP_SCHEMA.columns of {self.settings.table}")
        where = " AND ".join(self.query(None).where)
        answer = run_sync(self.http, self.settings.base_url,
                          f"SELECT COUNT(*) AS n FROM {self.settings.table} WHERE {where}",
                          maxrec=1, fmt=self.settings.format)
        value = answer.rows[0][0] if answer.rows and answer.rows[0] else None
        probe.records = int(value) if isinstance(value, int | float) else None
        names = {n.lower() for n in table_columns(self.http, self.settings.base_url, self.settings.table,
                                                   fmt=self.settings.format)}
        probe.missing = [c for c in READ_COLUMNS if c not in names]
        return probe

    def _access(self, release_date: str | None, data_rights: str | None) -> str:
        if release_date is not None:
            return "exclusive" if release_date > self.now_iso else "public"
        # ObsCore 1.1 data_rights: public, secure or proprietary.
        rights = (data_rights or "").lower()
        if rights == "public":
            return "public"
        if rights in ("proprietary", "secure"):
            return "exclusive"
        return "unknown"


SOURCE = ObsCoreSource
