"""Bounds on SQL that a user wrote: `harvester sql`, subscription predicates, the web page.

Three bounds, all SQLite's own:
- time: a progress handler, called every few thousand virtual-machine steps, aborts the
  statement once its deadline has passed (or a stop was asked for), so a runaway recursive CTE
  ends within a fraction of a second of its limit, whatever it does;
- value size: SQLITE_LIMIT_LENGTH caps any one string or blob a query builds (group_concat of
  everything, zeroblob(1e9), replace() loops);
- memory: SQLite keeps temporary b-trees and sorts in files beyond a small cache (this build's
  TEMP_STORE=1, and a user cannot set temp_store: pragmas are refused), and PRAGMA
  hard_heap_limit puts a ceiling on all of SQLite's memory in the process as a backstop (a
  statement that needs more fails with "out of memory"). SQLite lets that pragma only lower
  the ceiling, so it stays for the rest of the process: HEAP_CEILING is far above what a
  harvest itself needs.
Rows are bounded by the callers: a predicate yields no rows, `harvester sql` streams CSV and
JSON and caps its table, Datasette caps at max_returned_rows.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from harvester.errors import QueryLimitError

MiB = 1024 * 1024
# Far above any value the catalog holds (a raw record is kilobytes), far below a machine's memory.
MAX_VALUE_BYTES = 64 * MiB
HEAP_CEILING = 1024 * MiB
STEPS_PER_CHECK = 10_000  # VM instructions between two looks at the clock: well under 1 ms


@dataclass(frozen=True)
class Limits:
    seconds: float | None          # None or 0: no time limit
    heap_bytes: int | None = HEAP_CEILING  # None: leave SQLite's heap limit as it is
    max_value_bytes: int = MAX_VALUE_BYTES

    def describe_time(self) -> str:
        return f"{self.seconds:g} s"


def heap_ceiling(value: int) -> int:
    """Lower SQLite's hard heap limit for the whole process to `value` (never raise it: SQLite
    would not); returns the limit now in force. Set through a private connection: the limit is
    global, and the bounded connection's authorizer (a user's SQL is on it) refuses pragmas."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"PRAGMA hard_heap_limit = {int(value)}")
        return int(conn.execute("PRAGMA hard_heap_limit").fetchone()[0])
    finally:
        conn.close()


class Bounded:
    """`with Bounded(conn, limits) as bound:` runs statements on `conn` under the limits; on an
    sqlite3 error inside, `bound.explain(exc, what)` says whether a limit stopped it.

    `should_stop` (e.g. a GracefulStop's `requested`) is polled with the clock, so a SIGTERM
    reaches a statement that would otherwise keep the process deaf until it ends."""

    def __init__(self, conn: sqlite3.Connection, limits: Limits,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.conn = conn
        self.limits = limits
        self.should_stop = should_stop
        self.reason: str | None = None  # "time" or "stop" once the handler aborted
        self._deadline: float | None = None
        self._old_length: int | None = None

    def __enter__(self) -> Bounded:
        self.reason = None
        seconds = self.limits.seconds
        self._deadline = time.monotonic() + seconds if seconds else None
        self._old_length = self.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH,
                                              self.limits.max_value_bytes)
        if self.limits.heap_bytes:
            heap_ceiling(self.limits.heap_bytes)
        self.conn.set_progress_handler(self._check, STEPS_PER_CHECK)
        return self

    def restart(self) -> None:
        """A fresh deadline for the next statement (each predicate gets its own)."""
        self.reason = None
        seconds = self.limits.seconds
        self._deadline = time.monotonic() + seconds if seconds else None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Our own statement between two bounded ones: never cut short (SQLite rolls back a
        whole transaction when it interrupts a statement that writes)."""
        self.conn.set_progress_handler(None, 0)
        try:
            yield
        finally:
            self.conn.set_progress_handler(self._check, STEPS_PER_CHECK)

    def _check(self) -> int:
        if self.should_stop is not None and self.should_stop():
            self.reason = "stop"
            return 1
        if self._deadline is not None and time.monotonic() > self._deadline:
            self.reason = "time"
            return 1
        return 0

    def __exit__(self, *exc: Any) -> None:
        self.conn.set_progress_handler(None, 0)
        if self._old_length is not None:
            self.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, self._old_length)

    def explain(self, exc: BaseException, what: str) -> QueryLimitError | None:
        """The one line for an error a bound caused, or None for any other error."""
        message = str(exc)
        if self.reason == "time":
            return QueryLimitError(f"{what} ran past its time limit of {self.limits.describe_time()} "
                                   "and was stopped")
        if self.reason == "stop":
            return QueryLimitError(f"{what} was stopped: the process was asked to stop")
        if isinstance(exc, MemoryError) or "out of memory" in message:
            limit = f" of {self.limits.heap_bytes // MiB} MiB" if self.limits.heap_bytes else ""
            return QueryLimitError(f"{what} ran out of its memory bound{limit} and was stopped")
        if "too big" in message:
            return QueryLimitError(f"{what} built a value over {self.limits.max_value_bytes // MiB} "
                                   f"MiB and was stopped (SQLite: {message})")
        return None
