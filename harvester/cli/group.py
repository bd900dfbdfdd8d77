"""The `harvester` command: a thin click layer over the library. Library errors become one
clear line and an exit status (2 for a user's mistake, 1 for a failure, 75 for a busy lock)."""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from harvester.errors import (
    CatalogError,
    ConfigError,
    HarvesterError,
    LockBusyError,
    ReadOnlyQueryError,
)

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75  # EX_TEMPFAIL: cron wrappers read it as "try again later"


class Failure(click.ClickException):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def handle_errors(func: Callable) -> Callable:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ConfigError, ReadOnlyQueryError) as exc:
            raise Failure(str(exc), EXIT_USAGE) from None
        except LockBusyError as exc:
            raise Failure(str(exc), EXIT_LOCKED) from None
        except (CatalogError, HarvesterError) as exc:
            raise Failure(str(exc), EXIT_FAILED) from None

    return wrapper


def common_options(func: Callable) -> Callable:
    """--config and --catalog, accepted after every command's name."""
    func = click.option("--catalog", "catalog_path", metavar="PATH",
                        help="Catalog file (overrides [catalog] path).")(func)
    func = click.option("--config", "config_path", metavar="PATH",
                        help="Config file (default: $HARVESTER_CONFIG, else the packaged one).")(func)
    return func


