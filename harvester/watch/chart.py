"""The release chart: one row per expected observation on a time axis, written as SVG by hand
(no plotting dependency), optionally wrapped in an HTML page with the table.

Each row shows the observation window (dark), then a bar from the end of the observation to
its first public archive release, or to the as-of date while nothing is public, coloured by
status; the nominal due date is a diamond, the first public release of anything (a press image,
a preprint, from the campaign notes) a hollow circle. The campaign's periods (the 2025 US
government shutdown, the solar conjunction) are shaded bands, labelled in a strip above.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from pathlib import Path

from harvester.errors import ConfigError, HarvesterError
from harvester.watch.campaign import day_start
from harvester.watch.evaluate import WatchReport
from harvester.watch.status import ExpectedStatus

COLOURS = {
    "released": "#2e7d32", "exclusive": "#7b1fa2", "pending": "#ef8f00", "overdue": "#c62828",
    "not_watched": "#9e9e9e", "unconfirmed": "#bdbdbd",
}
LEGEND = [
    ("released", "released: the bar ends at the first public archive release"),
    ("exclusive", "exclusive: metadata public, data embargoed"),
    ("pending", "pending: not yet due"),
    ("overdue", "overdue: past due, nothing public"),
    ("not_watched", "not watched: archive not harvested (dotted)"),
]
PERIOD_FILLS = ["#f8bbd0", "#b0bec5", "#ffe0b2", "#c5e1a5"]
WIDTH, LEFT, RIGHT = 1500, 400, 230
LABEL_X = 212  # where a row's description starts, after its id
TOP, ROW, BOTTOM = 150, 20, 84
FONT = "font-family='DejaVu Sans, Arial, sans-serif'"


class Axis:
    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.span = (end - start).total_seconds()

    def x(self, moment: datetime) -> float:
        fraction = (moment - self.start).total_seconds() / self.span
        return round(LEFT + max(0.0, min(1.0, fraction)) * (WIDTH - LEFT - RIGHT), 1)

    def inside(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment <= self.end


def _axis(report: WatchReport) -> Axis:
    starts = [s.expected.window_start for s in report.statuses if s.expected.window_start]
    starts += [day_start(p.start) for p in report.campaign.periods]
    ends = [report.as_of]
    for s in report.statuses:
        ends += [m for m in (s.first_public, s.exclusive_until) if m]
        if s.due_date and s.due_date <= report.as_of + timedelta(days=200):
            ends.append(s.due_date)
    start = min(starts, default=report.as_of - timedelta(days=365))
    start = datetime(start.year, start.month, 1, tzinfo=start.tzinfo)
    return Axis(start, max(ends) + timedelta(days=20))


def _text(x: float, y: float, text: str, *, size: int = 11, fill: str = "#212121",
          anchor: str = "start", weight: str = "normal", cls: str = "") -> str:
    extra = f" class='{cls}'" if cls else ""
    return (f"<text x='{x}' y='{y}' font-size='{size}' fill='{fill}' text-anchor='{anchor}' "
            f"font-weight='{weight}' {FONT}{extra}>{html.escape(text)}</text>")


def _months(axis: Axis) -> list[datetime]:
    months, moment = [], axis.start
    while moment <= axis.end:
        months.append(moment)
        moment = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1,
                          tzinfo=moment.tzinfo)
    return months


def _grid(axis: Axis, bottom: float) -> list[str]:
    parts = []
    for month in _months(axis):
        x = axis.x(month)
        strong = month.month == 1
        parts.append(f"<line x1='{x}' y1='{TOP - 6}' x2='{x}' y2='{bottom}' "
                     f"stroke='{'#9e9e9e' if strong else '#e0e0e0'}' stroke-width='1'/>")
        parts.append(_text(x + 2, bottom + 14, month.strftime("%b"), size=10, fill="#616161"))
        if strong or month == axis.start:
            parts.append(_text(x + 2, bottom + 28, str(month.year), size=10, fill="#212121",
                               weight="bold"))
    return parts


def _periods(report: WatchReport, axis: Axis, bottom: float) -> list[str]:
    parts = ["<defs><pattern id='hatch' width='6' height='6' patternUnits='userSpaceOnUse' "
             "patternTransform='rotate(45)'><line x1='0' y1='0' x2='0' y2='6' stroke='#90a4ae' "
             "stroke-width='2'/></pattern></defs>"]
    for n, period in enumerate(report.campaign.periods):
        start, end = day_start(period.start), day_start(period.end) + timedelta(days=1)
        x1, x2 = axis.x(start), axis.x(end)
        fill = "url(#hatch)" if n % 2 else PERIOD_FILLS[n % len(PERIOD_FILLS)]
        opacity = "0.35" if n % 2 else "0.45"
        lane = TOP - 44 + 16 * n
        note = html.escape(period.note or "")
        parts.append(
            f"<g class='period' data-id='{html.escape(period.id)}'><title>{html.escape(period.label)}"
            f" {period.start}..{period.end}. {note}</title>"
            f"<rect x='{x1}' y='{TOP - 4}' width='{max(x2 - x1, 1)}' height='{bottom - TOP + 4}' "
            f"fill='{fill}' opacity='{opacity}'/>"
            f"<rect x='{x1}' y='{lane - 10}' width='{max(x2 - x1, 1)}' height='13' fill='{fill}' "
            f"stroke='#78909c' stroke-width='0.5'/>"
            + _text(x2 + 4, lane, f"{period.label} {period.start:%b %d}..{period.end:%b %d}",
                    size=10, fill="#37474f") + "</g>")
    return parts


def _stripes(count: int) -> list[str]:
    return [f"<rect x='0' y='{TOP + n * ROW}' width='{WIDTH}' height='{ROW}' fill='#f5f5f5'/>"
            for n in range(0, count, 2)]


def _row(status: ExpectedStatus, n: int, axis: Axis, as_of: datetime) -> str:
    e = status.expected
    mid = TOP + n * ROW + ROW / 2
    colour = COLOURS[status.status]
    parts = [f"<g class='row' data-id='{html.escape(e.id)}' data-status='{status.status}'>",
             f"<title>{html.escape(e.id)}: {status.status}. {html.escape(status.reason)}"
             + (f" Due: {html.escape(status.due_basis)}." if status.due_basis else "") + "</title>"]
    parts.append(_text(8, mid + 4, e.id[:30], size=11, weight="bold"))
    parts.append(_text(LABEL_X, mid + 4, _clip(f"{e.label()} · {e.archive}", 33), size=10,
                       fill="#616161"))
    if e.window_start and e.window_end:
        parts += _bars(status, axis, as_of, mid, colour)
    parts.append(_text(WIDTH - RIGHT + 10, mid + 4, _status_text(status), size=11, fill=colour,
                       weight="bold" if status.status == "overdue" else "normal"))
    parts.append("</g>")
    return "".join(parts)


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[:size - 1] + "…"


def _bars(status: ExpectedStatus, axis: Axis, as_of: datetime, mid: float, colour: str) -> list[str]:
    e = status.expected
    parts = []
    x0, x1 = axis.x(e.window_start), axis.x(e.window_end)
    end = status.first_public if status.status == "released" else as_of
    xe = axis.x(max(end, e.window_end))
    if status.status == "not_watched":
        parts.append(f"<line class='wait' x1='{x1}' y1='{mid}' x2='{xe}' y2='{mid}' stroke='{colour}' "
                     f"stroke-width='1.5' stroke-dasharray='1,3'/>")
    elif status.status == "overdue" and status.due_date and axis.inside(status.due_date):
        xd = axis.x(status.due_date)
        parts.append(f"<rect class='wait' x='{x1}' y='{mid - 3}' width='{max(xd - x1, 0)}' height='6' "
                     f"fill='{colour}' opacity='0.35'/>")
        parts.append(f"<rect class='late' x='{xd}' y='{mid - 4}' width='{max(xe - xd, 1)}' height='8' "
                     f"fill='{colour}'/>")
    elif status.status != "unconfirmed":
        # A public date that is only our first sight is an upper bound: drawn pale.
        pale = "" if status.first_public_stated else " opacity='0.4'"
        parts.append(f"<rect class='wait' x='{x1}' y='{mid - 3}' width='{max(xe - x1, 1)}' height='6' "
                     f"fill='{colour}'{pale}/>")
    if status.status == "exclusive" and status.exclusive_until:
        xu = axis.x(status.exclusive_until)
        parts.append(f"<line x1='{xe}' y1='{mid}' x2='{xu}' y2='{mid}' stroke='{colour}' "
                     f"stroke-width='2' stroke-dasharray='4,3'/>")
    parts.append(f"<rect class='observed' x='{x0}' y='{mid - 6}' width='{max(x1 - x0, 2.5)}' "
                 f"height='12' fill='#263238'/>")
    if status.status == "released":
        parts.append(f"<circle cx='{xe}' cy='{mid}' r='4' fill='{colour}'/>")
    if status.due_date and axis.inside(status.due_date):
        xd = axis.x(status.due_date)
        ink = "#212121" if status.status not in ("not_watched", "unconfirmed") else "#9e9e9e"
        parts.append(f"<path class='due' d='M{xd} {mid - 6} L{xd + 5} {mid} L{xd} {mid + 6} "
                     f"L{xd - 5} {mid} Z' fill='#ffffff' stroke='{ink}' stroke-width='1.3'/>")
    if e.released_on and axis.inside(day_start(e.released_on)):
        xp = axis.x(day_start(e.released_on))
        parts.append(f"<circle class='press' cx='{xp}' cy='{mid}' r='4' fill='none' stroke='#1565c0' "
                     f"stroke-width='1.6'/>")
    return parts


def _status_text(status: ExpectedStatus) -> str:
    if status.status == "released":
        if not status.first_public_stated:
            return f"public within {status.latency_days:g} d (first seen)"
        text = f"public after {status.latency_days:g} d" if status.latency_days is not None else "released"
        if status.due_date and status.first_public and status.first_public > status.due_date:
            text += f", {(status.first_public - status.due_date).days} d past due"
        return text
    if status.status == "exclusive":
        if status.exclusive_until is None:
            return "exclusive, no release date stated"
        return f"exclusive until {status.exclusive_until:%Y-%m-%d}"
    if status.status == "overdue":
        return f"OVERDUE by {status.overdue_days:g} d"
    if status.status == "pending":
        return f"pending, due in {status.due_in_days:g} d" if status.due_in_days is not None else "pending"
    if status.status == "not_watched" and status.short_reason:
        return f"not watched ({status.short_reason})"
    return status.status.replace("_", " ")


def _legend() -> list[str]:
    parts, x, y = [], 8, 66
    for status, label in LEGEND:
        parts.append(f"<rect x='{x}' y='{y - 8}' width='18' height='7' fill='{COLOURS[status]}'/>")
        parts.append(_text(x + 23, y, label, size=10))
        x += 23 + 5.5 * len(label) + 22
    y += 18
    x = 8
    parts.append(f"<rect x='{x}' y='{y - 10}' width='14' height='11' fill='#263238'/>")
    parts.append(_text(x + 19, y, "observation window", size=10))
    x += 140
    parts.append(f"<path d='M{x + 5} {y - 10} L{x + 10} {y - 4} L{x + 5} {y + 2} L{x} {y - 4} Z' "
                 "fill='#ffffff' stroke='#212121' stroke-width='1.3'/>")
    parts.append(_text(x + 15, y, "nominal due date (archive policy, or the release date the "
                       "archive states)", size=10))
    x += 430
    parts.append(f"<circle cx='{x + 5}' cy='{y - 4}' r='4' fill='none' stroke='#1565c0' stroke-width='1.6'/>")
    parts.append(_text(x + 15, y, "first public image or paper (campaign notes, not an archive)",
                       size=10))
    x += 345
    parts.append(f"<rect x='{x}' y='{y - 7}' width='18' height='6' fill='{COLOURS['released']}' opacity='0.4'/>")
    parts.append(_text(x + 23, y, "pale: the archive states no public date, the bar ends when the "
                       "harvester first saw it", size=10))
    return parts


_TEXT = re.compile(r"<text x='([-\d.]+)' y='[-\d.]+' font-size='(\d+)' fill='[^']*' "
                   r"text-anchor='(\w+)' font-weight='(\w+)'[^>]*>([^<]*)</text>")
# Average advance of DejaVu Sans / Arial, as a fraction of the font size (bold a little more):
# generous, so a label is never cut by the edge of the picture.
_EM = {"normal": 0.62, "bold": 0.68}


def text_extent(svg: str) -> tuple[float, float]:
    """The leftmost and rightmost x any text of `svg` may reach, estimated from its length."""
    left, right = 0.0, float(WIDTH)
    for x, size, anchor, weight, content in _TEXT.findall(svg):
        width = len(html.unescape(content)) * int(size) * _EM.get(weight, _EM["normal"])
        start = float(x) - {"start": 0.0, "middle": width / 2, "end": width}.get(anchor, 0.0)
        left, right = min(left, start), max(right, start + width)
    return left, right


def render_svg(report: WatchReport) -> str:
    rows = sorted(report.statuses, key=lambda s: (s.expected.window_start is None,
                                                   s.expected.window_start or report.as_of,
                                                   s.expected.id))
    axis = _axis(report)
    bottom = TOP + len(rows) * ROW
    height = bottom + BOTTOM
    counts = report.counts()
    summary = ", ".join(f"{counts[k]} {k.replace('_', ' ')}" for k in COLOURS if counts.get(k))
    parts = [_text(8, 26, "3I/ATLAS: documented observations and when the archives made them public",
                   size=18, weight="bold"),
             _text(8, 44, f"As of {report.as_of:%Y-%m-%d}: {summary}. Bars run from the end of each "
                          "observation to its first public archive release, or to the as-of date "
                          "while nothing is public.", size=11, fill="#424242")]
    parts += _legend()
    parts += _stripes(len(rows))
    parts += _grid(axis, bottom)
    parts += _periods(report, axis, bottom)
    parts += [_row(status, n, axis, report.as_of) for n, status in enumerate(rows)]
    xa = axis.x(report.as_of)
    parts.append(f"<line class='as-of' x1='{xa}' y1='{TOP - 8}' x2='{xa}' y2='{bottom}' "
                 "stroke='#212121' stroke-width='1.2' stroke-dasharray='5,3'/>")
    parts.append(_text(xa, bottom + 44, f"as of {report.as_of:%Y-%m-%d}", size=10, anchor="middle",
                       weight="bold"))
    parts.append(_text(8, height - 12, "Evidence: the harvester's catalog (products matched by "
                       "archive, mission, instrument and time). Periods from the campaign file. "
                       "Hover a row for its reason.", size=10, fill="#757575"))
    body = "\n".join(parts)
    # The picture is as wide as its longest label needs (a long period or status pushes it
    # wider than WIDTH), and scales to any window: width 100% of its container, the viewBox
    # keeping every label inside, so nothing is cut or needs scrolling.
    left, right = text_extent(body)
    x0, span = min(0.0, left - 4), max(float(WIDTH), right + 8) - min(0.0, left - 4)
    head = (f"<svg xmlns='http://www.w3.org/2000/svg' width='100%' viewBox='{x0:g} 0 {span:g} "
            f"{height}' preserveAspectRatio='xMinYMin meet' style='height:auto;max-width:{span:g}px'>\n"
            f"<rect x='{x0:g}' width='{span:g}' height='{height}' fill='#ffffff'/>")
    return f"{head}\n{body}\n</svg>"


def render_html(report: WatchReport) -> str:
    from harvester.watch.report import EXPECTED_COLUMNS, expected_rows

    head = "".join(f"<th>{html.escape(c)}</th>" for c in EXPECTED_COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row[:len(EXPECTED_COLUMNS)]) + "</tr>"
        for row in expected_rows(report, full=True))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>3I/ATLAS release watch, {report.as_of:%Y-%m-%d}</title>"
        "<style>body{font-family:sans-serif;margin:16px}table{border-collapse:collapse;"
        "font-size:13px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left}"
        "th{background:#f5f5f5}td{white-space:nowrap}svg{max-width:100%;height:auto}</style></head><body>"
        f"{render_svg(report)}<h2>Expected observations</h2><table><tr>{head}</tr>{body}</table>"
        "</body></html>\n")


CHART_FORMATS = (".svg", ".html", ".htm")


def check_chart_path(path: str | Path) -> Path:
    """Where the chart can be written: a .svg or .html file in a directory that exists. Checked
    before the watch is evaluated, so a typo costs nothing."""
    target = Path(path)
    if target.suffix.lower() not in CHART_FORMATS:
        raise ConfigError(f"--plot {path}: the chart is written as SVG (.svg) or as an HTML page "
                          "with the table (.html); give one of those (for a PNG, open the SVG in "
                          "a browser, or convert it: rsvg-convert gaps.svg > gaps.png)")
    if target.is_dir():
        raise ConfigError(f"--plot {path}: is a directory; give the chart's file name")
    parent = target.absolute().parent
    if not parent.is_dir():
        raise ConfigError(f"--plot {path}: directory {parent} does not exist")
    return target


def write_chart(report: WatchReport, path: str | Path) -> None:
    """Write the chart as SVG, or as an HTML page (chart and table) for .html/.htm."""
    target = check_chart_path(path)
    text = render_html(report) if target.suffix.lower() in (".html", ".htm") else render_svg(report)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise HarvesterError(f"--plot {path}: cannot write the chart: {exc.strerror or exc}") from None
