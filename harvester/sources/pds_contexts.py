"""Finding the target's context LID in the PDS registry.

No public source names the 3I/ATLAS context LID; `comet.3i_atlas` is only a guess from the PDS
naming convention (docs/archives.md). The registry holds one Product_Context per target, with
its title, `pds:Target.pds:name` and `pds:Alias.pds:alternate_title`: page through the target
contexts (what peppi's `contexts()` does), and keep those whose names the alias matcher says are
the target. A context of another ATLAS comet or of 2I/Borisov is never taken: the matcher refuses
them as it refuses their products.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harvester.errors import SourceError
from harvester.names.matcher import AliasMatcher
from harvester.sources.base import TargetId
from harvester.sources.pds_query import context_query

NAME_FIELDS = ("pds:Target.pds:name", "pds:Alias.pds:alternate_title", "title")
FIELDS = ["lid", "lidvid", *NAME_FIELDS]


def present(values: Any) -> list[str]:
    """A property's values without the registry's "null" (what it sends for a missing field)."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        return []
    return [str(v) for v in values if v is not None and str(v) != "null"]


def context_pages(http: Any, products_url: str, q: str, page_size: int) -> Iterator[list[dict]]:
    """Pages of context products, sorted by lidvid and paged with search-after."""
    after: str | None = None
    while True:
        params = {"q": q, "fields": ",".join(FIELDS), "limit": str(page_size), "sort": "lidvid"}
        if after:
            params["search-after"] = after
        answer = http.get_json(products_url, params=params)
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
            raise SourceError(f"PDS context answer has no data list: {str(answer)[:200]}")
        records = [r for r in answer["data"] if isinstance(r, dict)]
        yield records
        hits = (answer.get("summary") or {}).get("hits")
        if len(answer["data"]) < page_size or not records or (isinstance(hits, int) and hits <= page_size):
            return
        after = records[-1].get("id") or next(iter(present((records[-1].get("properties") or {})
                                                           .get("lidvid"))), None)
        if not after:
            raise SourceError("PDS context record without lidvid; cannot page")


def match_context(record: dict[str, Any], matcher: AliasMatcher, q: str) -> TargetId | None:
    """The context's LID when one of its names is the target."""
    props = record.get("properties") or {}
    lid = next(iter(present(props.get("lid"))), None) or str(record.get("id") or "").split("::")[0]
    if not lid:
        return None
    for name in NAME_FIELDS:
        values = present(props.get(name)) or ([record["title"]] if name == "title" and record.get("title") else [])
        for value in values:
            if matcher.match(value):
                return TargetId(value=lid, field=name, raw=value, query=q)
    return None


def discover(http: Any, products_url: str, matcher: AliasMatcher, *, target_types: list[str],
             page_size: int) -> list[TargetId]:
    """Every target context whose names the matcher takes for the target."""
    q = context_query(target_types)
    found: dict[str, TargetId] = {}
    for records in context_pages(http, products_url, q, page_size):
        for record in records:
            hit = match_context(record, matcher, q)
            if hit and hit.value not in found:
                found[hit.value] = hit
    return list(found.values())
