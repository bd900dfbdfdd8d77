"""CNSA lunar and planetary data system stand-in (`/moon-admin/client/science/...`).

The endpoints third-party code uses (docs/archives.md), answered in the portal's RuoYi-style
envelopes: lists `{"total", "rows", "code", "msg"}` paged by `pageNum`/`pageSize` (both absent:
every row), single values `{"msg", "code", "data"}` like the recorded getAnnexZip answer.

    GET catalogue?pageNum=&pageSize=[&taskName=&loadName=]       datasets (batches), newest first
    GET dataInfoList?pageNum=&pageSize=[&taskName=&loadName=&levelName=&dataCatalogueId=&name=]
    GET dataInfo/{dataInfoId}                                     one file's row
    GET dataInfo/getAnnexZip/{dataInfoId}                         the file's public link

A scenario record is a batch: a catalogue row (served as given, `releaseTime` included) with
its `files`; each file row is served as given plus the batch's mission, instrument and level
fields it does not set itself, and its `link` is what getAnnexZip answers. A batch and its
files appear once the clock passes its releaseTime, read as Beijing time when it has no zone.
Unknown query parameters are ignored, as the portal's framework does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote

from .archive import Archive, SandboxRequest
from .reply import Reply, json_reply
from .timeutil import parse_time

ROOT = "/moon-admin/client/science"
BEIJING_OFFSET = timedelta(hours=8)
_HAS_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
# Batch fields a file row inherits when it does not set them.
INHERITED = {"id": "dataCatalogueId", "name": "dataCatalogueName", "task": "task",
             "taskName": "taskName", "load": "load", "loadName": "loadName",
             "dataLevel": "dataLevel", "dataLevelName": "dataLevelName"}
_FILE_FILTERS = {"taskName": "taskName", "loadName": "loadName", "levelName": "dataLevelName",
                 "dataCatalogueId": "dataCatalogueId"}


def release_moment(value: Any) -> datetime:
    """When a batch becomes visible: its releaseTime, Beijing time unless it names a zone."""
    moment = parse_time(str(value))
    return moment if _HAS_ZONE.search(str(value).strip()) else moment - BEIJING_OFFSET


def default_link(row: dict[str, Any]) -> str:
    """Where the portal would put a file: PUBDATA/<mission>/<instrument>/<level>/<name>."""
    parts = [row.get("taskName"), row.get("loadName"), row.get("dataLevelName"), row.get("name")]
    return "https://moon.bao.ac.cn/PUBDATA/" + "/".join(str(p) for p in parts if p)


def _public(record: dict[str, Any], *hidden: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_") and k not in hidden}


@dataclass
class _Batch:
    row: dict[str, Any]
    visible_from: datetime
    files: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)


class CnsaArchive(Archive):
    """Batches by catalogue id, each with its file rows."""

    prefix = "/cnsa"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches: dict[str, _Batch] = {}
        # What list answers call their rows; a test renames it to play an archive whose
        # answers changed shape.
        self.rows_key = "rows"

    def add(self, records: Iterable[dict[str, Any]]) -> int:
        built = [self._build(record) for record in records]
        with self._lock:
            for batch in built:
                self._batches[str(batch.row["id"])] = batch
        return len(built)

    @staticmethod
    def _build(record: dict[str, Any]) -> _Batch:
        if "id" not in record or "releaseTime" not in record:
            raise ValueError(f"CNSA batch needs id and releaseTime: {record!r}")
        row = _public(record, "files")
        batch = _Batch(row=row, visible_from=release_moment(record["releaseTime"]))
        for file in record.get("files") or []:
            if "dataInfoId" not in file:
                raise ValueError(f"CNSA file without dataInfoId in batch {row['id']}: {file!r}")
            served = {INHERITED[k]: v for k, v in row.items() if k in INHERITED}
            served.update(_public(file, "link"))
            batch.files.append(served)
            batch.links[str(file["dataInfoId"])] = file.get("link") or default_link(served)
        return batch

    def __len__(self) -> int:
        return sum(len(b.files) for b in self._batches.values())

    def _find(self, key: Any) -> dict[str, Any]:
        """The served row a key names: a batch id, else a file's dataInfoId."""
        batch = self._batches.get(str(key))
        if batch is not None:
            return batch.row
        for batch in self._batches.values():
            for row in batch.files:
                if str(row.get("dataInfoId")) == str(key):
                    return row
        raise KeyError(f"no CNSA batch or file {key!r}")

    def corrupt(self, key: Any, **fields: Any) -> None:
        """Serve these values verbatim in a batch's catalogue row or a file's row."""
        with self._lock:
            self._find(key).update(fields)

    def rename_field(self, key: Any, old: str, new: str) -> None:
        """Serve a row's field under another name, as a changed archive would."""
        with self._lock:
            row = self._find(key)
            row[new] = row.pop(old)

    # ---- HTTP

    def base_urls(self, base_url: str) -> dict[str, str]:
        return {"cnsa": base_url + ROOT}

    def serve(self, request: SandboxRequest) -> Reply:
        if not request.path.startswith(ROOT + "/"):
            return _not_found(request.path)
        if request.method != "GET":
            return json_reply({"code": 405, "msg": f"Request method '{request.method}' not supported"}, 405)
        endpoint = request.path[len(ROOT) + 1:]
        params = {k: v[-1] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
        try:
            if endpoint == "catalogue":
                return self.catalogue(params, request.clock)
            if endpoint == "dataInfoList":
                return self.file_list(params, request.clock)
            if endpoint.startswith("dataInfo/getAnnexZip/"):
                return self.annex(unquote(endpoint.rsplit("/", 1)[1]), request.clock)
            if endpoint.startswith("dataInfo/") and endpoint.count("/") == 1:
                return self.detail(unquote(endpoint.split("/", 1)[1]), request.clock)
        except ValueError as exc:
            return json_reply({"code": 500, "msg": str(exc)})
        return _not_found(request.path)

    def _visible(self, clock: datetime) -> list[_Batch]:
        with self._lock:
            return [b for b in self._batches.values() if b.visible_from <= clock]

    def catalogue(self, params: dict[str, str], clock: datetime) -> Reply:
        batches = sorted(self._visible(clock), key=lambda b: (b.visible_from, str(b.row["id"])),
                         reverse=True)
        rows = [dict(b.row) for b in batches
                if all(str(b.row.get(k)) == params[k] for k in ("taskName", "loadName") if params.get(k))]
        return _table(rows, params, self.rows_key)

    def file_list(self, params: dict[str, str], clock: datetime) -> Reply:
        rows = [dict(r) for b in self._visible(clock) for r in b.files]
        for param, key in _FILE_FILTERS.items():
            if params.get(param):
                rows = [r for r in rows if str(r.get(key)) == params[param]]
        if params.get("name"):
            rows = [r for r in rows if params["name"] in str(r.get("name"))]
        rows.sort(key=lambda r: (str(r.get("startTime")), str(r.get("dataInfoId"))))
        return _table(rows, params, self.rows_key)

    def _file(self, data_info_id: str, clock: datetime) -> tuple[_Batch, dict[str, Any]] | None:
        for batch in self._visible(clock):
            for row in batch.files:
                if str(row.get("dataInfoId")) == data_info_id:
                    return batch, row
        return None

    def annex(self, data_info_id: str, clock: datetime) -> Reply:
        found = self._file(data_info_id, clock)
        if found is None:
            return json_reply({"msg": "数据不存在", "code": 500})
        batch, _ = found
        return json_reply({"msg": "", "code": 200, "data": batch.links[data_info_id]})

    def detail(self, data_info_id: str, clock: datetime) -> Reply:
        found = self._file(data_info_id, clock)
        if found is None:
            return json_reply({"msg": "数据不存在", "code": 500})
        return json_reply({"msg": "操作成功", "code": 200, "data": dict(found[1])})


def _table(rows: list[dict[str, Any]], params: dict[str, str], rows_key: str = "rows") -> Reply:
    """RuoYi's TableDataInfo: one page of rows and the total; no paging when both are absent."""
    total = len(rows)
    if params.get("pageNum") or params.get("pageSize"):
        number = int(params.get("pageNum") or 1)
        size = int(params.get("pageSize") or 10)
        if number < 1 or size < 1:
            raise ValueError("pageNum and pageSize must be positive")
        rows = rows[(number - 1) * size:number * size]
    return json_reply({"total": total, rows_key: rows, "code": 200, "msg": "查询成功"})


def _not_found(path: str) -> Reply:
    return json_reply({"status": 404, "error": "Not Found", "path": path}, 404)
