"""A window's events grouped the way a person reads them: new products by archive, mission and
instrument (with counts and the newest titles), embargoes that ended, the release watch's
observations that became overdue or were cleared, and sources that went silent or failing or
came back. Counts are exact however long the window; only the lines shown are capped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from harvester.news.items import Item

WATCH_KINDS = ("overdue", "overdue_cleared")
SOURCE_KINDS = ("silent", "silent_cleared", "source_failing", "source_recovered")
NEWEST_TITLES = 3
PER_SECTION = 8


@dataclass
class Group:
    """The new (or updated) products of one archive, mission and instrument in the window."""

    archive: str
    mission: str | None
    instrument: str | None
    count: int = 0
    newest_time: str = ""
    newest: list[Item] = field(default_factory=list)  # newest first, at most NEWEST_TITLES

    @property
    def label(self) -> str:
        return " ".join(x for x in (self.mission, self.instrument) if x) or self.archive

    def add(self, item: Item) -> None:
        self.count += 1
        if item.time >= self.newest_time:
            self.newest_time = item.time
        self.newest.append(item)
        self.newest.sort(key=lambda i: (i.time, i.event_id), reverse=True)
        del self.newest[NEWEST_TITLES:]


@dataclass
class Section:
    """Lines of one kind: `shown` (capped) and how many there were in all."""

    total: int = 0
    shown: list = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


@dataclass
class Digest:
    heading: str
    since: str | None = None            # the window's start (ISO), None when it is "since ever"
    until: str | None = None            # the newest event's time
    first_event_id: int | None = None
    last_event_id: int = 0
    new: Section = field(default_factory=Section)        # of Group, most recent first
    new_products: int = 0
    new_archives: int = 0
    released: Section = field(default_factory=Section)   # of Item, most recent first
    watch: Section = field(default_factory=Section)      # of Item: the latest per observation
    sources: Section = field(default_factory=Section)    # of Item: the latest per source and kind
    updated: Section = field(default_factory=Section)    # of Group
    updated_products: int = 0
    other: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.new_products or self.released.total or self.watch.total
                    or self.sources.total or self.updated_products or self.other)


def build_digest(items: Iterable[Item], *, heading: str, since: str | None = None,
                 per_section: int = PER_SECTION) -> Digest:
    digest = Digest(heading=heading, since=since)
    new: dict[tuple, Group] = {}
    updated: dict[tuple, Group] = {}
    released: list[Item] = []
    watch: dict[str, Item] = {}
    sources: dict[tuple, Item] = {}
    for item in items:
        if digest.first_event_id is None:
            digest.first_event_id = item.event_id
        digest.last_event_id = max(digest.last_event_id, item.event_id)
        digest.until = max(digest.until or "", item.time)
        if item.kind == "new":
            _group(new, item).add(item)
            digest.new_products += 1
        elif item.kind == "updated":
            _group(updated, item).add(item)
            digest.updated_products += 1
        elif item.kind == "released":
            released = _newest_first([*released, item])[:per_section]
            digest.released.total += 1
        elif item.kind in WATCH_KINDS:
            # An observation that went overdue and was cleared in one window: its latest
            # state is the news (the cleared line says since when it had been overdue).
            watch[item.expected_id or str(item.event_id)] = item
        elif item.kind in SOURCE_KINDS:
            family = "health" if item.kind.startswith("source_") else "silence"
            sources[(item.source, family)] = item
        else:
            digest.other += 1
    digest.new_archives = len({g.archive for g in new.values()})
    digest.new = _section(sorted(new.values(), key=lambda g: (g.newest_time, g.count), reverse=True),
                          per_section)
    digest.updated = _section(sorted(updated.values(), key=lambda g: g.count, reverse=True),
                              per_section)
    digest.released.shown = released
    digest.watch = _section(_newest_first(watch.values()), per_section)
    digest.sources = _section(_newest_first(sources.values()), per_section)
    return digest


def _newest_first(items: Iterable[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i.time, i.event_id), reverse=True)


def _group(groups: dict[tuple, Group], item: Item) -> Group:
    key = (item.archive or "?", item.mission, item.instrument)
    if key not in groups:
        groups[key] = Group(archive=key[0], mission=item.mission, instrument=item.instrument)
    return groups[key]


def _section(values: list, per_section: int) -> Section:
    return Section(total=len(values), shown=values[:per_section])
