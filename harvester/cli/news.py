"""`harvester news`: what is new in the catalog, in plain words."""

from __future__ import annotations

import click

from harvester.cli.group import common_options, handle_errors, load, now_option


@click.command()
@common_options
@click.option("--since", "since_text", default="last", show_default=True, metavar="WHEN",
              help="A duration back from now (90m, 12h, 2d, 1w), an ISO date or time, or 'last': "
                   "since this reader last looked.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True)
@click.option("--reader", metavar="NAME",
              help="Whose last look 'last' means (default: your login name).")
@click.option("--peek", is_flag=True,
              help="Do not remember this look: the next --since last shows the same again.")
@now_option
@handle_errors
def news(config_path: str | None, catalog_path: str | None, since_text: str, fmt: str,
         reader: str | None, peek: bool) -> None:
    """What is new: products by archive and instrument (counts and the newest titles),
    embargoes that ended, observations that became overdue or were cleared, sources that went
    silent or failing. Each line has its time (UTC) and a link.

    With no option it shows what is new since you last ran it (the first time: the last 7
    days), and remembers this look in the catalog (per reader; --peek does not). Email digests
    and the web page's "What's new" show the same digest.

    \b
    Example:
      harvester news
      harvester news --since 2d --format markdown
      harvester news --since 2026-01-01 --format json --peek
    """
    from harvester.errors import CatalogError
    from harvester.links import Links
    from harvester.news.readers import reader_name, remember
    from harvester.news.render import render
    from harvester.news.service import whats_new
    from harvester.news.since import parse_since
    from harvester.timeutil import iso, utcnow

    config = load(config_path, catalog_path)
    now = utcnow()
    since = parse_since(since_text, now)
    name = reader_name(reader)
    digest = whats_new(config.catalog.path, since, now=now, reader=name,
                       links=Links.from_config(config))
    click.echo(render(digest, fmt), nl=False)
    if peek:
        return
    try:
        remember(config.catalog.path, name, digest.last_event_id, iso(now))
    except CatalogError as exc:
        click.echo(f"note: {exc}; the next --since last shows this again", err=True)
