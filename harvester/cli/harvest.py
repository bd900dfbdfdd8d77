"""The harvest commands: `run` (harvest the archives) and `status` (what each source last did)."""

from __future__ import annotations

import sys
from typing import Any

import click

from harvester.cli.group import (
    EXIT_FAILED,
    SECONDS,
    Failure,
    common_options,
    handle_errors,
    load,
    now_option,
)


class Progress:
    """Per-source pages and records on a terminal; silent when stderr is not a TTY."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, source: str, pages: int, records: int) -> None:
        if self.enabled:
            sys.stderr.write(f"\r{source}: page {pages}, {records:,} records ")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


@click.command()
@common_options
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Harvest only this source (repeatable). Default: every enabled source.")
@click.option("--full", is_flag=True, help="Ignore the cursors: re-read each archive's whole window.")
@click.option("--wait", "lock_wait", type=SECONDS, default=None, metavar="SECONDS",
              help="Wait this long for another run on the same catalog to finish.")
@click.option("--due", is_flag=True,
              help="Only the sources whose cadence says they are due (for a frequent cron line).")
@now_option
@handle_errors
def run(config_path: str | None, catalog_path: str | None, sources: tuple[str, ...],
        full: bool, lock_wait: float | None, due: bool) -> None:
    """Harvest the archives for new products of the target.

    SIGTERM or Ctrl-C stops after the page being stored (a wait on an archive is cut short);
    the run is recorded as interrupted and the next run resumes from there.

    Exit status: 0 every source ok (or none due), 1 at least one failed (or the watch or the
    alerts after it, or the catalog is damaged or its disk full), 2 usage or config error, 75
    another harvest holds the catalog, 128+N stopped by signal N (143 SIGTERM).

    \b
    Example:
      harvester run --catalog 3i.db --source mast
      harvester run --due        (from cron every 10 minutes: only the sources due)
    """
    from harvester.engine import harvest
    from harvester.shutdown import GracefulStop, HarvestStopped

    config = load(config_path, catalog_path)
    only = list(sources) or None
    if due:
        from harvester.schedule.scheduler import describe_upcoming, sources_due
        from harvester.timeutil import utcnow

        only, upcoming = sources_due(config, only, utcnow())
        if not only:
            click.echo(f"nothing due; {describe_upcoming(upcoming)}")
            return
    progress = Progress()
    with GracefulStop() as stop:
        try:
            report = harvest(config, only=only, full=full, lock_wait=lock_wait,
                             progress=progress, stop=stop)
        except HarvestStopped:
            # A second signal: stopped at once; whatever page was in flight rolled back.
            raise Failure(f"stopped by {stop.reason}; the next run resumes from the last stored "
                          f"page", 128 + (stop.signum or 0)) from None
        finally:
            progress.done()
    for result in report.results:
        click.echo(result.summary_line())
    for stage, error in report.stage_errors.items():
        click.echo(f"{stage}: failed - {error} (the harvest itself is stored)")
    if report.alerts is not None:
        click.echo(report.alerts.summary())
    if report.stopped:
        click.echo(f"stopped by {stop.reason}; the next run resumes from the last stored page",
                   err=True)
        sys.exit(128 + (stop.signum or 0))
    if not report.ok:
        sys.exit(EXIT_FAILED)


@click.command()
@common_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--wide", is_flag=True,
              help="Every column, full times and cursors (the table is then wider than 100).")
@handle_errors
def status(config_path: str | None, catalog_path: str | None, fmt: str, wide: bool) -> None:
    """Per source: the last run and its result, counts, when it last brought a new product,
    when it is next due, and what the release watch says of it (silent, failing); errors under
    the table; then the scheduler's heartbeat and the alerts outbox (failed deliveries).

    The table fits the terminal (100 columns when not printing to one): --wide adds the
    cursor and the last new product's key, --format json has everything, errors in full.

    \b
    Example:
      harvester status --catalog 3i.db
      harvester status --wide
    """
    import json

    from catalog.query import readonly_connection
    from catalog.status import source_status
    from harvester.alerts.status import delivery_summary
    from harvester.alerts.status import summary_lines as alert_lines
    from harvester.schedule.heartbeat import describe_heartbeat, latest_heartbeat
    from harvester.schedule.scheduler import add_due_times
    from harvester.timeutil import iso, utcnow
    from harvester.watch.flags import source_flags

    config = load(config_path, catalog_path)
    conn = readonly_connection(config.catalog.path)
    conn.set_authorizer(None)
    try:
        rows = source_status(conn, list(config.sources))
        add_due_times(rows, config, conn, utcnow())
        flags = source_flags(conn)
        for row in rows:
            row["watch"] = flags.get(row["source"], "")
        heartbeat = latest_heartbeat(conn, utcnow())
        alerts = delivery_summary(conn, now=iso(utcnow()))
    finally:
        conn.close()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if wide:
        _wide_status(rows)
        for line in [describe_heartbeat(heartbeat), *alert_lines(alerts)]:
            click.echo(line)
        return
    width = _narrow_status(rows)
    for line in [describe_heartbeat(heartbeat), *alert_lines(alerts)]:
        click.echo(_wrap(line, width))


WIDE_COLUMNS = ["source", "status", "last_run", "products", "exclusive", "last_new_product",
                "last_new_product_seen", "rejects", "next_due", "watch", "cursor", "error"]
# The default table: times to the minute, the least useful columns dropped first when the
# terminal is narrow, errors under the table (one line each, cut to the width).
NARROW_COLUMNS = {"source": "source", "status": "status", "last_run": "last_run",
                  "products": "products", "exclusive": "exclusive", "rejects": "rejects",
                  "last_new_product_seen": "last_new", "next_due": "next_due", "watch": "watch"}
NARROW_DROP = ("rejects", "exclusive", "last_new", "next_due", "last_run")
NARROW_SHRINK = ("watch",)


def _wide_status(rows: list[dict[str, Any]]) -> None:
    from harvester.output import write_rows

    # The cursor whole, as the help says: it is what a user checks when a source stands still.
    write_rows(WIDE_COLUMNS, [[_short(r.get(c), None if c == "cursor" else 60) for c in WIDE_COLUMNS]
                              for r in rows], "table")


def _narrow_status(rows: list[dict[str, Any]]) -> int:
    from harvester.output import clip, fit_table, table_width, write_rows

    width = table_width()
    table = [[_minute(r.get(key)) for key in NARROW_COLUMNS] for r in rows]
    fitted = fit_table(list(NARROW_COLUMNS.values()), table, width, drop=NARROW_DROP,
                       shrink=NARROW_SHRINK)
    write_rows(fitted.columns, fitted.rows, "table")
    errors = [(r["source"], r["error"]) for r in rows if r.get("error")]
    if errors:
        click.echo("errors:")
    cut = False
    for source, error in errors:
        line = f"  {source}: {' '.join(str(error).split())}"
        cut = cut or len(line) > width
        click.echo(clip(line, width))
    if fitted.dropped or cut or fitted.clipped:
        hidden = f"hidden: {', '.join(fitted.dropped)}; " if fitted.dropped else ""
        click.echo(clip(f"({hidden}--wide shows all, --format json has full errors)", width))
    return width


def _wrap(line: str, width: int) -> str:
    """A long line folded at spaces to the width, its continuation indented."""
    import textwrap

    indent = " " * (len(line) - len(line.lstrip()) + 2)
    return textwrap.fill(line, width, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False) if len(line) > width else line


def _minute(value: Any) -> str:
    """A catalog time to the minute (2025-12-01T03:05:00.000Z -> 2025-12-01 03:05)."""
    if value is None:
        return ""
    text = str(value)
    if len(text) >= 16 and text[10:11] == "T" and text.endswith("Z"):
        return f"{text[:10]} {text[11:16]}"
    return text


def _short(value: Any, limit: int | None = 60) -> str:
    import json

    if value is None:
        return ""
    if isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"))
    text = str(value)
    return text if limit is None or len(text) <= limit else text[:limit - 3] + "..."
