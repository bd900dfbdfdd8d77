"""What every source is: a few declarations, `fetch_pages(cursor)` and `normalize(record)`.

A source yields pages of raw records, each with the bookmark that is true once that page is
stored. The engine, not the source, commits a page and its bookmark together. Sources never
see the catalog and never retry: retries, rate limits and timeouts live in harvester.http.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
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
    """Everything a source may use: its settings, the target, the HTTP client and the clock,
    and the identifiers of the target in archives' own terms found earlier (PDS target context
    LIDs that `harvester target resolve` or an earlier harvest stored in the catalog)."""

    name: str
    settings: SourceSettings
    matcher: AliasMatcher
    http: HttpClient
    now: datetime
    target_ids: list[str] = field(default_factory=list)
    # The target's ephemerides, for sources that search by position (the engine gives one
    # backed by the catalog's cache; name-based sources never use it).
    ephemerides: EphemerisProvider | None = None


@dataclass
class TargetId:
    """An identifier of the target in an archive's own terms, found by asking the archive (a PDS
    target context LID whose title names the target); the engine stores it in the catalog's
    aliases table with where it came from."""

    value: str
    field: str      # which field of the archive's answer matched, e.g. pds:Alias.pds:alternate_title
    raw: str        # the text that matched
    query: str      # what the archive was asked


@dataclass
class Probe:
    """What `harvester doctor` learns from one small real request to an archive."""

    request: str                     # what was asked, for the report
    records: int | None = None       # how many target records the archive says it has
    missing: list[str] = field(default_factory=list)   # fields the adapter reads, absent
    note: str = ""


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
        # Target identifiers this run found by asking the archive; the engine stores them.
        self.found_target_ids: list[TargetId] = []

    def fetch_pages(self, cursor: dict[str, Any] | None) -> Iterator[Page]:
        raise NotImplementedError

    def normalize(self, record: Any) -> Product | None:
        """A Product, or None when the record is not about the target; raise RecordRejected
        when it cannot be read."""
        raise NotImplementedError

    def native_id_of(self, record: Any) -> str | None:
        """Best-effort id of a raw record, for the rejects table (and, where the source takes
        part in harvester.unchanged, the key its stored row is looked up by)."""
        return None

    def unchanged_context(self) -> Any:
        """What `normalize` reads besides the record, its settings, the matcher and the clock,
        as a JSON-able value; None (the default) when a record must be normalized every time
        (see harvester.unchanged for what a source promises by returning anything else)."""
        return None

    def discover_target_ids(self) -> list[TargetId]:
        """Ask the archive for its own identifiers of the target (`harvester target resolve`);
        archives without such identifiers have none."""
        return []

    def probe(self) -> Probe:
        """One small real request, as `harvester doctor` makes it: is the archive there, is the
        query accepted, does the answer hold the fields normalize() reads? Raises what a harvest
        would raise when the archive cannot be asked or refuses the query."""
        raise NotImplementedError(f"{type(self).__name__} has no probe")
