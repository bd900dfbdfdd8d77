"""The outbox in `harvester status`: counts by state, and the deliveries that failed for good."""

from __future__ import annotations

import sqlite3
from typing import Any

from harvester.redact import redact_text


def delivery_summary(conn: sqlite3.Connection, *, now: str | None = None,
                     failed_limit: int = 5) -> dict[str, Any]:
    """Subscriptions, deliveries by status, how many are due, the newest failures.
    A catalog made before the alerts feature (no outbox tables yet) reads as empty."""
    from harvester.timeutil import iso, utcnow

    summary: dict[str, Any] = {"subscriptions": 0, "pending": 0, "due": 0, "sent": 0, "failed": 0,
                               "match_errors": [], "failures": []}
    try:
        summary["subscriptions"] = conn.execute("SELECT COUNT(*) FROM subscriptions").fetchone()[0]
    except sqlite3.OperationalError:
        return summary
    for status, n in conn.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status"):
        summary[status] = n
    summary["due"] = conn.execute(
        "SELECT COUNT(*) FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?",
        (now or iso(utcnow()),)).fetchone()[0]
    summary["match_errors"] = _match_errors(conn)
    summary["failures"] = [
        {"delivery": r[0], "subscription": r[1], "event_id": r[2], "attempts": r[3],
         "last_attempt_at": r[4], "error": redact_text(r[5])}
        for r in conn.execute(
            "SELECT d.id, s.name, d.event_id, d.attempts, d.last_attempt_at, d.error "
            "FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
            "WHERE d.status = 'failed' ORDER BY d.last_attempt_at DESC, d.id DESC LIMIT ?",
            (failed_limit,))]
    return summary


def _match_errors(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    try:
        rows = conn.execute("SELECT name, match_error, match_failures, match_retry_at FROM "
                            "subscriptions WHERE match_error IS NOT NULL ORDER BY name").fetchall()
    except sqlite3.OperationalError:  # a catalog from before migration 6: no failure counts
        rows = [(*r, None, None) for r in conn.execute(
            "SELECT name, match_error FROM subscriptions WHERE match_error IS NOT NULL ORDER BY name")]
    return [{"subscription": name, "error": error, "failures": failures, "retry_at": retry_at}
            for name, error, failures, retry_at in rows]


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """Lines for the table form of `harvester status`."""
    if not summary["subscriptions"] and not summary["sent"] and not summary["failed"]:
        return ["alerts: no subscriptions (harvester subscribe add ...)"]
    lines = [f"alerts: {summary['subscriptions']} subscriptions, {summary['sent']} sent, "
             f"{summary['pending']} pending ({summary['due']} due), {summary['failed']} failed"]
    for failure in summary["failures"]:
        lines.append(f"  failed: delivery {failure['delivery']} of {failure['subscription']} "
                     f"(event {failure['event_id']}, {failure['attempts']} attempts): "
                     f"{failure['error']}")
    if summary["failed"]:
        lines.append("  harvester alerts retry puts failed deliveries back in the outbox")
    for problem in summary["match_errors"]:
        times = f" ({problem['failures']} passes in a row" if problem.get("failures") else ""
        if times and problem.get("retry_at"):
            times += f"; tried again after {problem['retry_at']}"
        lines.append(f"  not matching: {problem['subscription']}: {problem['error']}"
                     f"{times + ')' if times else ''}")
    return lines
