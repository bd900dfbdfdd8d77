"""The catalog in a notebook: `harvester.open_catalog(path)` and pandas DataFrames with proper
dtypes (times as UTC datetimes, names as categories, JSON columns as Python objects).

Read-only: every call opens the catalog read-only (the same locks as `harvester sql`), so a
notebook can read while a harvest writes and can never change the catalog. pandas is imported
on the first call that returns a DataFrame, not when `harvester` is imported.

    import harvester
    cat = harvester.open_catalog("harvester.db")
    cat.products(archive="mast", access="exclusive")
    cat.events(since="7d", kind="released")
    cat.gaps(as_of="2025-12-01")
    cat.latency()
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harvester.errors import ConfigError

if TYPE_CHECKING:  # pandas is imported by the methods, when they are called
    import pandas as pd

PRODUCT_COLUMNS = (
    "product_key", "archive", "native_id", "version", "source", "mission", "instrument",
    "target_name", "matched_by", "product_type", "processing_level", "obs_start", "obs_end",
    "release_date", "access", "first_seen", "last_seen", "updated_at", "first_public", "url",
    "size_bytes", "program", "title", "extra",
)
TIME_COLUMNS = ("obs_start", "obs_end", "release_date", "first_seen", "last_seen", "updated_at",
                "first_public", "time", "due_date", "exclusive_until", "as_of")
CATEGORY_COLUMNS = ("archive", "source", "mission", "instrument", "product_type",
                    "processing_level", "access", "kind", "status", "campaign_status")
JSON_COLUMNS = ("extra", "raw", "detail")
FILTERS = ("archive", "mission", "instrument", "access", "source", "program", "product_type")


def _pandas() -> Any:
    import pandas

    return pandas


def _moment(value: str | datetime | None, what: str) -> datetime | None:
    """A datetime from a datetime, an ISO text or a duration back from now ('7d')."""
    from harvester.news.since import parse_since
    from harvester.timeutil import utcnow

    if value is None or isinstance(value, datetime):
        return value
    since = parse_since(str(value), utcnow())
    if since.last:
        raise ConfigError(f"{what}: give a date, a time or a duration like '7d', not 'last'")
    return since.moment


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The catalog's text columns as what they mean: UTC datetimes, categories, JSON objects."""
    pd = _pandas()
    for column in frame.columns:
        if column in TIME_COLUMNS:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
        elif column in CATEGORY_COLUMNS:
            frame[column] = frame[column].astype("category")
        elif column in JSON_COLUMNS:
            frame[column] = frame[column].map(_loads)
        elif column in ("size_bytes", "run_id"):
            frame[column] = frame[column].astype("Int64")
    return frame


