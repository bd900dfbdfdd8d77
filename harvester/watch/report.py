"""What `harvester gaps` and the demo show: the watch evaluated read-only, as rows, JSON and a
few summary lines.

Read-only on purpose: the report opens the catalog read-only, reads the campaign and policies
files themselves (the `expected` table is what the last harvest loaded) and writes nothing, so
it needs no lock and may run while a harvest does.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from harvester.timeutil import iso
from harvester.watch.evaluate import WatchReport, evaluate_watch
from harvester.watch.flags import source_flags  # noqa: F401  (status reads it from flags)
from harvester.watch.latency import LatencyStats
from harvester.watch.silence import SourceWatch
from harvester.watch.status import ExpectedStatus

EXPECTED_COLUMNS = ["id", "status", "archive", "what", "obs_end", "due_date", "first_public",
                    "latency_days", "detail"]
SOURCE_COLUMNS = ["source", "archive", "health", "silence", "last_success", "last_new_product",
                  "usual_interval_days", "since_days", "silent_beyond_days", "detail"]
LATENCY_COLUMNS = ["archive", "mission", "instrument", "count", "median_days", "p90_days",
                   "max_days", "policy", "flag"]
SUMMARY_PER_STATUS = 5
ORDER = {"overdue": 0, "exclusive": 1, "pending": 2, "released": 3, "not_watched": 4, "unconfirmed": 5}


def build_report(catalog_path: str | Path, config: Any, now: datetime, *,
                 with_latency: bool = True) -> WatchReport:
    from catalog.query import readonly_connection

    conn = readonly_connection(catalog_path)
    try:
        return evaluate_watch(conn, config, now, with_latency=with_latency)
    finally:
        conn.close()


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value else ""


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def detail(status: ExpectedStatus) -> str:
    """One short phrase a reader needs beside the status."""
    if status.status == "released":
        return f"{len(status.public_keys)}/{len(status.matches)} products public"
    if status.status == "exclusive":
        if status.exclusive_until is None:
            return f"embargoed, no release date stated ({len(status.matches)} products)"
        return f"embargoed until {_day(status.exclusive_until)} ({len(status.matches)} products)"
    if status.status == "overdue":
        return f"{status.overdue_days:g} days late"
    if status.status == "pending":
        return f"due in {status.due_in_days:g} days" if status.due_in_days is not None else status.reason
    return status.reason


def expected_rows(report: WatchReport, *, full: bool = False, evidence: bool | None = None
                  ) -> list[list[Any]]:
    """One row per expected observation, most urgent first. `full`: texts uncut (else the
    detail is cut at 70 and the description at 28 characters); `evidence` (default: as
    `full`) adds the matched product keys."""
    rows = []
    for s in sorted(report.statuses, key=lambda s: (ORDER[s.status], str(s.expected.obs_start or ""))):
        text = detail(s)
        if not full and len(text) > 70:
            text = text[:67] + "..."
        label = s.expected.label() if full else s.expected.label()[:28]
        row = [s.expected.id, s.status, s.expected.archive, label,
               str(s.expected.obs_end or ""), _day(s.due_date), _day(s.first_public),
               _number(s.latency_days), text]
        if full if evidence is None else evidence:
            row.append(" ".join(s.evidence))
        rows.append(row)
    return rows


def source_rows(report: WatchReport) -> list[list[Any]]:
    return [[s.source, s.archive, s.health, s.silence, _day(s.last_success),
             _day(s.last_arrival), _number(s.usual_interval_days), _number(s.since_days),
             _number(s.threshold_days), s.reason] for s in report.sources]


def latency_rows(report: WatchReport) -> list[list[Any]]:
    return [[s.archive, s.mission or "", s.instrument or "", s.count, f"{s.median:.1f}",
             f"{s.p90:.1f}", f"{s.max:.1f}", s.policy.describe() if s.policy else "", s.flag()]
            for s in report.latency]


def _moment(value: datetime | None) -> str | None:
    return iso(value) if value else None


def expected_json(status: ExpectedStatus, now: datetime) -> dict[str, Any]:
    from harvester.watch.status import state_at

    e = status.expected
    return {
        "id": e.id, "status": status.status, "campaign_status": e.status,
        "platform": e.platform, "what": e.label(), "archive": e.archive, "archives": e.archives,
        "obs_start": str(e.obs_start) if e.obs_start else None,
        "obs_end": str(e.obs_end) if e.obs_end else None,
        "due_date": _moment(status.due_date), "due_basis": status.due_basis,
        "policy": status.policy.id if status.policy else None,
        "first_public": _moment(status.first_public),
        "first_public_stated_by_archive": status.first_public_stated if status.first_public else None,
        "latency_days": status.latency_days,
        "exclusive_until": _moment(status.exclusive_until), "overdue_days": status.overdue_days,
        "due_in_days": status.due_in_days,
        "released_on": str(e.released_on) if e.released_on else None,
        "reason": status.reason, "evidence": status.evidence,
        "matches": [{"product_key": m.product_key, "state": state_at(m, iso(now)),
                     "reason": m.reason}
                    for m in status.matches],
    }


def source_json(source: SourceWatch) -> dict[str, Any]:
    return {
        "source": source.source, "archive": source.archive, "health": source.health,
        "silence": source.silence, "consecutive_failures": source.consecutive_failures,
        "last_error": source.last_error, "last_success": _moment(source.last_success),
        "last_new_product": _moment(source.last_arrival),
        "usual_interval_days": source.usual_interval_days, "since_days": source.since_days,
        "silent_beyond_days": source.threshold_days, "history_days": source.history_days,
        "reason": source.reason,
    }


def latency_json(stats: LatencyStats) -> dict[str, Any]:
    return {
        "archive": stats.archive, "mission": stats.mission, "instrument": stats.instrument,
        "count": stats.count, "median_days": round(stats.median, 2), "p90_days": round(stats.p90, 2),
        "max_days": round(stats.max, 2), "outlier_above_days": round(stats.outlier_above, 2),
        "outliers": stats.outliers, "outlier_keys": stats.outlier_keys,
        "policy": stats.policy.id if stats.policy else None,
        "beyond_policy": stats.beyond_policy,
        # "first_sight": the median product's public date is the harvester's first sight of it
        # (the archive states none), so the latency is an upper bound, never held to a policy.
        "basis": stats.basis,
    }


def report_json(report: WatchReport) -> dict[str, Any]:
    return {
        "as_of": iso(report.as_of),
        "counts": report.counts(),
        "expected": [expected_json(s, report.as_of) for s in report.statuses],
        "latency": [latency_json(s) for s in report.latency],
        "sources": [source_json(s) for s in report.sources],
    }


def summary_lines(catalog_path: str | Path, config: Any, now: datetime) -> list[str]:
    """A few lines for the demo: the counts, what is late or embargoed, and sources in trouble."""
    report = build_report(catalog_path, config, now, with_latency=False)
    counts = report.counts()
    order = ["released", "exclusive", "pending", "overdue", "not_watched", "unconfirmed"]
    lines = [f"Release watch as of {report.as_of.date()}: " +
             ", ".join(f"{counts.get(k, 0)} {k.replace('_', ' ')}" for k in order)]
    for state in ("overdue", "exclusive", "pending"):
        chosen = sorted((s for s in report.statuses if s.status == state),
                        key=lambda s: (-(s.overdue_days or 0), s.due_date or report.as_of))
        for s in chosen[:SUMMARY_PER_STATUS]:
            lines.append(f"  {state:9} {s.expected.id} ({s.expected.label()}, {s.expected.archive}): "
                         f"{detail(s)}")
        if len(chosen) > SUMMARY_PER_STATUS:
            lines.append(f"  {state:9} ... and {len(chosen) - SUMMARY_PER_STATUS} more (harvester gaps)")
    troubled = [s for s in report.sources if s.health == "failing" or s.silence == "silent"]
    for s in troubled:
        state = "failing" if s.health == "failing" else "silent"
        lines.append(f"  {state:9} source {s.source}: {s.reason}")
    if not troubled:
        lines.append("  no source is failing or silent")
    return lines
