"""Log lines: human-readable by default, JSON lines with --log-format json, to stderr or a file.

During a harvest every line carries the run id (the `runs` table's id) and the source, whichever
logger wrote it (the engine, the HTTP client's retries, an adapter): the engine sets them in a
context variable for each source's run, and a filter on the handler copies them onto each record.
"""

from __future__ import annotations

import contextvars
import json
import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from harvester.errors import ConfigError

FORMATS = ("human", "json")
_RUN: contextvars.ContextVar[tuple[int, str] | None] = contextvars.ContextVar(
    "harvester_run", default=None)


@contextmanager
def run_context(run_id: int | None, source: str) -> Iterator[None]:
    """Tag every log line written inside with this run's id and source."""
    token = _RUN.set((run_id, source) if run_id is not None else None)
    try:
        yield
    finally:
        _RUN.reset(token)


class RunFilter(logging.Filter):
    """Copies the current run onto each record (None outside a harvest)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = _RUN.get()
        record.run_id, record.source = current if current else (None, None)
        return True


def _utc(record: logging.LogRecord) -> str:
    # Wall-clock time of the line, not the harvester's (possibly replayed) clock: logs say
    # when things really happened.
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class HumanFormatter(logging.Formatter):
    """2025-11-21T06:00:01.123Z INFO harvester.engine [run 12 mast]: page 3 stored ..."""

    def format(self, record: logging.LogRecord) -> str:
        run = getattr(record, "run_id", None)
        tag = f" [run {run} {record.source}]" if run is not None else ""
        line = f"{_utc(record)} {record.levelname} {record.name}{tag}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, so log shippers and `jq` read it without a grammar."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _utc(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "run_id": getattr(record, "run_id", None),
            "source": getattr(record, "source", None),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(entry, default=str)


def level_for(verbosity: int, *, floor: int = logging.WARNING) -> int:
    """-v is INFO, -vv DEBUG; `floor` is the level with no -v."""
    return max(logging.DEBUG, floor - 10 * verbosity)


def setup_logging(*, verbosity: int = 0, fmt: str = "human", path: str | None = None) -> None:
    """Route the root logger to stderr or `path` (appended; reopened when logrotate moves it)."""
    if fmt not in FORMATS:
        raise ConfigError(f"--log-format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if path:
        try:
            # Imported here: only --log-file needs it, and every command's start would pay for it.
            from logging.handlers import WatchedFileHandler

            handler: logging.Handler = WatchedFileHandler(path, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--log-file {path}: cannot open for writing: "
                              f"{exc.strerror or exc}") from None
    else:
        handler = logging.StreamHandler()
    handler.addFilter(RunFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else HumanFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level_for(verbosity))
    # Third-party chatter (urllib3 connection pools, asyncio) only at -vv.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)


def at_least(level: int) -> None:
    """Make the root logger at least this talkative (a service's log is its only output)."""
    root = logging.getLogger()
    if root.level > level:
        root.setLevel(level)
