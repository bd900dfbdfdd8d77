"""What the release watch does after each harvest (placeholder until the watch lands)."""

from __future__ import annotations

from typing import Any


def after_harvest(catalog: Any, config: Any, report: Any) -> None:
    """Called by the engine under the catalog lock once every source has run."""
