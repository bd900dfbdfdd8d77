"""bench/RESULTS.md holds one section per benchmark script; each script rewrites only its own,
between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, so the figures of one script never
erase another's."""

from __future__ import annotations

import re
from pathlib import Path

HEADER = "# Benchmark results\n\nEach section below is written by the script it names; see bench/README.md.\n"


def write_section(path: Path, name: str, text: str) -> None:
    """Put `text` as section `name` of the results file, replacing that section only."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{text.rstrip()}\n{end}\n"
    current = path.read_text() if path.exists() else HEADER
    if start not in current and not current.startswith(HEADER):
        current = HEADER  # an old whole-file result: start the sectioned layout
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(current):
        updated = pattern.sub(lambda _: block, current)
    else:
        updated = current.rstrip() + "\n\n" + block
    path.write_text(updated)
