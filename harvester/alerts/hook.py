"""What alerts do after each harvest (placeholder until alerts land)."""

from __future__ import annotations

from typing import Any


def after_harvest(catalog: Any, config: Any, report: Any) -> None:
    """Called by the engine under the catalog lock after the watch hook."""
