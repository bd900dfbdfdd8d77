"""The digest as text (a terminal, an email), Markdown (a chat or an issue), JSON (a script) or
HTML (the web page, an email's HTML part). Every format says the same things in the same order:
new products, embargoes ended, the release watch, the sources, then what else changed."""

from __future__ import annotations

import html
from typing import Any

from harvester.news.digest import Digest, Group, Section
from harvester.news.items import Item

FORMATS = ("text", "markdown", "json")
TITLE_WIDTH = 40
TITLES_SHOWN = 2
DETAIL_WIDTH = 100


def when(moment: str | None) -> str:
    """2025-12-01T00:00:00.000Z -> 2025-12-01 00:00 (every time shown is UTC)."""
    return f"{moment[:10]} {moment[11:16]}" if moment and len(moment) >= 16 else (moment or "")


def _clip(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def window(digest: Digest) -> str:
    """Since 2025-12-01 00:00 UTC, up to 2025-12-03 09:00 UTC"""
    start = f"Since {when(digest.since)} UTC" if digest.since else "Since the catalog began"
    end = f", up to {when(digest.until)} UTC" if digest.until else ""
    return f"{start}{end}"


# -- what each line says (shared by every format) -------------------------------------------

def group_text(group: Group, verb: str) -> str:
    return f"{group.archive} {group.label}: {group.count:,} {verb}"


def titles(group: Group) -> list[tuple[str, Item]]:
    """The newest distinct titles of a group (a product without one by its key), each with the
    product it names."""
    shown: dict[str, Item] = {}
    for item in group.newest:
        title = _clip(item.title or item.product_key or "", TITLE_WIDTH)
        shown.setdefault(title, item)
    return list(shown.items())[:TITLES_SHOWN]


def released_text(item: Item) -> str:
    what = " ".join(x for x in (item.mission, item.instrument) if x)
    public = f", public since {item.release_date[:10]}" if item.release_date else ""
    return f"{item.archive or ''} {what} {item.product_key}{public}".replace("  ", " ").strip()


def _what(item: Item) -> str:
    detail = item.detail
    bits = [x for x in (detail.get("what"), detail.get("archive") or item.archive) if x]
    return f" ({', '.join(bits)})" if bits else ""


def watch_text(item: Item) -> tuple[str, str]:
    """(state, sentence) for an overdue or overdue_cleared event."""
    d = item.detail
    subject = f"{item.expected_id}{_what(item)}"
    if item.kind == "overdue":
        late = d.get("overdue_days")
        due = (d.get("due_date") or "")[:10]
        late_text = f"{late:g} days late" if isinstance(late, int | float) else "late"
        return "OVERDUE", f"{subject}: {late_text}" + (f", due {due}" if due else "")
    status = d.get("status") or "no longer overdue"
    since = (d.get("overdue_since") or "")[:10]
    return "cleared", (f"{subject}: now {status.replace('_', ' ')}"
                       + (f" (overdue since {since})" if since else ""))


def source_text(item: Item) -> tuple[str, str]:
    d = item.detail
    subject = f"{item.source}" + (f" ({d['archive']})" if d.get("archive") else "")
    if item.kind == "source_failing":
        failures = d.get("consecutive_failures")
        count = f"{failures} failed harvests" if failures else "failing"
        error = f": {_clip(d['error'], DETAIL_WIDTH)}" if d.get("error") else ""
        return "FAILING", f"{subject}: {count}{error}"
    if item.kind == "source_recovered":
        return "recovered", f"{subject}: harvesting again"
    if item.kind == "silent":
        return "SILENT", f"{subject}: {_clip(d.get('reason') or 'nothing new for too long', DETAIL_WIDTH)}"
    return "publishing", f"{subject}: publishing again"


def updated_text(digest: Digest) -> str:
    parts = [f"{g.archive} {g.label} {g.count:,}" for g in digest.updated.shown]
    if digest.updated.more:
        parts.append(f"{digest.updated.more} more groups")
    return f"Also {_plural(digest.updated_products, 'product')} updated ({', '.join(parts)})."


def _more(section: Section, what: str) -> str | None:
    return f"  ... and {section.more:,} more {what}" if section.more else None


# -- text -----------------------------------------------------------------------------------

def render_text(digest: Digest) -> str:
    lines = [digest.heading, window(digest) + "."]
    lines += digest.notes
    if digest.empty:
        lines.append("Nothing new.")
        return "\n".join(lines) + "\n"
    if digest.new_products:
        lines.append("")
        lines.append(f"New products: {digest.new_products:,} from "
                     f"{_plural(digest.new_archives, 'archive')}")
        for group in digest.new.shown:
            shown = ", ".join(f'"{t}"' for t, _ in titles(group))
            link = group.newest[0].link if group.newest else None
            lines.append(f"  {when(group.newest_time)}  {group_text(group, 'new')}: {shown}"
                         + (f"  {link}" if link else ""))
        lines += filter(None, [_more(digest.new, "groups")])
    if digest.released.total:
        lines += ["", f"Embargoes ended: {digest.released.total:,}"]
        for item in digest.released.shown:
            lines.append(f"  {when(item.time)}  {released_text(item)}"
                         + (f"  {item.link}" if item.link else ""))
        lines += filter(None, [_more(digest.released, "products")])
    for title, section, describe in (("Release watch", digest.watch, watch_text),
                                     ("Sources", digest.sources, source_text)):
        if not section.total:
            continue
        lines += ["", f"{title}: {section.total:,} changed"]
        for item in section.shown:
            state, sentence = describe(item)
            lines.append(f"  {when(item.time)}  {state:<10} {sentence}"
                         + (f"  {item.link}" if item.link else ""))
        lines += filter(None, [_more(section, "changes")])
    if digest.updated_products:
        lines += ["", updated_text(digest)]
    if digest.other:
        lines.append(f"And {_plural(digest.other, 'other event')}.")
    return "\n".join(lines) + "\n"


# -- Markdown -------------------------------------------------------------------------------

def _md(text: str) -> str:
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text


def _md_link(text: str, url: str | None) -> str:
    if not url:
        return _md(text)
    safe = url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
    return f"[{_md(text)}](<{safe}>)"


def render_markdown(digest: Digest) -> str:
    lines = [f"## {_md(digest.heading)}", "", _md(window(digest)) + "."]
    lines += [_md(n) for n in digest.notes]
    if digest.empty:
        return "\n".join([*lines, "", "Nothing new."]) + "\n"
    if digest.new_products:
        lines += ["", f"### New products: {digest.new_products:,} from "
                      f"{_plural(digest.new_archives, 'archive')}", ""]
        for group in digest.new.shown:
            shown = ", ".join(_md_link(t, i.link) for t, i in titles(group))
            lines.append(f"- {when(group.newest_time)} **{_md(group_text(group, 'new'))}**: {shown}")
        lines += [f"- {_md(m.strip())}" for m in filter(None, [_more(digest.new, "groups")])]
    if digest.released.total:
        lines += ["", f"### Embargoes ended: {digest.released.total:,}", ""]
        lines += [f"- {when(i.time)} {_md_link(released_text(i), i.link)}" for i in digest.released.shown]
        lines += [f"- {_md(m.strip())}" for m in filter(None, [_more(digest.released, "products")])]
    for title, section, describe in (("Release watch", digest.watch, watch_text),
                                     ("Sources", digest.sources, source_text)):
        if section.total:
            lines += ["", f"### {title}: {section.total:,} changed", ""]
            for item in section.shown:
                state, sentence = describe(item)
                lines.append(f"- {when(item.time)} **{state}** {_md_link(sentence, item.link)}")
    if digest.updated_products:
        lines += ["", _md(updated_text(digest))]
    if digest.other:
        lines.append(f"And {_plural(digest.other, 'other event')}.")
    return "\n".join(lines) + "\n"


# -- HTML -----------------------------------------------------------------------------------

def _a(text: str, url: str | None) -> str:
    safe = html.escape(text)
    if url and url.startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}">{safe}</a>'
    return safe


