"""The `harvester` commands of the watch feature (registered on the group by harvester.cli.main)."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from harvester.cli.group import common_options, handle_errors, load

SECTIONS = ("all", "expected", "latency", "sources")


def _as_of(value: str | None) -> datetime:
    from harvester.timeutil import parse_clock, utcnow

    if not value:
        return utcnow()
    try:
        return parse_clock(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None


@click.command()
@common_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@click.option("--as-of", "as_of", metavar="DATE",
              help="Evaluate as of this UTC date or time (default: now, or $HARVESTER_NOW).")
@click.option("--plot", "plot", metavar="FILE", type=click.Path(dir_okay=False),
              help="Also write the chart: FILE.svg, or FILE.html (the chart and the table).")
@click.option("--section", type=click.Choice(SECTIONS), default="all", show_default=True,
              help="Only this part (CSV holds one table: expected unless another is named).")
@click.option("--id", "ids", multiple=True, metavar="ID",
              help="Only this expected observation, with every matched product and why (repeatable).")
@click.option("--wide", is_flag=True,
              help="Every column, texts uncut (the tables are then wider than 100).")
@handle_errors
def gaps(config_path: str | None, catalog_path: str | None, fmt: str, as_of: str | None,
         plot: str | None, section: str, ids: tuple[str, ...], wide: bool) -> None:
    """The release watch: every expected observation of config/campaign.toml with its status
    (released, exclusive, pending, overdue, not_watched, unconfirmed) and the products that
    are its evidence, release latency per archive/mission/instrument, and sources that are
    failing or silent. Read-only: needs no lock, writes nothing.

    The tables fit the terminal (100 columns when not printing to one), dropping the least
    useful columns and cutting long texts; --wide shows them whole, --format json has all.

    \b
    Example:
      harvester gaps --catalog 3i.db
      harvester gaps --as-of 2025-12-01 --plot gaps.svg
      harvester gaps --format json --id mro-hirise
    """
    from harvester.errors import ConfigError
    from harvester.watch import report as watch_report

    config = load(config_path, catalog_path)
    moment = _as_of(as_of)
    if plot:
        from harvester.watch.chart import check_chart_path

        check_chart_path(plot)
    report = watch_report.build_report(config.catalog.path, config, moment,
                                       with_latency=section in ("all", "latency"))
    if ids:
        known = {s.expected.id for s in report.statuses}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ConfigError(f"--id: no observation {', '.join(map(repr, unknown))} in "
                              f"{report.campaign.path}")
        report.statuses = [s for s in report.statuses if s.expected.id in ids]
    if plot:
        from harvester.watch.chart import write_chart

        write_chart(report, plot)
        click.echo(f"wrote the chart to {plot}", err=True)
    _print(report, fmt, section, show_matches=bool(ids), wide=wide)


# Per table of the text output: the columns dropped first when the terminal is narrow, and the
# free-text columns cut to what is left.
FIT = {
    "expected": (("first_public", "obs_end", "latency_days", "archive"), ("what", "detail")),
    "latency": (("p90_days", "max_days"), ("flag", "policy", "instrument", "mission")),
    "sources": (("archive", "usual_interval_days", "silent_beyond_days", "since_days",
                 "last_new_product"), ("detail", "source")),
}


def _fold(line: str, width: int, indent: str = "   ") -> str:
    """A long line folded at spaces to the width, its continuation indented."""
    import textwrap

    return textwrap.fill(line, width, subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False)


def _print(report, fmt: str, section: str, *, show_matches: bool, wide: bool = False) -> None:
    import json

    from harvester.output import fit_table, table_width, write_rows
    from harvester.watch import report as watch_report

    if fmt == "json":
        data = watch_report.report_json(report)
        if section != "all":
            data = {"as_of": data["as_of"], section: data[section]}
        click.echo(json.dumps(data, indent=2))
        return
    tables = {
        "expected": (watch_report.EXPECTED_COLUMNS, lambda: watch_report.expected_rows(
            report, full=fmt == "csv" or fmt == "table", evidence=fmt == "csv")),
        "latency": (watch_report.LATENCY_COLUMNS, lambda: watch_report.latency_rows(report)),
        "sources": (watch_report.SOURCE_COLUMNS, lambda: watch_report.source_rows(report)),
    }
    if fmt == "csv":
        name = "expected" if section == "all" else section
        columns, rows = tables[name]
        write_rows(columns + (["evidence"] if name == "expected" else []), rows(), "csv")
        return
    counts = report.counts()
    names = list(tables) if section == "all" else [section]
    width, hidden, cut = table_width(), [], False
    for name in names:
        columns, rows = tables[name]
        heading = {"expected": f"Expected observations as of {report.as_of.date()} "
                               f"({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))})",
                   "latency": "Release latency in days (public products, whole catalog)",
                   "sources": "Sources: are our harvests failing, has the archive gone silent?"}[name]
        click.echo(f"\n== {heading}" if wide else "\n" + _fold(f"== {heading}", width))
        if wide:
            write_rows(columns, rows(), "table")
            continue
        drop, shrink = FIT[name]
        fitted = fit_table(columns, rows(), width, drop=drop, shrink=shrink)
        write_rows(fitted.columns, fitted.rows, "table")
        hidden += [c for c in fitted.dropped if c not in hidden]
        cut = cut or bool(fitted.clipped)
    if hidden or cut:
        note = f"hidden: {', '.join(hidden)}; " if hidden else ""
        hint = f"({note}--wide shows every column and text, --format json all)"
        if len(hint) > width:
            hint = "(columns hidden and texts cut to fit: --wide shows every column and text)"
        click.echo("\n" + hint)
    if show_matches:
        for status in report.statuses:
            _show_matches(status, width, wide)
    sys.stdout.flush()


def _show_matches(status, width: int, wide: bool) -> None:
    """One observation's status and every product matched to it, with why. Narrow: each
    product on a line and its reason folded under it, so no reason is ever cut."""
    from harvester.output import write_rows


    def fold(line: str, indent: str = "   ") -> str:
        return line if wide else _fold(line, width, indent)

    click.echo("\n" + fold(f"== {status.expected.id}: {status.status}: {status.reason}"))
    if status.due_basis:
        click.echo(fold(f"   due {status.due_date.date()}: {status.due_basis}"))
    if not status.matches:
        click.echo("   no product in the catalog matches")
        return
    if wide:
        rows = [[m.product_key, m.access, m.obs_start, m.reason] for m in status.matches]
        write_rows(["product_key", "access", "obs_start", "why it matched"], rows, "table")
        return
    for m in status.matches:
        click.echo(f"   {m.product_key}  {m.access}  {m.obs_start or ''}")
        click.echo(fold(f"      {m.reason}", "      "))
