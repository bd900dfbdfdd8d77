"""Matching: new events x subscriptions -> the outbox (`deliveries`), in ONE transaction.

Each subscription remembers the last event id matched for it (`matched_through`). A pass:
1. copies the events some subscription has not seen, joined with their products, into a
   temporary table, once, with only the columns the predicates read;
2. runs each distinct predicate once over that small table (many subscriptions often share
   one), collecting (predicate, event) hits in a second temporary table;
3. inserts one delivery per (subscription, hit) newer than the subscription's cursor, in
   subscription then event order (UNIQUE per subscription and event: a replay inserts nothing),
   and advances the cursors.
A crash before COMMIT leaves cursors and outbox as they were: the next pass matches the same
events again.

Each predicate runs under catalog.limits (its own time limit, `[alerts] predicate_time_limit`,
and memory bounds): one that runs past it fails that predicate's subscriptions only (their
cursors stay, `match_error` says why, `harvester status` shows it) and is not tried again for
a while (doubling from an hour to a day), so no user SQL holds the harvest lock past its
limit, and a runaway one does not cost every harvest. A stop asked for meanwhile (SIGTERM)
cuts the statement short and rolls the whole pass back.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from catalog.limits import Bounded, Limits
from harvester.alerts.predicate import HITS_TABLE, reading_authorizer, where_clause
from harvester.alerts.subscriptions import Subscription
from harvester.crashpoints import crashpoint
from harvester.shutdown import HarvestStopped
from harvester.timeutil import iso, parse_iso

DEFAULT_PREDICATE_SECONDS = 10.0  # Lasair's limit on a user's filter

log = logging.getLogger("harvester.alerts")


@dataclass
class MatchReport:
    events: int = 0
    predicates: int = 0
    deliveries: int = 0
    by_subscription: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def first_due(mode: str, now: datetime) -> str:
    """When a new delivery may first be sent: at once, or (daily digest) after its day ends."""
    if mode == "day":
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        return iso(midnight)
    return iso(now)


def predicate_limits(settings: Any) -> Limits:
    seconds = getattr(settings, "predicate_time_limit", DEFAULT_PREDICATE_SECONDS)
    return Limits(seconds=seconds)


def retry_after(failures: int, now: str) -> str:
    """When a predicate that ran out of time `failures` times in a row is tried again."""
    hours = min(2 ** max(failures - 1, 0), 24)
    return iso(parse_iso(now) + timedelta(hours=hours))


class _LostTransaction(Exception):
    """A predicate's failure rolled back the whole pass (SQLite does so on "out of memory");
    the pass is run again without it."""

    def __init__(self, predicate: str, why: str) -> None:
        super().__init__(why)
        self.predicate = predicate
        self.why = why


def match_new_events(conn: sqlite3.Connection, *, now: str, limits: Limits | None = None,
                     should_stop: Callable[[], bool] | None = None) -> MatchReport:
    bound = Bounded(conn, limits or Limits(seconds=DEFAULT_PREDICATE_SECONDS), should_stop)
    broken: dict[str, str] = {}  # predicates that cost a pass its transaction, and why
    while True:
        report = MatchReport()
        conn.execute("BEGIN IMMEDIATE")
        try:
            newest = conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
            behind = [Subscription.from_row(r) for r in conn.execute(
                "SELECT * FROM subscriptions WHERE matched_through < ? "
                "AND (match_retry_at IS NULL OR match_retry_at <= ?) ORDER BY id", (newest, now))]
            if behind:
                _match(conn, behind, newest, report, now=now, bound=bound, broken=broken)
            crashpoint("alerts_match")
        except _LostTransaction as lost:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            broken[lost.predicate] = lost.why
            continue
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            if conn.in_transaction:
                for table in ("alerts_batch", HITS_TABLE, "alerts_subs"):
                    conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
        conn.execute("COMMIT")
        return report


def _match(conn: sqlite3.Connection, subs: list[Subscription], newest: int, report: MatchReport, *,
           now: str, bound: Bounded, broken: dict[str, str]) -> None:
    low = min(s.matched_through for s in subs)
    by_predicate: dict[str, list[Subscription]] = defaultdict(list)
    for sub in subs:
        by_predicate[sub.predicate].append(sub)
    columns = ", ".join(_columns_read(conn, list(by_predicate)))
    conn.execute("DROP TABLE IF EXISTS temp.alerts_batch")
    conn.execute(f"CREATE TEMP TABLE alerts_batch AS SELECT {columns} FROM main.alerts "
                 "WHERE event_id > ? AND event_id <= ?", (low, newest))
    report.events = conn.execute("SELECT COUNT(*) FROM temp.alerts_batch").fetchone()[0]
    report.predicates = len(by_predicate)
    numbers, failed = _collect_hits(conn, by_predicate, report, bound, broken)
    ran = [s for s in subs if s.predicate not in failed]
    conn.execute("DROP TABLE IF EXISTS temp.alerts_subs")
    conn.execute("CREATE TEMP TABLE alerts_subs (id INTEGER PRIMARY KEY, predicate INTEGER, "
                 "after INTEGER, due TEXT)")
    moment = parse_iso(now)
    conn.executemany("INSERT INTO temp.alerts_subs VALUES (?, ?, ?, ?)",
                     [(s.id, numbers[s.predicate], s.matched_through, first_due(s.mode, moment))
                      for s in ran])
    before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM deliveries").fetchone()[0]
    report.deliveries = conn.execute(
        "INSERT OR IGNORE INTO deliveries (subscription_id, event_id, created_at, next_attempt_at) "
        f"SELECT s.id, h.event_id, ?, s.due FROM temp.alerts_subs s JOIN temp.{HITS_TABLE} h "
        "ON h.predicate = s.predicate AND h.event_id > s.after ORDER BY s.id, h.event_id",
        (now,)).rowcount
    names = {s.id: s.name for s in subs}
    report.by_subscription = {names[sub_id]: n for sub_id, n in conn.execute(
        "SELECT subscription_id, COUNT(*) FROM deliveries WHERE id > ? GROUP BY subscription_id",
        (before,))}
    conn.executemany("UPDATE subscriptions SET matched_through = ?, match_error = NULL, "
                     "match_failures = 0, match_retry_at = NULL WHERE id = ?",
                     [(newest, s.id) for s in ran])
    conn.executemany(
        "UPDATE subscriptions SET match_error = ?, match_failures = match_failures + 1, "
        "match_retry_at = ? WHERE id = ?",
        [(report.errors[s.name],
          retry_after(s.match_failures + 1, now) if failed[s.predicate] else None, s.id)
         for s in subs if s.predicate in failed])


def _columns_read(conn: sqlite3.Connection, predicates: list[str]) -> list[str]:
    """The view's columns these predicates read (SQLite's authorizer names each one as it
    compiles them), so the batch they scan holds only those: a third of the bytes or less."""
    conn.execute("DROP TABLE IF EXISTS temp.alerts_batch")
    conn.execute("CREATE TEMP TABLE alerts_batch AS SELECT * FROM main.alerts LIMIT 0")
    every = [r[1] for r in conn.execute("PRAGMA temp.table_info(alerts_batch)")]
    read = {"event_id"}

    def note(action: int, arg1: str | None, arg2: str | None, *rest: Any) -> int:
        if action == sqlite3.SQLITE_READ and arg1 == "alerts_batch" and arg2:
            read.add(arg2)
        return reading_authorizer(action, arg1, arg2, *rest)

    conn.set_authorizer(note)
    try:
        for predicate in predicates:
            try:
                conn.execute(f"SELECT 1 FROM temp.alerts_batch AS alerts WHERE "
                             f"{where_clause(predicate)} LIMIT 0").fetchall()
            except sqlite3.Error:
                pass  # it fails again when it runs, and is reported then
    finally:
        conn.set_authorizer(None)
    conn.execute("DROP TABLE temp.alerts_batch")
    return [c for c in every if c in read]


def _collect_hits(conn: sqlite3.Connection, by_predicate: dict[str, list[Subscription]],
                  report: MatchReport, bound: Bounded, broken: dict[str, str]
                  ) -> tuple[dict[str, int], dict[str, bool]]:
    """Run each distinct predicate once, each under its own deadline; its number, and the
    predicates that failed (True for those stopped by a bound, which are tried again later).

    A predicate runs as a read-only SELECT (its hits come back as one JSON array, stored by a
    statement of ours): SQLite rolls back the whole transaction when it interrupts a statement
    that writes, but not one that only reads, so a predicate cut off at its time limit costs
    the pass nothing but that predicate."""
    conn.execute(f"DROP TABLE IF EXISTS temp.{HITS_TABLE}")
    conn.execute(f"CREATE TEMP TABLE {HITS_TABLE} (predicate INTEGER, event_id INTEGER)")
    numbers: dict[str, int] = {}
    failed: dict[str, bool] = {}

    def fail(predicate: str, why: str, limited: bool) -> None:
        # Their cursors stay put: once the predicate is fixed, nothing was skipped.
        failed[predicate] = limited
        for sub in by_predicate[predicate]:
            log.warning("subscription %s: not matched: %s", sub.name, why)
            report.errors[sub.name] = why

    conn.set_authorizer(reading_authorizer)
    try:
        with bound:
            for number, (predicate, sharing) in enumerate(by_predicate.items()):
                numbers[predicate] = number
                if predicate in broken:
                    fail(predicate, broken[predicate], True)
                    continue
                after = min(s.matched_through for s in sharing)
                bound.restart()
                try:
                    hits = conn.execute(
                        "SELECT json_group_array(event_id) FROM temp.alerts_batch AS alerts "
                        f"WHERE event_id > ? AND {where_clause(predicate)}", (after,)).fetchone()[0]
                except (sqlite3.Error, MemoryError) as exc:
                    if bound.reason == "stop":
                        raise HarvestStopped("stop requested while matching") from None
                    if bound.reason is None and "interrupted" in str(exc):
                        raise KeyboardInterrupt from None  # Ctrl-C, which SQLite swallowed
                    limited = bound.explain(exc, "the predicate")
                    why = str(limited) if limited else f"predicate failed: {exc}"
                    if not conn.in_transaction:
                        raise _LostTransaction(predicate, why) from None
                    fail(predicate, why, limited is not None)
                    continue
                conn.set_authorizer(None)
                with bound.paused():
                    conn.execute(f"INSERT INTO temp.{HITS_TABLE} SELECT ?, value FROM json_each(?)",
                                 (number, hits))
                conn.set_authorizer(reading_authorizer)
    finally:
        conn.set_authorizer(None)
    conn.execute(f"CREATE INDEX temp.{HITS_TABLE}_order ON {HITS_TABLE}(predicate, event_id)")
    return numbers, failed
