"""Typed settings blocks and the checker that turns a TOML table into one.

Each block is a dataclass; its fields are the only keys allowed. A wrong key or type becomes a
ConfigError naming the file, the key and the problem, so a user sees one clear line.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from harvester.errors import ConfigError


@dataclasses.dataclass
class HttpSettings:
    user_agent: str = "harvester-3i/0.1 (archive watcher for 3I/ATLAS; python-requests)"
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 5
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    retry_after_max: float = 300.0
    rate_limit: float = 2.0
    max_response_mb: float = 256.0


@dataclasses.dataclass
class SourceSettings:
    """Keys every source block accepts; a source's own settings subclass this."""

    enabled: bool = True
    kind: str = ""
    base_url: str = ""
    rate_limit: float | None = None
    lookback_days: float = 7.0
    page_size: int = 1000
    # When `run --due` and `harvester schedule` harvest it: a cron expression in UTC. Empty means
    # the kind's default (harvester.schedule.CADENCE_DEFAULTS).
    cadence: str = ""

    def validate(self, *, where: str, path: str) -> None:
        check_cadence(self.cadence, where=where, path=path)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # config.parse_source calls only the most derived `validate`, and each kind's module
        # defines its own: wrap it so the keys every block shares are checked for every kind.
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("validate")
        if own is None or getattr(own, "_checks_shared_keys", False):
            return

        def validate(self: SourceSettings, *, where: str, path: str) -> None:
            SourceSettings.validate(self, where=where, path=path)
            own(self, where=where, path=path)

        validate._checks_shared_keys = True  # type: ignore[attr-defined]
        cls.validate = validate  # type: ignore[method-assign]


def check_cadence(value: str, *, where: str, path: str) -> None:
    """A cadence must be a five-field cron expression that fires ('' means the kind's default).

    croniter also takes a sixth field (seconds), which would make a cadence of every second;
    and it accepts days that never come (`0 0 31 2 *`), which would make the source never due
    and its next due time impossible to say."""
    if not value:
        return
    from croniter import CroniterBadDateError, croniter

    fields = value.split()
    if not croniter.is_valid(value) or (len(fields) != 5 and not value.startswith("@")):
        raise ConfigError(
            f"{path}: [{where}] cadence: not a cron expression: {value!r} "
            f"(five fields, minute hour day month weekday, in UTC; e.g. \"0 */3 * * *\")"
        )
    try:
        croniter(value, datetime(2025, 1, 1, tzinfo=UTC)).get_next(datetime)
    except CroniterBadDateError:
        raise ConfigError(
            f"{path}: [{where}] cadence: {value!r} never fires (no such day: check the day "
            "and month fields)"
        ) from None


def _type_name(expected: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a finite number", str: "a string"}
    origin = typing.get_origin(expected)
    if origin in (list, tuple):
        (inner,) = typing.get_args(expected)[:1]
        return f"a list of {_type_name(inner).removeprefix('a ').removeprefix('an ')}s"
    if origin in (types.UnionType, typing.Union):
        parts = [a for a in typing.get_args(expected) if a is not type(None)]
        return " or ".join(_type_name(p) for p in parts)
    return names.get(expected, getattr(expected, "__name__", str(expected)))


def _conforms(value: Any, expected: Any) -> tuple[bool, Any]:
    origin = typing.get_origin(expected)
    if origin in (types.UnionType, typing.Union):
        for option in typing.get_args(expected):
            if option is type(None):
                continue
            ok, converted = _conforms(value, option)
            if ok:
                return True, converted
        return False, value
    if origin is list:
        (inner,) = typing.get_args(expected)
        if not isinstance(value, list):
            return False, value
        converted = []
        for item in value:
            ok, item_value = _conforms(item, inner)
            if not ok:
                return False, value
            converted.append(item_value)
        return True, converted
    if expected is bool:
        return isinstance(value, bool), value
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if expected is float:
        # TOML allows nan and inf; no setting means either (a nan timeout or rate breaks every
        # comparison made with it), so they are refused as "not a number" here.
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return ok, float(value) if ok else value
    if expected is str:
        return isinstance(value, str), value
    if expected is dict or typing.get_origin(expected) is dict:
        return isinstance(value, dict), value
    return isinstance(value, expected), value


def build(cls: type, table: dict[str, Any], *, where: str, path: str) -> Any:
    """Check `table` against dataclass `cls` and build it; `where` is the TOML table name."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{where}] must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            allowed = ", ".join(sorted(known))
            raise ConfigError(f"{path}: [{where}] {key}: unknown key (allowed: {allowed})")
        ok, converted = _conforms(value, hints[key])
        if not ok:
            raise ConfigError(
                f"{path}: [{where}] {key}: expected {_type_name(hints[key])}, got {value!r}"
            )
        values[key] = converted
    try:
        return cls(**values)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{path}: [{where}] {exc}") from None


def check_url(value: str, *, key: str, where: str, path: str) -> None:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"{path}: [{where}] {key}: not an http(s) URL: {value!r}"
        )


def check_positive(value: float | int | None, *, key: str, where: str, path: str) -> None:
    if value is not None and not value > 0:
        raise ConfigError(f"{path}: [{where}] {key}: must be greater than 0, got {value!r}")


def check_not_negative(value: float | int | None, *, key: str, where: str, path: str) -> None:
    if value is not None and not value >= 0:
        raise ConfigError(f"{path}: [{where}] {key}: must be 0 or more, got {value!r}")
