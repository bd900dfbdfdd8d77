"""`harvester serve`: the catalog in a web browser (Datasette), read-only."""

from __future__ import annotations

import click

from harvester.cli.group import PORT, common_options, handle_errors, load


@click.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 opens it to the network).")
@click.option("--port", type=PORT, default=8001, show_default=True, help="0 picks a free port.")
@click.option("--show-alerts", is_flag=True,
              help="Also list the alert subscriptions and deliveries (addresses redacted).")
@handle_errors
def serve(config_path: str | None, catalog_path: str | None, host: str, port: int,
          show_alerts: bool) -> None:
    """Browse and query the catalog in a web browser (Datasette), read-only.

    What's new (the digest of harvester news), the release watch chart, a search box over the
    products, preview images where the archive gives one; tables and columns explained, canned
    queries for the usual questions (new this week, expected observations, release latency,
    exclusive until, rejects), any SELECT in the SQL box (within 5 s and 1,000 rows), and the
    events as an Atom feed. Who gets alerts, and where, is not shown unless --show-alerts (and
    then redacted).

    \b
    Example:
      harvester serve --catalog 3i.db            (then open http://127.0.0.1:8001/)
      harvester serve --port 0                   (a free port; the URL is printed)
    """
    from harvester.web.app import serve as serve_catalog

    config = load(config_path, catalog_path)
    serve_catalog(config.catalog.path, host=host, port=port, echo=click.echo, config=config,
                  show_alerts=show_alerts)
