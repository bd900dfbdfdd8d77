"""A small TAP service for the sandbox: in-memory tables, an ADQL subset, JSON and VOTable answers.

The ADQL subset is what the harvester's TAP adapters and pyvo send:
    SELECT [TOP n] * | col, ... | COUNT(*) [AS name] FROM schema.table [WHERE cond]
        [ORDER BY col [ASC|DESC], ...]
with AND / OR / NOT, parentheses, = <> != < <= > >=, [NOT] LIKE, [NOT] ILIKE, LOWER(x) / UPPER(x),
[NOT] IN (...), IS [NOT] NULL, CONTAINS / INTERSECTS over POINT, CIRCLE and s_region
(tap_geometry.py), and string / number literals. Anything else is answered with a
TAP error VOTable (QUERY_STATUS=ERROR, HTTP 400), as a real service answers bad ADQL.
Comparisons follow SQL: NULL compares as unknown; timestamp columns compare as times.

The service keeps TAP's row limits: MAXREC defaults to DEFAULT_MAXREC and is capped at
MAXREC_LIMIT; a result cut by MAXREC says `<INFO name="QUERY_STATUS" value="OVERFLOW"/>` after
the TABLEDATA in a VOTable (a JSON answer, like ESA's, has no way to say so).

Standard library only, and no code shared with the harvester it tests.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape, quoteattr

from .reply import Reply, text_reply
from .timeutil import canonical_date
from .util import gc_paused, wildcard_regex

DEFAULT_MAXREC = 2000
MAXREC_LIMIT = 50000
# Scenario keys that steer the sandbox and never appear in a row.
CONTROL_KEYS = {"appears", "revisions", "service"}


class AdqlError(Exception):
    """A query this service refuses, with the message a TAP error document carries."""


@dataclass(frozen=True)
class Column:
    name: str
    datatype: str            # VOTable datatype: char, double, int, long, boolean
    xtype: str | None = None  # "timestamp" for dates
    unit: str | None = None
    ucd: str | None = None

    @property
    def is_time(self) -> bool:
        return self.xtype == "timestamp"


# ---------------------------------------------------------------- rows and tables


class TapRow:
    """One scenario row: its values, when it appears, and the revisions that change it once
    each of them appears (a re-delivery)."""

    __slots__ = ("appears", "base", "key", "revisions")

    def __init__(self, key: str, base: dict[str, Any], appears: datetime,
                 revisions: list[tuple[datetime, dict[str, Any]]]) -> None:
        self.key = key
        self.base = base
        self.appears = appears
        self.revisions = revisions

    def state(self, clock: datetime) -> dict[str, Any]:
        values = self.base
        for appears, fields in self.revisions:
            if appears <= clock:
                values = {**values, **fields}
        return values


class TapTable:
    """One table of a TAP service: its columns, its rows keyed by one column, a cache of the
    rows visible at a clock (pages of one query then cost a scan, not a rebuild)."""

    def __init__(self, name: str, columns: list[Column], key: str,
                 build: Callable[[dict[str, Any]], TapRow]) -> None:
        self.name = name
        self.columns = columns
        self.by_name = {c.name.lower(): c for c in columns}
        self.key = key
        self._build = build
        self._lock = threading.Lock()
        self._rows: dict[str, TapRow] = {}
        self._version = 0
        self._visible: tuple[Any, list[dict[str, Any]], list[dict[str, Any]]] | None = None
        self._results: OrderedDict[tuple, list[int]] = OrderedDict()

    def add(self, raws: Iterable[dict[str, Any]]) -> int:
        with gc_paused():
            rows = [self._build(raw) for raw in raws]
        with self._lock:
            for row in rows:
                self._rows[row.key] = row
            self._version += 1
            self._visible = None
            self._results.clear()
        return len(rows)

    def corrupt(self, key: str, **fields: Any) -> None:
        """Serve these values verbatim from now on (no conversion, no checks)."""
        with self._lock:
            row = self._rows[str(key)]
            row.base = {**row.base, **fields}
            row.revisions = [(t, {k: v for k, v in f.items() if k not in fields}) for t, f in row.revisions]
            self._version += 1
            self._visible = None
            self._results.clear()

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._rows)

    def drop_columns(self, names: Iterable[str]) -> None:
        """Serve the table without these columns: a query naming one is refused, as a service
        that lacks an optional column refuses it (EPN-TAP 2.0 alt_target_name at the PSA)."""
        absent = {n.lower() for n in names}
        with self._lock:
            self.columns = [c for c in self.columns if c.name.lower() not in absent]
            self.by_name = {c.name.lower(): c for c in self.columns}
            self._version += 1
            self._visible = None
            self._results.clear()

    def __len__(self) -> int:
        return len(self._rows)

    def cached(self, shape: tuple, clock: datetime, version: int, compute: Callable[[], list[int]]
               ) -> list[int]:
        """The row indexes a query shape selects at `clock` in table `version`, computed once."""
        key = (shape, clock, version)
        with self._lock:
            hit = self._results.get(key)
            if hit is not None:
                self._results.move_to_end(key)
                return hit
        result = compute()
        with self._lock:
            if key[2] == self._version:
                self._results[key] = result
                while len(self._results) > 32:
                    self._results.popitem(last=False)
        return result

    def visible(self, clock: datetime) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
        """(version, values, comparison keys) of the rows that have appeared by `clock`, in key
        order: values as the archive sends them, keys as the evaluator compares them (lower-case
        names, timestamps in a canonical text-sortable form)."""
        with self._lock:
            cached = self._visible
            if cached is not None and cached[0] == (clock, self._version):
                return self._version, cached[1], cached[2]
            version = self._version
            rows = sorted((r for r in self._rows.values() if r.appears <= clock), key=lambda r: r.key)
        values = [r.state(clock) for r in rows]
        times = [c.name for c in self.columns if c.is_time]
        keys = []
        for row in values:
            compared = {k.lower(): v for k, v in row.items()}
            for name in times:
                value = row.get(name)
                compared[name.lower()] = canonical_date(value) if isinstance(value, str) else None
            keys.append(compared)
        with self._lock:
            if self._version == version:
                self._visible = ((clock, version), values, keys)
        return version, values, keys


# ---------------------------------------------------------------- TAP_SCHEMA

SCHEMA_COLUMNS = [
    Column("table_name", "char"), Column("column_name", "char"), Column("description", "char"),
    Column("unit", "char"), Column("ucd", "char"), Column("utype", "char"),
    Column("datatype", "char"), Column("arraysize", "char"), Column("xtype", "char"),
    Column("principal", "int"), Column("indexed", "int"), Column("std", "int"),
]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def schema_tables(tables: dict[str, TapTable]) -> dict[str, TapTable]:
    """TAP_SCHEMA.columns (TAP 1.1 section 4) describing the service's tables as they are now,
    so a client can ask which columns exist before it names one."""
    columns = TapTable("TAP_SCHEMA.columns", SCHEMA_COLUMNS, "key",
                       lambda raw: TapRow(raw["key"], {k: v for k, v in raw.items() if k != "key"}, _EPOCH, []))
    rows = []
    for table in tables.values():
        for index, column in enumerate(table.columns):
            rows.append({"key": f"{table.name}\n{index:04d}", "table_name": table.name,
                         "column_name": column.name, "description": None, "unit": column.unit,
                         "ucd": column.ucd, "utype": None, "datatype": column.datatype,
                         "arraysize": "*" if column.datatype == "char" else None,
                         "xtype": column.xtype, "principal": 1, "indexed": 0, "std": 1})
    columns.add(rows)
    return {"tap_schema.columns": columns}


# ---------------------------------------------------------------- ADQL: tokens and parser

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
    | (?P<op><=|>=|<>|!=|=|<|>)
    | (?P<punct>[(),*])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)
    )""", re.X)
