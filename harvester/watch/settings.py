"""The [watch] section: where the campaign and the policies are, how products are matched to
expected observations, and when a source counts as silent or failing."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from harvester.errors import ConfigError
from harvester.settings import build, check_positive


@dataclass
class Settings:
    enabled: bool = True
    # Empty: the files shipped with the package (config/campaign.toml, config/policies.toml).
    campaign: str = ""
    policies: str = ""
    match_tolerance_days: float = 1.0
    silence_factor: float = 4.0
    silence_floor_days: float = 14.0
    silence_history: int = 30
    silence_min_gaps: int = 3
    failing_after: int = 2

    def campaign_path(self) -> Path:
        return Path(self.campaign) if self.campaign else packaged("campaign.toml")

    def policies_path(self) -> Path:
        return Path(self.policies) if self.policies else packaged("policies.toml")


def packaged(name: str) -> Path:
    return Path(str(resources.files("harvester.defaults").joinpath(name)))


def parse(table: dict[str, Any], *, path: str) -> Settings:
    settings = build(Settings, table, where="watch", path=path)
    for key in ("match_tolerance_days", "silence_floor_days"):
        if getattr(settings, key) < 0:
            raise ConfigError(f"{path}: [watch] {key}: must be 0 or more, got {getattr(settings, key)!r}")
    for key in ("silence_factor", "silence_history", "silence_min_gaps", "failing_after"):
        check_positive(getattr(settings, key), key=key, where="watch", path=path)
    # Relative file names are read from the config file's folder, as a user editing that
    # config next to its campaign file expects.
    base = Path(path).parent if path not in ("", "-") else None
    for key in ("campaign", "policies"):
        value = getattr(settings, key)
        if value and base is not None and not Path(value).is_absolute():
            setattr(settings, key, str(base / value))
    return settings


def settings_of(config: Any) -> Settings:
    """The config's [watch] settings, or the defaults for a config built without them."""
    watch = getattr(config, "watch", None)
    return watch if isinstance(watch, Settings) else Settings()
