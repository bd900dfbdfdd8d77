"""`harvester schedule`: the foreground scheduler (registered on the group by harvester.cli.main)."""

from __future__ import annotations

import logging

import click

from harvester.cli.group import common_options, handle_errors, load, now_option


@click.command()
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
    from harvester.schedule.scheduler import Scheduler
    from harvester.shutdown import GracefulStop, HarvestStopped

    at_least(logging.INFO)
    config = load(config_path, catalog_path)
    with GracefulStop() as stop:
        try:
            Scheduler(config, stop, once=once).run()
        except HarvestStopped:
            pass  # a second signal: stopped at once, as asked (a page in flight rolled back)
