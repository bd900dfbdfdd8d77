"""Find, read and check the TOML configuration.

Order: --config PATH, else $HARVESTER_CONFIG, else the default config/harvester.toml shipped
with the package. Relative catalog paths are taken from the current directory, as a user
running the command from a shell expects.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from harvester.errors import ConfigError
from harvester.settings import (
    HttpSettings,
    SourceSettings,
    build,
    check_not_negative,
    check_positive,
    check_url,
)


@dataclass
class CatalogSettings:
    path: str = "harvester.db"
    lock_wait: float = 0.0
    # A first harvest into an empty catalog builds its indexes after the load (catalog.bulk).
    bulk_load: bool = True
    # A record met again as it was is known unchanged without normalizing it (catalog.fastpath).
    skip_unchanged: bool = True


# The designations and spellings of docs/archives.md; a config without [target] still finds 3I.
DEFAULT_ALIASES = [
    "3I", "C/2025 N1 (ATLAS)", "C/2025 N1", "ATLAS (C/2025 N1)", "A11pl3Z",
    "3I-ATLAS", "3I_ATLAS", "3IATLAS", "C2025N1", "2025 N1", "ATLAS 3I", "ATLAS-3I",
    "31/ATLAS", "3l/ATLAS", "3i/Atlas", "3 Atlas",
]


@dataclass
class TargetSettings:
    name: str = "3I/ATLAS"
    aliases: list[str] = field(default_factory=lambda: list(DEFAULT_ALIASES))
    # What `harvester target resolve` asks the name services about, and where they are.
    designation: str = "C/2025 N1"
    sbdb_url: str = "https://ssd-api.jpl.nasa.gov"
    mpc_url: str = "https://data.minorplanetcenter.net"


@dataclass
class Config:
    path: str
    catalog: CatalogSettings
    target: TargetSettings
    http: HttpSettings
    sources: dict[str, SourceSettings]
    # Feature sections ([watch], [alerts], [schedule], [platforms]): each parsed by its own module.
    watch: Any = None
    alerts: Any = None
    schedule: Any = None
    platforms: Any = None
    ephemeris: Any = None

    def enabled_sources(self) -> list[str]:
        return [name for name, s in self.sources.items() if s.enabled]


def default_config_path() -> Path:
    return Path(str(resources.files("harvester.defaults").joinpath("harvester.toml")))


def locate(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("HARVESTER_CONFIG")
    if env:
        return Path(env)
    return default_config_path()


def read_toml(path: Path, *, what: str = "config", hint: str = "") -> dict[str, Any]:
    """A TOML file as a dict; any problem is one ConfigError line naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} file not found{hint}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a {what} file") from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot read the {what} file: permission denied") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what} file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        # TOML is UTF-8 by definition; a file saved as Latin-1 or UTF-16 lands here.
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text (byte {exc.object[exc.start]:#04x} "
                          f"at offset {exc.start}); save the {what} file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


# Feature sections: table -> module whose `parse(table, *, path)` checks and builds it (its
# `parse({}, path=...)` gives the defaults). Each feature owns its keys and their errors.
SECTIONS = {
    "watch": "harvester.watch.settings",
    "alerts": "harvester.alerts.settings",
    "schedule": "harvester.schedule.settings",
    "platforms": "harvester.names.platforms",
    "ephemeris": "harvester.ephemeris.settings",
}
_TOP_LEVEL = {"catalog", "target", "http", "sources", *SECTIONS}


def parse_section(name: str, table: Any, *, path: str) -> Any:
    import importlib

    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return importlib.import_module(SECTIONS[name]).parse(table, path=path)


def load_config(explicit: str | None = None, *, catalog_override: str | None = None) -> Config:
    path = locate(explicit)
    data = read_toml(path)
    return parse_config(data, path=str(path), catalog_override=catalog_override)


def parse_config(
    data: dict[str, Any], *, path: str, catalog_override: str | None = None
) -> Config:
    for key in data:
        if key not in _TOP_LEVEL:
            allowed = ", ".join(sorted(_TOP_LEVEL))
            raise ConfigError(f"{path}: [{key}]: unknown table (allowed: {allowed})")
    catalog = build(CatalogSettings, data.get("catalog", {}), where="catalog", path=path)
    if catalog_override:
        catalog.path = catalog_override
    target = build(TargetSettings, data.get("target", {}), where="target", path=path)
    check_target(target, path=path)
    http = build(HttpSettings, data.get("http", {}), where="http", path=path)
    for key in ("connect_timeout", "read_timeout", "rate_limit", "max_response_mb"):
        check_positive(getattr(http, key), key=key, where="http", path=path)
    for key in ("retries", "backoff_initial", "backoff_max", "retry_after_max"):
        check_not_negative(getattr(http, key), key=key, where="http", path=path)
    check_not_negative(catalog.lock_wait, key="lock_wait", where="catalog", path=path)
    sources_table = data.get("sources", {})
    if not isinstance(sources_table, dict):
        raise ConfigError(f"{path}: [sources] must be a table of [sources.<name>] blocks")
    sources = {
        name: parse_source(name, table, path=path) for name, table in sources_table.items()
    }
    sections = {name: parse_section(name, data.get(name, {}), path=path) for name in SECTIONS}
    return Config(path=path, catalog=catalog, target=target, http=http, sources=sources,
                  **sections)


def check_target(target: TargetSettings, *, path: str) -> None:
    """The name and every alias must keep a letter or digit once folded: the matcher compares
    folded names, so an alias like "---" would match nothing (or, worse, every empty name)."""
    from harvester.names.matcher import fold

    if not target.name.strip():
        raise ConfigError(f"{path}: [target] name: must not be empty")
    if not fold(target.name):
        raise ConfigError(f"{path}: [target] name: {target.name!r} has no letter or digit, so no "
                          "archive name could ever match it")
    for alias in target.aliases:
        if not fold(alias):
            raise ConfigError(f"{path}: [target] aliases: {alias!r} has no letter or digit once "
                              "case and punctuation are folded away, so it can match nothing; "
                              "remove it")


def parse_source(name: str, table: Any, *, path: str) -> SourceSettings:
    from harvester.sources import settings_class

    where = f"sources.{name}"
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{where}] must be a table")
    kind = table.get("kind", name)
    if not isinstance(kind, str):
        raise ConfigError(f"{path}: [{where}] kind: expected a string, got {kind!r}")
    cls = settings_class(kind)
    if cls is None:
        from harvester.sources import known_kinds

        raise ConfigError(
            f"{path}: [{where}] kind: unknown source kind {kind!r} "
            f"(known: {', '.join(known_kinds())})"
        )
    settings = build(cls, table, where=where, path=path)
    settings.kind = kind
    if not settings.base_url:
        raise ConfigError(f"{path}: [{where}] base_url: missing")
    check_url(settings.base_url, key="base_url", where=where, path=path)
    settings.base_url = settings.base_url.rstrip("/")
    for key in ("page_size", "rate_limit"):
        check_positive(getattr(settings, key), key=key, where=where, path=path)
    if settings.lookback_days < 0:
        raise ConfigError(f"{path}: [{where}] lookback_days: must be 0 or more")
    validate = getattr(settings, "validate", None)
    if validate:
        validate(where=where, path=path)
    return settings


def with_base_urls(config: Config, base_urls: dict[str, str]) -> Config:
    """A copy of `config` whose sources point at other hosts (the sandbox, a mirror).

    `base_urls` maps a source's name, else its kind, to the new base URL: several ObsCore
    sources share a kind but each has its own service."""
    sources = {
        name: dataclasses.replace(
            s, base_url=base_urls.get(name, base_urls.get(s.kind, s.base_url)))
        for name, s in config.sources.items()
    }
    return dataclasses.replace(config, sources=sources)