KEYWORDS = {"select", "top", "from", "where", "order", "by", "asc", "desc", "and", "or", "not",
            "like", "ilike", "in", "is", "null", "lower", "upper", "count", "as"}


@dataclass
class Token:
    kind: str   # string, number, op, punct, name, keyword
    text: str


def tokenize(adql: str) -> list[Token]:
    tokens, position, text = [], 0, adql.rstrip().rstrip(";")
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise AdqlError(f"Syntax error near '{text[position:position + 30].strip()}'")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "name" and value.lower() in KEYWORDS:
            kind, value = "keyword", value.lower()
        tokens.append(Token(kind, value))
        position = match.end()
    return tokens


Predicate = Callable[[dict[str, Any]], "bool | None"]
Getter = Callable[[dict[str, Any]], Any]


@dataclass
class Term:
    """One top-level AND term of a WHERE clause; its text keys cached results."""

    text: str
    predicate: Predicate


@dataclass
class Select:
    columns: list[str] | None   # None: *
    top: int | None
    table: str
    where: list[Term]           # ANDed
    order: list[tuple[str, bool]]   # (column, descending)
    count: str | None = None    # SELECT COUNT(*) AS <count>: one row, the number of matches


class Parser:
    """Recursive descent over the tokens; columns are checked against the table's."""

    def __init__(self, adql: str, tables: dict[str, TapTable]) -> None:
        self.tokens = tokenize(adql)
        self.position = 0
        self.tables = tables
        self.table: TapTable | None = None

    # -- token helpers
    def peek(self, offset: int = 0) -> Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        token = self.peek()
        if token and token.kind == kind and (text is None or token.text.lower() == text):
            self.position += 1
            return token
        return None

    def expect(self, kind: str, text: str | None = None) -> Token:
        token = self.accept(kind, text)
        if token is None:
            found = self.peek()
            raise AdqlError(f"Syntax error: expected {text or kind}, found "
                            f"{found.text if found else 'end of query'}")
        return token

    # -- grammar
    def parse(self) -> Select:
        self.expect("keyword", "select")
        top = None
        if self.accept("keyword", "top"):
            top = int(float(self.expect("number").text))
        count = self.count()
        columns = [] if count else self.select_list()
        self.expect("keyword", "from")
        table_name = self.expect("name").text
        self.table = self.tables.get(table_name.lower())
        if self.table is None:
            raise AdqlError(f"Table '{table_name}' does not exist")
        for column in columns or []:
            self.column(column)
        where: list[Term] = []
        if self.accept("keyword", "where"):
            where = self.where_terms()
        order: list[tuple[str, bool]] = []
        if self.accept("keyword", "order"):
            self.expect("keyword", "by")
            while True:
                name = self.column(self.expect("name").text)
                descending = bool(self.accept("keyword", "desc"))
                if not descending:
                    self.accept("keyword", "asc")
                order.append((name, descending))
                if not self.accept("punct", ","):
                    break
        if self.peek() is not None:
            raise AdqlError(f"Syntax error near '{self.peek().text}'")  # type: ignore[union-attr]
        return Select(columns=columns, top=top, table=self.table.name, where=where, order=order,
                      count=count)

    def count(self) -> str | None:
        """COUNT(*) [AS name] (ADQL 2.0 set function), or None when the select list is columns."""
        if not self.accept("keyword", "count"):
            return None
        self.expect("punct", "(")
        self.expect("punct", "*")
        self.expect("punct", ")")
        if self.accept("keyword", "as"):
            return self.expect("name").text
        return "count"

    def select_list(self) -> list[str] | None:
        if self.accept("punct", "*"):
            return None
        names = [self.expect("name").text]
        while self.accept("punct", ","):
            names.append(self.expect("name").text)
        return names

    def column(self, name: str) -> str:
        assert self.table is not None
        bare = name.rsplit(".", 1)[-1].lower()
        if bare not in self.table.by_name:
            raise AdqlError(f"Column '{name}' does not exist in table '{self.table.name}'")
        return bare

    def where_terms(self) -> list[Term]:
        start = self.position
        terms = [self.term(self.negation)]
        while self.accept("keyword", "and"):
            terms.append(self.term(self.negation))
        if self.peek() and self.peek().kind == "keyword" and self.peek().text == "or":  # type: ignore[union-attr]
            # An OR at the top level binds everything before it: the whole clause is one term.
            self.position = start
            return [self.term(self.condition)]
        return terms

    def term(self, parse: Callable[[], Predicate]) -> Term:
        start = self.position
        predicate = parse()
        return Term(" ".join(t.text for t in self.tokens[start:self.position]), predicate)

    def condition(self) -> Predicate:
        terms = [self.conjunction()]
        while self.accept("keyword", "or"):
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else _any(terms)

    def conjunction(self) -> Predicate:
        terms = [self.negation()]
        while self.accept("keyword", "and"):
            terms.append(self.negation())
        return terms[0] if len(terms) == 1 else _all(terms)

    def negation(self) -> Predicate:
        if self.accept("keyword", "not"):
            inner = self.negation()
            return lambda row: None if (v := inner(row)) is None else not v
        return self.predicate()

    def predicate(self) -> Predicate:
        if self.accept("punct", "("):
            inner = self.condition()
            self.expect("punct", ")")
            return inner
        left = self.operand()
        negate = bool(self.accept("keyword", "not"))
        like = self.accept("keyword", "like")
        ilike = None if like else self.accept("keyword", "ilike")
        if like or ilike:
            pattern = wildcard_regex(_unquote(self.expect("string").text), many="%", one="_").pattern
            regex = re.compile(pattern, re.DOTALL | (re.IGNORECASE if ilike else 0))
            return _negated(_like(left.get, regex), negate)
        if self.accept("keyword", "in"):
            self.expect("punct", "(")
            values = [self.literal()]
            while self.accept("punct", ","):
                values.append(self.literal())
            self.expect("punct", ")")
            return _negated(_member(left.get, values), negate)
        if negate:
            raise AdqlError("Syntax error: NOT must be followed by LIKE, ILIKE or IN here")
        if self.accept("keyword", "is"):
            not_null = bool(self.accept("keyword", "not"))
            self.expect("keyword", "null")
            get = left.get
            return (lambda row: get(row) is not None) if not_null else (lambda row: get(row) is None)
        operator = self.expect("op").text
        right = self.operand()
        if left.is_time or right.is_time:
            # Timestamp columns are compared in canonical text form; literals are made so once.
            left, right = left.as_time(), right.as_time()
        return _compare(left.get, operator, right.get, numeric=not (left.is_time or right.is_time))

    def operand(self) -> Operand:
        token = self.peek()
        if token is None:
            raise AdqlError("Syntax error: unexpected end of query")
        if token.kind == "keyword" and token.text in ("lower", "upper"):
            self.position += 1
            self.expect("punct", "(")
            inner = self.operand().get
            self.expect("punct", ")")
            change = str.lower if token.text == "lower" else str.upper
            return Operand(lambda row: None if (v := inner(row)) is None else change(str(v)))
        if token.kind == "name":
            following = self.peek(1)
            if following and following.kind == "punct" and following.text == "(":
                from .tap_geometry import FUNCTIONS, GeometryError, geometry_getter

                if token.text.lower() in FUNCTIONS:
                    try:
                        return Operand(geometry_getter(self))
                    except GeometryError as exc:
                        raise AdqlError(str(exc)) from None
                raise AdqlError(f"Unsupported function '{token.text}'")
            self.position += 1
            name = self.column(token.text)
            assert self.table is not None
            return Operand(lambda row: row.get(name), is_time=self.table.by_name[name].is_time)
        literal = self.literal()
        return Operand(lambda row: literal, literal=literal, is_literal=True)

    def literal(self) -> Any:
        token = self.peek()
        if token and token.kind == "string":
            self.position += 1
            return _unquote(token.text)
        if token and token.kind == "number":
            self.position += 1
            return float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
        raise AdqlError(f"Syntax error: expected a literal, found {token.text if token else 'end of query'}")