def now_option(func: Callable) -> Callable:
    def set_now(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value:
            from harvester.timeutil import iso, parse_iso

            try:
                os.environ["HARVESTER_NOW"] = iso(parse_iso(value))
            except ValueError:
                raise click.BadParameter(f"not an ISO date or time: {value!r}") from None
        return value

    return click.option("--now", metavar="ISO", expose_value=False, callback=set_now,
                        is_eager=True,
                        help="Pretend the clock says this UTC time (for replays and tests).")(func)


def load(config_path: str | None, catalog_path: str | None):
    from harvester.config import load_config

    return load_config(config_path, catalog_override=catalog_path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="harvester-3i")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("--log-format", type=click.Choice(["human", "json"]), default="human",
              show_default=True, help="Log lines as text, or as one JSON object per line.")
@click.option("--log-file", metavar="PATH",
              help="Append log lines to this file instead of stderr (logrotate-safe).")
def cli(verbose: int, log_format: str, log_file: str | None) -> None:
    """Watch public science archives for the interstellar comet 3I/ATLAS and keep one SQL
    catalog of what they publish.

    \b
    Start here:
      harvester demo                 offline tour against local sandbox archives
      harvester run                  harvest the real archives into harvester.db
      harvester sql "select archive, count(*) from products group by archive"
    """
    from harvester.logs import setup_logging

    try:
        setup_logging(verbosity=verbose, fmt=log_format, path=log_file)
    except ConfigError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None


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


def summary_line(result: Any) -> str:
    head = f"{result.source}: {result.status}"
    body = (f"{result.pages} pages, {result.records:,} records, {result.new} new, "
            f"{result.updated} updated, {result.released} released, {result.rejected} rejected, "
            f"{result.requests} requests, {result.seconds:.1f} s")
    tail = f" - {result.error}" if result.error else ""
    return f"{head}: {body}{tail}"


@cli.command()
@common_options
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Harvest only this source (repeatable). Default: every enabled source.")
@click.option("--full", is_flag=True, help="Ignore the cursors: re-read each archive's whole window.")
@click.option("--wait", "lock_wait", type=float, default=None, metavar="SECONDS",
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

    Exit status: 0 every source ok (or none due), 1 at least one failed, 2 usage or config
    error, 75 another harvest holds the catalog, 128+N stopped by signal N (143 SIGTERM).

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
        from harvester.schedule import describe_upcoming, sources_due
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
        click.echo(summary_line(result))
    if report.alerts is not None:
        click.echo(f"alerts: {report.alerts.summary()}")
    if report.stopped:
        click.echo(f"stopped by {stop.reason}; the next run resumes from the last stored page",
                   err=True)
        sys.exit(128 + (stop.signum or 0))
    if not report.ok:
        sys.exit(EXIT_FAILED)


@cli.command()
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

    from catalog.heartbeat import describe_heartbeat, latest_heartbeat
    from catalog.query import readonly_connection
    from catalog.status import source_status
    from harvester.alerts.status import delivery_summary
    from harvester.alerts.status import summary_lines as alert_lines
    from harvester.schedule import add_due_times
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


@cli.command()
@common_options
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@handle_errors
def sql(config_path: str | None, catalog_path: str | None, query: str, fmt: str) -> None:
    """Run one read-only SQL query on the catalog. Writes are refused.

    \b
    Example:
      harvester sql "select archive, count(*) from products group by archive"
      harvester sql --format csv "select * from events where kind = 'new'"
    """
    from catalog.query import run_query
    from harvester.output import write_rows

    config = load(config_path, catalog_path)
    columns, rows = run_query(config.catalog.path, query)
    write_rows(columns, rows, fmt)


@cli.group()
def export() -> None:
    """Export the catalog to other formats."""


@export.command("parquet")
@common_options
@click.argument("directory", type=click.Path(file_okay=False))
@handle_errors
def export_parquet_cmd(config_path: str | None, catalog_path: str | None, directory: str) -> None:
    """Write the products as a Parquet dataset partitioned by archive.

    \b
    Example:
      harvester export parquet out/products
      duckdb -c "select archive, count(*)
                 from read_parquet('out/products/**/*.parquet', hive_partitioning=1) group by 1"
    """
    from catalog.export import export_parquet

    config = load(config_path, catalog_path)
    count = export_parquet(config.catalog.path, directory)
    click.echo(f"wrote {count:,} products to {directory} (partitioned by archive)")


@cli.command()
@click.option("--port", type=int, default=8765, show_default=True, help="0 picks a free port.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False),
              help="Scenario JSON (default: the packaged 3I/ATLAS scenario).")
@handle_errors
def sandbox(port: int, host: str, scenario: str | None) -> None:
    """Run local stand-ins for the archives (MAST, PDS, PSA, ObsCore TAP, MPC, JPL SBDB, CNSA)
    from a scenario, for tests and demos.

    \b
    Example:
      harvester sandbox --port 8765 &
      harvester run --config sandbox.toml     (base_url = "http://127.0.0.1:8765/mast" ...)
    """
    from harvester.sandbox import Sandbox, default_scenario, load_scenario

    data = load_scenario(scenario) if scenario else default_scenario()
    server = Sandbox(data, host=host, port=port)
    server.start()
    click.echo(f"sandbox archives on {server.url} (clock {server.clock.isoformat()})")
    for kind, url in server.base_urls.items():
        if kind == "sbdb":
            click.echo(f'  [target] sbdb_url = "{url}"')
        else:
            click.echo(f'  [sources.{kind}] base_url = "{url}"')
    if "mpc" in server.base_urls:
        click.echo(f'  [target] mpc_url = "{server.base_urls["mpc"]}"')
    click.echo("Ctrl-C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@cli.command()
@common_options
@click.option("--keep", is_flag=True, help="Keep an existing demo catalog instead of starting fresh.")
@handle_errors
def demo(config_path: str | None, catalog_path: str | None, keep: bool) -> None:
    """The offline tour: start sandbox archives in-process, harvest them into a demo catalog
    (harvester-demo.db), then show the status and a few SQL answers.

    \b
    Example:
      harvester demo
      harvester sql --catalog harvester-demo.db "select * from events"
    """
    from harvester.demo import run_demo

    run_demo(config_path, catalog_path or "harvester-demo.db", keep=keep, echo=click.echo)


# Each feature's commands live in their own module and attach themselves to `cli`.
from harvester import cli_alerts, cli_schedule, cli_target, cli_watch  # noqa: E402, F401


def main() -> None:
    cli(prog_name="harvester")


if __name__ == "__main__":
    # As `python -m harvester.cli` this file runs as __main__, while the feature modules above
    # attach their commands to the importable harvester.cli: dispatch through that one.
    from harvester.cli import main as package_main

    package_main()
