"""The `harvester` commands of the alerts feature (registered on the group by harvester.cli.main):
`subscribe add|list|remove|test` and `alerts send|list|retry`."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from harvester.cli.group import EXIT_FAILED, SECONDS, common_options, handle_errors, load, now_option


def _open_catalog(config: Any) -> Any:
    from catalog import Catalog

    return Catalog.open(config.catalog.path)


@click.group()
def subscribe() -> None:
    """Subscriptions: a SQL predicate over the `alerts` view and where to send what matches.

    \b
    Example:
      harvester subscribe add jwst --where "kind = 'new' AND mission = 'JWST'" --email me@example.org
    """


@subscribe.command("add")
@common_options
@click.argument("name")
@click.option("--where", "predicate", required=True, metavar="SQL",
              help="A SQL boolean expression over the alerts view, e.g. \"kind = 'new'\".")
@click.option("--email", metavar="ADDRESS", help="Send each alert (or a digest) to this address.")
@click.option("--webhook", metavar="URL", help="POST each alert as signed JSON to this http(s) URL.")
@click.option("--atom", metavar="PATH", help="Keep an Atom feed of the alerts in this file.")
@click.option("--stdout", "to_stdout", is_flag=True,
              help="Print alerts as JSON lines from `harvester alerts send`.")
@click.option("--digest", type=click.Choice(["run", "day"]), default=None,
              help="Email only: one mail per run, or per UTC day, instead of one per alert.")
@click.option("--secret-env", metavar="NAME",
              help="Webhook only: the environment variable holding the HMAC signing secret.")
@click.option("--format", "fmt", type=click.Choice(["json", "slack"]), default="json",
              show_default=True, help="Webhook only: the full JSON, or Slack-style {\"text\": ...}.")
@click.option("--backfill", is_flag=True,
              help="Also match every event already in the catalog (default: only new ones).")
@now_option
@handle_errors
def subscribe_add(config_path: str | None, catalog_path: str | None, name: str, predicate: str,
                  email: str | None, webhook: str | None, atom: str | None, to_stdout: bool,
                  digest: str | None, secret_env: str | None, fmt: str, backfill: bool) -> None:
    """Subscribe NAME to the events its predicate matches, on one channel.

    The predicate is checked by SQLite against the alerts view (read-only, one expression);
    a bad one is refused with SQLite's message and nothing is stored.

    \b
    Example:
      harvester subscribe add jwst-hst --where "kind = 'new' AND mission IN ('JWST', 'HST')" \\
          --email me@example.org
      harvester subscribe add hook --where "kind = 'released'" \\
          --webhook https://example.org/hook --secret-env HOOK_SECRET
      harvester subscribe add feed --where "kind IN ('new', 'released')" --atom 3i.xml
    """
    from harvester.alerts.match import predicate_limits
    from harvester.alerts.predicate import check_predicate
    from harvester.alerts.subscriptions import add_subscription, check_channel, check_name
    from harvester.errors import ConfigError
    from harvester.timeutil import iso, utcnow

    chosen = [(c, v) for c, v in (("email", email), ("webhook", webhook), ("atom", atom),
                                  ("stdout", to_stdout or None)) if v]
    if len(chosen) != 1:
        raise ConfigError("give exactly one channel: --email ADDRESS, --webhook URL, --atom PATH "
                          "or --stdout")
    channel, value = chosen[0]
    check_name(name)
    config = load(config_path, catalog_path)
    address = check_channel(channel, None if channel == "stdout" else value,
                            mode=digest or "each", fmt=fmt, secret_env=secret_env,
                            allow_networks=config.alerts.webhook_allow_networks)
    catalog = _open_catalog(config)
    try:
        stored = check_predicate(config.catalog.path, predicate,
                                 limits=predicate_limits(config.alerts))
        sub = add_subscription(catalog.conn, name=name, predicate=stored, channel=channel,
                               address=address, now=iso(utcnow()), mode=digest or "each",
                               fmt=fmt, secret_env=secret_env, backfill=backfill)
    finally:
        catalog.close()
    history = "every event already in the catalog, then new ones" if backfill else "new events only"
    click.echo(f"subscribed {sub.name}: {sub.describe_channel()} ({history})")
    if secret_env and not os.environ.get(secret_env):
        click.echo(f"note: {secret_env} is not set in this environment; set it where "
                   "alerts are sent", err=True)


@subscribe.command("list")
@common_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@handle_errors
def subscribe_list(config_path: str | None, catalog_path: str | None, fmt: str) -> None:
    """The subscriptions, their channels and outbox counts.

    \b
    Example:
      harvester subscribe list
    """
    from catalog.db import open_readonly
    from harvester.alerts.subscriptions import list_subscriptions
    from harvester.output import write_rows

    config = load(config_path, catalog_path)
    conn = open_readonly(config.catalog.path)
    try:
        rows = list_subscriptions(conn)
    finally:
        conn.close()
    columns = ["name", "channel", "address", "mode", "predicate", "pending", "sent", "failed",
               "match_error"]
    if fmt == "json":
        columns = list(rows[0]) if rows else columns
    write_rows(columns, [[r.get(c) for c in columns] for r in rows], fmt)


@subscribe.command("remove")
@common_options
@click.argument("name")
@handle_errors
def subscribe_remove(config_path: str | None, catalog_path: str | None, name: str) -> None:
    """Remove a subscription and its undelivered alerts.

    \b
    Example:
      harvester subscribe remove jwst-hst
    """
    from harvester.alerts.subscriptions import remove_subscription

    config = load(config_path, catalog_path)
    catalog = _open_catalog(config)
    try:
        dropped = remove_subscription(catalog.conn, name)
    finally:
        catalog.close()
    click.echo(f"removed {name} ({dropped} outbox rows with it)")


@subscribe.command("test")
@common_options
@click.argument("name")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True, help="Look at the events of the last DAYS days.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Show at most this many matches.")
@click.option("--send", is_flag=True,
              help="Also send the newest match now, marked as a test (not recorded).")
@now_option
@handle_errors
def subscribe_test(config_path: str | None, catalog_path: str | None, name: str, days: float,
                   limit: int, send: bool) -> None:
    """What NAME would have matched in the last DAYS days; sends nothing unless --send.

    \b
    Example:
      harvester subscribe test jwst-hst --days 90
      harvester subscribe test hook --send
    """
    from harvester.alerts.match import predicate_limits
    from harvester.alerts.trial import recent_matches, send_test
    from harvester.output import write_rows

    config = load(config_path, catalog_path)
    catalog = _open_catalog(config)
    try:
        sub, total, rows = recent_matches(catalog.conn, config.catalog.path, name, days=days,
                                          limit=limit, limits=predicate_limits(config.alerts))
        columns = ["event_id", "time", "kind", "product_key", "mission", "instrument", "access"]
        write_rows(columns, [[r[c] for c in columns] for r in rows], "table")
        click.echo(f"{total} events of the last {days:g} days match {name} "
                   f"({sub.describe_channel()})" + (f"; showing the newest {limit}"
                                                    if total > limit else ""))
        if send:
            click.echo(send_test(catalog.conn, config.alerts, sub, rows[0] if rows else None))
    finally:
        catalog.close()


@click.group("alerts")
def alerts_group() -> None:
    """The outbox: send what is due, list deliveries, retry failed ones.

    \b
    Example:
      harvester alerts send
    """


@alerts_group.command("send")
@common_options
@click.option("--subscription", "only", metavar="NAME", help="Only this subscription's alerts.")
@click.option("--wait", type=SECONDS, default=0.0, metavar="SECONDS",
              help="Wait this long for another sender on the same catalog to finish.")
@now_option
@handle_errors
def alerts_send(config_path: str | None, catalog_path: str | None, only: str | None,
                wait: float) -> None:
    """Match new events, then send every due alert (retrying failed ones after their backoff).

    stdout subscriptions print their JSON lines here; the summary goes to stderr. Exit status 1
    if a delivery failed in this pass.

    \b
    Example:
      harvester alerts send
      harvester alerts send --subscription feed | jq .product.url
    """
    from harvester.alerts.lock import OutboxLock
    from harvester.alerts.sender import match_and_send
    from harvester.alerts.subscriptions import get_subscription
    from harvester.links import Links

    config = load(config_path, catalog_path)
    catalog = _open_catalog(config)
    try:
        if only:
            get_subscription(catalog.conn, only)
        with OutboxLock(config.catalog.path, wait=wait):
            report = match_and_send(catalog.conn, config.alerts, only=only, out=sys.stdout,
                                    links=Links.from_config(config))
    finally:
        catalog.close()
    click.echo(report.summary(), err=True)
    for error in report.errors[:10]:
        click.echo(f"  {error}", err=True)
    if report.retrying or report.failed:
        sys.exit(EXIT_FAILED)


@alerts_group.command("list")
@common_options
@click.option("--status", type=click.Choice(["pending", "sent", "failed"]), default=None)
@click.option("--subscription", "only", metavar="NAME")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@handle_errors
def alerts_list(config_path: str | None, catalog_path: str | None, status: str | None,
                only: str | None, limit: int, fmt: str) -> None:
    """The outbox, newest first: each delivery, its state, attempts and last error.

    \b
    Example:
      harvester alerts list --status failed
    """
    from catalog.db import open_readonly
    from harvester.alerts.outbox import list_deliveries
    from harvester.output import write_rows

    config = load(config_path, catalog_path)
    conn = open_readonly(config.catalog.path)
    try:
        columns, rows = list_deliveries(conn, status=status, only=only, limit=limit)
    finally:
        conn.close()
    write_rows(columns, rows, fmt)


@alerts_group.command("retry")
@common_options
@click.option("--subscription", "only", metavar="NAME", help="Only this subscription's.")
@now_option
@handle_errors
def alerts_retry(config_path: str | None, catalog_path: str | None, only: str | None) -> None:
    """Put failed deliveries back in the outbox, due now (after fixing what made them fail).

    \b
    Example:
      harvester alerts retry && harvester alerts send
    """
    from harvester.alerts.outbox import retry_failed
    from harvester.alerts.subscriptions import get_subscription
    from harvester.timeutil import iso, utcnow

    config = load(config_path, catalog_path)
    catalog = _open_catalog(config)
    try:
        if only:
            get_subscription(catalog.conn, only)
        count = retry_failed(catalog.conn, now=iso(utcnow()), only=only)
    finally:
        catalog.close()
    click.echo(f"{count} failed deliveries are pending again")
