"""Knowing a record unchanged before normalizing it.

A rerun re-reads its look-back window (MAST's last days, PDS's harvest-time overlap, ...) and
meets thousands of records it stored before. Normalizing each again only to find the same
content hash was most of a no-change run's time. Instead each product row keeps `raw_hash`: a
fingerprint of the record exactly as it arrived and of everything its normalization depended
on (the source's code, its settings, the target's aliases, the platform table, PDS's target
LIDs). A record whose fingerprint equals the stored one would normalize to the same row, so it
is counted unchanged and only its `last_seen` moves.

One thing normalization reads that no fingerprint holds is the clock: an exclusive product is
public once its release date has passed. A stored product that is exclusive with its release
date past (or within a day, or unknown) is therefore always normalized again.

A source opts in with `Source.unchanged_context()` (None: never skipped), which it may only do
if its `normalize` reads nothing but the record and that context, and leaves the record as it
was.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

from harvester import jsontext
from harvester.timeutil import iso

PACKAGE = Path(__file__).resolve().parent
# The code a product row depends on besides the source's own module: if any of it changes, every
# record is normalized once more.
CODE = ("product.py", "timeutil.py", "jsontext.py", "engine.py", "sources", "names")
# How near its release date an exclusive product must be to be normalized again, whatever its
# record: release dates are kept to the millisecond, the archives' clocks are not ours.
RELEASE_MARGIN = timedelta(days=1)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A fingerprint of the code that turns a record into a product row."""
    digest = hashlib.sha256()
    for name in CODE:
        path = PACKAGE / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(PACKAGE)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def fingerprint(source: Any, platforms: Any) -> str | None:
    """What the source's normalization depends on besides the record, as one text; None when
    the source does not take part."""
    context = source.unchanged_context()
    if context is None:
        return None
    table = repr(platforms.platforms) if platforms is not None else ""
    text = jsontext.dumps([code_version(), type(source).__module__, type(source).__qualname__,
                           source.name, repr(source.settings), source.matcher.name,
                           list(source.matcher.aliases), table, context])
    return hashlib.sha256(text.encode()).hexdigest()


def record_text(record: Any) -> str | None:
    """The record as the catalog's `raw` column holds it, or None if it cannot be written."""
    try:
        return jsontext.dumps(record)
    except (TypeError, ValueError, OverflowError, RecursionError):
        return None


def record_hash(fingerprint_text: str, text: str) -> str:
    return hashlib.sha256(f"{fingerprint_text}\n{text}".encode()).hexdigest()[:32]


def release_horizon(now: Any) -> str:
    """Stored exclusive products released before this instant are normalized again."""
    return iso(now + RELEASE_MARGIN)


def still_unchanged(stored: Any, raw_hash: str, horizon: str) -> bool:
    """Would the stored row be written again exactly as it is from a record with `raw_hash`?"""
    if stored is None or stored["raw_hash"] != raw_hash:
        return False
    if stored["access"] == "exclusive":
        release = stored["release_date"]
        return release is not None and release > horizon
    return True
