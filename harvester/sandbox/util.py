"""Small helpers shared by the sandbox modules."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building many acyclic objects.

    Loading 150,000 generated products otherwise triggers hundreds of full
    collections that scan everything already built: about half the load time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def wildcard_regex(pattern: str, *, many: str, one: str) -> re.Pattern[str]:
    """A wildcard pattern (`many` = any run, `one` = one character) as a case-insensitive regex:
    SQL LIKE for MAST (% and _), the PDS `like` operator (* and ?)."""
    parts = []
    for ch in pattern:
        if ch == many:
            parts.append(".*")
        elif ch == one:
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)
