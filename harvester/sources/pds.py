"""NASA PDS through the Search API (`/products`): HiRISE, Mastcam-Z, MAVEN IUVS, Psyche, Lucy...

PDS serves only archived (public) products and has no release-date field; its
`ops:Harvest_Info.ops:harvest_date_time` says when a product was loaded. The cursor is the
newest harvest time stored; each run asks for products harvested since then minus a look-back,
sorted by harvest time and lidvid, paging with `search-after`. Because the sort is on the
cursor's own field, every page's bookmark is safe to commit as soon as the page is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from harvester.errors import ConfigError, RecordRejected, SourceError
from harvester.product import Product
from harvester.settings import SourceSettings
from harvester.sources.base import Page, Source
from harvester.timeutil import iso, normalize_iso, parse_iso

HARVEST_TIME = "ops:Harvest_Info.ops:harvest_date_time"
TARGET_NAME = "pds:Target_Identification.pds:name"
OPEN_END = "3000-01-01"
FIELDS = [
    "lid", "lidvid", "title", HARVEST_TIME, TARGET_NAME, "ref_lid_target",
    "pds:Time_Coordinates.pds:start_date_time", "pds:Time_Coordinates.pds:stop_date_time",
    "pds:Investigation_Area.pds:name", "ref_lid_investigation",
    "pds:Observing_System_Component.pds:name", "ref_lid_instrument", "ref_lid_instrument_host",
    "pds:Identification_Area.pds:product_class", "pds:Identification_Area.pds:version_id",
    "pds:Primary_Result_Summary.pds:processing_level", "ops:Tracking_Meta.ops:archive_status",
    "ops:Data_File_Info.ops:file_ref", "ops:Data_File_Info.ops:file_size",
    "ops:Harvest_Info.ops:node_name",
]


@dataclass
class Settings(SourceSettings):
    base_url: str = "https://pds.nasa.gov/api/search/1"
    # The 3I context LID is unverified (docs/archives.md); names are matched as well.
    target_lids: list[str] = field(
        default_factory=lambda: ["urn:nasa:pds:context:target:comet.3i_atlas"]
    )
    name_patterns: list[str] = field(default_factory=lambda: ["*3I*", "*2025*N1*"])
    lookback_days: float = 7.0
    page_size: int = 2000

    def validate(self, *, where: str, path: str) -> None:
        if not self.target_lids and not self.name_patterns:
            raise ConfigError(f"{path}: [{where}] needs target_lids or name_patterns")
        for pattern in [*self.name_patterns, *self.target_lids]:
            if '"' in pattern:
                raise ConfigError(f"{path}: [{where}] {pattern!r}: double quotes are not allowed")


def _first(props: dict[str, Any], key: str) -> str | None:
    values = props.get(key)
    if isinstance(values, list) and values:
        value = values[0]
        return None if value is None else str(value)
    if isinstance(values, str):
        return values
    return None


def _all(props: dict[str, Any], key: str) -> list[str]:
    values = props.get(key)
    if isinstance(values, list):
        return [str(v) for v in values if v is not None]
    if isinstance(values, str):
        return [values]
    return []


def _lid_tail(lid: str | None, prefix: str) -> str | None:
    """`urn:nasa:pds:context:instrument:mro.hirise` -> `HIRISE` (the part after the host)."""
    if not lid or not lid.startswith(prefix):
        return None
    tail = lid[len(prefix):]
    return tail.rsplit(".", 1)[-1].upper() or None


class PdsSource(Source):
    archive = "pds"
    settings: Settings

    @property
    def products_url(self) -> str:
        return f"{self.settings.base_url}/products"

    def target_clause(self) -> str:
        parts = [f'(ref_lid_target eq "{lid}")' for lid in self.settings.target_lids]
        parts += [f'({TARGET_NAME} like "{p}")' for p in self.settings.name_patterns]
        return " or ".join(parts)

    def query(self, harvested_since: str | None) -> str:
        clause = f"({self.target_clause()})"
        if harvested_since:
            clause += f' and ({HARVEST_TIME} ge "{harvested_since}")'
        return clause

    def request_params(self, harvested_since: str | None,
                       search_after: list[str] | None) -> dict[str, str]:
        params = {
            "q": self.query(harvested_since),
            "fields": ",".join(FIELDS),
            "limit": str(self.settings.page_size),
            "sort": f"{HARVEST_TIME},lidvid",
        }
        if search_after:
            params["search-after"] = ",".join(search_after)
        return params

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        through = (cursor or {}).get("harvested_through")
        since = None
        if through:
            since = iso(parse_iso(through) - timedelta(days=self.settings.lookback_days))
        search_after: list[str] | None = None
        seen = 0
        while True:
            answer = self.http.get_json(self.products_url,
                                        params=self.request_params(since, search_after))
            if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
                raise SourceError(f"PDS answer has no data list: {str(answer)[:200]}")
            records = answer["data"]
            seen += len(records)
            hits = (answer.get("summary") or {}).get("hits")
            for record in records:
                stamp = self._harvest_time(record)
                if stamp and (through is None or stamp > through):
                    through = stamp
            if records:
                last = records[-1]
                last_time = _first(last.get("properties") or {}, HARVEST_TIME)
                last_id = last.get("id") or _first(last.get("properties") or {}, "lidvid")
                if not last_time or not last_id:
                    raise SourceError("PDS record without harvest time or lidvid; cannot page")
                search_after = [last_time, last_id]
            yield Page(records=records, bookmark={"harvested_through": through},
                       note=f"{len(records)} records")
            # A short page ends it; so does having seen every hit (no empty request after a
            # page that happens to be exactly full).
            if len(records) < self.settings.page_size or (isinstance(hits, int) and seen >= hits):
                break

    @staticmethod
    def _harvest_time(record: Any) -> str | None:
        if not isinstance(record, dict):
            return None
        stamp = _first(record.get("properties") or {}, HARVEST_TIME)
        try:
            return normalize_iso(stamp)
        except ValueError:
            return None

    def native_id_of(self, record: Any) -> str | None:
        if isinstance(record, dict) and record.get("id"):
            return str(record["id"]).split("::")[0]
        return None

    def normalize(self, record: Any) -> Product | None:
        if not isinstance(record, dict):
            raise RecordRejected(f"expected a product object, got {type(record).__name__}")
        props = record.get("properties")
        if not isinstance(props, dict):
            raise RecordRejected("product has no properties object")
        lidvid = record.get("id") or _first(props, "lidvid")
        if not lidvid or "::" not in str(lidvid):
            raise RecordRejected(f"product has no lidvid: {lidvid!r}")
        lid, version = str(lidvid).split("::", 1)
        names = _all(props, TARGET_NAME)
        target_lids = _all(props, "ref_lid_target") + [
            t.get("id") for t in record.get("targets") or [] if isinstance(t, dict) and t.get("id")
        ]
        matched_by = None
        for target_lid in target_lids:
            if target_lid in self.settings.target_lids:
                matched_by = f"target_lid:{target_lid}"
                break
        if matched_by is None:
            match = self.matcher.match_any(names)
            if match is None:
                return None
            matched_by = match.matched_by
        try:
            obs_start = normalize_iso(_first(props, "pds:Time_Coordinates.pds:start_date_time")
                                      or record.get("start_date_time"))
            stop = _first(props, "pds:Time_Coordinates.pds:stop_date_time") or record.get(
                "stop_date_time")
            obs_end = None if not stop or str(stop).startswith(OPEN_END) else normalize_iso(stop)
        except ValueError as exc:
            raise RecordRejected(f"bad observation time: {exc}") from None
        size = _first(props, "ops:Data_File_Info.ops:file_size")
        product_class = _first(props, "pds:Identification_Area.pds:product_class") or record.get(
            "type")
        level = _first(props, "pds:Primary_Result_Summary.pds:processing_level")
        investigation_lid = _first(props, "ref_lid_investigation") or next(
            (i.get("id") for i in record.get("investigations") or [] if isinstance(i, dict)), None)
        instrument_lid = _first(props, "ref_lid_instrument")
        metadata = record.get("metadata") or {}
        extra = {
            "lidvid": lidvid,
            "harvest_date_time": self._harvest_time(record),
            "archive_status": _first(props, "ops:Tracking_Meta.ops:archive_status"),
            "node_name": _first(props, "ops:Harvest_Info.ops:node_name"),
            "investigation": _first(props, "pds:Investigation_Area.pds:name"),
            "investigation_lid": investigation_lid,
            "instrument_lid": instrument_lid,
            "instrument_host_lid": _first(props, "ref_lid_instrument_host"),
            "target_lids": target_lids,
            "label_url": metadata.get("label_url") if isinstance(metadata, dict) else None,
        }
        host_lid = _first(props, "ref_lid_instrument_host")
        return Product(
            archive=self.archive,
            native_id=lid,
            version=version,
            target_name=names[0] if names else (target_lids[0] if target_lids else ""),
            matched_by=matched_by,
            # The host LID is short (spacecraft.mro); investigation LIDs spell names out.
            mission=_lid_tail(host_lid, "urn:nasa:pds:context:instrument_host:")
            or _lid_tail(investigation_lid, "urn:nasa:pds:context:investigation:")
            or _first(props, "pds:Investigation_Area.pds:name"),
            instrument=_lid_tail(instrument_lid, "urn:nasa:pds:context:instrument:"),
            product_type=product_class.removeprefix("Product_").lower() if product_class else None,
            processing_level=level.lower() if level else None,
            obs_start=obs_start,
            obs_end=obs_end,
            release_date=None,
            access="public",
            url=_first(props, "ops:Data_File_Info.ops:file_ref") or extra["label_url"],
            size_bytes=int(size) if size and size.isdigit() else None,
            title=record.get("title") or _first(props, "title"),
            extra={k: v for k, v in extra.items() if v not in (None, [], "")},
            raw=record,
            public_since=extra["harvest_date_time"],
        )


SOURCE = PdsSource
