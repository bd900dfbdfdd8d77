"""harvester: watch the public archives for 3I/ATLAS and keep one SQL catalog of what they publish.

In a notebook:

    import harvester
    cat = harvester.open_catalog("harvester.db")
    cat.products(archive="mast")        # pandas DataFrames, read-only

Importing `harvester` imports nothing heavy: pandas comes with the first DataFrame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["open_catalog"]


def open_catalog(path: str | Path = "harvester.db", *, config: str | Path | None = None) -> Any:
    """The catalog at `path`, read-only, with methods that return pandas DataFrames:
    products(**filters), events(since=...), gaps(as_of=...), latency(), news(since), sql(query).
    `config` is the harvester config (default: $HARVESTER_CONFIG, else the packaged one); it
    says where the campaign and policies of `gaps()` are and which sources are harvested."""
    from harvester.notebook import open_catalog as _open

    return _open(path, config=config)
