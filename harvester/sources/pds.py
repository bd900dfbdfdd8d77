"""NASA PDS through the Search API (`/products`): HiRISE, Mastcam-Z, MAVEN IUVS, Psyche, Lucy...

PDS serves only archived (public) products and has no release-date field; its
`ops:Harvest_Info.ops:harvest_date_time` says when a product was loaded. The cursor is the
newest harvest time stored; each run asks for products harvested since then minus a look-back,
sorted by harvest time and lidvid, paging with `search-after`. Because the sort is on the
cursor's own field, every page's bookmark is safe to commit as soon as the page is stored.

Which products: those whose target reference is a known target LID (the configured ones, those
stored in the catalog, and those found among the registry's context products, looked up at most
once per `context_refresh_hours` and kept in the cursor), or whose target name is exactly one of
the target's spellings. The registry's `like` is not used (see pds_query.py).

Reading a product: a field the product lacks comes back as the string "null" when `fields=`
asks for it; host, instrument, investigation and target references are read from the top-level
lists every answer has, then from the ref_lid_* properties. ESA products mirrored in PDS use
`urn:esa:psa:context:...` LIDs, read the same way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from harvester.errors import ConfigError, HarvesterError, RecordRejected, SourceError
from harvester.product import Product
from harvester.settings import SourceSettings
from harvester.sources import pds_contexts
from harvester.sources.base import Page, Probe, Source, TargetId
from harvester.sources.pds_contexts import present
from harvester.sources.pds_query import (
    HARVEST_TIME,
    TARGET_NAME,
    harvest_query,
    quotable,
    spellings,
    target_group,
)
from harvester.timeutil import iso, normalize_iso, parse_iso

log = logging.getLogger("harvester.sources.pds")

OPEN_END = "3000-01-01"
START = "pds:Time_Coordinates.pds:start_date_time"
STOP = "pds:Time_Coordinates.pds:stop_date_time"
FIELDS = [
    "lidvid", "title", HARVEST_TIME, TARGET_NAME, "ref_lid_target", START, STOP,
    "pds:Investigation_Area.pds:name", "ref_lid_investigation",
    "pds:Observing_System_Component.pds:name", "pds:Observing_System_Component.pds:type",
    "ref_lid_instrument", "ref_lid_instrument_host",
    "pds:Identification_Area.pds:product_class", "pds:Identification_Area.pds:version_id",
    "pds:Primary_Result_Summary.pds:processing_level", "ops:Tracking_Meta.ops:archive_status",
    "ops:Data_File_Info.ops:file_ref", "ops:Data_File_Info.ops:file_size",
    "ops:Harvest_Info.ops:node_name",
]
# What normalize() cannot do without: a product's identity and its place in the paging order.
REQUIRED = ("id", HARVEST_TIME)
_CONTEXT_LID = re.compile(r"^urn:[^:]+:[^:]+:context:(?P<type>[a-z_]+):(?P<id>.+)$")


@dataclass
class Settings(SourceSettings):
    base_url: str = "https://pds.nasa.gov/api/search/1"
    # Unverified guesses (docs/archives.md); the registry's context products are searched too.
    target_lids: list[str] = field(
        default_factory=lambda: ["urn:nasa:pds:context:target:comet.3i_atlas"]
    )
    # Look the target up among the registry's context products (one query, cached).
    discover_targets: bool = True
    context_target_types: list[str] = field(default_factory=lambda: ["Comet"])
    context_refresh_hours: float = 24.0
    # Removed: the registry's `like` does not work; kept only to say so.
    name_patterns: list[str] = field(default_factory=list)
    lookback_days: float = 7.0
    page_size: int = 2000

    def validate(self, *, where: str, path: str) -> None:
        if self.name_patterns:
            raise ConfigError(
                f"{path}: [{where}] name_patterns: no longer used: the PDS registry's `like` does "
                "not work (registry-api #170), so target names are matched with exact `eq` on every "
                "[target] alias; remove the key")
        for lid in [*self.target_lids, *self.context_target_types]:
            if not quotable(lid):
                raise ConfigError(f"{path}: [{where}] {lid!r}: double quotes and line breaks are not allowed")
        if self.context_refresh_hours <= 0:
            raise ConfigError(f"{path}: [{where}] context_refresh_hours: must be greater than 0")


def first(props: dict[str, Any], key: str) -> str | None:
    values = present(props.get(key))
    return values[0] if values else None


def context_parts(lid: str | None) -> tuple[str, str] | None:
    """`urn:nasa:pds:context:instrument:mro.hirise` -> ("instrument", "mro.hirise"); ESA's
    `urn:esa:psa:context:...` the same way."""
    found = _CONTEXT_LID.match(lid or "")
    return (found["type"], found["id"]) if found else None


def short_name(lid: str) -> str:
    """The catalog's short spelling of a context LID: the part after the last dot, upper case
    (`spacecraft.mro` -> MRO, `mro.hirise` -> HIRISE, `mission.mars_reconnaissance_orbiter` ->
    MARS_RECONNAISSANCE_ORBITER)."""
    parts = context_parts(lid)
    tail = parts[1] if parts else lid
    return tail.rsplit(".", 1)[-1].upper()


def _refs(record: dict[str, Any], key: str) -> list[str]:
    return [r["id"] for r in record.get(key) or [] if isinstance(r, dict) and isinstance(r.get("id"), str)]


def references(record: dict[str, Any]) -> dict[str, list[str]]:
    """Context LIDs by type (target, instrument_host, instrument, investigation), from the
    top-level lists every answer has, then from the ref_lid_* properties."""
    props = record.get("properties") or {}
    found: dict[str, list[str]] = {}
    listed = (_refs(record, "targets") + _refs(record, "observing_system_components")
              + _refs(record, "investigations"))
    from_props = [*present(props.get("ref_lid_target")), *present(props.get("ref_lid_instrument_host")),
                  *present(props.get("ref_lid_instrument")), *present(props.get("ref_lid_investigation"))]
    for lid in listed + from_props:
        parts = context_parts(lid)
        if parts:
            kind = found.setdefault(parts[0], [])
            if lid not in kind:
                kind.append(lid)
    return found


class PdsSource(Source):
    archive = "pds"
    settings: Settings

    @property
    def products_url(self) -> str:
        return f"{self.settings.base_url}/products"

    def known_lids(self, discovered: list[str] = ()) -> list[str]:
        lids = [*self.settings.target_lids, *self.context.target_ids, *discovered]
        return list(dict.fromkeys(lid for lid in lids if lid))

    def query(self, harvested_since: str | None, lids: list[str] | None = None) -> str:
        lids = self.known_lids() if lids is None else lids
        return harvest_query(target_group(lids, spellings(self.matcher.spellings)), harvested_since)

    def request_params(self, harvested_since: str | None, search_after: list[str] | None,
                       lids: list[str] | None = None) -> dict[str, str]:
        params = {
            "q": self.query(harvested_since, lids),
            "fields": ",".join(FIELDS),
            "limit": str(self.settings.page_size),
            "sort": f"{HARVEST_TIME},lidvid",
        }
        if search_after:
            params["search-after"] = ",".join(search_after)
        return params

    # ---- target contexts

    def context_cache(self, cursor: dict[str, Any]) -> dict[str, Any]:
        """The cursor's record of the last context lookup, refreshed when it is older than
        `context_refresh_hours` (an unreadable one counts as none)."""
        cache = cursor.get("contexts")
        if not self.settings.discover_targets:
            return {}
        fresh = False
        if isinstance(cache, dict) and isinstance(cache.get("checked_at"), str):
            try:
                age = self.now - parse_iso(cache["checked_at"])
                fresh = timedelta(0) <= age < timedelta(hours=self.settings.context_refresh_hours)
            except ValueError:
                fresh = False
        if fresh:
            return cache
        try:
            found = self.discover_target_ids()
        except HarvesterError as exc:
            # The products can still be found by the LIDs known so far and by name.
            log.warning("PDS target context lookup failed, trying again next run: %s", exc)
            return cache if isinstance(cache, dict) else {}
        self.found_target_ids = found
        return {"checked_at": self.now_iso, "lids": [t.value for t in found]}

    def discover_target_ids(self) -> list[TargetId]:
        return pds_contexts.discover(self.http, self.products_url, self.matcher,
                                     target_types=self.settings.context_target_types,
                                     page_size=self.settings.page_size)

    # ---- pages

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        cursor = cursor or {}
        contexts = self.context_cache(cursor)
        lids = self.known_lids([lid for lid in contexts.get("lids") or [] if isinstance(lid, str)])
        self._lids = set(lids)
        through = cursor.get("harvested_through")
        since = None
        if through:
            since = iso(parse_iso(through) - timedelta(days=self.settings.lookback_days))
        search_after: list[str] | None = None
        seen = 0
        while True:
            answer = self.http.get_json(self.products_url,
                                        params=self.request_params(since, search_after, lids))
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
                last = records[-1] if isinstance(records[-1], dict) else {}
                last_time = first(last.get("properties") or {}, HARVEST_TIME)
                last_id = last.get("id") or first(last.get("properties") or {}, "lidvid")
                if not last_time or not last_id:
                    raise SourceError("PDS record without harvest time or lidvid; cannot page")
                search_after = [last_time, last_id]
            bookmark = {"harvested_through": through}
            if contexts:
                bookmark["contexts"] = contexts
            yield Page(records=records, bookmark=bookmark, note=f"{len(records)} records")
            # A short page ends it; so does having seen every hit (no empty request after a
            # page that happens to be exactly full).
            if len(records) < self.settings.page_size or (isinstance(hits, int) and seen >= hits):
                break

    @staticmethod
    def _harvest_time(record: Any) -> str | None:
        if not isinstance(record, dict):
            return None
        try:
            return normalize_iso(first(record.get("properties") or {}, HARVEST_TIME))
        except ValueError:
            return None

    def unchanged_context(self) -> Any:
        # Which target LIDs are known decides matched_by; fetch_pages settles them first.
        return sorted(getattr(self, "_lids", None) or self.known_lids())

    def native_id_of(self, record: Any) -> str | None:
        if isinstance(record, dict) and record.get("id"):
            return str(record["id"]).split("::")[0]
        return None

    # ---- one product

    def _matched_by(self, target_lids: list[str], names: list[str]) -> str | None:
        known = getattr(self, "_lids", None) or set(self.known_lids())
        for lid in target_lids:
            if lid in known:
                return f"target_lid:{lid}"
        match = self.matcher.match_any(names)
        return match.matched_by if match else None

    def normalize(self, record: Any) -> Product | None:
        if not isinstance(record, dict):
            raise RecordRejected(f"expected a product object, got {type(record).__name__}")
        props = record.get("properties")
        if not isinstance(props, dict):
            raise RecordRejected("product has no properties object")
        lidvid = record.get("id") or first(props, "lidvid")
        if not lidvid or "::" not in str(lidvid):
            raise RecordRejected(f"product has no lidvid: {lidvid!r}")
        lid, version = str(lidvid).split("::", 1)
        refs = references(record)
        names = present(props.get(TARGET_NAME))
        matched_by = self._matched_by(refs.get("target", []), names)
        if matched_by is None:
            return None
        obs_start, obs_end = self._times(record, props)
        hosts, instruments = refs.get("instrument_host", []), refs.get("instrument", [])
        investigations = refs.get("investigation", [])
        investigation_name = first(props, "pds:Investigation_Area.pds:name")
        component_names = present(props.get("pds:Observing_System_Component.pds:name"))
        product_class = first(props, "pds:Identification_Area.pds:product_class") or record.get("type")
        level = first(props, "pds:Primary_Result_Summary.pds:processing_level")
        size = first(props, "ops:Data_File_Info.ops:file_size")
        metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
        extra = {
            "lidvid": lidvid,
            "harvest_date_time": self._harvest_time(record),
            "archive_status": first(props, "ops:Tracking_Meta.ops:archive_status"),
            "node_name": first(props, "ops:Harvest_Info.ops:node_name"),
            "investigation": investigation_name,
            "investigation_lid": investigations[0] if investigations else None,
            "instrument_lid": instruments[0] if instruments else None,
            "instrument_host_lid": hosts[0] if hosts else None,
            "target_lids": refs.get("target", []),
            "label_url": metadata.get("label_url"),
        }
        # The host LID is short (spacecraft.mro); investigation LIDs spell names out. Every
        # spelling goes to the platforms table, which knows they are one mission.
        mission_names = [*hosts, *(short_name(h) for h in hosts), *investigations,
                         *(short_name(i) for i in investigations), *component_names]
        if investigation_name:
            mission_names.append(investigation_name)
        return Product(
            archive=self.archive,
            native_id=lid,
            version=version,
            target_name=names[0] if names else (refs.get("target") or [""])[0],
            matched_by=matched_by,
            mission=(short_name(hosts[0]) if hosts else short_name(investigations[0]) if investigations
                     else investigation_name),
            instrument=short_name(instruments[0]) if instruments else None,
            product_type=product_class.removeprefix("Product_").lower() if product_class else None,
            processing_level=level.lower() if level else None,
            obs_start=obs_start,
            obs_end=obs_end,
            release_date=None,
            access="public",
            url=first(props, "ops:Data_File_Info.ops:file_ref") or extra["label_url"],
            size_bytes=int(size) if size and size.isdigit() else None,
            title=record.get("title") or first(props, "title"),
            extra={k: v for k, v in extra.items() if v not in (None, [], "")},
            raw=record,
            public_since=extra["harvest_date_time"],
            mission_names=mission_names,
            instrument_names=[*instruments, *component_names],
        )

    @staticmethod
    def _times(record: dict[str, Any], props: dict[str, Any]) -> tuple[str | None, str | None]:
        start = first(props, START) or next(iter(present(record.get("start_date_time"))), None)
        stop = first(props, STOP) or next(iter(present(record.get("stop_date_time"))), None)
        try:
            obs_start = normalize_iso(start) if start else None
            obs_end = None if not stop or stop.startswith(OPEN_END) else normalize_iso(stop)
        except ValueError as exc:
            raise RecordRejected(f"bad observation time: {exc}") from None
        return obs_start, obs_end

    # ---- doctor

    def probe(self) -> Probe:
        found = self.discover_target_ids() if self.settings.discover_targets else []
        params = self.request_params(None, None, self.known_lids([t.value for t in found]))
        params["limit"] = "5"
        answer = self.http.get_json(self.products_url, params=params)
        probe = Probe(request=f"GET {self.products_url}?q=(target contexts), then "
                              "?q=(the target's LIDs and names)&limit=5")
        if self.settings.discover_targets:
            probe.note = ("target context: " + ", ".join(t.value for t in found) if found else
                          "no context product names the target yet")
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
            probe.missing = ["data"]
            return probe
        hits = (answer.get("summary") or {}).get("hits")
        probe.records = hits if isinstance(hits, int) else None
        if probe.records is None:
            probe.missing.append("summary.hits")
        for record in answer["data"][:5]:
            props = record.get("properties") if isinstance(record, dict) else None
            if not isinstance(props, dict):
                probe.missing.append("properties")
                break
            if not record.get("id"):
                probe.missing.append("id")
            if HARVEST_TIME not in props:
                probe.missing.append(HARVEST_TIME)
        probe.missing = list(dict.fromkeys(probe.missing))
        return probe


SOURCE = PdsSource
