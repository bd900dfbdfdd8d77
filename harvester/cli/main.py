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
    cli(prog_name="harvester")


if __name__ == "__main__":
    main()
