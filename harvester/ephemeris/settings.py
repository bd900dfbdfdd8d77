"""The [ephemeris] section: where Horizons is, which body, the observers the sources may name,
and how long a cached ephemeris is trusted before Horizons is asked whether the orbit changed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harvester.errors import ConfigError
from harvester.settings import build, check_positive, check_url

# Horizons location codes: "500" is the geocentre; "500@-95" the centre of spacecraft -95. From
# 1.8 au, TESS's orbit (out to ~0.0025 au) shifts the comet by minutes of arc and JWST at L2
# (~0.01 au) by tens; for satellites in low Earth orbit (HST, Swift, SPHEREx at ~700 km) the
# shift is a few arcseconds, below any frame's margin, so the geocentre serves them.
DEFAULT_OBSERVERS = {
    "geocentric": "500",
    "tess": "500@-95",
    "jwst": "500@-170",
    "hst": "500@-48",
    "swift": "500",
    "spherex": "500",
}
_LOCATION = re.compile(r"^[A-Za-z0-9@.,+-]{1,40}$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass
class Settings:
    horizons_url: str = "https://ssd.jpl.nasa.gov/api/horizons.api"
    # What Horizons is asked about (DES=<target>; CAP; NOFRAG): the designation, never the
    # record number, which changes as orbits are updated (docs/archives.md).
    target: str = "C/2025 N1"
    observers: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_OBSERVERS))
    # A cached ephemeris is used as is for this long; then one small query asks Horizons for
    # the current orbit solution, and a changed solution refetches every cached ephemeris.
    refresh_hours: float = 24.0
    rate_limit: float | None = None   # requests/s to Horizons; None: [http] rate_limit

    def location(self, observer: str) -> str:
        return self.observers[observer]


def parse(table: dict[str, Any], *, path: str) -> Settings:
    settings = build(Settings, table, where="ephemeris", path=path)
    check_url(settings.horizons_url, key="horizons_url", where="ephemeris", path=path)
    check_positive(settings.refresh_hours, key="refresh_hours", where="ephemeris", path=path)
    check_positive(settings.rate_limit, key="rate_limit", where="ephemeris", path=path)
    settings.horizons_url = settings.horizons_url.rstrip("/")
    if not settings.target.strip() or ";" in settings.target:
        raise ConfigError(f"{path}: [ephemeris] target: a designation such as \"C/2025 N1\", "
                          f"got {settings.target!r}")
    observers = dict(DEFAULT_OBSERVERS)
    for name, location in settings.observers.items():
        if not _NAME.match(name):
            raise ConfigError(f"{path}: [ephemeris.observers] {name}: lower-case letters, digits, "
                              "- and _ only")
        if not isinstance(location, str) or not _LOCATION.match(location):
            raise ConfigError(f"{path}: [ephemeris.observers] {name}: not a Horizons location "
                              f"code such as \"500@-95\": {location!r}")
        observers[name] = location
    settings.observers = observers
    return settings


def settings_of(config: Any) -> Settings:
    ephemeris = getattr(config, "ephemeris", None)
    return ephemeris if isinstance(ephemeris, Settings) else Settings()