def _loads(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


class CatalogReader:
    """A catalog file, read as DataFrames. Make one with `harvester.open_catalog(path)`."""

    def __init__(self, path: str | Path, config: Any) -> None:
        self.path = str(path)
        self.config = config

    @classmethod
    def open(cls, path: str | Path, *, config: str | Path | None = None) -> CatalogReader:
        from catalog.db import open_readonly
        from harvester.config import load_config

        open_readonly(path).close()  # a missing or unreadable catalog fails here, in one line
        return cls(path, load_config(str(config) if config else None, catalog_override=str(path)))

    def __repr__(self) -> str:
        return f"<harvester catalog {self.path}>"

    def _frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        from catalog.query import readonly_connection

        conn = readonly_connection(self.path)
        try:
            return typed(_pandas().read_sql_query(sql, conn, params=list(params)))
        finally:
            conn.close()

    def sql(self, query: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Any read-only query, with the catalog's columns typed where their names say what
        they are (times, categories, JSON)."""
        from catalog.query import run_query

        columns, rows = run_query(self.path, query, list(params))  # refuses writes, one line
        return typed(_pandas().DataFrame.from_records(list(rows), columns=columns))

    def products(self, *, search: str | None = None, first_seen_since: str | datetime | None = None,
                 observed_after: str | datetime | None = None,
                 observed_before: str | datetime | None = None, with_raw: bool = False,
                 limit: int | None = None, **filters: str | Sequence[str]) -> pd.DataFrame:
        """Products, newest first seen first. Filters are equalities on archive, mission,
        instrument, access, source, program, product_type (a list means any of them);
        `search` takes words as `harvester search` does. Adds `preview_url` where the archive
        gives a preview image."""
        from harvester.links import Links
        from harvester.timeutil import iso

        unknown = sorted(set(filters) - set(FILTERS))
        if unknown:
            raise ConfigError(f"products(): no filter {', '.join(unknown)} (filters: {', '.join(FILTERS)})")
        columns = [*PRODUCT_COLUMNS, *(["raw"] if with_raw else [])]
        where, params = [], []
        for name, value in filters.items():
            values = [value] if isinstance(value, str) else list(value)
            where.append(f"p.{name} IN ({', '.join('?' for _ in values)})")
            params += values
        for column, op, value in (("first_seen", ">=", first_seen_since), ("obs_end", ">=", observed_after),
                                  ("obs_start", "<=", observed_before)):
            moment = _moment(value, column)
            if moment is not None:
                where.append(f"p.{column} {op} ?")
                params.append(iso(moment))
        sql = f"SELECT {', '.join('p.' + c for c in columns)} FROM products p"
        if search:
            sql, params = self._search(sql, search, params)
        if where:
            sql += (" AND " if search else " WHERE ") + " AND ".join(where)
        sql += " ORDER BY p.first_seen DESC, p.product_key"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        frame = self._frame(sql, params)
        links = Links.from_config(self.config)
        frame["preview_url"] = [links.preview(extra, source)
                                for extra, source in zip(frame["extra"], frame["source"], strict=True)]
        return frame

    def _search(self, sql: str, words: str, params: list[Any]) -> tuple[str, list[Any]]:
        from catalog.search import quote_words

        return (f"{sql} JOIN products_fts ON products_fts.rowid = p.rowid WHERE products_fts MATCH ?",
                [quote_words(words), *params])

    def events(self, *, since: str | datetime | None = None, kind: str | Sequence[str] | None = None,
               limit: int | None = None) -> pd.DataFrame:
        """Events, oldest first: `since` a date, a time or a duration back from now ('7d');
        `kind` one kind or a list (new, updated, released, overdue, silent ...)."""
        from harvester.timeutil import iso

        where, params = [], []
        moment = _moment(since, "since")
        if moment is not None:
            where.append("time >= ?")
            params.append(iso(moment))
        if kind:
            kinds = [kind] if isinstance(kind, str) else list(kind)
            where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
            params += kinds
        sql = ("SELECT id, time, kind, product_key, source, run_id, expected_id, detail FROM events"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return self._frame(sql, params)

    def _report(self, as_of: str | datetime | None, *, with_latency: bool) -> Any:
        from harvester.timeutil import utcnow
        from harvester.watch.report import build_report

        moment = _moment(as_of, "as_of") or utcnow()
        return build_report(self.path, self.config, moment, with_latency=with_latency)

    def gaps(self, as_of: str | datetime | None = None) -> pd.DataFrame:
        """The release watch as of a date (default now): one row per expected observation with
        its status, due date, first public date, latency and the products it rests on."""
        from harvester.watch.report import expected_json

        report = self._report(as_of, with_latency=False)
        rows = [expected_json(s, report.as_of) for s in report.statuses]
        for row in rows:
            row["as_of"] = report.as_of.isoformat()
            row.pop("matches")
        pd = _pandas()
        frame = typed(pd.DataFrame.from_records(rows))
        for column in ("obs_start", "obs_end", "released_on"):
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
        for column in ("latency_days", "overdue_days", "due_in_days"):
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
        frame["first_public_stated_by_archive"] = frame["first_public_stated_by_archive"].astype("boolean")
        order = ["released", "exclusive", "pending", "overdue", "not_watched", "unconfirmed"]
        frame["status"] = frame["status"].cat.set_categories(order)
        return frame

    def latency(self) -> pd.DataFrame:
        """Release latency in days per archive, mission and instrument over public products:
        count, median, 90th percentile, maximum, outliers, and the policy it is judged by."""
        from harvester.watch.report import latency_json

        report = self._report(None, with_latency=True)
        columns = ["archive", "mission", "instrument", "count", "median_days", "p90_days",
                   "max_days", "outlier_above_days", "outliers", "outlier_keys", "policy",
                   "beyond_policy"]
        return typed(_pandas().DataFrame.from_records([latency_json(s) for s in report.latency],
                                                      columns=columns))

    def news(self, since: str = "7d") -> News:
        """The `harvester news` digest of a window (never remembered as a reader's look); shows
        as Markdown in Jupyter, as text when printed."""
        from harvester.links import Links
        from harvester.news.service import whats_new
        from harvester.news.since import parse_since
        from harvester.timeutil import utcnow

        now = utcnow()
        parsed = parse_since(since, now)
        if parsed.last:
            raise ConfigError("news(): give a date, a time or a duration like '7d' ('last' is "
                              "for `harvester news`, which remembers each reader's looks)")
        return News(whats_new(self.path, parsed, now=now, links=Links.from_config(self.config)))


class News:
    """A digest that Jupyter shows as Markdown."""

    def __init__(self, digest: Any) -> None:
        self.digest = digest

    def __str__(self) -> str:
        from harvester.news.render import render_text

        return render_text(self.digest)

    def _repr_markdown_(self) -> str:
        from harvester.news.render import render_markdown

        return render_markdown(self.digest)

    def to_dict(self) -> dict[str, Any]:
        from harvester.news.render import digest_json

        return digest_json(self.digest)


def open_catalog(path: str | Path = "harvester.db", *, config: str | Path | None = None
                 ) -> CatalogReader:
    return CatalogReader.open(path, config=config)
