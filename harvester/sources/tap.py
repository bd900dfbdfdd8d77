"""What every adapter that speaks IVOA TAP shares (ESA PSA, the ObsCore services).

- ADQL building: literals quoted (a `'` doubled), identifiers checked, the target clause.
- One synchronous query (`{base_url}/sync`, REQUEST=doQuery, LANG=ADQL) through the harvester's
  HttpClient, so retries, Retry-After, the rate limit and the request count apply.
- Both answer formats: TAP JSON (`{"metadata": [{"name"...}], "data": [[...]]}`, as ESA's TAP
  services send it) and VOTable TABLEDATA (read with ElementTree; BINARY/BINARY2 through
  astropy when it is installed).
- Caps and paging. ADQL 2.0 has no OFFSET, so pages are keyset pages: ORDER BY the cursor column
  then the key column, and the next page asks for rows strictly after the last (cursor, key)
  pair, so ties are neither skipped nor read twice. A page holding MAXREC rows, or a VOTable
  saying QUERY_STATUS=OVERFLOW, means "more may exist": the next page is fetched. A JSON answer
  has no overflow flag, so a service cap below `page_size` cannot be seen in JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harvester.errors import ConfigError, FatalHTTPError, RetriableHTTPError, SourceError
from harvester.settings import SourceSettings

FORMATS = ("json", "votable")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_ERROR_INFO = re.compile(r'value="ERROR"\s*>([^<]*)')
_ACCEPT = {"json": "application/json", "votable": "application/x-votable+xml, text/xml;q=0.9"}


class TapQueryError(SourceError):
    """The TAP service answered the query with QUERY_STATUS=ERROR."""


class CappedAnswerError(SourceError):
    """The service said its answer was cut (OVERFLOW) and gave no rows to page on from."""


@dataclass
class TapSettings(SourceSettings):
    """Keys every TAP source accepts; PSA and ObsCore set their own defaults."""

    table: str = ""
    # ADQL LIKE patterns on the target-name columns; the alias matcher then decides.
    target_patterns: list[str] = field(default_factory=lambda: ["%3I%", "%2025%N1%"])
    format: str = "votable"

    def validate(self, *, where: str, path: str) -> None:
        if not _IDENTIFIER.match(self.table):
            raise ConfigError(f"{path}: [{where}] table: not a table name like schema.table: {self.table!r}")
        if not self.target_patterns:
            raise ConfigError(f"{path}: [{where}] target_patterns: must name at least one pattern")
        if self.format not in FORMATS:
            raise ConfigError(f"{path}: [{where}] format: expected one of {', '.join(FORMATS)}, "
                              f"got {self.format!r}")


# ---------------------------------------------------------------- ADQL


def adql_string(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def adql_literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise SourceError(f"cannot page on the value {value!r}")
    if isinstance(value, int | float):
        return repr(value)
    return adql_string(str(value))


def adql_timestamp(moment: datetime) -> str:
    """A timestamp literal most TAP back ends accept: ISO without zone or fraction, UTC."""
    return adql_string(moment.strftime("%Y-%m-%dT%H:%M:%S"))


def any_like(columns: Sequence[str], patterns: Sequence[str]) -> str:
    return "(" + " OR ".join(f"{c} LIKE {adql_string(p)}" for c in columns for p in patterns) + ")"


def in_list(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(adql_string(v) for v in values)})"


def strictly_after(order: Sequence[str], last: Sequence[Any]) -> str:
    """Rows after `last` in ORDER BY `order`: (a > x OR (a = x AND (b > y ...)))."""
    head, value = order[0], adql_literal(last[0])
    if len(order) == 1:
        return f"{head} > {value}"
    return f"({head} > {value} OR ({head} = {value} AND {strictly_after(order[1:], last[1:])}))"


@dataclass
class TapQuery:
    """SELECT * FROM table WHERE clauses (ANDed) ORDER BY order, one keyset page at a time."""

    table: str
    where: list[str]
    order: list[str]

    def adql(self, after: Sequence[Any] | None = None) -> str:
        clauses = list(self.where)
        if after is not None:
            clauses.append(strictly_after(self.order, after))
        text = f"SELECT * FROM {self.table}"
        if clauses:
            text += " WHERE " + " AND ".join(clauses)
        return text + " ORDER BY " + ", ".join(self.order)


# ---------------------------------------------------------------- answers


@dataclass
class TapAnswer:
    columns: list[str]
    rows: list[list[Any]]
    overflow: bool = False

    def records(self) -> list[dict[str, Any]]:
        columns = self.columns
        return [dict(zip(columns, row, strict=False)) for row in self.rows]


def parse_answer(body: bytes, content_type: str = "", url: str = "") -> TapAnswer:
    """A sync answer in either format. Bodies a retry may cure (an HTML error page sent with
    status 200, a truncated answer) raise RetriableHTTPError; a query error raises TapQueryError."""
    if body[:2] == b"\x1f\x8b":
        # Some ESAC services gzip the answer itself, without a Content-Encoding header.
        body = _gunzip(body, url)
    head = body[:512].lstrip()
    lowered = head[:64].lower()
    if "html" in content_type.lower() or lowered.startswith((b"<!doctype html", b"<html")):
        raise RetriableHTTPError(f"expected a TAP answer from {url}, got an HTML page", url=url)
    if head.startswith(b"{"):
        return parse_json_answer(body, url)
    if head.startswith(b"<"):
        return parse_votable(body, url)
    raise RetriableHTTPError(f"expected a TAP answer from {url}, got {body[:80]!r}", url=url)


def _gunzip(body: bytes, url: str) -> bytes:
    import gzip
    import zlib

    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise RetriableHTTPError(f"truncated gzip answer from {url}: {exc}", url=url) from None


def parse_json_answer(body: bytes, url: str = "") -> TapAnswer:
    try:
        answer = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RetriableHTTPError(
            f"invalid or truncated JSON from {url} ({len(body)} bytes): {exc}", url=url) from None
    if not isinstance(answer, dict) or not isinstance(answer.get("metadata"), list) \
            or not isinstance(answer.get("data"), list):
        raise SourceError(f"TAP JSON answer without metadata and data lists from {url}: {str(answer)[:200]}")
    columns = [str(c.get("name")) if isinstance(c, dict) else str(c) for c in answer["metadata"]]
    return TapAnswer(columns=columns, rows=answer["data"])


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: Any, name: str) -> list[Any]:
    return [child for child in element if _local(child.tag) == name]


def _results_resource(root: Any) -> Any:
    resources = [r for r in root.iter() if _local(r.tag) == "RESOURCE"]
    for resource in resources:
        if resource.get("type") == "results":
            return resource
    for resource in resources:
        if _children(resource, "TABLE"):
            return resource
    return resources[0] if resources else None


def _query_status(*holders: Any) -> tuple[str, str] | None:
    """The last QUERY_STATUS INFO: services put OVERFLOW (or a late ERROR) after the data."""
    status = None
    for holder in holders:
        if holder is None:
            continue
        for info in _children(holder, "INFO"):
            if (info.get("name") or "").upper() == "QUERY_STATUS":
                status = ((info.get("value") or "").upper(), (info.text or "").strip())
    return status


def _converter(datatype: str, arraysize: str | None) -> Any:
    if arraysize and datatype not in ("char", "unicodeChar"):
        return str  # numeric arrays stay text, as the archive wrote them
    if datatype in ("double", "float"):
        return _float
    if datatype in ("int", "long", "short", "unsignedByte"):
        return int
    if datatype == "boolean":
        return lambda text: text.strip().lower() in ("true", "t", "1")
    return str


def _float(text: str) -> float | None:
    value = float(text)
    return None if value != value else value  # NaN is VOTable's null for floats


def parse_votable(body: bytes, url: str = "") -> TapAnswer:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise RetriableHTTPError(f"invalid or truncated VOTable from {url} ({len(body)} bytes): {exc}",
                                 url=url) from None
    if _local(root.tag) != "VOTABLE":
        raise SourceError(f"TAP answer from {url} is XML but not a VOTable: <{_local(root.tag)}>")
    resource = _results_resource(root)
    tables = _children(resource, "TABLE") if resource is not None else []
    status = _query_status(root, resource, tables[0] if tables else None)
    if status and status[0] == "ERROR":
        raise TapQueryError(f"TAP query failed at {url}: {status[1] or 'no message'}")
    if not tables:
        raise SourceError(f"VOTable from {url} has no results table")
    table = tables[0]
    fields = _children(table, "FIELD")
    columns = [f.get("name") or f.get("ID") or f"col{i}" for i, f in enumerate(fields)]
    data = _children(table, "DATA")
    rows: list[list[Any]] = []
    if data:
        serial = data[0][0] if len(data[0]) else None
        if serial is not None and _local(serial.tag) != "TABLEDATA":
            rows = _binary_rows(body, url, _local(serial.tag))
        elif serial is not None:
            convert = [_converter(f.get("datatype") or "char", f.get("arraysize")) for f in fields]
            rows = [_tabledata_row(tr, convert, url) for tr in serial]
    return TapAnswer(columns=columns, rows=rows, overflow=bool(status and status[0] == "OVERFLOW"))


def _tabledata_row(tr: Any, convert: list[Any], url: str) -> list[Any]:
    row: list[Any] = []
    for td, to_value in zip(tr, convert, strict=False):
        text = td.text
        if text is None or text == "":
            row.append(None)
            continue
        try:
            row.append(to_value(text))
        except ValueError:
            row.append(text)  # served verbatim; normalize() decides whether it is usable
    row.extend([None] * (len(convert) - len(row)))
    return row


def _binary_rows(body: bytes, url: str, serialization: str) -> list[list[Any]]:
    try:
        import io
        import warnings

        from astropy.io.votable import parse as parse_votable_file
    except ImportError:
        raise SourceError(f"the VOTable from {url} uses {serialization} serialization, which needs "
                          "astropy (pip install astropy); or set format = \"json\"") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy warns about every unusual but legal detail
        array = parse_votable_file(io.BytesIO(body)).get_first_table().array
    names = array.dtype.names or ()
    data, mask = array.data, array.mask
    return [[None if mask[name][i] else _plain(data[name][i]) for name in names]
            for i in range(len(array))]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    item = getattr(value, "item", None)
    return item() if callable(item) else value


# ---------------------------------------------------------------- requests and pages


def sync_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/sync"


def sync_form(adql: str, *, maxrec: int, fmt: str) -> dict[str, str]:
    return {"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": fmt, "MAXREC": str(maxrec), "QUERY": adql}


def run_sync(http: Any, base_url: str, adql: str, *, maxrec: int, fmt: str) -> TapAnswer:
    """One synchronous TAP query, parsed inside the HTTP client's retried attempt."""
    url = sync_url(base_url)
    form = sync_form(adql, maxrec=maxrec, fmt=fmt)
    headers = {"Accept": _ACCEPT[fmt]}

    def parse(response: Any) -> TapAnswer:
        return parse_answer(response.body, response.headers.get("content-type", ""), url)

    # The parse runs inside the attempt so that a truncated VOTable or an HTML page sent with
    # status 200 is retried like a 5xx, as HttpClient.get_json does for JSON.
    try:
        return http.request_parsed("POST", url, parse, data=form, headers=headers)
    except FatalHTTPError as exc:
        if exc.status != 400:
            raise
        # DALI: a refused query is HTTP 400 with an error VOTable; say what the service said.
        found = _ERROR_INFO.search(str(exc))
        reason = found.group(1).strip() if found else str(exc)
        raise TapQueryError(f"TAP service at {url} refused the query: {reason}") from None


