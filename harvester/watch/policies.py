"""Release policies (config/policies.toml): how long after an observation each archive, mission,
instrument or program nominally makes data public.

The most specific rule wins (program, then instrument, then mission, then the archive's own
rule, then the `archive = "*"` fallback). A rule with `explicit = true` applies only to
observations that name it (`policy = "<id>"` in the campaign), for cases the catalog cannot
tell apart, such as a JWST Director's Discretionary program among JWST GO programs.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from harvester.errors import ConfigError
from harvester.watch.campaign import Campaign, Expected, read_toml_file
from harvester.watch.matching import same_name

ANY_ARCHIVE = "*"
DAYS_PER_MONTH = 30.4375
_KEYS = {"id", "archive", "mission", "instrument", "program", "days", "months", "explicit",
         "note", "sources"}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Policy:
    id: str
    archive: str
    unit: str  # "days" or "months"
    low: float
    high: float
    missions: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    explicit: bool = False
    note: str | None = None
    sources: tuple[str, ...] = ()

    @property
    def specificity(self) -> int:
        return 4 * bool(self.programs) + 2 * bool(self.instruments) + bool(self.missions)

    def high_days(self) -> float:
        return self.high * (DAYS_PER_MONTH if self.unit == "months" else 1.0)

    def due_after(self, end: datetime, *, bound: str = "high") -> datetime:
        amount = self.high if bound == "high" else self.low
        if self.unit == "months":
            return add_months(end, amount)
        return end + timedelta(days=amount)

    def describe(self) -> str:
        span = f"{self.low:g}" if self.low == self.high else f"{self.low:g}-{self.high:g}"
        unit = self.unit if not (self.low == self.high == 1) else self.unit[:-1]
        return f"{span} {unit}"


@dataclass
class Policies:
    path: str
    rules: list[Policy] = field(default_factory=list)

    def by_id(self) -> dict[str, Policy]:
        return {p.id: p for p in self.rules}

    def for_expected(self, expected: Expected) -> Policy | None:
        """The rule that sets this observation's nominal due date (None: no rule at all)."""
        if expected.policy:
            return self.by_id().get(expected.policy)
        return self._best(expected.archive, lambda spellings, values: _overlap(spellings, values),
                          expected.missions, expected.instruments, expected.programs)

    def for_products(self, archive: str, mission: str | None, instrument: str | None) -> Policy | None:
        """The rule for a group of catalog products (explicit rules are never guessed)."""
        return self._best(archive, lambda spellings, values: any(
            same_name(s, v) for s in spellings for v in values if v), [mission], [instrument], [])

    def _best(self, archive: str, fits: Any, missions: list, instruments: list,
              programs: list) -> Policy | None:
        best: Policy | None = None
        for rule in self.rules:
            if rule.explicit or rule.archive not in (archive, ANY_ARCHIVE):
                continue
            if any(spellings and not fits(spellings, values) for spellings, values in (
                    (rule.missions, missions), (rule.instruments, instruments),
                    (rule.programs, programs))):
                continue
            rank = (rule.archive != ANY_ARCHIVE, rule.specificity)
            if best is None or rank > (best.archive != ANY_ARCHIVE, best.specificity):
                best = rule
        return best


def _overlap(spellings: Iterable[str], values: Iterable[str]) -> bool:
    """Does a rule's spelling name any of the campaign's spellings (either way round)?"""
    values = list(values)
    return any(same_name(s, v) or same_name(v, s) for s in spellings for v in values)


def add_months(moment: datetime, months: float) -> datetime:
    """Calendar months (6 months after 2025-10-07 is 2026-04-07); a fraction adds days."""
    whole = int(months)
    index = moment.month - 1 + whole
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    shifted = moment.replace(year=year, month=month, day=day)
    return shifted + timedelta(days=(months - whole) * DAYS_PER_MONTH)


def load_policies(path: str | Path) -> Policies:
    data = read_toml_file(Path(path), what="policies")
    where = str(path)
    for key in data:
        if key != "policy":
            raise ConfigError(f"{where}: {key}: unknown table (allowed: [[policy]])")
    tables = data.get("policy", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{where}: policy: must be an array of tables ([[policy]])")
    rules = [_rule(t, n, where) for n, t in enumerate(tables, 1)]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise ConfigError(f"{where}: policy '{rule.id}': id: used twice")
        seen.add(rule.id)
    return Policies(path=where, rules=rules)


def check_references(campaign: Campaign, policies: Policies) -> None:
    """Every `policy = "..."` in the campaign must name a rule of the policies file."""
    known = policies.by_id()
    for expected in campaign.observations:
        if expected.policy and expected.policy not in known:
            raise ConfigError(
                f"{campaign.path}: observation '{expected.id}': policy: no policy "
                f"'{expected.policy}' in {policies.path} (known: {', '.join(sorted(known))})")


def _rule(table: dict[str, Any], number: int, where: str) -> Policy:
    ident = table.get("id")
    name = f"'{ident}'" if isinstance(ident, str) and ident else f"#{number}"

    def fail(key: str, problem: str) -> None:
        raise ConfigError(f"{where}: policy {name}: {key}: {problem}")

    for key in table:
        if key not in _KEYS:
            fail(key, f"unknown key (allowed: {', '.join(sorted(_KEYS))})")
    if not isinstance(ident, str) or not _ID.match(ident):
        fail("id", f"missing or not a simple name: {ident!r}")
    archive = table.get("archive")
    if not isinstance(archive, str) or not archive.strip():
        fail("archive", f"expected an archive name or \"*\", got {archive!r}")
    units = [u for u in ("days", "months") if u in table]
    if len(units) != 1:
        fail("days", "give exactly one of days or months (a number, or [min, max])")
    unit = units[0]
    low, high = _span(table[unit], lambda problem: fail(unit, problem))

    def texts(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            fail(key, f"expected a string or a list of strings, got {value!r}")
        return tuple(v.strip() for v in values)

    explicit = table.get("explicit", False)
    if not isinstance(explicit, bool):
        fail("explicit", f"expected true or false, got {explicit!r}")
    note = table.get("note")
    if note is not None and not isinstance(note, str):
        fail("note", f"expected a string, got {note!r}")
    return Policy(id=ident, archive=archive.strip().lower(), unit=unit, low=low, high=high,
                  missions=texts("mission"), instruments=texts("instrument"),
                  programs=texts("program"), explicit=explicit, note=note,
                  sources=texts("sources"))


def _span(value: Any, fail: Any) -> tuple[float, float]:
    numbers = value if isinstance(value, list) else [value]
    if (len(numbers) not in (1, 2)
            or not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers)):
        fail(f"expected a number or [min, max], got {value!r}")
    low, high = float(numbers[0]), float(numbers[-1])
    if low < 0 or high < low:
        fail(f"expected 0 <= min <= max, got {value!r}")
    return low, high
