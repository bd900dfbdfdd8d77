"""Time conversions the sandbox needs: ISO 8601 <-> aware datetimes <-> MJD.

Kept separate from the harvester's own time code on purpose: the sandbox is a
test double and must not share conversion logic with the code under test.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

MJD_EPOCH = datetime(1858, 11, 17, tzinfo=UTC)
_SECONDS_PER_DAY = 86400.0

# Dates as archives write them: date only, or date-time with optional seconds,
# fraction (PDS writes up to nanoseconds) and zone.
_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)


def parse_time(value: str | datetime | float) -> datetime:
    """Any accepted time form -> aware UTC datetime.

    Numbers are taken as MJD, which lets generated scenarios skip string parsing.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float):
        return mjd_to_datetime(float(value))
    text = str(value).strip()
    m = _ISO_RE.match(text)
    if not m:
        raise ValueError(f"not an ISO 8601 time: {value!r}")
    year, month, day, hh, mm, ss, frac, zone = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    dt = datetime(
        int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), micro,
        tzinfo=UTC,
    )
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        dt -= sign * offset
    return dt


def to_mjd(value: str | datetime | float) -> float:
    """Time -> MJD float (MJD 0 = 1858-11-17T00:00Z), as MAST serves t_min/t_max."""
    if isinstance(value, int | float):
        return float(value)
    delta = parse_time(value) - MJD_EPOCH
    # 8 decimals ~ 1 ms: keeps JSON short without losing anything an archive would keep.
    return round(delta.total_seconds() / _SECONDS_PER_DAY, 8)


def mjd_to_datetime(mjd: float) -> datetime:
    return MJD_EPOCH + timedelta(days=mjd)


def iso_z(dt: datetime) -> str:
    """Aware datetime -> 'YYYY-MM-DDTHH:MM:SS.mmmZ' (the PDS style)."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def canonical_date(text: str) -> str | None:
    """ISO timestamp -> fixed-width UTC string with nanoseconds, or None if not a date.

    String comparison of canonical forms equals time comparison, so
    '2025-01-01T00:00:00Z' and '2025-01-01T00:00:00.000Z' compare equal, and a
    date-only bound like '2025-01-01' means midnight - as Elasticsearch treats them.
    """
    m = _ISO_RE.match(text)
    if not m:
        return None
    year, month, day, hh, mm, ss, frac, zone = m.groups()
    if zone and zone not in ("Z", "z"):
        dt = parse_time(text)
        nanos = (frac or "0")[:9].ljust(9, "0")
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + nanos + "Z"
    nanos = (frac or "")[:9].ljust(9, "0")
    return f"{year}-{month}-{day}T{hh or '00'}:{mm or '00'}:{ss or '00'}.{nanos}Z"