def table_columns(http: Any, base_url: str, table: str, *, fmt: str) -> list[str]:
    """The columns TAP_SCHEMA.columns lists for `table` (TAP 1.1 section 4): what a query may
    name. A column the table lacks makes the whole query fail, and EPN-TAP 2.0 leaves many
    optional (alt_target_name)."""
    answer = run_sync(http, base_url,
                      f"SELECT column_name FROM TAP_SCHEMA.columns WHERE table_name = {adql_string(table)}",
                      maxrec=10000, fmt=fmt)
    return [str(row[0]) for row in answer.rows if row and row[0]]


@dataclass
class TapPage:
    records: list[dict[str, Any]]
    last: bool
    number: int


def keyset_pages(http: Any, base_url: str, query: TapQuery, *, page_size: int,
                 fmt: str) -> Iterator[TapPage]:
    """Every row of `query`, page after page, until a page is neither full nor OVERFLOW."""
    after: list[Any] | None = None
    number = 0
    while True:
        number += 1
        answer = run_sync(http, base_url, query.adql(after), maxrec=page_size, fmt=fmt)
        records = answer.records()
        if answer.overflow and not records:
            # KOA answered exactly this: capped, with nothing in it. Not "nothing there".
            raise CappedAnswerError(f"TAP service at {base_url} answered QUERY_STATUS=OVERFLOW with no rows "
                                    f"(page {number}): it caps this query below one row, so what exists "
                                    "cannot be read; the answer is not complete")
        more = bool(records) and (answer.overflow or len(records) >= page_size)
        if more:
            last_key = _order_values(records[-1], query.order)
            if last_key == after:
                raise SourceError(f"TAP service at {base_url} ignored the keyset condition "
                                  f"(page {number} ends where page {number - 1} did); stopping")
            after = last_key
        yield TapPage(records=records, last=not more, number=number)
        if not more:
            return


def _order_values(record: dict[str, Any], order: Sequence[str]) -> list[Any]:
    lowered = {k.lower(): v for k, v in record.items()}
    values = [lowered.get(column.lower()) for column in order]
    if any(v is None or isinstance(v, bool) for v in values):
        raise SourceError(f"a row without {', '.join(order)} ends a full page; cannot ask for the next "
                          f"page after it: {str(record)[:200]}")
    return values
