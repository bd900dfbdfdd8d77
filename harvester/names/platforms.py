"""One identity for each platform and instrument across archives (config/platforms.toml).

Archives spell one spacecraft many ways: PDS by host LID (`spacecraft.mro`) or by investigation
(`mission.mars_reconnaissance_orbiter`), the PSA by `instrument_host_name` ("ExoMars 2016"), MAST
by collection. The table gives each platform an id (the catalog's spelling) and the names that
mean it; harvests store the id as `mission` and keep the archive's spelling in `extra`, and the
release watch compares through the same identities, so a campaign entry for MRO finds HiRISE
products however the archive named the orbiter.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harvester.errors import ConfigError
from harvester.names.matcher import fold
from harvester.settings import build

_CONTEXT_LID = re.compile(r"^urn:[^:]+:[^:]+:context:[a-z_]+:(?P<id>.+)$", re.IGNORECASE)
_KEYS = {"id", "names", "instruments"}


def keys_of(value: str) -> list[str]:
    """The folded forms a name is known by: itself, and for a context LID its id and the id's
    last part (`urn:nasa:pds:context:instrument_host:spacecraft.mro` -> spacecraft.mro, mro)."""
    found = [fold(value)]
    lid = _CONTEXT_LID.match(value.strip())
    if lid:
        found += [fold(lid["id"]), fold(lid["id"].rsplit(".", 1)[-1])]
    return [k for k in dict.fromkeys(found) if k]


@functools.lru_cache(maxsize=4096)
def _keys(value: str) -> tuple[str, ...]:
    # Products of one archive repeat a handful of spellings: fold each once per process.
    return tuple(keys_of(value))


@dataclass
class Platform:
    id: str
    names: list[str] = field(default_factory=list)
    instruments: dict[str, list[str]] = field(default_factory=dict)
    _instrument_keys: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for instrument, names in self.instruments.items():
            for name in [instrument, *names]:
                for key in keys_of(name):
                    self._instrument_keys.setdefault(key, instrument)

    def instrument(self, value: str | None) -> str | None:
        """The instrument id `value` names on this platform, or None."""
        if not value:
            return None
        return next((self._instrument_keys[k] for k in _keys(value) if k in self._instrument_keys), None)


class Platforms:
    """Lookups by any name of a platform; instruments within their platform."""

    def __init__(self, platforms: Iterable[Platform] = ()) -> None:
        self.platforms = list(platforms)
        self._keys: dict[str, Platform] = {}
        for platform in self.platforms:
            for name in [platform.id, *platform.names]:
                for key in keys_of(name):
                    self._keys.setdefault(key, platform)

    def platform(self, value: str | None) -> Platform | None:
        if not value:
            return None
        return next((self._keys[k] for k in _keys(value) if k in self._keys), None)

    def first_platform(self, values: Iterable[str | None]) -> tuple[Platform, str] | None:
        for value in values:
            found = self.platform(value)
            if found:
                return found, str(value)
        return None

    def normalize(self, product: Any) -> None:
        """Set `product.mission` and `.instrument` to their ids where the table knows the
        archive's spelling; the spelling replaced stays in `extra` (archive_mission,
        archive_instrument)."""
        found = self.first_platform([product.mission, *product.mission_names])
        if found is None:
            return
        platform, _ = found
        if product.mission != platform.id:
            if product.mission:
                product.extra["archive_mission"] = product.mission
            product.mission = platform.id
        instrument = next((i for i in (platform.instrument(v) for v in
                                       [product.instrument, *product.instrument_names]) if i), None)
        if instrument and product.instrument != instrument:
            if product.instrument:
                product.extra["archive_instrument"] = product.instrument
            product.instrument = instrument

    def same_platform(self, spelling: str, value: str | None) -> bool:
        mine, theirs = self.platform(spelling), self.platform(value)
        return mine is not None and mine is theirs

    def same_instrument(self, mission: str | None, spelling: str, value: str | None) -> bool:
        platform = self.platform(mission)
        if platform is None or not value:
            return False
        mine, theirs = platform.instrument(spelling), platform.instrument(value)
        return mine is not None and mine == theirs


# ---------------------------------------------------------------- the file and the [platforms] section


@dataclass
class Settings:
    # Empty: the table shipped with the package (config/platforms.toml).
    file: str = ""

    def path(self) -> Path:
        from importlib import resources

        if self.file:
            return Path(self.file)
        return Path(str(resources.files("harvester.defaults").joinpath("platforms.toml")))


def parse(table: dict[str, Any], *, path: str) -> Settings:
    """The [platforms] section of the config; a relative file starts at the config's folder."""
    settings = build(Settings, table, where="platforms", path=path)
    if settings.file and path not in ("", "-") and not Path(settings.file).is_absolute():
        settings.file = str(Path(path).parent / settings.file)
    return settings


def settings_of(config: Any) -> Settings:
    found = getattr(config, "platforms", None)
    return found if isinstance(found, Settings) else Settings()


def load(path: Path) -> Platforms:
    """The platforms file; any mistake is one ConfigError naming the file, the entry and the key."""
    data = _read(path)
    entries = data.get("platform", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: [[platform]] must be an array of tables")
    platforms, seen = [], set()
    for number, entry in enumerate(entries, 1):
        where = f"platform {number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: {where}: must be a table")
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise ConfigError(f"{path}: {where}: {unknown[0]}: unknown key (allowed: {', '.join(sorted(_KEYS))})")
        pid = entry.get("id")
        if not isinstance(pid, str) or not pid.strip():
            raise ConfigError(f"{path}: {where}: id: must be a non-empty string")
        where = f"platform {pid!r}"
        if pid in seen:
            raise ConfigError(f"{path}: {where}: id: used twice")
        seen.add(pid)
        names = entry.get("names", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"{path}: {where}: names: expected a list of strings")
        instruments = entry.get("instruments", {})
        if not isinstance(instruments, dict) or not all(
                isinstance(v, list) and all(isinstance(n, str) for n in v) for v in instruments.values()):
            raise ConfigError(f"{path}: {where}: instruments: expected a table of lists of strings")
        platforms.append(Platform(id=pid, names=names, instruments=instruments))
    return Platforms(platforms)


def _read(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: platforms file not found (see [platforms] file)") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"{path}: cannot read the platforms file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def platforms_of(config: Any) -> Platforms:
    return load(settings_of(config).path())
