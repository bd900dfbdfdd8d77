"""`harvester target resolve` as a library call: ask the name services, store what they said."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harvester.names.resolve import ServiceAnswer


@dataclass
class ResolveOutcome:
    answers: list[ServiceAnswer]
    new: int                # designations stored for the first time
    resolved: list[str]     # every stored alias harvests now match on


def resolve_and_store(config: Any, *, sbdb_base: str, mpc_base: str, now: str) -> ResolveOutcome:
    """Ask SBDB and the MPC about the target's designation and keep every answer in the
    catalog's aliases table (refused ones with their reason)."""
    from catalog import Catalog
    from catalog.aliases import StoredAlias, store_aliases, stored_aliases
    from harvester.http import HttpClient
    from harvester.names.resolve import resolve

    http = HttpClient(config.http)
    try:
        answers = resolve(http, designation=config.target.designation, sbdb_base=sbdb_base,
                          mpc_base=mpc_base)
    finally:
        http.close()
    rows = [StoredAlias(alias=c.text, service=a.service, field=c.field, raw=c.text, query=a.query,
                        refused=c.refused)
            for a in answers for c in a.candidates]
    catalog = Catalog.open(config.catalog.path)
    try:
        new = store_aliases(catalog, rows, now)
        resolved = stored_aliases(catalog)
    finally:
        catalog.close()
    return ResolveOutcome(answers=answers, new=new, resolved=resolved)
