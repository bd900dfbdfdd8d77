"""MAST Portal API stand-in: `POST /api/v0/invoke` with a form field `request=<JSON>`.

Services: Mast.Caom.Filtered (and .Position, whose cone is mast_position.py's), Mast.Caom.Products,
plus the portal's columnsconfig endpoint astroquery calls before any query, and the file
download service `GET /api/v0.1/Download/file?uri=mast:...` (astroquery's MAST_DOWNLOAD_URL)
for preview images: a visible observation's `jpegURL`, or the preview file Mast.Caom.Products
lists for it, is served as a real JPEG; any other file is a 404.
Answers have the envelope of a real Mast.Caom.Filtered answer
(shared/fixtures/mast/advSearch.json): status, msg, data, fields, paging.
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from .archive import Archive, SandboxRequest
from .mast_columns import CAOM_COLUMNS_CONFIG
from .reply import Reply, json_reply, text_reply
from .timeutil import to_mjd
from .util import gc_paused, wildcard_regex

# Column set and types of a real Mast.Caom.Filtered answer (shared/fixtures/mast/advSearch.json,
# in its order), plus three CAOM columns that answer lacks but today's service has and filters
# on: intentType and provenance_name (astroquery docs/mast/mast_mastquery.rst, a Caom.Cone
# answer) and sequence_number, the TESS sector (astroquery mast/tests/test_mast_remote.py filters
# Mast.Caom.Filtered on it).
FIELDS: list[dict[str, str]] = [
    {"name": n, "type": t} for n, t in [
        ("dataproduct_type", "string"), ("calib_level", "int"), ("obs_collection", "string"),
        ("obs_id", "string"), ("target_name", "string"), ("s_ra", "float"), ("s_dec", "float"),
        ("t_min", "float"), ("t_max", "float"), ("t_exptime", "float"),
        ("wavelength_region", "string"), ("filters", "string"), ("em_min", "float"),
        ("em_max", "float"), ("target_classification", "string"), ("obs_title", "string"),
        ("t_obs_release", "float"), ("instrument_name", "string"), ("proposal_pi", "string"),
        ("proposal_id", "string"), ("project", "string"), ("s_region", "string"),
        ("jpegURL", "string"), ("dataURL", "string"), ("intentType", "string"),
        ("provenance_name", "string"), ("sequence_number", "int"),
        ("obsid", "string"), ("objID", "string"),
    ]
]
COLUMNS = [f["name"] for f in FIELDS]
_TIME_COLUMNS = ("t_min", "t_max", "t_obs_release")
# Scenario keys that steer the sandbox and never appear in a row.
_CONTROL_KEYS = {"appears", "products"}

PRODUCT_FIELDS: list[dict[str, str]] = [
    {"name": n, "type": t} for n, t in [
        ("obsID", "string"), ("obs_collection", "string"), ("dataproduct_type", "string"),
        ("obs_id", "string"), ("description", "string"), ("type", "string"),
        ("dataURI", "string"), ("productType", "string"), ("productGroupDescription", "string"),
        ("productSubGroupDescription", "string"), ("productDocumentationURL", "string"),
        ("project", "string"), ("prvversion", "string"), ("productFilename", "string"),
        ("size", "int"), ("_selected_", "boolean"),
    ]
]
PRODUCTS_COLUMNS_CONFIG: dict[str, dict[str, Any]] = {
    f["name"]: {"text": f["name"], "vot.datatype": {"int": "long", "boolean": "boolean"}
                .get(f["type"], "char")}
    for f in PRODUCT_FIELDS
}

DEFAULT_PAGESIZE = 50000


class MastError(Exception):
    """A request MAST would answer with status ERROR."""


class MastRecord:
    """One observation: its finished row plus visibility and cached serialisation."""

    __slots__ = ("_json", "appears", "extras", "obsid", "products", "row")

    def __init__(self, obsid: int, appears: float, row: dict[str, Any],
                 products: list[dict[str, Any]] | None) -> None:
        self.obsid = obsid
        self.appears = appears
        self.row = row
        self.products = products
        self.extras: tuple[str, ...] = ()
        self._json: str | None = None

    def json(self) -> str:
        # Rows never change once built (an update replaces the record), so a page
        # is a join of cached strings rather than a fresh json.dumps of every row.
        if self._json is None:
            self._json = json.dumps(self.row)
        return self._json


def _mjd_or_none(value: Any) -> float | None:
    return None if value is None else to_mjd(value)


def make_record(raw: dict[str, Any]) -> MastRecord:
    """Scenario record (ISO or MJD times, any subset of columns) -> MastRecord."""
    if "obsid" not in raw:
        raise ValueError(f"MAST record without obsid: {raw!r}")
    obsid = int(raw["obsid"])
    t_min = _mjd_or_none(raw.get("t_min"))
    t_max = _mjd_or_none(raw.get("t_max"))
    if t_max is None:
        t_max = t_min
    if t_min is None:
        t_min = t_max
    release = _mjd_or_none(raw.get("t_obs_release"))
    if release is None:
        release = t_max
    appears = _mjd_or_none(raw.get("appears"))
    if appears is None:
        # Real pipelines publish metadata about a day after the exposure ends.
        appears = (t_max + 1.0) if t_max is not None else 0.0
    collection = raw.get("obs_collection")
    obs_id = raw.get("obs_id") or f"obs{obsid}"
    exptime = raw.get("t_exptime")
    if exptime is None and t_min is not None and t_max is not None:
        exptime = round((t_max - t_min) * 86400.0, 3)
    get = raw.get
    # One literal rather than defaults + merge: generated scenarios build 100,000 rows.
    row: dict[str, Any] = {
        "dataproduct_type": get("dataproduct_type", "image"),
        "calib_level": get("calib_level", 2),
        "obs_collection": collection,
        "obs_id": obs_id,
        "target_name": get("target_name"),
        "s_ra": get("s_ra"),
        "s_dec": get("s_dec"),
        "t_min": t_min,
        "t_max": t_max,
        "t_exptime": exptime,
        "wavelength_region": get("wavelength_region", "OPTICAL"),
        "filters": get("filters"),
        "em_min": get("em_min"),
        "em_max": get("em_max"),
        "target_classification": get("target_classification"),
        "obs_title": get("obs_title"),
        "t_obs_release": release,
        "instrument_name": get("instrument_name"),
        "proposal_pi": get("proposal_pi"),
        "proposal_id": get("proposal_id"),
        "project": get("project", collection),
        "s_region": get("s_region"),
        "jpegURL": get("jpegURL"),
        "dataURL": get("dataURL"),
        "intentType": get("intentType", "science"),
        "provenance_name": get("provenance_name"),
        "sequence_number": get("sequence_number"),
        "obsid": obsid,
        "objID": get("objID", obsid + 7612867),
    }
    extras = []
    for key, value in raw.items():
        if key not in row and key not in _CONTROL_KEYS and not key.startswith("_"):
            row[key] = value
            extras.append(key)
    rec = MastRecord(obsid, appears, row, get("products"))
    rec.extras = tuple(extras)
    return rec


def _field_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "string"


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _compile_filter(spec: dict[str, Any], known: set[str]) -> Callable[[dict], bool] | None:
    name = spec.get("paramName")
    if not isinstance(name, str) or not name:
        raise MastError("Filter without paramName")
    if name not in known:
        raise MastError(f"Invalid column name '{name}'.")
    values = spec.get("values") or []
    if not isinstance(values, list):
        values = [values]
    ranges = []
    for v in values:
        if isinstance(v, dict):
            lo, hi = v.get("min"), v.get("max")
            ranges.append((None if lo is None else float(lo), None if hi is None else float(hi)))
    discrete = [v for v in values if not isinstance(v, dict)]
    exact = {str(v).casefold() for v in discrete}
    exact_num = {n for n in (_as_number(v) for v in discrete) if n is not None}
    free = spec.get("freeText")
    free_rx = wildcard_regex(str(free), many="%", one="_") if free not in (None, "") else None
    separator = spec.get("separator")
    if not ranges and not discrete and free_rx is None:
        return None

    def parts(value: Any) -> list[Any]:
        if separator and isinstance(value, str):
            return [value, *value.split(separator)]
        return [value]

    def accept(row: dict) -> bool:
        value = row.get(name)
        if value is None:
            return False
        if ranges:
            num = _as_number(value)
            if num is not None:
                for lo, hi in ranges:
                    if (lo is None or num >= lo) and (hi is None or num <= hi):
                        return True
        for part in parts(value):
            if discrete:
                if str(part).casefold() in exact:
                    return True
                if exact_num and not isinstance(part, str) and _as_number(part) in exact_num:
                    return True
            if free_rx is not None and free_rx.fullmatch(str(part)):
                return True
        return False

    return accept


class MastArchive(Archive):
    """The observations table, indexed by obsid, with a cache of filtered results."""

    prefix = "/mast"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[int, MastRecord] = {}
        self._sorted: list[MastRecord] | None = None
        self._extra_fields: dict[str, str] = {}
        self._version = 0
        # (filters, clock, version) -> matching records in obsid order; paging through
        # one query is then a list slice instead of a scan of every product per page.
        self._cache: OrderedDict[tuple, list[MastRecord]] = OrderedDict()

    def add(self, raws: Iterable[dict[str, Any]]) -> int:
        with gc_paused():
            records = [make_record(r) for r in raws]
        with self._lock:
            for rec in records:
                self._records[rec.obsid] = rec
                for key in rec.extras:
                    value = rec.row[key]
                    if key not in self._extra_fields and value is not None:
                        self._extra_fields[key] = _field_type(value)
            self._sorted = None
            self._version += 1
            self._cache.clear()
        return len(records)

    def __len__(self) -> int:
        return len(self._records)

    def corrupt(self, obsid: int, **fields: Any) -> None:
        """Overwrite served row values verbatim (no time conversion, no checks)."""
        with self._lock:
            old = self._records[int(obsid)]
            rec = MastRecord(old.obsid, old.appears, {**old.row, **fields}, old.products)
            rec.extras = old.extras + tuple(k for k in fields if k not in old.row)
            for key in rec.extras:
                if key not in self._extra_fields and rec.row[key] is not None:
                    self._extra_fields[key] = _field_type(rec.row[key])
            self._records[rec.obsid] = rec
            self._sorted = None
            self._version += 1
            self._cache.clear()

    def _snapshot(self) -> tuple[int, list[MastRecord], list[dict[str, str]]]:
        with self._lock:
            if self._sorted is None:
                self._sorted = sorted(self._records.values(), key=lambda r: r.obsid)
            extra = [{"name": k, "type": t} for k, t in self._extra_fields.items()]
            return self._version, self._sorted, FIELDS + extra

    def visible(self, clock_mjd: float) -> list[MastRecord]:
        _, records, _ = self._snapshot()
        return [r for r in records if r.appears <= clock_mjd]

    def filtered(self, filters: list[dict[str, Any]], clock_mjd: float
                 ) -> tuple[list[MastRecord], list[dict[str, str]]]:
        version, records, fields = self._snapshot()
        key = (json.dumps(filters, sort_keys=True, default=str), clock_mjd, version)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit, fields
        known = {f["name"] for f in fields}
        preds = [p for p in (_compile_filter(f, known) for f in filters) if p is not None]
        result = [r for r in records
                  if r.appears <= clock_mjd and all(p(r.row) for p in preds)]
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return result, fields

    # ---- HTTP -------------------------------------------------------------

    def serve(self, request: SandboxRequest) -> Reply:
        if request.method not in ("GET", "POST"):
            return text_reply("Method not allowed", 405)
        return self.handle(request.method, request.path, request.query, request.body,
                           request.clock_mjd)

    def base_urls(self, base_url: str) -> dict[str, str]:
        return {"mast": base_url}

    def handle(self, method: str, subpath: str, query: str, body: bytes,
               clock_mjd: float) -> Reply:
        if subpath == "/api/v0/invoke":
            form = parse_qs(query if method == "GET" else body.decode("utf-8", "replace"))
            raw = (form.get("request") or [None])[0]
            if raw is None:
                return text_reply("Missing required form field 'request'", 400)
            try:
                request = json.loads(raw)
            except ValueError as exc:
                return json_reply(_envelope_obj("ERROR", f"Bad request JSON: {exc}"), 400)
            if not isinstance(request, dict):
                return json_reply(_envelope_obj("ERROR", "request is not a JSON object"), 400)
            try:
                return self.invoke(request, clock_mjd)
            except MastError as exc:
                return json_reply(_envelope_obj("ERROR", str(exc)))
        if subpath == "/api/v0.1/Download/file" and method == "GET":
            uri = (parse_qs(query).get("uri") or [""])[0]
            return self.download(uri, clock_mjd)
        if subpath == "/portal/Mashup/Mashup.asmx/columnsconfig":
            form = parse_qs(query if method == "GET" else body.decode("utf-8", "replace"))
            config_id = (form.get("colConfigId") or [""])[0]
            if config_id.startswith("Mast.Caom.Products"):
                return json_reply(PRODUCTS_COLUMNS_CONFIG)
            if config_id.startswith("Mast.Caom"):
                return json_reply(CAOM_COLUMNS_CONFIG)
            # The real service answers an unknown config with an empty body.
            return json_reply({})
        return text_reply(f"Not found: /mast{subpath}", 404)

    def download(self, uri: str, clock_mjd: float) -> Reply:
        """A preview image of a visible observation, as a JPEG; anything else is not found."""
        if uri.lower().endswith((".jpg", ".jpeg")):
            for rec in self.visible(clock_mjd):
                if rec.row.get("jpegURL") == uri or any(
                        p.get("dataURI") == uri for p in product_rows(rec)):
                    return Reply(200, preview_jpeg(), "image/jpeg")
        return text_reply(f"File not found: {uri}", 404)

    def invoke(self, request: dict[str, Any], clock_mjd: float) -> Reply:
        service = request.get("service")
        fmt = request.get("format", "json")
        if fmt != "json":
            raise MastError(f"Unsupported format '{fmt}' for service {service}")
        params = request.get("params") or {}
        try:
            pagesize = int(request.get("pagesize") or DEFAULT_PAGESIZE)
            page = int(request.get("page") or 1)
        except (TypeError, ValueError) as exc:
            raise MastError("pagesize and page must be integers") from exc
        pagesize = max(pagesize, 1)
        page = max(page, 1)
        if service in ("Mast.Caom.Filtered", "Mast.Caom.Filtered.Position"):
            filters = params.get("filters") or []
            if not isinstance(filters, list):
                raise MastError("params.filters must be a list")
            records, fields = self.filtered(filters, clock_mjd)
            if service == "Mast.Caom.Filtered.Position":
                records = _in_cone(records, params.get("position"))
            columns = str(params.get("columns") or "*").strip()
            if columns.upper().startswith("COUNT_BIG"):
                return json_reply(_envelope_obj(
                    "COMPLETE", "", [{"Column1": len(records)}],
                    [{"name": "Column1", "type": "int"}], _paging(1, pagesize, 1, 1)))
            return self._page(records, fields, columns, page, pagesize)
        if service == "Mast.Caom.Products":
            wanted = {s.strip() for s in str(params.get("obsid", "")).split(",") if s.strip()}
            rows = []
            for rec in self.visible(clock_mjd):
                if str(rec.obsid) in wanted:
                    rows.extend(product_rows(rec))
            total = len(rows)
            start = (page - 1) * pagesize
            chunk = rows[start:start + pagesize]
            return json_reply(_envelope_obj(
                "COMPLETE", "", chunk, PRODUCT_FIELDS,
                _paging(page, pagesize, len(chunk), total)))
        raise MastError(f"Unknown service '{service}'")

    def _page(self, records: list[MastRecord], fields: list[dict[str, str]], columns: str,
              page: int, pagesize: int) -> Reply:
        total = len(records)
        start = (page - 1) * pagesize
        chunk = records[start:start + pagesize]
        paging = _paging(page, pagesize, len(chunk), total)
        if columns == "*":
            data = ",".join(r.json() for r in chunk)
        else:
            wanted = [c.strip() for c in columns.split(",") if c.strip()]
            known = {f["name"] for f in fields}
            for c in wanted:
                if c not in known:
                    raise MastError(f"Invalid column name '{c}'.")
            fields = [f for f in fields if f["name"] in wanted]
            data = ",".join(json.dumps({c: r.row.get(c) for c in wanted}) for r in chunk)
        body = ('{"status": "COMPLETE", "msg": "", "data": [' + data + '], "fields": '
                + json.dumps(fields) + ', "paging": ' + json.dumps(paging) + "}")
        return Reply(200, body.encode(), "application/json")


def _in_cone(records: list[MastRecord], position: Any) -> list[MastRecord]:
    from .mast_position import PositionError, in_cone, parse_position

    try:
        ra, dec, radius = parse_position(position)
    except PositionError as exc:
        raise MastError(str(exc)) from None
    return [r for r in records if in_cone(r.row, ra, dec, radius)]


def _paging(page: int, pagesize: int, rows: int, filtered: int) -> dict[str, int]:
    return {"page": page, "pageSize": pagesize,
            "pagesFiltered": math.ceil(filtered / pagesize) if filtered else 0,
            "rows": rows, "rowsFiltered": filtered, "rowsTotal": filtered}


def _envelope_obj(status: str, msg: str, data: list | None = None,
                  fields: list | None = None, paging: dict | None = None) -> dict[str, Any]:
    return {"status": status, "msg": msg, "data": data or [], "fields": fields or [],
            "paging": paging or {"page": 1, "pageSize": 0, "pagesFiltered": 0, "rows": 0,
                                  "rowsFiltered": 0, "rowsTotal": 0}}


@functools.cache
def preview_jpeg() -> bytes:
    """The one preview image the sandbox serves (96 x 96, a comet with a tail)."""
    return (Path(__file__).parent / "preview.jpg").read_bytes()


def executing_body() -> bytes:
    """MAST's 'still working, ask again' answer."""
    return json.dumps(_envelope_obj("EXECUTING", "")).encode()


