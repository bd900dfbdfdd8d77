"""Reading `--since`: a duration back from now (`90m`, `12h`, `2d`, `1w`), an ISO date or time,
or `last` (since this reader last looked)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from harvester.errors import ConfigError
from harvester.timeutil import parse_iso

UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
HELP = "a duration (90m, 12h, 2d, 1w), an ISO date or time, or 'last'"


@dataclass(frozen=True)
class Since:
    """Where a look starts: at `moment`, or (`last`) after the reader's previous look."""

    text: str
    moment: datetime | None = None

    @property
    def last(self) -> bool:
        return self.moment is None


def parse_since(text: str, now: datetime) -> Since:
    value = (text or "").strip()
    if value.lower() == "last":
        return Since("last")
    match = _DURATION.match(value)
    if match:
        amount, unit = float(match.group(1)), UNITS[match.group(2).lower()]
        return Since(value, now - timedelta(**{unit: amount}))
    try:
        return Since(value, parse_iso(value))
    except ValueError:
        raise ConfigError(f"--since {text!r}: not {HELP}") from None
