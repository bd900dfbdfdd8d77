"""The `harvester` commands of the target feature (registered on the group by harvester.cli.main)."""

from __future__ import annotations

from typing import Any

import click

from harvester.cli.group import common_options, handle_errors, load, now_option


@click.group()
def target() -> None:
    """The target's names: resolve its designations, list the aliases harvests match on."""


@target.command("resolve")
@common_options
@click.option("--sbdb-url", metavar="URL", help="JPL SBDB API base (overrides [target] sbdb_url).")
@click.option("--mpc-url", metavar="URL", help="MPC API base (overrides [target] mpc_url).")
@now_option
@handle_errors
def resolve_cmd(config_path: str | None, catalog_path: str | None, sbdb_url: str | None,
                mpc_url: str | None) -> None:
    """Ask JPL SBDB and the MPC for every designation of the target, and each enabled PDS
    source's registry for the target's context LID (a context product whose names are the
    target), and store them in the catalog; later harvests match on the designations besides
    the config's aliases and ask PDS for products of the LIDs. Designations that would match
    other objects (a bare name like ATLAS, a bare number) are stored as refused.

    Exit status 1 if a service could not be asked (what the other one said is still stored).

    \b
    Example:
      harvester target resolve --catalog 3i.db
      harvester target aliases --catalog 3i.db
    """
    from harvester.engine import archive_target_ids
    from harvester.names.matcher import fold
    from harvester.names.resolve import ResolveError
    from harvester.names.store import resolve_and_store
    from harvester.settings import check_url
    from harvester.timeutil import iso, utcnow

    config = load(config_path, catalog_path)
    sbdb_base = sbdb_url or config.target.sbdb_url
    mpc_base = mpc_url or config.target.mpc_url
    for key, value in (("sbdb_url", sbdb_base), ("mpc_url", mpc_base)):
        check_url(value, key=key, where="target", path=config.path)
    outcome = resolve_and_store(config, sbdb_base=sbdb_base, mpc_base=mpc_base, now=iso(utcnow()),
                                archives=archive_target_ids)
    answers, new, resolved = outcome.answers, outcome.new, outcome.resolved
    for answer in answers:
        _echo_answer(answer)
    known = {fold(a) for a in [config.target.name, *config.target.aliases]}
    extra = [a for a in resolved if fold(a) not in known]
    click.echo(f"{new} new designations stored; harvests match on {len(extra)} beyond the config's "
               f"aliases" + (f": {', '.join(extra)}" if extra else ""))
    failed = [a for a in answers if a.error]
    if failed:
        kept = sum(len(a.accepted) for a in answers if not a.error)
        reasons = "; ".join(f"{a.service}: {a.error}" for a in failed)
        raise ResolveError(f"{reasons} (kept {kept} designations from the other service)")


def _echo_answer(answer: Any) -> None:
    if answer.error:
        click.echo(f"{answer.service}: no answer from {answer.url} (see the error below)")
        return
    what = "target LIDs" if any(c.kind == "target_lid" for c in answer.candidates) else "designations"
    head = f"{answer.service}: {len(answer.accepted)} {what} for {answer.query!r}"
    click.echo(head + (f" - {answer.note}" if answer.note else ""))
    for candidate in answer.candidates:
        status = f"refused: {candidate.refused}" if candidate.refused else "used"
        field = candidate.field + (f" = {candidate.raw}" if candidate.raw else "")
        click.echo(f"  {candidate.text:<28} {field:<44} {status}")


@target.command("aliases")
@common_options
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@handle_errors
def aliases_cmd(config_path: str | None, catalog_path: str | None, fmt: str) -> None:
    """List the aliases harvests match on: the config's and those `target resolve` stored, with
    where each came from (service, field, when) and, for a refused one, why; and the target
    LIDs PDS harvests ask for (configured, or found among the registry's context products).

    \b
    Example:
      harvester target aliases --catalog 3i.db --format json
    """
    from pathlib import Path

    from harvester.output import write_rows

    config = load(config_path, catalog_path)
    rows: list[list[Any]] = [[config.target.name, "designation", "config", "name", "", "used"]]
    rows += [[alias, "designation", "config", "aliases", "", "used"] for alias in config.target.aliases]
    for name, settings in config.sources.items():
        rows += [[lid, "target_lid", "config", f"sources.{name}.target_lids", "", "used"]
                 for lid in getattr(settings, "target_lids", [])]
    if Path(config.catalog.path).exists():
        rows += [[s.alias, s.kind, s.service, s.field, s.first_seen,
                  f"refused: {s.refused}" if s.refused else "used"]
                 for s in _stored(config.catalog.path)]
    write_rows(["alias", "kind", "source", "field", "first_seen", "status"], rows, fmt)


def _stored(path: str) -> list[Any]:
    import sqlite3

    from catalog.aliases import list_aliases
    from catalog.query import readonly_connection

    conn = readonly_connection(path)
    try:
        return list_aliases(conn)
    except sqlite3.OperationalError:  # a catalog from before the aliases table: none stored
        return []
    finally:
        conn.close()
