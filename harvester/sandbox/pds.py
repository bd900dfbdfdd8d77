"""PDS Search API stand-in (`/api/search/1`): `GET /products` and `GET /products/{id}`.

Answers have the shape of real Search API answers (tests/data/pds/*.json, recorded):
`{"summary": {...}, "data": [product, ...]}` with every property a list of strings. What the
real registry does, and so this does (sources in harvester/sandbox/README.md):
- `q` is parsed exactly as registry-api's Search.g4 (pds_query.py); anything else is HTTP 400
  with the registry's plain-text error;
- `fields=` limits `properties` to the requested fields, a field the product lacks being the
  string "null"; the top-level investigations, observing_system_components and targets come
  from the ref_lid_* fields either way;
- only archived products are served, and a lid's superseded versions drop out once a newer one
  is harvested; `sort` is ascending; `search-after` is strictly after the given sort tuple
  (OpenSearch), so paging on a key with ties needs a tie-breaker field.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from . import pds_query
from .archive import Archive, SandboxRequest
from .pds_query import Predicate, QuerySyntaxError, Record, parse_query
from .reply import Reply, json_reply
from .timeutil import canonical_date
from .util import gc_paused

MAX_LIMIT = 10000
_KNOWN_PARAMS = {"q", "fields", "limit", "sort", "search-after", "keywords", "facet-fields",
                 "facet-limit"}
_MISSING = (9,)
# Scenario field names -> the property each one fills.
SHORTHANDS = {
    "title": "title", "product_class": "product_class",
    "harvest_date_time": "ops:Harvest_Info.ops:harvest_date_time",
    "target_name": "pds:Target_Identification.pds:name", "target_lid": "ref_lid_target",
    "start_date_time": "pds:Time_Coordinates.pds:start_date_time",
    "stop_date_time": "pds:Time_Coordinates.pds:stop_date_time",
    "investigation": "pds:Investigation_Area.pds:name",
    "investigation_lid": "ref_lid_investigation", "instrument_lid": "ref_lid_instrument",
    "instrument_host_lid": "ref_lid_instrument_host",
    "processing_level": "pds:Primary_Result_Summary.pds:processing_level",
    "file_ref": "ops:Data_File_Info.ops:file_ref", "file_size": "ops:Data_File_Info.ops:file_size",
}  # sorts after every real value, as Elasticsearch's default `_last`


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if type(value) is list or type(value) is tuple:
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _vid_key(vid: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in vid.split("."))
    except ValueError:
        return (0,)


class PdsRecord(Record):
    __slots__ = ("archived", "created", "harvest", "label_url", "lid", "lidvid", "product_class",
                 "start", "stop", "title", "updated", "vid", "vid_key")

    def __init__(self, raw: dict[str, Any]) -> None:
        lidvid = raw.get("lidvid")
        if not lidvid:
            raise ValueError(f"PDS record without lidvid: {raw!r}")
        lid, _, vid = str(lidvid).partition("::")
        vid = vid or "1.0"
        self.lidvid = f"{lid}::{vid}"
        self.lid = lid
        self.vid = vid
        self.vid_key = _vid_key(vid)
        self.product_class = raw.get("product_class") or "Product_Observational"
        self.title = raw.get("title") or lid.rsplit(":", 1)[-1]
        harvest = raw.get("harvest_date_time") or "1970-01-01T00:00:00.000Z"
        harvest_canon = canonical_date(str(harvest))
        if harvest_canon is None:
            raise ValueError(f"bad harvest_date_time {harvest!r} in {lidvid}")
        self.harvest = harvest_canon
        status = raw.get("archive_status") or "archived"
        self.archived = status in ("archived", "certified")
        self.start = raw.get("start_date_time")
        self.stop = raw.get("stop_date_time")
        self.label_url = raw.get("label_url")
        self.created = raw.get("creation_date_time")
        self.updated = raw.get("update_date_time") or harvest

        investigation = raw.get("investigation")
        hosts = _as_list(raw.get("instrument_host"))
        instruments = _as_list(raw.get("instrument"))
        file_ref = raw.get("file_ref")
        pairs = (
            ("lid", lid),
            ("lidvid", self.lidvid),
            ("vid", vid),
            ("title", self.title),
            ("product_class", self.product_class),
            ("alternate_ids", [self.lidvid, lid]),
            ("pds:Identification_Area.pds:logical_identifier", lid),
            ("pds:Identification_Area.pds:version_id", vid),
            ("pds:Identification_Area.pds:title", self.title),
            ("pds:Identification_Area.pds:product_class", self.product_class),
            ("ops:Harvest_Info.ops:harvest_date_time", harvest),
            ("ops:Harvest_Info.ops:node_name", raw.get("node")),
            ("ops:Tracking_Meta.ops:archive_status", status),
            ("pds:Target_Identification.pds:name", raw.get("target_name")),
            ("pds:Target_Identification.pds:type", raw.get("target_type")),
            ("ref_lid_target", raw.get("target_lid")),
            ("pds:Time_Coordinates.pds:start_date_time", self.start),
            ("pds:Time_Coordinates.pds:stop_date_time", self.stop),
            ("pds:Investigation_Area.pds:name", investigation),
            ("pds:Investigation_Area.pds:type",
             raw.get("investigation_type", "Mission") if investigation else None),
            ("ref_lid_investigation", raw.get("investigation_lid")),
            ("pds:Observing_System_Component.pds:name", hosts + instruments),
            ("pds:Observing_System_Component.pds:type",
             ["Host"] * len(hosts) + ["Instrument"] * len(instruments)),
            ("ref_lid_instrument_host", raw.get("instrument_host_lid")),
            ("ref_lid_instrument", raw.get("instrument_lid")),
            ("pds:Primary_Result_Summary.pds:processing_level", raw.get("processing_level")),
            ("ops:Data_File_Info.ops:file_ref", file_ref),
            ("ops:Data_File_Info.ops:file_name",
             str(file_ref).rsplit("/", 1)[-1] if file_ref else None),
            ("ops:Data_File_Info.ops:file_size", raw.get("file_size")),
            ("ops:Label_File_Info.ops:file_ref", self.label_url),
        )
        props: dict[str, list[str]] = {}
        for name, value in pairs:
            # Inline fast path: generated scenarios build 50,000 of these.
            if value is None:
                continue
            if type(value) is str:
                props[name] = [value]
            else:
                values = _as_list(value)
                if values:
                    props[name] = values
        for name, value in (raw.get("properties") or {}).items():
            props[pds_query.field_name(name)] = _as_list(value)
        super().__init__(props)

    def doc(self, base: str, fields: list[str] | None) -> dict[str, Any]:
        """The product as registry-api's PdsProductTransformer writes it: the top-level
        references come from the ref_lid_* fields whatever `fields` asked for; `properties`
        holds only the requested fields, a missing one as ["null"]; null members are left out
        (the recorded answer in tests/data/pds has no null keys)."""
        def refs(*names: str) -> list[dict[str, str]]:
            return [{"id": lid, "href": f"{base}/products/{lid}"}
                    for name in names for lid in self.props.get(name, ())]

        if fields:
            props = {f: self.props[f] if f in self.props else ["null"] for f in fields}
        else:
            props = self.props
        metadata = {"label_url": self.label_url, "version": self.vid,
                    "creation_date_time": self.created, "update_date_time": self.updated}
        doc = {
            "id": self.lidvid,
            "type": self.product_class,
            "title": self.title,
            "start_date_time": self.start,
            "stop_date_time": self.stop,
            "investigations": refs("ref_lid_investigation"),
            "observing_system_components": refs("ref_lid_instrument_host", "ref_lid_instrument"),
            "targets": refs("ref_lid_target"),
            "metadata": {k: v for k, v in metadata.items() if v is not None},
            "properties": props,
        }
        return {k: v for k, v in doc.items() if v is not None}


_STATUS_NAMES = {400: "400 BAD_REQUEST", 404: "404 NOT_FOUND", 406: "406 NOT_ACCEPTABLE"}


def error_reply(status: int, path: str, message: str) -> Reply:
    """An error as registry-api's RegistryApiResponseEntityExceptionHandler writes it: plain
    text (the status, the request, the message, a reference id, whom to write to)."""
    text = (f"{_STATUS_NAMES.get(status, status)}\n Request uri={path} failed with message:\n"
            f"{message}(ref:{uuid.uuid4()})\n"
            "For assistance, forward this error message to pds-operator@jpl.nasa.gov")
    return Reply(status, text.encode(), "text/plain;charset=UTF-8")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class PdsArchive(Archive):
    """Products by lidvid, with caches so search-after paging is a bisect, not a scan."""

    prefix = "/pds/api/search/1"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, PdsRecord] = {}
        self._version = 0
        self._visible_key: tuple | None = None
        self._visible_list: list[PdsRecord] = []
        self._results: OrderedDict[tuple, tuple[list[PdsRecord], list[tuple]]] = OrderedDict()
        self._parsed: dict[str, Predicate] = {}

    def add(self, raws: Iterable[dict[str, Any]]) -> int:
        with gc_paused():
            records = [PdsRecord(r) for r in raws]
        with self._lock:
            for rec in records:
                self._records[rec.lidvid] = rec
            self._version += 1
            self._results.clear()
        return len(records)

    def __len__(self) -> int:
        return len(self._records)

    def corrupt(self, lidvid: str, **properties: Any) -> None:
        """Overwrite served properties with raw values (no list wrapping, no checks).

        Names are property names ('.' or '/' form) or the scenario shorthands
        (harvest_date_time, target_name, start_date_time, ...).
        """
        with self._lock:
            rec = self._records[lidvid]
            for name, value in properties.items():
                rec.props[SHORTHANDS.get(name, pds_query.field_name(name))] = value
            rec._keys.clear()
            self._version += 1
            self._results.clear()

    def visible(self, clock: str) -> list[PdsRecord]:
        """Archived, harvested by `clock`, and the latest such version of each lid."""
        with self._lock:
            key = (clock, self._version)
            if self._visible_key == key:
                return self._visible_list
            records = list(self._records.values())
        latest: dict[str, PdsRecord] = {}
        for rec in records:
            if rec.archived and rec.harvest <= clock:
                best = latest.get(rec.lid)
                if best is None or rec.vid_key > best.vid_key:
                    latest[rec.lid] = rec
        result = list(latest.values())
        with self._lock:
            self._visible_key, self._visible_list = key, result
        return result

    def _predicate(self, q: str) -> Predicate:
        pred = self._parsed.get(q)
        if pred is None:
            pred = parse_query(q)
            if len(self._parsed) > 256:
                self._parsed.clear()
            self._parsed[q] = pred
        return pred

    def _matching(self, q: str, sort: list[str], clock: str
                  ) -> tuple[list[PdsRecord], list[tuple]]:
        pred = self._predicate(q) if q else None
        cache_key = (q, tuple(sort), clock, self._version)
        with self._lock:
            hit = self._results.get(cache_key)
            if hit is not None:
                self._results.move_to_end(cache_key)
                return hit
        records = self.visible(clock)
        if pred is not None:
            records = [r for r in records if pred(r)]
        keys: list[tuple] = []
        if sort:
            def sort_key(rec: PdsRecord) -> tuple:
                # Elasticsearch sorts a multi-valued field ascending by its smallest value.
                return tuple(min(ks) if (ks := rec.keys(f)) else _MISSING for f in sort)

            pairs = sorted(((sort_key(r), r) for r in records), key=lambda p: p[0])
            keys = [k for k, _ in pairs]
            records = [r for _, r in pairs]
        result = (records, keys)
        with self._lock:
            self._results[cache_key] = result
            while len(self._results) > 32:
                self._results.popitem(last=False)
        return result

    # ---- HTTP -------------------------------------------------------------

    def serve(self, request: SandboxRequest) -> Reply:
        if request.method != "GET":
            return json_reply({"request": request.path, "message": "Method not allowed"}, 405)
        return self.handle(request.path, request.query, request.headers.get("accept"),
                           request.clock_canon, request.base_url, request.request_url)

    def base_urls(self, base_url: str) -> dict[str, str]:
        return {"pds": base_url}

    def handle(self, subpath: str, query: str, accept: str | None, clock: str, base: str,
               request_url: str) -> Reply:
        try:
            if accept and "json" not in accept and "*/*" not in accept:
                raise BadRequest(f"AcceptFormatNotSupportedException: format {accept} is not "
                                 "supported Supported formats (in Accept header) are: "
                                 "application/json", 406)
            if subpath in ("/products", "/products/"):
                return self.search(parse_qs(query, keep_blank_values=True), clock, base)
            if subpath.startswith("/products/"):
                ident = unquote(subpath[len("/products/"):]).removesuffix("/latest")
                return self.get(ident, clock, base)
            raise BadRequest(f"NotFoundException: No endpoint {subpath}", 404)
        except BadRequest as exc:
            return error_reply(exc.status, self.prefix + subpath, str(exc))

    def search(self, params: dict[str, list[str]], clock: str, base: str) -> Reply:
        started = time.perf_counter()
        unknown = sorted(set(params) - _KNOWN_PARAMS)
        if unknown:
            raise BadRequest(f"UnknownQueryParameterException: Unknown query parameter(s): "
                             f"{', '.join(unknown)}")

        def listed(name: str) -> list[str]:
            return [v.strip() for raw in params.get(name, []) for v in raw.split(",") if v.strip()]

        q = (params.get("q") or [""])[-1].strip()
        fields = [pds_query.field_name(f) for f in listed("fields")]
        sort = [pds_query.field_name(f) for f in listed("sort")]
        search_after = listed("search-after")
        try:
            limit = int((params.get("limit") or ["100"])[-1])
        except ValueError as exc:
            raise BadRequest("limit must be an integer") from exc
        if limit < 0 or limit > MAX_LIMIT:
            raise BadRequest(f"limit must be between 0 and {MAX_LIMIT}")
        if search_after and not sort:
            raise BadRequest("SortSearchAfterMismatchException: sort argument must be provided if "
                             "searchAfter argument is provided")
        if search_after and len(search_after) != len(sort):
            raise BadRequest("SortSearchAfterMismatchException: sort and searchAfter arguments "
                             "must be of equal length if provided")
        try:
            records, keys = self._matching(q, sort, clock)
        except QuerySyntaxError as exc:
            # BailErrorStrategy wraps the error without a message, hence the literal "null".
            raise BadRequest("UnparsableQParamException: Unable to parse the q parameter:"
                             "Invalid q string value syntax null") from exc
        start = 0
        if search_after:
            start = bisect_right(keys, tuple(pds_query.value_key(v) for v in search_after))
        page = records[start:start + limit]
        docs = [r.doc(base, fields) for r in page]
        if fields:
            properties = fields
        else:
            properties = sorted({name for d in docs for name in d["properties"]})
        summary = {
            "q": q, "hits": len(records), "took": int((time.perf_counter() - started) * 1000),
            "limit": limit, "sort": sort, "search_after": search_after,
            "properties": properties, "facets": [],
        }
        return Reply(200, json.dumps({"summary": summary, "data": docs}).encode(),
                     "application/json")

    def get(self, identifier: str, clock: str, base: str) -> Reply:
        with self._lock:
            rec = self._records.get(identifier)
        if rec is not None and not (rec.archived and rec.harvest <= clock):
            rec = None
        if rec is None and "::" not in identifier:
            versions = [r for r in self.visible(clock) if r.lid == identifier]
            rec = versions[0] if versions else None
        if rec is None:
            raise BadRequest(f"NotFoundException: The lidvid {identifier} was not found", 404)
        return json_reply(rec.doc(base, None))
