"""MPC stand-in (`data.minorplanetcenter.net`): `/api/get-obs` and `/api/query-identifier`.

Both are GET requests with a JSON body, as the real API (docs-public get-obs.md,
query-identifier.md and the answers in shared/fixtures/mpc):
    GET /api/get-obs {"desigs": ["3I"], "output_format": ["ADES_DF"]}
        -> [{"ADES_DF": [{"obsid", "obstime", "stn", "ref", ...}, ...]}]   (no paging)
    GET /api/query-identifier {"ids": ["3I", ...]} -> {"3I": {"found": 1, "permid": ...}, ...}

Scenario records ("mpc" list) are either observations (ADES fields, lower-case, plus
`appears`: when the MPC has it, and `published`: when its `ref` becomes visible; before that
`ref` is served empty) or object identities `{"identifier": {query-identifier fields}}`, which
say which designations name one object for both endpoints.

Beyond the real API's documentation: get-obs answers carry an ETag and honour If-None-Match
with 304 (unverified for the real service, which the harvester must not rely on); a
designation the sandbox does not know gets an empty observation list.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .archive import Archive, SandboxRequest
from .reply import Reply, json_reply
from .timeutil import parse_time

_CONTROL_KEYS = {"appears", "published"}
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_DESIGNATION_FIELDS = ("permid", "packed_permid", "iau_designation", "orbfit_name",
                       "unpacked_primary_provisional_designation",
                       "packed_primary_provisional_designation")
_NOT_FOUND = {
    "citation": None, "disambiguation_list": None, "dual_status_info": None, "found": 0,
    "iau_designation": None, "name": None, "object_type": None, "orbfit_name": None,
    "packed_permid": None, "packed_primary_provisional_designation": None,
    "packed_secondary_provisional_designations": None, "permid": None,
    "unpacked_primary_provisional_designation": None,
    "unpacked_secondary_provisional_designations": None,
}


def _fold(text: Any) -> str:
    return _NON_ALNUM.sub("", str(text).casefold()) if text else ""


def identity_keys(entry: dict[str, Any]) -> set[str]:
    """Every spelling that names this object, folded: ids, packed forms, its name."""
    keys = {_fold(entry.get(f)) for f in _DESIGNATION_FIELDS}
    for field in ("unpacked_secondary_provisional_designations",
                  "packed_secondary_provisional_designations"):
        keys |= {_fold(v) for v in entry.get(field) or []}
    name, permid = entry.get("name"), entry.get("permid")
    if name:
        keys.add(_fold(name))
        if permid:
            keys.add(_fold(f"{permid}/{name}"))
    keys.discard("")
    return keys


class MpcObservation:
    __slots__ = ("appears", "designations", "obsid", "published", "row")

    def __init__(self, raw: dict[str, Any]) -> None:
        obsid = raw.get("obsid")
        if not obsid:
            raise ValueError(f"MPC observation without obsid: {raw!r}")
        self.obsid = str(obsid)
        self.appears = parse_time(raw.get("appears") or raw.get("obstime") or "1970-01-01")
        published = raw.get("published")
        self.published = parse_time(published) if published else self.appears
        self.row = {k: v for k, v in raw.items() if k not in _CONTROL_KEYS and not k.startswith("_")}
        self.designations = {_fold(raw.get(k)) for k in ("permid", "provid", "trksub")} - {""}

    def served(self, clock: datetime) -> dict[str, Any]:
        if clock >= self.published or not self.row.get("ref"):
            return self.row
        return {**self.row, "ref": None}


class MpcArchive(Archive):
    prefix = "/mpc"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._observations: dict[str, MpcObservation] = {}
        self._identities: list[dict[str, Any]] = []
        self._version = 0
        self._bodies: OrderedDict[tuple, bytes] = OrderedDict()

    def add(self, records: Iterable[dict[str, Any]]) -> int:
        observations, identities = [], []
        for raw in records:
            if "identifier" in raw:
                identities.append(dict(raw["identifier"]))
            else:
                observations.append(MpcObservation(raw))
        with self._lock:
            for obs in observations:
                self._observations[obs.obsid] = obs
            self._identities.extend(identities)
            self._version += 1
            self._bodies.clear()
        return len(observations) + len(identities)

    def __len__(self) -> int:
        return len(self._observations)

    def corrupt(self, obsid: Any, **fields: Any) -> None:
        """Serve these field values verbatim for one observation (e.g. obstime="yesterday")."""
        with self._lock:
            obs = self._observations[str(obsid)]
            obs.row = {**obs.row, **fields}
            self._version += 1
            self._bodies.clear()

    def base_urls(self, base_url: str) -> dict[str, str]:
        return {"mpc": base_url}

    def identities(self, designation: str) -> list[dict[str, Any]]:
        """The objects this designation names (several for a shared name like ATLAS)."""
        key = _fold(designation)
        with self._lock:
            identities = list(self._identities)
        return [e for e in identities if key in identity_keys(e)]

    # ---- HTTP -------------------------------------------------------------

    def serve(self, request: SandboxRequest) -> Reply:
        if request.path not in ("/api/get-obs", "/api/query-identifier"):
            return json_reply({"detail": "Not Found"}, 404)
        if request.method != "GET":
            return json_reply({"detail": "Method Not Allowed"}, 405)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return json_reply({"error": "the request body must be JSON"}, 400)
        if not isinstance(body, dict):
            return json_reply({"error": "the request body must be a JSON object"}, 400)
        if request.path == "/api/get-obs":
            return self.get_obs(body, request)
        return self.query_identifier(body)

    def get_obs(self, body: dict[str, Any], request: SandboxRequest) -> Reply:
        desigs = body.get("desigs")
        if not isinstance(desigs, list) or len(desigs) != 1 or not isinstance(desigs[0], str):
            return json_reply({"error": "desigs must be a list of one single string"}, 400)
        formats = body.get("output_format") or ["XML"]
        if formats != ["ADES_DF"]:
            return json_reply({"error": f"the sandbox serves only output_format ['ADES_DF'], "
                                        f"not {formats!r}"}, 400)
        payload = self._answer(desigs[0], request.clock)
        etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
        if request.headers.get("if-none-match") == etag:
            return Reply(304, b"", "application/json", {"ETag": etag})
        return Reply(200, payload, "application/json", {"ETag": etag})

    def _answer(self, designation: str, clock: datetime) -> bytes:
        found = self.identities(designation)
        names = identity_keys(found[0]) if len(found) == 1 else {_fold(designation)}
        with self._lock:
            key = (tuple(sorted(names)), clock, self._version)
            cached = self._bodies.get(key)
            if cached is not None:
                return cached
            observations = list(self._observations.values())
        rows = [o.served(clock) for o in observations
                if o.appears <= clock and o.designations & names]
        rows.sort(key=lambda r: (str(r.get("obstime")), str(r.get("obsid"))))
        payload = json.dumps([{"ADES_DF": rows}]).encode()
        with self._lock:
            self._bodies[key] = payload
            while len(self._bodies) > 8:
                self._bodies.popitem(last=False)
        return payload

    def query_identifier(self, body: dict[str, Any]) -> Reply:
        ids = body.get("ids")
        if not isinstance(ids, list) or not ids or len(ids) > 100:
            return json_reply({"error": "ids must be a list of 1 to 100 designations"}, 400)
        answer = {}
        for ident in ids:
            found = self.identities(str(ident))
            if len(found) == 1:
                answer[str(ident)] = {**_NOT_FOUND, **found[0], "found": 1}
            else:
                listed = [{k: e.get(k) for k in ("permid", "unpacked_primary_provisional_designation",
                                                  "name")} for e in found]
                answer[str(ident)] = {**_NOT_FOUND, "found": len(found),
                                      "disambiguation_list": listed or None}
        return json_reply(answer)
