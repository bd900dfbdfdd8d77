"""CATCH stand-in (PDS Small Bodies Node's moving-target search), per its OpenAPI spec
(Small-Bodies-Node/catch-apis `src/catch_apis/api/openapi.yaml` and `api/catch.py`):

    GET /catch?target=&sources=&start_date=&stop_date=&cached=&padding=
        -> {"query", "job_id", "error", "queued", "queue_full", "queue_position", "message",
            "version", "results", "message_stream"}
    GET /status/{job_id}  -> {"job_id", "version", "parameters", "status": [{"source",
                              "source_name", "date", "status", "execution_time", "count"}]}
    GET /caught/{job_id}  -> {"parameters", "status", "count", "job_id", "version", "data": [...]}

A new search is queued and reports "in progress" for one status poll, then "finished"; the same
search again with `cached=true` is answered at once ("Found cached data"). A frame is caught when
the target's path (the scenario's `"horizons"` path of that target from the geocentre) at the
frame's mid-time lies inside its `fov` corners, widened by `padding` arcminutes. Scenario records
under `"catch"` are frames: `product_id`, `source`, `source_name`, `mjd_start`/`mjd_stop` (MJD or
ISO), `fov` ("ra:dec,..."), `filter`, `exposure`, `archive_url`, and `appears` (when CATCH has it).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from .archive import Archive, SandboxRequest
from .path import Path, designation_matches
from .reply import Reply, json_reply, text_reply
from .sky import RegionError, contains, meets_cone, parse
from .timeutil import iso_z, to_mjd

VERSION = "3.0.0"
SOURCE_NAMES = {
    "atlas_mauna_loa": "ATLAS Mauna Loa", "atlas_haleakela": "ATLAS Haleakela",
    "atlas_rio_hurtado": "ATLAS Rio Hurtado", "atlas_sutherland": "ATLAS Sutherland",
    "catalina_bigelow": "Catalina Sky Survey, Mt. Bigelow", "catalina_lemmon": "Catalina Sky Survey, Mt. Lemmon",
    "ps1dr2": "Pan-STARRS1 DR2", "spacewatch": "Spacewatch", "skymapper_dr4": "SkyMapper DR4",
}


class CatchArchive(Archive):
    prefix = "/catch"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frames: list[dict[str, Any]] = []
        self._jobs: dict[str, dict[str, Any]] = {}
        self._searched: dict[tuple, str] = {}
        self.paths: list[Path] = []   # filled by the server from the Horizons archive's paths

    def add(self, records: Iterable[dict[str, Any]]) -> int:
        frames = [_frame(r) for r in records]
        with self._lock:
            self._frames.extend(frames)
            self._searched.clear()
        return len(frames)

    def corrupt(self, key: Any, **fields: Any) -> None:
        with self._lock:
            for frame in self._frames:
                if frame["product_id"] == key:
                    frame.update(fields)

    def __len__(self) -> int:
        return len(self._frames)

    def base_urls(self, base_url: str) -> dict[str, str]:
        return {"catch": base_url}

    def serve(self, request: SandboxRequest) -> Reply:
        if request.method != "GET":
            return text_reply("Method not allowed", 405)
        params = parse_qs(request.query, keep_blank_values=True)
        parts = request.path.strip("/").split("/")
        if parts == ["catch"]:
            return self.start(params, request)
        if len(parts) == 2 and parts[0] in ("status", "caught"):
            job = self._jobs.get(parts[1])
            if job is None:
                return text_reply("Invalid job ID", 400)
            return self.status(job) if parts[0] == "status" else self.caught(job)
        return text_reply(f"Not found: /catch{request.path}", 404)

    def start(self, params: dict[str, list[str]], request: SandboxRequest) -> Reply:
        target = (params.get("target") or [""])[-1].strip()
        sources = params.get("sources") or sorted({f["source"] for f in self._frames})
        if not target:
            return json_reply({"queued": False, "message": "Invalid target: empty string",
                               "version": VERSION})
        try:
            start = _date(params.get("start_date"), "start")
            stop = _date(params.get("stop_date"), "stop")
        except ValueError as exc:
            return json_reply({"queued": False, "message": str(exc), "version": VERSION})
        padding = float((params.get("padding") or ["0"])[-1] or 0)
        cached = (params.get("cached") or ["true"])[-1].lower() != "false"
        path = next((p for p in self.paths if p.center in ("500", "500@399")
                     and designation_matches(p, target)), None)
        key = (target.lower(), tuple(sources), start, stop, padding, request.clock_mjd)
        with self._lock:
            known = self._searched.get(key) if cached else None
            if known is None:
                job_id = uuid.uuid4().hex
                data = self._search(path, sources, start, stop, padding, request.clock_mjd)
                self._jobs[job_id] = {"id": job_id, "polls": 1, "sources": sources, "data": data,
                                      "target": target, "padding": padding,
                                      "date": iso_z(request.clock)}
                self._searched[key] = job_id
                queued = True
            else:
                job_id, queued = known, False
        answer = {
            "query": {"target": target, "type": "comet", "sources": sources,
                      "start_date": start, "stop_date": stop, "cached": cached,
                      "uncertainty_ellipse": False, "padding": padding},
            "job_id": job_id, "error": False, "queued": queued, "queue_full": False,
            "queue_position": 0 if queued else None, "version": VERSION,
            "results": f"{request.base_url}/caught/{job_id}",
            "message": ("Enqueued search.  Listen to task messaging stream until job completed, "
                        "then retrieve data from results URL." if queued else
                        "Found cached data.  Retrieve from results URL."),
        }
        if queued:
            answer["message_stream"] = f"{request.base_url}/stream"
        return json_reply(answer)

    def _search(self, path: Path | None, sources: list[str], start: float | None,
                stop: float | None, padding: float, clock_mjd: float) -> list[dict[str, Any]]:
        caught = []
        for frame in self._frames:
            if frame["appears"] > clock_mjd or frame["source"] not in sources:
                continue
            mid = (frame["mjd_start"] + frame["mjd_stop"]) / 2
            if (start is not None and mid < start) or (stop is not None and mid > stop):
                continue
            if path is None or not path.covers(mid):
                continue
            ra, dec, delta = path.at(mid)
            try:
                regions = parse(frame["fov"])
            except RegionError:
                continue
            inside = (meets_cone(regions, ra, dec, padding / 60) if padding
                      else contains(regions, ra, dec))
            if inside:
                row = {k: v for k, v in frame.items() if k != "appears"}
                row.update({"date": _iso(mid), "ra": round(ra, 6), "dec": round(dec, 6),
                            "delta": round(delta, 6), "retrieved": _iso(clock_mjd)})
                caught.append(row)
        return caught

    def status(self, job: dict[str, Any]) -> Reply:
        with self._lock:
            finished = job["polls"] <= 0
            job["polls"] -= 1
        return json_reply({"job_id": job["id"], "version": VERSION, "parameters": {
            "target": job["target"], "uncertainty_ellipse": False, "padding": job["padding"]},
            "status": [{"source": s, "source_name": SOURCE_NAMES.get(s, s), "date": job["date"],
                        "status": "finished" if finished else "in progress",
                        "execution_time": 0.4 if finished else None,
                        "count": sum(1 for d in job["data"] if d["source"] == s)}
                       for s in job["sources"]]})

    def caught(self, job: dict[str, Any]) -> Reply:
        return json_reply({"parameters": {"target": job["target"], "uncertainty_ellipse": False,
                                          "padding": job["padding"]},
                           "status": [], "count": len(job["data"]), "job_id": job["id"],
                           "version": VERSION, "data": job["data"]})


def _frame(raw: dict[str, Any]) -> dict[str, Any]:
    frame = {k: v for k, v in raw.items() if not k.startswith("_")}
    for key in ("mjd_start", "mjd_stop"):
        value = frame.get(key)
        frame[key] = float(value) if isinstance(value, int | float) else to_mjd(value)
    frame.setdefault("source_name", SOURCE_NAMES.get(frame.get("source", ""), frame.get("source")))
    frame["appears"] = to_mjd(raw["appears"]) if raw.get("appears") else frame["mjd_stop"] + 1
    return frame


def _date(values: list[str] | None, kind: str) -> float | None:
    if not values or not values[-1].strip():
        return None
    try:
        return to_mjd(values[-1].strip().replace(" ", "T"))
    except ValueError:
        raise ValueError(f"Invalid {kind}_date: {values[-1]}") from None


def _iso(mjd: float) -> str:
    from .timeutil import mjd_to_datetime

    return mjd_to_datetime(mjd).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
