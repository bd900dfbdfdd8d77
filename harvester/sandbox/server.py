"""The sandbox HTTP server: routing, clock, request log, fault application, control API.

URL layout (all on one port): each archive of archive.ARCHIVES under its own prefix, e.g.
    /mast/api/v0/invoke                          MAST Portal API (mast.py)
    /mast/portal/Mashup/Mashup.asmx/columnsconfig
    /pds/api/search/1/products[/{lidvid}]        PDS Search API (pds.py)
    /_sandbox/{health,clock,products,faults,requests}   control API, never faulted or logged
"""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple, Self
from urllib.parse import parse_qs, unquote_plus, urlsplit

from .archive import Archive, SandboxRequest, available_archives
from .faults import Fault, FaultQueue
from .mast import executing_body
from .reply import Reply, json_reply, text_reply
from .scenario import DEFAULT_CLOCK, empty_scenario, load_scenario
from .timeutil import iso_z, parse_time, to_mjd

MAST_PREFIX = "/mast"
PDS_PREFIX = "/pds/api/search/1"
CONTROL_PREFIX = "/_sandbox"
_MAST_INVOKE = MAST_PREFIX + "/api/v0/invoke"

_HTML_ERROR_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n"
    "<body><h1>Service Unavailable</h1>\n"
    "<p>The archive is undergoing scheduled maintenance. Please try again later.</p>\n"
    "</body></html>\n"
)


class RequestRecord(NamedTuple):
    """One request the archives received: method, path, and a short query/body summary."""

    method: str
    path: str
    summary: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    sandbox: Sandbox


