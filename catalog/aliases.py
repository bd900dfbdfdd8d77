"""Resolved designations of the target stored in the catalog (placeholder until `target
resolve` lands)."""

from __future__ import annotations

from typing import Any


def stored_aliases(catalog: Any) -> list[str]:
    """Aliases stored by `harvester target resolve`, added to the config's at harvest time."""
    return []
