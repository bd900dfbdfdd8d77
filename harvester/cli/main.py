"""The `harvester` command: the group with every command family registered on it. Each family
lives in its own module and imports only harvester.cli.group; this module alone imports them."""

from __future__ import annotations

from harvester.cli import (
    alerts,
    demo,
    doctor,
    harvest,
    news,
    query,
    sandbox,
    schedule,
    search,
    serve,
    target,
    watch,
)
from harvester.cli.group import cli

for command in (harvest.run, harvest.status, news.news, query.sql, query.export, search.search, watch.gaps,
                alerts.subscribe, alerts.alerts_group, schedule.schedule, serve.serve,
                target.target, demo.demo, sandbox.sandbox, doctor.doctor):
    cli.add_command(command)


def main() -> None:
    """The console script. Click's own handling, except that a usage error (an unknown option,
    a value out of range) is one line naming the option and pointing at --help, like every
    other error of the harvester, instead of the usage block and three lines."""
    import sys

    import click

    try:
        result = cli.main(prog_name="harvester", standalone_mode=False)
    except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:
        exc.show()  # `harvester` alone: the help, as click gives it
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        where = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
        click.echo(f"Error: {exc.format_message()}{where}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
