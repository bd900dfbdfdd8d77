"""Printing rows as a table, CSV or JSON: the formats every reading command offers.

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