def product_rows(rec: MastRecord) -> list[dict[str, Any]]:
    """Files of one observation, as Mast.Caom.Products lists them."""
    row = rec.row
    collection = row.get("obs_collection") or "MAST"
    obs_id = str(row.get("obs_id"))
    base = {"obsID": str(rec.obsid), "obs_collection": collection,
            "dataproduct_type": row.get("dataproduct_type"), "obs_id": obs_id,
            "productGroupDescription": None, "productDocumentationURL": None,
            "project": row.get("project"), "prvversion": None, "_selected_": None}
    if rec.products:
        return [{**base, **p} for p in rec.products]
    stem = obs_id.lower()
    files = [
        ("uncal", "Raw data", "S", "SCIENCE", "UNCAL", 1),
        ("cal", "Calibrated data", "S", "SCIENCE", "CAL", 2),
        ("preview", "Preview image", "S", "PREVIEW", "PREVIEW", 3),
    ]
    rows = []
    for i, (suffix, desc, typ, ptype, sub, level) in enumerate(files):
        ext = "jpg" if ptype == "PREVIEW" else "fits"
        name = f"{stem}_{suffix}.{ext}"
        rows.append({**base, "description": desc, "type": typ,
                     "dataURI": f"mast:{collection}/product/{name}", "productType": ptype,
                     "productSubGroupDescription": sub, "productFilename": name,
                     "size": 2880 * (1000 + 37 * (rec.obsid % 97) + i * 11) if level else 0})
    return rows
