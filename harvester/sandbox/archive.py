"""What every sandbox archive is, and the registry of them.

An archive lives under one URL prefix of the sandbox, holds the scenario's records for it and
answers requests below its prefix. Adding an archive is a module with an `Archive` subclass and
a line in ARCHIVES; the server, the scenario loader and the control API need no change.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .reply import Reply


@dataclass
class SandboxRequest:
    """One archive request, already stripped of the archive's prefix."""

    method: str
    path: str            # below the archive's prefix, e.g. "/sync"
    query: str           # raw query string
    body: bytes
    headers: dict[str, str]  # lower-case names
    clock: datetime      # the scenario clock (aware UTC)
    clock_mjd: float
    clock_canon: str     # ISO with nanoseconds and Z, as PDS compares dates
    base_url: str        # this archive's base URL on the sandbox
    request_url: str     # the full URL as requested


class Archive:
    """Base of a sandbox archive: `prefix`, records in, replies out."""

    prefix: str = ""

    def add(self, records: Iterable[dict[str, Any]]) -> int:
        raise NotImplementedError

    def corrupt(self, key: Any, **fields: Any) -> None:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def serve(self, request: SandboxRequest) -> Reply:
        raise NotImplementedError

    def base_urls(self, base_url: str) -> dict[str, str]:
        """The config base_url for each source kind or name this archive stands in for."""
        return {}


# scenario key -> (module, class); the key is also the name in Sandbox.archives.
ARCHIVES: dict[str, tuple[str, str]] = {
    "mast": (".mast", "MastArchive"),
    "pds": (".pds", "PdsArchive"),
    "psa": (".psa", "PsaArchive"),
    "obscore": (".obscore", "ObsCoreArchive"),
    "mpc": (".mpc", "MpcArchive"),
    "sbdb": (".sbdb", "SbdbArchive"),
    "cnsa": (".cnsa", "CnsaArchive"),
    "horizons": (".horizons", "HorizonsArchive"),
    "catch": (".catch", "CatchArchive"),
}


def available_archives() -> dict[str, type[Archive]]:
    """The archive classes whose modules exist (archives under construction are skipped)."""
    found: dict[str, type[Archive]] = {}
    for name, (module_name, class_name) in ARCHIVES.items():
        try:
            module = importlib.import_module(module_name, __package__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(module_name.lstrip(".")):
                continue
            raise
        found[name] = getattr(module, class_name)
    return found
