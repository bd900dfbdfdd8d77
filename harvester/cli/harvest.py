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
@handle_errors
def status(config_path: str | None, catalog_path: str | None, fmt: str) -> None:
    """Per source: the last run and its result, the cursor, counts, the last new product, its
    cadence and when it is next due, and what the release watch says of it (silent, failing);
    then the scheduler's heartbeat and the alerts outbox (failed deliveries).

    \b
    Example:
      harvester status --catalog 3i.db
    """
    import json

    from catalog.query import readonly_connection
    from catalog.status import source_status
    from harvester.alerts.status import delivery_summary
    from harvester.alerts.status import summary_lines as alert_lines
    from harvester.schedule.heartbeat import describe_heartbeat, latest_heartbeat
    from harvester.schedule.scheduler import add_due_times
    from harvester.timeutil import iso, utcnow
    from harvester.watch.report import source_flags

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
    from harvester.output import write_rows

    columns = ["source", "status", "last_run", "products", "exclusive", "last_new_product",
               "last_new_product_seen", "rejects", "next_due", "watch", "cursor", "error"]
    table = [[_short(r.get(c)) for c in columns] for r in rows]
    write_rows(columns, table, "table")
    click.echo(describe_heartbeat(heartbeat))
    for line in alert_lines(alerts):
        click.echo(line)


def _short(value: Any) -> str:
    import json

    if value is None:
        return ""
    if isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"))
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
