"""What every source is: a few declarations, `fetch_pages(cursor)` and `normalize(record)`.

A source yields pages of raw records, each with the bookmark that is true once that page is
stored. The engine, not the source, commits a page and its bookmark together. Sources never
see the catalog and never retry: retries, rate limits and timeouts live in harvester.http.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from harvester.ephemeris.model import EphemerisProvider
from harvester.http import HttpClient
from harvester.names.matcher import AliasMatcher
from harvester.product import Product
from harvester.settings import SourceSettings
from harvester.timeutil import iso


@dataclass
class Page:
    records: list[Any]
    bookmark: dict[str, Any] | None
    note: str = ""


@dataclass
class SourceContext:
    """Everything a source may use: its settings, the target, the HTTP client and the clock."""

    name: str
    settings: SourceSettings
    matcher: AliasMatcher
    http: HttpClient
    now: datetime
    # The target's ephemerides, for sources that search by position (the engine gives one
    # backed by the catalog's cache; name-based sources never use it).
    ephemerides: EphemerisProvider | None = None


class Source:
    archive: ClassVar[str] = ""

    def __init__(self, context: SourceContext) -> None:
        self.context = context
        self.name = context.name
        self.settings = context.settings
        self.matcher = context.matcher
        self.http = context.http
        self.now = context.now
        # Release dates compare as ISO text; the run's clock is formatted once, not per row.
        self.now_iso = iso(context.now)

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        raise NotImplementedError

    def normalize(self, record: Any) -> Product | None:
        """A Product, or None when the record is not about the target; raise RecordRejected
        when it cannot be read."""
        raise NotImplementedError

    def native_id_of(self, record: Any) -> str | None:
        """Best-effort id of a raw record, for the rejects table."""
        return None
