"""The registry of source kinds: one module per archive, each a Source subclass and its settings."""

from __future__ import annotations

import importlib
import importlib.util

from harvester.settings import SourceSettings

# kind -> module under harvester.sources; adding an archive is a module plus a line here.
_MODULES = {
    "mast": "harvester.sources.mast",
    "pds": "harvester.sources.pds",
    "psa": "harvester.sources.psa",
    "obscore": "harvester.sources.obscore",
    "mpc": "harvester.sources.mpc",
    "cnsa": "harvester.sources.cnsa",
    # Found by the target's ephemeris and each frame's footprint, not by name (issue 13).
    "mast-position": "harvester.sources.mast_position",
    "obscore-position": "harvester.sources.obscore_position",
    "catch": "harvester.sources.catch",
}


def _exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def known_kinds() -> list[str]:
    return sorted(kind for kind, module in _MODULES.items() if _exists(module))


def source_module(kind: str):
    name = _MODULES.get(kind)
    return importlib.import_module(name) if name and _exists(name) else None


def settings_class(kind: str) -> type[SourceSettings] | None:
    module = source_module(kind)
    return module.Settings if module else None


def source_class(kind: str):
    module = source_module(kind)
    if module is None:
        raise KeyError(kind)
    return module.SOURCE
