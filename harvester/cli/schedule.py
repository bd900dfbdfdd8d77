"""The `harvester` commands of the schedule feature (registered on the group in harvester.cli):
`schedule`, the foreground scheduler, and `serve`, the web catalog."""

from __future__ import annotations

import logging

import click

from harvester.cli import cli, common_options, handle_errors, load, now_option


@cli.command()
@common_options
@click.option("--once", is_flag=True,
              help="Harvest what is due now, then exit (like `run --due`, with a heartbeat).")
@now_option
@handle_errors
def schedule(config_path: str | None, catalog_path: str | None, once: bool) -> None:
    """Run in the foreground and harvest each source when its cadence says it is due.

    For machines without cron (containers, laptops). Cadences are cron expressions in UTC
    (each source's `cadence`, else its kind's default); [schedule] sets the jitter and the
    heartbeat, which `harvester status` shows. Takes the same lock as `run`: if a harvest
    holds the catalog it tries again later. SIGTERM or Ctrl-C stops after the page being
    stored (a wait on an archive is cut short), and exits 0. Logs at info level by default.

    \b
    Example:
      harvester schedule --catalog 3i.db
      harvester --log-format json --log-file 3i.log schedule
    """
    from harvester.logs import at_least
    from harvester.schedule import Scheduler
    from harvester.shutdown import GracefulStop, HarvestStopped

    at_least(logging.INFO)
    config = load(config_path, catalog_path)
    with GracefulStop() as stop:
        try:
            Scheduler(config, stop, once=once).run()
        except HarvestStopped:
            pass  # a second signal: stopped at once, as asked (a page in flight rolled back)


@cli.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 opens it to the network).")
@click.option("--port", type=int, default=8001, show_default=True, help="0 picks a free port.")
@handle_errors
def serve(config_path: str | None, catalog_path: str | None, host: str, port: int) -> None:
    """Browse and query the catalog in a web browser (Datasette), read-only.

    Tables and columns are explained, canned queries answer the usual questions (new this
    week, expected observations, release latency, exclusive until, rejects), any SELECT runs
    in the SQL box, and the events are an Atom feed. Needs the `web` extra.

    \b
    Example:
      harvester serve --catalog 3i.db            (then open http://127.0.0.1:8001/)
      harvester serve --port 0                   (a free port; the URL is printed)
    """
    from harvester.serve import serve as serve_catalog

    config = load(config_path, catalog_path)
    serve_catalog(config.catalog.path, host=host, port=port, echo=click.echo)
