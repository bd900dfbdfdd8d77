"""The sandbox archives served from their own process, so a benchmark's harvests and peers never
share an interpreter (or a GIL) with the server they measure. Shared by every bench script."""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def serve(conn: Any, builder: str, kwargs: dict[str, Any]) -> None:
    """Child process: build the scenario with `builder` ("module:function"), serve it, report
    the URLs, wait for 'stop'."""
    sys.path.insert(0, str(ROOT))
    from harvester.sandbox import Sandbox

    module, function = builder.split(":")
    started = time.perf_counter()
    scenario = getattr(importlib.import_module(module), function)(**kwargs)
    sandbox = Sandbox(scenario).start()
    clock = sandbox.clock
    conn.send({
        "url": sandbox.url,
        "base_urls": sandbox.base_urls,
        "clock": clock.strftime("%Y-%m-%dT%H:%M:%S.") + f"{clock.microsecond // 1000:03d}Z",
        "products": sandbox.product_counts(),
        "build_s": time.perf_counter() - started,
    })
    try:
        conn.recv()
    except EOFError:  # the parent went away
        pass
    sandbox.stop()


class SandboxProcess:
    def __init__(self, builder: str, kwargs: dict[str, Any] | None = None, *,
                 name: str = "bench-sandbox", start_timeout: float = 300) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(target=serve, args=(child, builder, kwargs or {}), name=name,
                                   daemon=True)
        self.process.start()
        child.close()
        if not self._conn.poll(start_timeout):
            self.stop()
            raise RuntimeError(f"the sandbox did not start within {start_timeout:.0f} s")
        self.info: dict[str, Any] = self._conn.recv()
        self.url: str = self.info["url"]
        self.base_urls: dict[str, str] = self.info["base_urls"]
        self.clock: str = self.info["clock"]
        # The control API answers directly: never through a proxy from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def control(self, method: str, action: str) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.url}/_sandbox/{action}", method=method)
        with self._opener.open(request, timeout=30) as answer:
            return json.loads(answer.read())

    def clear_requests(self) -> None:
        self.control("DELETE", "requests")

    def path_counts(self) -> dict[str, int]:
        """Archive requests logged so far, by first path segment ("/mast", "/psa-tap" ...)."""
        return self.control("GET", "requests")["counts"]

    def requests_logged(self) -> int:
        return int(self.control("GET", "requests")["total"])

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the sandbox process so far (Linux /proc), None elsewhere."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def stop(self) -> None:
        if self.process.is_alive():
            try:
                self._conn.send("stop")
            except (BrokenPipeError, OSError):
                pass
            self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)
