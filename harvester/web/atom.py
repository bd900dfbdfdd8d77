"""A Datasette output renderer for Atom feeds (RFC 4287), stdlib only.

It follows datasette-atom's convention, so any query returning `atom_id`, `atom_updated` and
`atom_title` (optionally `atom_content`, `atom_link`) gets a `.atom` link; `harvester serve`
registers it only when datasette-atom itself is not installed. Written here rather than taken
as a dependency because datasette-atom pulls in feedgen, lxml and bleach for what is ~50 lines.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from harvester.output import xml_text

ATOM_NS = "http://www.w3.org/2005/Atom"
REQUIRED = ("atom_id", "atom_updated", "atom_title")


def can_render_atom(columns: list[str]) -> bool:
    return all(c in columns for c in REQUIRED)


def render_atom(datasette: Any, request: Any, columns: list[str], rows: list[Any],
                database: str, query_name: str | None, sql: str | None) -> Response:
    if not can_render_atom(columns):
        return Response.text(f"an Atom feed needs the columns {', '.join(REQUIRED)}", status=400)
    entries = [dict(zip(columns, row, strict=False)) for row in rows]
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")

    def sub(parent: ET.Element, tag: str, text: Any = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}",
                                {k: xml_text(v) for k, v in attrs.items()})
        if text is not None:
            element.text = xml_text(text)
        return element

    title = _query_title(datasette, database, query_name) or sql or "Datasette query"
    sub(feed, "id", request.url)
    sub(feed, "title", title)
    # A feed's updated is its newest entry's; an empty feed falls back to a fixed instant
    # rather than "now", so an unchanged feed is byte-identical.
    sub(feed, "updated", max((str(e["atom_updated"]) for e in entries),
                             default="1970-01-01T00:00:00Z"))
    sub(feed, "link", href=request.url, rel="self")
    sub(feed, "generator", "harvester-3i on Datasette")
    for entry in entries:
        item = sub(feed, "entry")
        sub(item, "id", entry["atom_id"])
        sub(item, "title", entry["atom_title"])
        sub(item, "updated", entry["atom_updated"])
        if entry.get("atom_link"):
            sub(item, "link", href=str(entry["atom_link"]))
        if entry.get("atom_content"):
            sub(item, "content", entry["atom_content"], type="text")
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, content_type="application/atom+xml; charset=utf-8")


def _query_title(datasette: Any, database: str, query_name: str | None) -> str | None:
    if not query_name:
        return None
    queries = (datasette.metadata(database=database) or {}).get("queries") or {}
    query = queries.get(query_name)
    return query.get("title") if isinstance(query, dict) else None


@hookimpl
def register_output_renderer(datasette: Any) -> dict[str, Any]:
    return {"extension": "atom", "render": render_atom, "can_render": can_render_atom}