@dataclass
class Operand:
    get: Getter
    is_time: bool = False
    is_literal: bool = False
    literal: Any = None

    def as_time(self) -> Operand:
        if not self.is_literal:
            return self
        moment = canonical_date(self.literal) if isinstance(self.literal, str) else None
        if moment is None:
            raise AdqlError(f"Not a timestamp: {self.literal!r}")
        return Operand(lambda row: moment, is_time=True, is_literal=True, literal=moment)


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")


def _all(terms: list[Predicate]) -> Predicate:
    def check(row: dict[str, Any]) -> bool | None:
        unknown = False
        for term in terms:
            value = term(row)
            if value is False:
                return False
            if value is None:
                unknown = True
        return None if unknown else True
    return check


def _any(terms: list[Predicate]) -> Predicate:
    def check(row: dict[str, Any]) -> bool | None:
        unknown = False
        for term in terms:
            value = term(row)
            if value is True:
                return True
            if value is None:
                unknown = True
        return None if unknown else False
    return check


def _negated(predicate: Predicate, negate: bool) -> Predicate:
    if not negate:
        return predicate
    return lambda row: None if (v := predicate(row)) is None else not v


def _like(getter: Getter, regex: re.Pattern[str]) -> Predicate:
    def check(row: dict[str, Any]) -> bool | None:
        value = getter(row)
        return None if value is None else regex.fullmatch(str(value)) is not None
    return check