def _time(moment: str) -> str:
    return f'<time datetime="{html.escape(moment)}">{html.escape(when(moment))}</time>'


def render_html(digest: Digest, *, heading_level: int = 2) -> str:
    """An HTML fragment (no <html> or <body>): the web page and emails wrap it."""
    h, sub = f"h{heading_level}", f"h{heading_level + 1}"
    parts = [f'<section class="news"><{h}>{html.escape(digest.heading)}</{h}>',
             f"<p>{html.escape(window(digest))}.</p>"]
    parts += [f"<p>{html.escape(n)}</p>" for n in digest.notes]
    if digest.empty:
        parts.append("<p><strong>Nothing new.</strong></p></section>")
        return "\n".join(parts) + "\n"

    def section(title: str, rows: list[str], more: str | None) -> None:
        items = "".join(f"<li>{r}</li>" for r in rows)
        tail = f"<li>{html.escape(more.strip())}</li>" if more else ""
        parts.append(f"<{sub}>{html.escape(title)}</{sub}><ul>{items}{tail}</ul>")

    if digest.new_products:
        rows = []
        for group in digest.new.shown:
            shown = ", ".join(_a(t, i.link) for t, i in titles(group))
            rows.append(f"{_time(group.newest_time)} <strong>{html.escape(group_text(group, 'new'))}"
                        f"</strong>: {shown}")
        section(f"New products: {digest.new_products:,} from "
                f"{_plural(digest.new_archives, 'archive')}", rows, _more(digest.new, "groups"))
    if digest.released.total:
        section(f"Embargoes ended: {digest.released.total:,}",
                [f"{_time(i.time)} {_a(released_text(i), i.link)}" for i in digest.released.shown],
                _more(digest.released, "products"))
    for title, sec, describe in (("Release watch", digest.watch, watch_text),
                                 ("Sources", digest.sources, source_text)):
        if sec.total:
            rows = []
            for item in sec.shown:
                state, sentence = describe(item)
                rows.append(f"{_time(item.time)} <strong>{html.escape(state)}</strong> "
                            f"{_a(sentence, item.link)}")
            section(f"{title}: {sec.total:,} changed", rows, None)
    if digest.updated_products:
        parts.append(f"<p>{html.escape(updated_text(digest))}</p>")
    if digest.other:
        parts.append(f"<p>And {html.escape(_plural(digest.other, 'other event'))}.</p>")
    parts.append("</section>")
    return "\n".join(parts) + "\n"