class Sandbox:
    """Local stand-in for MAST and the PDS Search API, driven by a scenario."""

    def __init__(self, scenario: dict[str, Any] | str | Path | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        if scenario is None:
            scenario = empty_scenario()
        elif isinstance(scenario, str | Path):
            scenario = load_scenario(scenario)
        self.host = host
        self.port = port
        self.faults = FaultQueue()
        self.archives: dict[str, Archive] = {
            name: cls() for name, cls in available_archives().items()}
        self.mast = self.archives["mast"]
        self.pds = self.archives["pds"]
        self._clock_lock = threading.Lock()
        self._clock_state: tuple[datetime, float, str] = self._clock_tuple(
            scenario.get("clock", DEFAULT_CLOCK))
        self._log_lock = threading.Lock()
        self._log: list[RequestRecord] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._serving = False
        for name in self.archives:
            self.add_products(name, scenario.get(name, []))
        if "catch" in self.archives and "horizons" in self.archives:
            # CATCH computes the target's path itself; here it is the Horizons stand-in's.
            self.archives["catch"].paths = self.archives["horizons"].paths  # type: ignore[attr-defined]

    # ---- state ------------------------------------------------------------

    @staticmethod
    def _clock_tuple(value: str | datetime) -> tuple[datetime, float, str]:
        dt = parse_time(value)
        # PDS compares canonical ISO strings; MAST compares MJD floats.
        canon = dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}000Z"
        return dt, to_mjd(dt), canon

    @property
    def clock(self) -> datetime:
        """Current scenario clock (aware UTC datetime)."""
        with self._clock_lock:
            return self._clock_state[0]

    def set_clock(self, value: str | datetime) -> datetime:
        """Move the scenario clock (either way); products appear/disappear accordingly."""
        state = self._clock_tuple(value)
        with self._clock_lock:
            self._clock_state = state
        return state[0]

    def advance_clock(self, **delta: float) -> datetime:
        """Move the clock forward by a timedelta given as keywords (days=, hours=, ...)."""
        return self.set_clock(self.clock + timedelta(**delta))

    def archive(self, name: str) -> Archive:
        try:
            return self.archives[name]
        except KeyError:
            known = ", ".join(sorted(self.archives))
            raise ValueError(f"unknown archive {name!r}; expected one of {known}") from None

    def add_products(self, archive: str, records: list[dict[str, Any]]) -> int:
        """Add or replace an archive's products (MAST by obsid, PDS by lidvid ...)."""
        return self.archive(archive).add(records)

    def corrupt(self, archive: str, key: str | int, **fields: Any) -> None:
        """Break one served product the way a changed archive would, e.g.
        corrupt("mast", 5002, t_min="not-a-date") or
        corrupt("pds", lidvid, harvest_date_time=12). Values are served verbatim."""
        target = self.archive(archive)
        target.corrupt(int(key) if archive == "mast" else key, **fields)

    def product_counts(self) -> dict[str, int]:
        return {name: len(archive) for name, archive in self.archives.items()}

    @property
    def requests(self) -> list[RequestRecord]:
        """Archive requests received so far (a copy; control-API calls excluded)."""
        with self._log_lock:
            return list(self._log)

    def request_count(self, prefix: str = "") -> int:
        with self._log_lock:
            return sum(1 for r in self._log if r.path.startswith(prefix))

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    def _record(self, method: str, path: str, summary: str) -> None:
        with self._log_lock:
            self._log.append(RequestRecord(method, path, summary))

    # ---- lifecycle --------------------------------------------------------

    def _bind(self) -> _Server:
        if self._server is None:
            server = _Server((self.host, self.port), _Handler)
            server.sandbox = self
            self._server = server
            self.port = server.server_address[1]
        return self._server

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:PORT (binds the port on first use)."""
        self._bind()
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_urls(self) -> dict[str, str]:
        """The base_url of each source kind (and named source) this sandbox stands in for."""
        urls: dict[str, str] = {}
        for archive in self.archives.values():
            urls.update(archive.base_urls(self.url + archive.prefix))
        return urls

    def start(self) -> Self:
        """Serve in a daemon thread; returns self."""
        server = self._bind()
        if self._thread is None:
            self._serving = True
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"sandbox:{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() or Ctrl-C."""
        server = self._bind()
        self._serving = True
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self._serving = False
            server.server_close()

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        if self._serving:
            server.shutdown()
            self._serving = False
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._server = None

    def attach_astroquery(self, observations: Any) -> Any:
        """Point an astroquery.mast Observations object (class or instance) at this sandbox.

        astroquery 0.4.x bakes `conf.server` into class attributes at import time, so
        setting `astroquery.mast.conf.server` after import does not move the Portal
        API calls; this sets the URLs the portal connection actually uses.
        """
        mast = self.base_urls["mast"]
        portal = observations._portal_api_connection
        portal.MAST_REQUEST_URL = mast + "/api/v0/invoke"
        portal.COLUMNS_CONFIG_URL = mast + "/portal/Mashup/Mashup.asmx/columnsconfig"
        portal.MAST_DOWNLOAD_URL = mast + "/api/v0.1/Download/file"
        portal.MAST_BUNDLE_URL = mast + "/api/v0.1/Download/bundle"
        return observations

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- dispatch ---------------------------------------------------------

    def route(self, method: str, path: str, query: str, body: bytes,
              headers: dict[str, str]) -> Reply:
        """Answer one archive request as the real service would (no faults)."""
        with self._clock_lock:
            clock, clock_mjd, clock_canon = self._clock_state
        for archive in self.archives.values():
            if path.startswith(archive.prefix + "/"):
                request = SandboxRequest(
                    method=method, path=path[len(archive.prefix):], query=query, body=body,
                    headers=headers, clock=clock, clock_mjd=clock_mjd, clock_canon=clock_canon,
                    base_url=self.url + archive.prefix,
                    request_url=self.url + path + (f"?{query}" if query else ""))
                return archive.serve(request)
        if path in ("", "/"):
            return json_reply({"service": "harvester sandbox", "base_urls": self.base_urls,
                               "control": self.url + CONTROL_PREFIX})
        return text_reply(f"Not found: {path}", 404)

    def control(self, method: str, path: str, body: bytes) -> Reply:
        """The /_sandbox API, to drive a sandbox running in another process."""
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            return json_reply({"error": "body is not JSON"}, 400)
        action = path[len(CONTROL_PREFIX):].strip("/")
        try:
            if action == "health" and method == "GET":
                return json_reply({"status": "ok", "clock": iso_z(self.clock),
                                   "products": self.product_counts(),
                                   "base_urls": self.base_urls})
            if action == "clock":
                if method == "POST":
                    self.set_clock(payload["now"])
                return json_reply({"now": iso_z(self.clock)})
            if action == "products" and method == "POST":
                added = {a: self.add_products(a, payload.get(a) or []) for a in self.archives}
                return json_reply({"added": added, "products": self.product_counts()})
            if action == "faults":
                if method == "POST":
                    spec = dict(payload)
                    kind = spec.pop("kind")
                    prefix = spec.pop("path_prefix", MAST_PREFIX)
                    count = int(spec.pop("count", 1))
                    fault = self.faults.add(kind, path_prefix=prefix, count=count, **spec)
                    return json_reply({"queued": fault.to_dict()})
                if method == "DELETE":
                    self.faults.clear()
                return json_reply({"pending": self.faults.pending()})
            if action == "requests":
                if method == "DELETE":
                    self.clear_requests()
                log = self.requests
                counts: dict[str, int] = {}
                for rec in log:
                    top = "/" + rec.path.lstrip("/").split("/", 1)[0]
                    counts[top] = counts.get(top, 0) + 1
                return json_reply({"total": len(log), "counts": counts,
                                   "recent": [list(r) for r in log[-100:]]})
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            return json_reply({"error": f"{type(exc).__name__}: {exc}"}, 400)
        return json_reply({"error": f"no control action {method} {path}"}, 404)