def _member(getter: Getter, values: list[Any]) -> Predicate:
    wanted = set(values)
    return lambda row: None if (v := getter(row)) is None else v in wanted


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _compare(left: Getter, operator: str, right: Getter, *, numeric: bool) -> Predicate:
    test = _OPERATORS[operator]

    def check(row: dict[str, Any]) -> bool | None:
        a, b = left(row), right(row)
        if a is None or b is None:
            return None
        if numeric and isinstance(a, str) != isinstance(b, str):
            try:
                a, b = float(a), float(b)
            except (TypeError, ValueError):
                return None
        try:
            return test(a, b)
        except TypeError:
            return None
    return check


def parse_select(adql: str, tables: dict[str, TapTable]) -> Select:
    try:
        return Parser(adql, tables).parse()
    except (ValueError, IndexError) as exc:
        raise AdqlError(f"Syntax error: {exc}") from None


def _sort_key(descending: bool) -> Callable[[Any], tuple]:
    def key(value: Any) -> tuple:
        # NULLs last when ascending, first when descending (PostgreSQL's default).
        if value is None:
            return (1,)
        if isinstance(value, bool | int | float):
            return (0, 0, value, "")
        return (0, 1, 0, str(value))
    return key


def run_select(select: Select, table: TapTable, clock: datetime, maxrec: int
               ) -> tuple[list[Column], list[list[Any]], bool]:
    """(columns, rows, overflow) of a parsed query at the scenario clock.

    The rows matching every AND term but the last are computed and sorted once per query shape
    and cached; the last term (a paging client's keyset condition) is then applied in sorted
    order, stopping as soon as the page is known to be full. Same answer, a fraction of the work
    on the pages after the first."""
    version, values, keys = table.visible(clock)
    head, last = select.where[:-1], (select.where[-1] if select.where else None)
    shape = (tuple(t.text for t in head), tuple(select.order))
    candidates = table.cached(shape, clock, version, lambda: _sorted_matches(keys, head, select.order))
    if select.count:
        check = last.predicate if last is not None else None
        total = sum(1 for i in candidates if check is None or check(keys[i]) is True)
        return [Column(select.count, "long")], [[total]], False
    limit = maxrec + 1 if select.top is None else min(select.top, maxrec + 1)
    chosen: list[int] = []
    if limit > 0:
        check = last.predicate if last is not None else None
        for index in candidates:
            if check is None or check(keys[index]) is True:
                chosen.append(index)
                if len(chosen) >= limit:
                    break
    overflow = len(chosen) > maxrec
    chosen = chosen[:maxrec]
    columns = table.columns if select.columns is None else [
        table.by_name[c.rsplit(".", 1)[-1].lower()] for c in select.columns]
    rows = [[values[i].get(c.name) for c in columns] for i in chosen]
    return columns, rows, overflow


