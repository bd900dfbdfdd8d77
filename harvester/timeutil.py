"""UTC time helpers: every timestamp in the catalog is ISO 8601 UTC with a trailing Z."""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime, timedelta

MJD_EPOCH = datetime(1858, 11, 17, tzinfo=UTC)
JD_MJD_OFFSET = 2400000.5


# The clock may be moved (--now, HARVESTER_NOW, --as-of) within these bounds: dates near year
# 9999 overflow the first day added to them, and nothing the harvester reads is older than 1970.
EARLIEST_CLOCK = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_CLOCK = datetime(2200, 1, 1, tzinfo=UTC)
# 3I/ATLAS was discovered on 2025-07-01: a harvest whose clock says earlier is a typo.
EARLIEST_HARVEST = datetime(2025, 1, 1, tzinfo=UTC)


def utcnow() -> datetime:
    """The harvester's clock. HARVESTER_NOW (ISO) moves it, so tests and demos can travel in time."""
    override = os.environ.get("HARVESTER_NOW")
    if override:
        return parse_iso(override)
    return datetime.now(UTC)


def parse_clock(text: str) -> datetime:
    """An ISO date or time a user gives as the clock, within EARLIEST_CLOCK..LATEST_CLOCK;
    ValueError (with a message fit for one line) otherwise."""
    try:
        moment = parse_iso(text)
    except (ValueError, OverflowError):
        raise ValueError(f"not an ISO date or time: {text!r}") from None
    if not EARLIEST_CLOCK <= moment < LATEST_CLOCK:
        raise ValueError(f"{text!r} is out of range (from {EARLIEST_CLOCK.year} to "
                         f"{LATEST_CLOCK.year - 1})")
    return moment


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 date or datetime; naive values are taken as UTC."""
    value = text.strip()
    if value.endswith("Z") or value.endswith("z"):
        value = value[:-1] + "+00:00"
    # Python < 3.11 rejected 7+ fractional digits; PDS sends 9 (2022-11-01T22:30:14.054640500Z).
    if "." in value:
        head, _, rest = value.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        value = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso(moment: datetime) -> str:
    """Format as the catalog's canonical UTC form: 2025-08-06T12:00:00.000Z (sortable as text)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def normalize_iso(text: str | None) -> str | None:
    """Any ISO timestamp string to the canonical form; None and '' stay None."""
    if text is None or str(text).strip() == "":
        return None
    return iso(parse_iso(str(text)))


def mjd_to_datetime(mjd: float) -> datetime:
    return MJD_EPOCH + timedelta(days=float(mjd))


def datetime_to_mjd(moment: datetime) -> float:
    return (moment.astimezone(UTC) - MJD_EPOCH).total_seconds() / 86400.0


def mjd_to_iso(mjd: float | int | str | None) -> str | None:
    """The same text as iso(mjd_to_datetime(mjd)), without a datetime per call: a backfill
    converts three MJDs per MAST row, and this was a tenth of its time. The epoch is a UTC
    midnight, so the timedelta's days name the date and its seconds the time of day."""
    if mjd is None or mjd == "":
        return None
    delta = timedelta(days=float(mjd))
    seconds = delta.seconds
    return (f"{_mjd_date_text(delta.days)}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:"
            f"{seconds % 60:02d}.{delta.microseconds // 1000:03d}Z")


@functools.lru_cache(maxsize=8192)
def _mjd_date_text(days: int) -> str:
    # strftime, as iso() writes dates (it does not zero-pad years before 1000).
    return (MJD_EPOCH + timedelta(days=days)).strftime("%Y-%m-%d")


def jd_to_iso(jd: float | int | str | None) -> str | None:
    if jd is None or jd == "":
        return None
    return mjd_to_iso(float(jd) - JD_MJD_OFFSET)