def _summary(method: str, path: str, query: str, body: bytes) -> str:
    """Short description of a request for the log: MAST service/page, else query/body."""
    if path == _MAST_INVOKE:
        text = query if method == "GET" else body.decode("utf-8", "replace")
        raw = (parse_qs(text).get("request") or [""])[0]
        try:
            req = json.loads(raw)
            params = req.get("params") or {}
            return (f"{req.get('service')} page={req.get('page')} pagesize={req.get('pagesize')}"
                    f" filters={json.dumps(params.get('filters'))}")[:400]
        except (ValueError, AttributeError):
            return raw[:400]
    if query:
        return unquote_plus(query)[:400]
    # A TAP sync POST is form-encoded; an MPC get-obs GET carries JSON: show either readably.
    return unquote_plus(body[:800].decode("utf-8", "replace"))[:400]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as with real archives
    server_version = "harvester-sandbox/1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle plus the
        # client's delayed ACK add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self, method: str) -> None:
        sandbox = self.server.sandbox
        split = urlsplit(self.path)
        path, query = split.path, split.query
        body = self._read_body()
        try:
            if path.startswith(CONTROL_PREFIX):
                self._send(sandbox.control(method, path, body))
                return
            sandbox._record(method, path, _summary(method, path, query, body))
            fault = sandbox.faults.take(path)
            if fault is not None and fault.kind == "executing" and path != _MAST_INVOKE:
                fault = None  # only the MAST invoke call can answer EXECUTING
            if fault is not None and self._apply_fault(fault):
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = sandbox.route(method, path, query, body, headers)
            if fault is not None and fault.kind == "truncated":
                cut = reply.body[: max(1, len(reply.body) // 2)]
                reply = Reply(200, cut, reply.content_type, reply.headers)
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must not kill the server
            self._send(json_reply({"error": f"sandbox internal error: {exc!r}"}, 500))

    def _apply_fault(self, fault: Fault) -> bool:
        """Answer per the fault; True when the request is finished, False to answer normally."""
        params = fault.params
        kind = fault.kind
        if kind == "slow":
            time.sleep(float(params.get("delay", 2.0)))
            return False
        if kind == "truncated":
            return False
        if kind == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        if kind == "executing":
            self._send(Reply(200, executing_body(), "application/json"))
            return True
        if kind == "html200":
            self._send(text_reply(_HTML_ERROR_PAGE, 200, "text/html; charset=utf-8"))
            return True
        if kind == "http429":
            reply = json_reply({"error": "Too Many Requests"}, 429,
                               {"Retry-After": str(params.get("retry_after", 1))})
            self._send(reply)
            return True
        if kind == "http503":
            reply = text_reply(_HTML_ERROR_PAGE, 503, "text/html; charset=utf-8")
            if "retry_after" in params:
                reply.headers["Retry-After"] = str(params["retry_after"])
            self._send(reply)
            return True
        if kind == "http500":
            self._send(text_reply("Internal Server Error", 500))
            return True
        return False

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)
