"""`harvester search`: full-text search over the products, and rebuilding its index."""

from __future__ import annotations

import click

from harvester.cli.group import common_options, handle_errors, load


@click.command()
@common_options
@click.argument("words", required=False)
@click.option("--archive", metavar="NAME", help="Only products of this archive (mast, pds, psa ...).")
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many products.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--wide", is_flag=True, help="Every column, however wide (table format).")
@click.option("--rebuild", is_flag=True,
              help="Rebuild the search index from the products (a catalog from before search, "
                   "or after a VACUUM), then exit.")
@click.option("--wait", "lock_wait", type=float, default=0.0, metavar="SECONDS",
              help="With --rebuild: wait this long for a harvest on the catalog to finish.")
@handle_errors
def search(config_path: str | None, catalog_path: str | None, words: str | None,
           archive: str | None, limit: int, fmt: str, wide: bool, rebuild: bool,
           lock_wait: float) -> None:
    """Find products by the words of their title, target name, mission, instrument or
    program (full-text search, best match first). Words are taken literally: every word must
    appear, in any of those fields.

    The same index is the web page's search box, and SQL can use it as products_fts:
    harvester sql "select p.product_key, p.title from products_fts f join products p
    on p.rowid = f.rowid where products_fts match 'hirise' order by rank"

    \b
    Example:
      harvester search hirise
      harvester search "nirspec ifu" --archive mast --format json
      harvester search --rebuild            (index an older catalog, or re-index it)
    """
    config = load(config_path, catalog_path)
    path = config.catalog.path
    if rebuild:
        if words:
            raise click.UsageError("--rebuild takes no words to search for")
        from catalog.search import rebuild_search_index
        from harvester.lock import CatalogLock

        with CatalogLock(path, wait=lock_wait):
            count = rebuild_search_index(path)
        click.echo(f"search index rebuilt: {count:,} products of {path}")
        return
    if not words:
        raise click.UsageError("give some words to search for, or --rebuild")
    from catalog.search import search_products
    from harvester.output import fit_table, table_width, write_rows

    columns, rows = search_products(path, words, archive=archive, limit=limit)
    if fmt != "table" or wide:
        write_rows(columns, rows, fmt)
        return
    if not rows:
        click.echo(f"no product matches {words!r}" + (f" in {archive}" if archive else ""))
        return
    fitted = fit_table(columns, rows, table_width(),
                       drop=("target_name", "url", "obs_start", "access", "archive"),
                       shrink=("title", "product_key", "instrument"))
    write_rows(fitted.columns, fitted.rows, "table")
    if fitted.hint():
        click.echo(fitted.hint())