def _sorted_matches(keys: list[dict[str, Any]], terms: list[Term], order: list[tuple[str, bool]]) -> list[int]:
    predicates = [t.predicate for t in terms]
    indexes = [i for i, k in enumerate(keys) if all(p(k) is True for p in predicates)]
    for name, descending in reversed(order):  # stable sorts, last key first
        to_key = _sort_key(descending)
        indexes.sort(key=lambda i, n=name: to_key(keys[i].get(n)), reverse=descending)
    return indexes


# ---------------------------------------------------------------- answers


def json_answer(columns: list[Column], rows: list[list[Any]]) -> Reply:
    """ESA's TAP JSON: column metadata, then rows as lists."""
    metadata = [{"name": c.name, "datatype": c.datatype, "xtype": c.xtype,
                 "arraysize": "*" if c.datatype == "char" else None, "description": None,
                 "unit": c.unit, "ucd": c.ucd, "utype": None} for c in columns]
    body = json.dumps({"metadata": metadata, "data": rows}, default=str)
    return Reply(200, body.encode(), "application/json")


def _td(value: Any) -> str:
    if value is None:
        return "<TD/>"
    if isinstance(value, bool):
        return f"<TD>{'true' if value else 'false'}</TD>"
    return f"<TD>{escape(str(value))}</TD>"


