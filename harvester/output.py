"""Printing rows as a table, CSV or JSON: the formats every reading command offers."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
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
