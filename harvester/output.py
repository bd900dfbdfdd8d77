"""Printing rows as a table, CSV or JSON: the formats every reading command offers; and making a
table fit a terminal (dropping the least useful columns, cutting long free text)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

FORMATS = ("table", "csv", "json")


def write_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str,
               out: TextIO | None = None) -> int:
    out = out or sys.stdout
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(row)
            count += 1
        return count
    if fmt == "json":
        # Streamed as a JSON array, so a large answer never sits in memory twice.
        out.write("[")
        for row in rows:
            out.write(",\n " if count else "\n ")
            out.write(json.dumps(dict(zip(columns, row, strict=False)), default=str))
            count += 1
        out.write("\n]\n" if count else "]\n")
        return count
    from tabulate import tabulate

    materialized = [list(r) for r in rows]
    out.write(tabulate(materialized, headers=list(columns), tablefmt="simple",
                       disable_numparse=True, missingval="") + "\n")
    return len(materialized)


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
