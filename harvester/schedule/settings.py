"""Settings of the [schedule] section: how `harvester schedule` paces itself.

Which sources are due, and when, is each source's `cadence` (see harvester.schedule.scheduler)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harvester.errors import ConfigError
from harvester.settings import build


@dataclass
class Settings:
    # Up to this many seconds, drawn at random, are added to each due time, so that many
    # harvesters on the same cadence do not all ask an archive in the same second.
    jitter: float = 60.0
    # Seconds between heartbeats written to the catalog while idle (and at most this often
    # while harvesting); `harvester status` calls a scheduler stale after three missed beats.
    heartbeat_interval: float = 60.0
    # Seconds before trying again when the due sources could not be harvested: another
    # harvest holds the catalog, or the harvest failed as a whole.
    retry_delay: float = 60.0


def parse(table: dict[str, Any], *, path: str) -> Settings:
    settings = build(Settings, table, where="schedule", path=path)
    if settings.jitter < 0:
        raise ConfigError(f"{path}: [schedule] jitter: must be 0 or more, got {settings.jitter!r}")
    for key in ("heartbeat_interval", "retry_delay"):
        value = getattr(settings, key)
        if value <= 0:
            raise ConfigError(f"{path}: [schedule] {key}: must be greater than 0, got {value!r}")
    return settings
