"""The campaign file (config/campaign.toml): the documented observations of the target that
should one day be public in an archive, and the periods worth marking on the chart.

Users edit this file to add their own expectations, so every mistake becomes one line naming
the file, the entry and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from harvester.errors import ConfigError

STATUSES = ("documented", "unconfirmed")
# "other": an archive this tool has no source for (the entry is listed, never flagged).
OTHER = "other"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_ARCHIVE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

_OBSERVATION_KEYS = {
    "id", "status", "platform", "archive", "archive_note", "mission", "instrument",
    "instrument_note", "program", "obs_start", "obs_end", "released_on", "expected_public_by",
    "policy", "watch", "watch_note", "notes", "sources",
}
_PERIOD_KEYS = {"id", "label", "start", "end", "note", "sources"}


@dataclass
class Expected:
    """One expected observation: what was observed, by whom, and where it should appear."""

    id: str
    status: str
    platform: str
    archives: list[str]
    archive_note: str | None = None
    missions: list[str] = field(default_factory=list)
    instruments: list[str] = field(default_factory=list)
    instrument_note: str | None = None
    programs: list[str] = field(default_factory=list)
    obs_start: date | None = None
    obs_end: date | None = None
    released_on: date | None = None
    expected_public_by: str | None = None
    policy: str | None = None
    watch: bool = True
    watch_note: str | None = None
    notes: str | None = None
    sources: list[str] = field(default_factory=list)

    @property
    def archive(self) -> str:
        return self.archives[0]

    @property
    def window_start(self) -> datetime | None:
        return day_start(self.obs_start) if self.obs_start else None

    @property
    def window_end(self) -> datetime | None:
        """The end of the last observed day: campaign dates are whole UTC days."""
        return day_start(self.obs_end) + timedelta(days=1) if self.obs_end else None

    def label(self) -> str:
        """Mission and instrument as the catalog spells them, else the platform (without its
        parenthesised details) and instrument."""
        head = first(self.missions) or re.sub(r"\s*\(.*", "", self.platform) or self.platform
        return " ".join(x for x in (head, first(self.instruments)) if x)


@dataclass(frozen=True)
class Period:
    """A stretch of time worth marking (a government shutdown, the solar conjunction)."""

    id: str
    label: str
    start: date
    end: date
    note: str | None = None
    sources: tuple[str, ...] = ()


@dataclass
class Campaign:
    path: str
    observations: list[Expected]
    periods: list[Period]

    def by_id(self) -> dict[str, Expected]:
        return {e.id: e for e in self.observations}


def first(values: list[str]) -> str | None:
    return values[0] if values else None


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def load_campaign(path: str | Path) -> Campaign:
    """Read and check a campaign file; a mistake is a ConfigError naming file, entry and key."""
    data = read_toml_file(Path(path), what="campaign")
    where = str(path)
    for key in data:
        if key not in ("observation", "period"):
            raise ConfigError(f"{where}: {key}: unknown table (allowed: [[observation]], [[period]])")
    observations = [_observation(entry, n, where) for n, entry in
                    enumerate(_array(data, "observation", where), 1)]
    seen: set[str] = set()
    for obs in observations:
        if obs.id in seen:
            raise ConfigError(f"{where}: observation '{obs.id}': id: used twice")
        seen.add(obs.id)
    periods = [_period(entry, n, where) for n, entry in enumerate(_array(data, "period", where), 1)]
    return Campaign(path=where, observations=observations, periods=periods)


def read_toml_file(path: Path, *, what: str) -> dict[str, Any]:
    from harvester.config import read_toml

    return read_toml(path, what=what, hint=f" (set [watch] {what} in the config)")


def _array(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{where}: {key}: must be an array of tables ([[{key}]])")
    return value


class _Entry:
    """Reads one [[observation]] or [[period]] table, naming it in every error."""

    def __init__(self, table: dict[str, Any], kind: str, number: int, where: str,
                 allowed: set[str]) -> None:
        self.table, self.kind, self.where = table, kind, where
        raw_id = table.get("id")
        self.name = f"'{raw_id}'" if isinstance(raw_id, str) and raw_id else f"#{number}"
        for key in table:
            if key not in allowed:
                self.fail(key, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def fail(self, key: str, problem: str) -> None:
        raise ConfigError(f"{self.where}: {self.kind} {self.name}: {key}: {problem}")

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.table.get(key)
        if value is None:
            if required:
                self.fail(key, "missing")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(key, f"expected a non-empty string, got {value!r}")
        return value.strip() or None

    def texts(self, key: str) -> list[str]:
        """A string or a list of strings (alternative spellings)."""
        value = self.table.get(key)
        if value is None:
            return []
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            self.fail(key, f"expected a string or a list of strings, got {value!r}")
        return [v.strip() for v in values]

    def day(self, key: str, *, required: bool = False) -> date | None:
        value = self.table.get(key)
        if value is None:
            if required:
                self.fail(key, "missing")
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC).date() if value.tzinfo else value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.fail(key, f"expected a date like 2025-10-02, got {value!r}")
        return None

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {value!r}")
        return value


def _observation(table: dict[str, Any], number: int, where: str) -> Expected:
    entry = _Entry(table, "observation", number, where, _OBSERVATION_KEYS)
    ident = entry.text("id", required=True)
    if not _ID.match(ident):
        entry.fail("id", f"use letters, digits, '.', '_' and '-' only, got {ident!r}")
    status = entry.text("status") or "documented"
    if status not in STATUSES:
        entry.fail("status", f"expected one of {', '.join(STATUSES)}, got {status!r}")
    archives = [a.lower() for a in entry.texts("archive")]
    if not archives:
        entry.fail("archive", f"missing (an archive name such as mast, pds, psa, or {OTHER!r})")
    for archive in archives:
        if not _ARCHIVE.match(archive):
            entry.fail("archive", f"not an archive name: {archive!r}")
    documented = status == "documented"
    obs_start = entry.day("obs_start", required=documented)
    obs_end = entry.day("obs_end", required=documented)
    if (obs_start is None) != (obs_end is None):
        entry.fail("obs_end" if obs_end is None else "obs_start", "give both obs_start and obs_end")
    if obs_start and obs_end and obs_end < obs_start:
        entry.fail("obs_end", f"{obs_end} is before obs_start {obs_start}")
    return Expected(
        id=ident, status=status, platform=entry.text("platform") or ident, archives=archives,
        archive_note=entry.text("archive_note"), missions=entry.texts("mission"),
        instruments=entry.texts("instrument"), instrument_note=entry.text("instrument_note"),
        programs=entry.texts("program"), obs_start=obs_start, obs_end=obs_end,
        released_on=entry.day("released_on"), expected_public_by=entry.text("expected_public_by"),
        policy=entry.text("policy"), watch=entry.flag("watch", True),
        watch_note=entry.text("watch_note"), notes=entry.text("notes"),
        sources=entry.texts("sources"),
    )


def _period(table: dict[str, Any], number: int, where: str) -> Period:
    entry = _Entry(table, "period", number, where, _PERIOD_KEYS)
    ident = entry.text("id", required=True)
    start, end = entry.day("start", required=True), entry.day("end", required=True)
    if end < start:
        entry.fail("end", f"{end} is before start {start}")
    return Period(id=ident, label=entry.text("label") or ident, start=start, end=end,
                  note=entry.text("note"), sources=tuple(entry.texts("sources")))