def votable_answer(columns: list[Column], rows: list[list[Any]], overflow: bool) -> Reply:
    """A results VOTable; cut by a row limit it says OVERFLOW. An answer cut to no rows at all
    has no DATA element, as KOA's recorded answer (tests/data/obscore/koa_empty_overflow.vot.xml)."""
    fields = []
    for c in columns:
        attrs = f'name={quoteattr(c.name)} datatype="{c.datatype}"'
        if c.datatype == "char":
            attrs += ' arraysize="*"'
        if c.xtype:
            attrs += f' xtype="{c.xtype}"'
        if c.unit:
            attrs += f" unit={quoteattr(c.unit)}"
        if c.ucd:
            attrs += f" ucd={quoteattr(c.ucd)}"
        fields.append(f"<FIELD {attrs}/>")
    body = "".join("<TR>" + "".join(_td(v) for v in row) + "</TR>\n" for row in rows)
    status = '<INFO name="QUERY_STATUS" value="OVERFLOW"/>\n' if overflow else ""
    data = "" if overflow and not rows else "\n<DATA><TABLEDATA>\n" + body + "</TABLEDATA></DATA>"
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n'
        '<RESOURCE type="results">\n<INFO name="QUERY_STATUS" value="OK"/>\n<TABLE>\n'
        + "\n".join(fields) + data + "\n</TABLE>\n" + status + "</RESOURCE>\n</VOTABLE>\n"
    )
    return Reply(200, text.encode(), "application/x-votable+xml")


def error_answer(message: str, status: int = 400) -> Reply:
    """A TAP error document: a VOTable whose QUERY_STATUS is ERROR."""
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n'
        f'<RESOURCE type="results">\n<INFO name="QUERY_STATUS" value="ERROR">{escape(message)}</INFO>\n'
        "</RESOURCE>\n</VOTABLE>\n"
    )
    return Reply(status, text.encode(), "application/x-votable+xml")


_JSON_FORMATS = {"json", "application/json"}
_VOTABLE_FORMATS = {"votable", "application/x-votable+xml", "text/xml", "votable/td", ""}


def serve_sync(method: str, query: str, body: bytes, tables: dict[str, TapTable], clock: datetime,
               *, default_maxrec: int = DEFAULT_MAXREC, maxrec_limit: int = MAXREC_LIMIT,
               row_limit: int | None = None) -> Reply:
    """Answer `/sync` (GET parameters or a POSTed form) as a TAP 1.1 service does. `row_limit`
    is a service's own cap below MAXREC (KOA answered OVERFLOW with zero rows)."""
    tables = {**tables, **schema_tables(tables)}
    if method not in ("GET", "POST"):
        return text_reply("Method not allowed", 405)
    form = parse_qs(query, keep_blank_values=True)
    if method == "POST" and body:
        form.update(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    params = {k.upper(): v[-1] for k, v in form.items()}
    if params.get("REQUEST", "doQuery").lower() != "doquery":
        return error_answer(f"Unknown REQUEST '{params['REQUEST']}'")
    if params.get("LANG", "ADQL").upper() not in ("ADQL", "ADQL-2.0", "ADQL-2.1"):
        return error_answer(f"Unsupported LANG '{params['LANG']}'")
    fmt = params.get("FORMAT", params.get("RESPONSEFORMAT", "")).lower()
    if fmt not in _JSON_FORMATS | _VOTABLE_FORMATS:
        return error_answer(f"Unsupported FORMAT '{fmt}'")
    if not params.get("QUERY"):
        return error_answer("Missing parameter QUERY")
    try:
        maxrec = int(params["MAXREC"]) if params.get("MAXREC") else default_maxrec
    except ValueError:
        return error_answer(f"MAXREC is not an integer: {params['MAXREC']!r}")
    maxrec = max(0, min(maxrec, maxrec_limit))
    if row_limit is not None:
        maxrec = min(maxrec, row_limit)
    try:
        select = parse_select(params["QUERY"], tables)
        columns, rows, overflow = run_select(select, tables[select.table.lower()], clock, maxrec)
    except AdqlError as exc:
        return error_answer(str(exc))
    if fmt in _JSON_FORMATS:
        return json_answer(columns, rows)
    return votable_answer(columns, rows, overflow)

