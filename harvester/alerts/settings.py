"""Settings of this feature's config section (placeholder until the feature lands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harvester.settings import build


@dataclass
class Settings:
    pass


def parse(table: dict[str, Any], *, path: str) -> Settings:
    return build(Settings, table, where=__name__.split(".")[-2], path=path)
