"""`harvester doctor`: one small real request per enabled source, to check each archive still
answers the way the adapters read it (registered on the group by harvester.cli.main)."""

from __future__ import annotations

import json

import click

from harvester.cli.group import EXIT_FAILED, Failure, common_options, handle_errors, load


@click.command()
@common_options
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Check only this source (repeatable). Default: every enabled source.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@handle_errors
def doctor(config_path: str | None, catalog_path: str | None, sources: tuple[str, ...], fmt: str) -> None:
    """Check each enabled archive with one small real request (TAP services: their column
    list, then a count): is it reachable, is the query accepted, does the answer hold the fields
    the adapter reads (the missing ones are listed), how many target records are there. Run it
    first on a new machine, and whenever a harvest fails in a new way. Writes nothing.

    Exit status: 0 every contract holds, 1 one is broken (each named on one line), 2 usage or
    config error.

    \b
    Example:
      harvester doctor
      harvester doctor --source pds --format json
    """
    from harvester.doctor import COLUMNS, run_doctor
    from harvester.output import write_rows

    config = load(config_path, catalog_path)
    checks = run_doctor(config, only=list(sources) or None)
    if fmt == "json":
        click.echo(json.dumps([c.as_dict() for c in checks], indent=1))
    else:
        write_rows(COLUMNS, [c.row() for c in checks], "table")
    broken = [c for c in checks if not c.ok]
    if broken:
        if fmt == "table":
            for check in broken:
                click.echo(check.line(), err=True)
        raise Failure(f"{len(broken)} of {len(checks)} archives broke their contract: "
                      f"{', '.join(c.source for c in broken)}", EXIT_FAILED)
