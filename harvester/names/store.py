"""`harvester target resolve` as a library call: ask the name services, store what they said."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harvester.names.resolve import ServiceAnswer

# Asks the archives themselves for their identifiers of the target (PDS context LIDs), given the
# config, the HTTP client and every alias known so far; harvester.engine.archive_target_ids is one.
ArchiveAsker = Callable[[Any, Any, list[str]], list[ServiceAnswer]]


@dataclass
class ResolveOutcome:
    answers: list[ServiceAnswer]
    new: int                # designations stored for the first time
    resolved: list[str]     # every stored alias harvests now match on


def resolve_and_store(config: Any, *, sbdb_base: str, mpc_base: str, now: str,
                      archives: ArchiveAsker | None = None) -> ResolveOutcome:
    """Ask SBDB and the MPC about the target's designation, then (with `archives`) the archives
    for their own identifiers of it, and keep every answer in the catalog's aliases table
    (refused ones with their reason)."""
    from catalog import Catalog
    from catalog.aliases import stored_aliases
    from harvester.http import HttpClient
    from harvester.names.resolve import resolve

    http = HttpClient(config.http)
    catalog = Catalog.open(config.catalog.path)
    try:
        answers = resolve(http, designation=config.target.designation, sbdb_base=sbdb_base,
                          mpc_base=mpc_base)
        new = _store(catalog, answers, now)
        if archives is not None:
            asked = archives(config, http, [*config.target.aliases, *stored_aliases(catalog)])
            new += _store(catalog, asked, now)
            answers += asked
        resolved = stored_aliases(catalog)
    finally:
        http.close()
        catalog.close()
    return ResolveOutcome(answers=answers, new=new, resolved=resolved)


def _store(catalog: Any, answers: list[ServiceAnswer], now: str) -> int:
    from catalog.aliases import StoredAlias, store_aliases

    rows = [StoredAlias(alias=c.text, service=a.service, field=c.field, raw=c.raw or c.text,
                        query=a.query, refused=c.refused, kind=c.kind)
            for a in answers for c in a.candidates]
    return store_aliases(catalog, rows, now)
