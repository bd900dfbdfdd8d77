"""JPL SBDB stand-in (`ssd-api.jpl.nasa.gov`): `GET /sbdb.api?sstr=...&alt-des=1`.

Answers have the shape of shared/fixtures/jpl/sbdb_67P.json: `{"signature", "object":
{"fullname", "des", "des_alt", "spkid", "kind", "prefix", ...}, "orbit": {...}}`; `des_alt`
is served only with `alt-des=1`. Scenario records ("sbdb" list) are such answers (at least
`object`), optionally with `appears` (when SBDB has the object). A search string is looked up
case- and punctuation-blind in des, fullname, des_alt and the record's `"search"` list.
Several matches give `{"code": "300", "list": [{"pdes", "name"}]}` with HTTP 300; none gives
`{"message": "specified object was not found"}` (the real not-found status is unverified).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from .archive import Archive, SandboxRequest
from .reply import Reply, json_reply
from .timeutil import parse_time

SIGNATURE = {"source": "NASA/JPL Small-Body Database (SBDB) API", "version": "1.3"}
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _fold(text: Any) -> str:
    return _NON_ALNUM.sub("", str(text).casefold()) if text else ""


class SbdbRecord:
    __slots__ = ("answer", "appears", "keys")

    def __init__(self, raw: dict[str, Any]) -> None:
        obj = raw.get("object")
        if not isinstance(obj, dict) or not obj.get("des"):
            raise ValueError(f"SBDB record without object.des: {raw!r}")
        self.appears = parse_time(raw["appears"]) if raw.get("appears") else None
        self.answer = {k: v for k, v in raw.items()
                       if k not in ("appears", "search") and not k.startswith("_")}
        keys = {_fold(obj.get("des")), _fold(obj.get("fullname"))}
        for alternate in obj.get("des_alt") or []:
            keys |= {_fold(v) for v in alternate.values()} if isinstance(alternate, dict) else set()
        keys |= {_fold(s) for s in raw.get("search") or []}
        keys.discard("")
        self.keys = keys


class SbdbArchive(Archive):
    prefix = "/jpl"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, SbdbRecord] = {}

    def add(self, records: Iterable[dict[str, Any]]) -> int:
        built = [SbdbRecord(r) for r in records]
        with self._lock:
            for rec in built:
                self._records[rec.answer["object"]["des"]] = rec
        return len(built)

    def __len__(self) -> int:
        return len(self._records)

    def corrupt(self, des: Any, **fields: Any) -> None:
        """Serve these object fields verbatim for one object (e.g. des_alt="garbage")."""
        with self._lock:
            rec = self._records[str(des)]
            rec.answer = {**rec.answer, "object": {**rec.answer["object"], **fields}}

    def base_urls(self, base_url: str) -> dict[str, str]:
        return {"sbdb": base_url}

    def serve(self, request: SandboxRequest) -> Reply:
        if request.path != "/sbdb.api":
            return json_reply({"code": "404", "message": "not found"}, 404)
        if request.method != "GET":
            return json_reply({"code": "405", "message": "method not allowed"}, 405)
        params = parse_qs(request.query, keep_blank_values=True)
        sstr = (params.get("sstr") or [""])[-1].strip()
        if not sstr:
            return json_reply({"code": "400", "message": "one of sstr, spk or des is required",
                               "signature": SIGNATURE}, 400)
        alt_des = (params.get("alt-des") or ["0"])[-1].lower() in ("1", "true", "y", "yes")
        key = _fold(sstr)
        with self._lock:
            records = list(self._records.values())
        matches = [r for r in records
                   if key in r.keys and (r.appears is None or r.appears <= request.clock)]
        if not matches:
            return json_reply({"signature": SIGNATURE, "message": "specified object was not found"})
        if len(matches) > 1:
            listed = [{"pdes": r.answer["object"]["des"], "name": r.answer["object"].get("fullname")}
                      for r in matches]
            return json_reply({"signature": SIGNATURE, "code": "300",
                               "message": "specified search string matched more than one object",
                               "list": listed}, 300)
        answer = dict(matches[0].answer)
        obj = dict(answer["object"])
        if not alt_des:
            obj.pop("des_alt", None)
            obj.pop("spkid_alt", None)
        answer["object"] = obj
        answer.setdefault("signature", SIGNATURE)
        return json_reply(answer)
