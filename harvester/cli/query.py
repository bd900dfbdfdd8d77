"""The commands that read the catalog out: `sql` (one read-only query) and `export parquet`."""

from __future__ import annotations

import click

from harvester.cli.group import SECONDS, common_options, handle_errors, load


@click.command()
@common_options
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--time-limit", "time_limit", type=SECONDS, default=60.0, show_default=True,
              metavar="SECONDS", help="Stop the query after this long (0: no limit).")
@click.option("--max-rows", "max_rows", type=click.IntRange(min=1), default=1000,
              show_default=True, help="Rows shown in table format (csv and json write all).")
@handle_errors
def sql(config_path: str | None, catalog_path: str | None, query: str, fmt: str,
        time_limit: float, max_rows: int) -> None:
    """Run one read-only SQL query on the catalog. Writes are refused.

    The query is stopped after --time-limit seconds, and SQLite's memory for it is bounded.
    `pragma integrity_check` and `pragma quick_check` are allowed (they only read).

    \b
    Example:
      harvester sql "select archive, count(*) from products group by archive"
      harvester sql --format csv "select * from events where kind = 'new'"
    """
    from catalog.limits import Limits
    from catalog.query import run_query
    from harvester.output import write_rows

    config = load(config_path, catalog_path)
    columns, rows = run_query(config.catalog.path, query, limits=Limits(seconds=time_limit or None))
    write_rows(columns, rows, fmt, max_rows=max_rows)


@click.group()
def export() -> None:
    """Export the catalog to other formats."""


@export.command("parquet")
@common_options
@click.argument("directory", type=click.Path(file_okay=False))
@handle_errors
def export_parquet_cmd(config_path: str | None, catalog_path: str | None, directory: str) -> None:
    """Write the catalog as Parquet datasets in DIRECTORY: products (partitioned by archive),
    events and expected_status. Times are timestamp[us, UTC]; the JSON columns (extra, raw,
    detail) are strings, their meaning in the schema's metadata. DIRECTORY is replaced whole,
    and never when it holds anything but a previous export.

    \b
    Example:
      harvester export parquet out
      duckdb -c "select archive, count(*)
                 from read_parquet('out/products/**/*.parquet', hive_partitioning=1) group by 1"
    """
    from catalog.export import export_parquet

    config = load(config_path, catalog_path)
    report = export_parquet(config.catalog.path, directory)
    click.echo(report.summary(directory))
