"""Printing rows as a table, CSV or JSON: the formats every reading command offers; and making a
table fit a terminal (dropping the least useful columns, cutting long free text).

CSV and JSON stream row by row, so an answer of any size never sits in memory. A table must
see all its rows to size its columns, so it is capped (`max_rows`): the rest is counted as
"more", never held. JSON is always valid: SQLite's infinities become null and binary values
become `{"$base64": true, "encoded": ...}` (both as Datasette writes them), and a repeated
column name gets SQLite's own suffix (`a`, `a:1`) so no value is lost.
"""

from __future__ import annotations

import base64
import csv
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

FORMATS = ("table", "csv", "json")


# Characters XML 1.0 cannot hold at all, not even escaped: C0 controls but tab, newline and
# carriage return, lone surrogates, and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """Text fit for an XML document (an Atom feed): characters XML cannot hold are dropped, so
    one odd character in a title never makes the whole feed unreadable."""
    return _NOT_XML.sub("", str(value))


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str,
               out: TextIO | None = None, *, max_rows: int | None = None,
               note: TextIO | None = None) -> int:
    """Write the rows; returns how many were written. `max_rows` caps a table (a line on `note`,
    stderr by default, says there were more; they are not read, so an endless query ends)."""
    out = out or sys.stdout
    if fmt == "csv":
        return _write_csv(columns, rows, out)
    if fmt == "json":
        return _write_json(columns, rows, out)
    return _write_table(columns, rows, out, max_rows=max_rows, note=note or sys.stderr)


def _write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_text_cell(v) if isinstance(v, bytes) else v for v in row])
        count += 1
    return count


def unique_names(columns: Sequence[str]) -> list[str]:
    """Column names made unique the way SQLite's CREATE TABLE ... AS SELECT does: `a`, `a:1`."""
    seen: set[str] = set()
    names = []
    for name in columns:
        candidate, n = name, 0
        while candidate in seen:
            n += 1
            candidate = f"{name}:{n}"
        seen.add(candidate)
        names.append(candidate)
    return names


def json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    return value


def _write_json(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO) -> int:
    # Streamed as a JSON array, so a large answer never sits in memory twice.
    names = unique_names(columns)
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n " if count else "\n ")
        record = {name: json_value(value) for name, value in zip(names, row, strict=False)}
        out.write(json.dumps(record, default=str, allow_nan=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _text_cell(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<{len(value):,} bytes>"
    return value


def _write_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO, *,
                 max_rows: int | None, note: TextIO) -> int:
    from tabulate import tabulate

    iterator: Iterator[Sequence[Any]] = iter(rows)
    shown = []
    for row in iterator:
        if max_rows is not None and len(shown) >= max_rows:
            out.write(tabulate(shown, headers=list(columns), tablefmt="simple",
                               disable_numparse=True, missingval="") + "\n")
            out.flush()
            note.write(f"showing the first {max_rows:,} rows; there are more (--format csv or "
                       "json writes them all; --max-rows N shows more)\n")
            _close(iterator)
            return len(shown)
        shown.append([_text_cell(v) for v in row])
    out.write(tabulate(shown, headers=list(columns), tablefmt="simple",
                       disable_numparse=True, missingval="") + "\n")
    return len(shown)


def _close(rows: Iterator[Any]) -> None:
    close = getattr(rows, "close", None)
    if close is not None:
        close()  # a generator over a cursor releases its connection now, not at exit


# -- tables that fit a terminal ---------------------------------------------------------------

DEFAULT_WIDTH = 100
_GAP = 2  # tabulate's "simple" format puts two spaces between columns
_NARROWEST = 10  # a shrunk column keeps at least this many characters (or its header)


def table_width(default: int = DEFAULT_WIDTH) -> int:
    """The width a table should fit: the terminal's when printing to one, else `default`."""
    import shutil

    if sys.stdout.isatty():
        return max(shutil.get_terminal_size((default, 24)).columns, 40)
    return default


def clip(text: str, width: int) -> str:
    """`text` on one line, at most `width` characters, "..." marking a cut."""
    text = " ".join(str(text).split()) if "\n" in str(text) or "\r" in str(text) else str(text)
    if len(text) <= width:
        return text
    return text[: max(width - 3, 0)] + "..."


@dataclass
class Fitted:
    """A table made to fit: the columns kept, the rows as text, what was dropped or cut."""

    columns: list[str]
    rows: list[list[str]]
    dropped: list[str] = field(default_factory=list)
    clipped: list[str] = field(default_factory=list)

    def hint(self) -> str | None:
        """One line saying how to see what did not fit, or None when everything did."""
        if not (self.dropped or self.clipped):
            return None
        parts = []
        if self.dropped:
            parts.append(f"{len(self.dropped)} more column{'s' if len(self.dropped) > 1 else ''} "
                         f"with --wide ({', '.join(self.dropped)})")
        if self.clipped:
            parts.append(f"full {', '.join(self.clipped)} with --format json")
        return f"({'; '.join(parts)})"


def fit_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], width: int, *,
              drop: Sequence[str] = (), shrink: Sequence[str] = ()) -> Fitted:
    """Make a table at most `width` characters wide: first drop the columns named in `drop`
    (least useful first) while it is too wide, then cut the cells of the `shrink` columns (free
    text: errors, reasons) to what is left, each in proportion to its length."""
    from tabulate import MIN_PADDING

    kept = list(columns)
    cells = [["" if v is None else clip(v, 10_000) for v in row] for row in rows]
    fitted = Fitted(kept, cells)

    def widths() -> list[int]:
        return [max([len(name) + MIN_PADDING, *(len(r[i]) for r in cells)])
                for i, name in enumerate(kept)]

    def total(ws: list[int]) -> int:
        return sum(ws) + _GAP * (len(ws) - 1)

    for name in drop:
        if total(widths()) <= width:
            break
        if name in kept:
            index = kept.index(name)
            del kept[index]
            for row in cells:
                del row[index]
            fitted.dropped.append(name)
    excess = total(widths()) - width
    if excess > 0:
        # Cut the free-text columns in proportion to how much each has beyond its floor, so
        # one long column does not lose everything while another keeps all.
        current = widths()
        slack = {}
        for name in shrink:
            if name in kept:
                index = kept.index(name)
                floor = max(len(name) + MIN_PADDING, _NARROWEST)
                slack[index] = max(current[index] - floor, 0)
        spare = sum(slack.values())
        for index, room in slack.items():
            if not room or not spare:
                continue
            narrower = current[index] - min(room, -(-excess * room // spare))  # ceiling
            for row in cells:
                if len(row[index]) > narrower:
                    row[index] = clip(row[index], narrower)
                    if kept[index] not in fitted.clipped:
                        fitted.clipped.append(kept[index])
    return fitted