# -- JSON -----------------------------------------------------------------------------------

def _item_json(item: Item) -> dict[str, Any]:
    return {"event_id": item.event_id, "time": item.time, "kind": item.kind,
            "product_key": item.product_key, "source": item.source,
            "expected_id": item.expected_id, "archive": item.archive, "mission": item.mission,
            "instrument": item.instrument, "title": item.title, "link": item.link,
            "release_date": item.release_date, "detail": item.detail}


def _group_json(group: Group) -> dict[str, Any]:
    return {"archive": group.archive, "mission": group.mission, "instrument": group.instrument,
            "count": group.count, "newest_time": group.newest_time,
            "newest": [{"product_key": i.product_key, "title": i.title, "link": i.link,
                        "time": i.time} for i in group.newest]}


def digest_json(digest: Digest) -> dict[str, Any]:
    def lines(section: Section, describe: Any) -> dict[str, Any]:
        shown = []
        for item in section.shown:
            state, sentence = describe(item)
            shown.append({**_item_json(item), "state": state, "text": sentence})
        return {"total": section.total, "items": shown, "more": section.more}

    return {
        "heading": digest.heading, "since": digest.since, "until": digest.until,
        "first_event_id": digest.first_event_id, "last_event_id": digest.last_event_id,
        "notes": digest.notes,
        "new": {"products": digest.new_products, "archives": digest.new_archives,
                "groups": [_group_json(g) for g in digest.new.shown], "more_groups": digest.new.more},
        "released": {"total": digest.released.total,
                     "items": [_item_json(i) for i in digest.released.shown],
                     "more": digest.released.more},
        "watch": lines(digest.watch, watch_text),
        "sources": lines(digest.sources, source_text),
        "updated": {"products": digest.updated_products,
                    "groups": [_group_json(g) for g in digest.updated.shown],
                    "more_groups": digest.updated.more},
        "other_events": digest.other,
    }


def render(digest: Digest, fmt: str) -> str:
    if fmt == "json":
        import json

        return json.dumps(digest_json(digest), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render_markdown(digest)
    return render_text(digest)
