"""Reading archive values the same way in every source."""

from __future__ import annotations

from typing import Any

from harvester.errors import RecordRejected


def number(record: dict[str, Any], key: str) -> float | None:
    """A numeric column; empty is None, anything else unreadable rejects the record."""
    value = record.get(key)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RecordRejected(f"{key} is not a number: {value!r}") from None
