"""The harvester's own part of the web page, as a Datasette plugin: "What's new" (the digest of
`harvester news`), the release watch chart on its own page, and preview images in product cells.

Registered once per process by harvester.web.app; it acts only for a Datasette that app built
(which carries a `harvester` attribute: the catalog, its config, its links).
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup

from harvester.errors import HarvesterError
from harvester.links import Links

NEWS_PATH = "/-/news"
GAPS_PATH = "/-/gaps"
NEWS_DEFAULT = "7d"
PREVIEW_STYLE = "max-width:96px;max-height:96px;display:block;margin-bottom:2px"


@dataclass
class WebContext:
    """What the pages need: the database's name in Datasette, the file, the config."""

    name: str
    path: str
    config: Any
    links: Links


def context_of(datasette: Any) -> WebContext | None:
    return getattr(datasette, "harvester", None)


# -- preview images and archive links in cells ------------------------------------------------

def _value(row: Any, key: str) -> Any:
    try:
        return row[key]
    except (KeyError, IndexError):
        return None


def preview_html(preview: str, link: str | None, label: str) -> str:
    image = (f'<img class="harvester-preview" src="{html.escape(preview, quote=True)}" '
             f'alt="preview of {html.escape(label, quote=True)}" loading="lazy" '
             f'style="{PREVIEW_STYLE}">')
    return f'<a href="{html.escape(link or preview, quote=True)}">{image}</a>'


def url_cell(value: Any, row: Any, links: Links) -> str | None:
    """A product's `url` cell: its preview image (where the archive gives one) above the link,
    a `mast:` URI linked through MAST's download service."""
    source = _value(row, "source")
    link = links.web(value, source)
    preview = links.preview(_value(row, "extra"), source)
    if preview is None and (link is None or link == value):
        return None  # Datasette's own rendering (it links http URLs) is right
    text = html.escape(str(value)) if value else ""
    anchor = f'<a href="{html.escape(link, quote=True)}">{text}</a>' if link and value else text
    label = str(_value(row, "product_key") or value or "product")
    return (preview_html(preview, link, label) if preview else "") + anchor


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str,
                datasette: Any) -> Markup | None:
    context = context_of(datasette)
    if context is None or database != context.name:
        return None
    if column == "url" and (table in (None, "products", "alerts")):
        rendered = url_cell(value, row, context.links)
        return Markup(rendered) if rendered is not None else None
    if column == "preview" and value:
        preview = context.links.web(str(value), _value(row, "source"))
        if preview:
            label = str(_value(row, "product_key") or "product")
            return Markup(preview_html(preview, None, label))
    return None


# -- pages ------------------------------------------------------------------------------------

async def _page(datasette: Any, request: Any, title: str, content: str, form: str = "",
                status: int = 200) -> Response:
    body = await datasette.render_template(
        "harvester_page.html", {"title": title, "content": Markup(content), "form": Markup(form)},
        request=request)
    return Response.html(body, status=status)


def _form(action: str, field: str, label: str, value: str, hint: str) -> str:
    return (f'<form class="harvester-form" action="{action}" method="get">'
            f'<label for="{field}">{html.escape(label)}</label> '
            f'<input id="{field}" name="{field}" value="{html.escape(value, quote=True)}" size="22"> '
            f'<input type="submit" value="Show"> <small>{html.escape(hint)}</small></form>')


async def news_page(datasette: Any, request: Any) -> Response:
    """The digest of `harvester news` for ?since= (default the last 7 days); ?format=json or
    markdown gives it as data."""
    from harvester.news.render import render, render_html
    from harvester.news.service import whats_new
    from harvester.news.since import parse_since
    from harvester.timeutil import utcnow

    context = context_of(datasette)
    if context is None:
        return Response.text("not a harvester catalog", status=404)
    since_text = request.args.get("since") or NEWS_DEFAULT
    fmt = request.args.get("format") or "html"
    form = _form(NEWS_PATH, "since", "Since", since_text, "a duration (90m, 12h, 2d, 1w), or an ISO "
                 "date or time")
    try:
        since = parse_since(since_text, utcnow())
        if since.last:
            raise HarvesterError("--since 'last' is for `harvester news`, which remembers each "
                                 "reader's looks; here give a duration or a date")
        digest = await asyncio.get_running_loop().run_in_executor(
            None, lambda: whats_new(context.path, since, now=utcnow(), links=context.links))
    except HarvesterError as exc:
        message = str(exc).replace("--since", "since")
        return await _page(datasette, request, "What's new", f"<p class='message-error'>"
                           f"{html.escape(message)}</p>", form, status=400)
    if fmt in ("json", "markdown", "text"):
        text = render(digest, fmt)
        kind = "application/json" if fmt == "json" else "text/plain"
        return Response(text, content_type=f"{kind}; charset=utf-8")
    since_q = html.escape(quote(since_text), quote=True)
    links = (f'<p><small>Also as <a href="{NEWS_PATH}?since={since_q}&amp;format=json">JSON</a> '
             f'or <a href="{NEWS_PATH}?since={since_q}&amp;format=markdown">Markdown</a>; on the '
             "command line: <code>harvester news</code>.</small></p>")
    return await _page(datasette, request, "What's new", render_html(digest) + links, form)


async def gaps_page(datasette: Any, request: Any) -> Response:
    """The release watch chart of `harvester gaps --plot`, as of ?as_of= (default now)."""
    from harvester.timeutil import parse_iso, utcnow
    from harvester.watch.chart import render_svg
    from harvester.watch.report import build_report

    context = context_of(datasette)
    if context is None:
        return Response.text("not a harvester catalog", status=404)
    as_of_text = request.args.get("as_of") or ""
    form = _form(GAPS_PATH, "as_of", "As of", as_of_text, "a UTC date or time; empty: now")
    try:
        moment = parse_iso(as_of_text) if as_of_text else utcnow()
    except ValueError:
        return await _page(datasette, request, "Release watch", "<p class='message-error'>as of "
                           f"{html.escape(as_of_text)!r}: not an ISO date or time</p>", form, status=400)
    try:
        report = await asyncio.get_running_loop().run_in_executor(
            None, lambda: build_report(context.path, context.config, moment, with_latency=False))
    except HarvesterError as exc:
        return await _page(datasette, request, "Release watch",
                           f"<p class='message-error'>{html.escape(str(exc))}</p>", form, status=500)
    counts = report.counts()
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(counts.items()))
    table = f"/{context.name}/expected_observations"
    content = (f"<p>As of {report.as_of:%Y-%m-%d}: {html.escape(summary)}. The table with reasons: "
               f'<a href="{table}">expected observations</a>; on the command line: '
               "<code>harvester gaps</code>.</p>"
               f'<div class="chart">{render_svg(report)}</div>')
    return await _page(datasette, request, "Release watch", content, form)


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    if context_of(datasette) is None:
        return []
    return [(rf"^{NEWS_PATH}$", news_page), (rf"^{GAPS_PATH}$", gaps_page)]
