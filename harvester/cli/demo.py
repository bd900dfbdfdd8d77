"""`harvester demo`: the offline tour against the sandbox archives."""

from __future__ import annotations

import click

from harvester.cli.group import common_options, handle_errors


@click.command()
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
