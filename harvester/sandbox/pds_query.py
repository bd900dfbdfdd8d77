"""The PDS Search API `q` language as the registry parses and runs it.

Grammar: NASA-PDS/registry-api, lexer/src/main/antlr4/gov/nasa/pds/api/registry/lexer/Search.g4
(main at 6c22863f), rule for rule:

    query          : queryTerm EOF ;
    queryTerm      : comparison | likeComparison | group ;
    group          : NOT? LPAREN expression RPAREN ;
    expression     : andStatement | orStatement | queryTerm ;
    andStatement   : queryTerm (AND queryTerm)+ ;
    orStatement    : queryTerm (OR queryTerm)+ ;
    comparison     : FIELD operator ( NUMBER | STRINGVAL ) ;
    likeComparison : FIELD LIKE STRINGVAL ;
    operator       : EQ | NE | GT | GE | LT | LE ;

So the WHOLE query is one comparison or one parenthesised group: `(a) and (b)` at top level is
a syntax error, and `and`/`or` cannot be mixed inside one group. Keywords `eq ne gt ge lt le like
and or` are case-insensitive, `NOT` is `NOT` or `not` only. The server parses with ANTLR's
BailErrorStrategy (RegistrySearchRequestBuilder.parseQueryString): the first syntax error is a
ParseCancellationException, which becomes HTTP 400. The lexer keeps its default error handling:
a character no token starts with is reported and skipped, the parse goes on.

Meaning (registry-api Antlr4SearchListener): `eq` is an OpenSearch match query, `ne` its
must_not, `gt ge lt le` range queries, `like` a simple_query_string query, a group a bool query
(must for `and`, should for `or`, must_not for `NOT`). How a match or range compares depends on
the field's mapping (NASA-PDS/registry-mgr elastic/registry.json): strings are `keyword` (exact,
case-sensitive), `title` and `description` are `text` (analysed into words), harvest and
product dates are `date`, file sizes `long`, `vid` a `float`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .timeutil import canonical_date

Props = dict[str, list[str]]
Predicate = Callable[[Any], bool]

_NUMBER_RE = re.compile(r"^-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?$")
_WORD_RE = re.compile(r"[0-9a-z]+")


class QuerySyntaxError(ValueError):
    """The q string does not parse; the server answers HTTP 400."""


def field_name(name: str) -> str:
    """API property names use '.', OpenSearch ones '/': accept both."""
    return name.replace("/", ".")


# ---------------------------------------------------------------- field mapping

_TEXT_FIELDS = {"title", "description"}
_NUMERIC_FIELDS = {"vid", "ops:Data_File_Info.ops:file_size", "ops:Label_File_Info.ops:file_size"}


def field_type(name: str) -> str:
    """`keyword`, `text`, `date` or `number`, as registry.json maps the field."""
    if name in _TEXT_FIELDS:
        return "text"
    if name in _NUMERIC_FIELDS:
        return "number"
    tail = name.rsplit(":", 1)[-1]
    if tail.endswith("date_time") or tail in ("modification_date", "creation_date"):
        return "date"
    return "keyword"


def value_key(text: str) -> tuple:
    """Sort key of one property value: dates by instant, numbers numerically.

    The kind comes first so keys of different kinds never compare their payloads.
    """
    canon = canonical_date(text)
    if canon is not None:
        return (1, canon)
    if _NUMBER_RE.match(text):
        return (0, float(text))
    return (2, text)


def analysed(text: str) -> list[str]:
    """Words of a `text` field as an analyser indexes them (lower case, letters and digits).
    The english analyser also stems; the sandbox does not."""
    return _WORD_RE.findall(text.lower())


class Record:
    """What the evaluator needs from a product: props and a per-field key cache."""

    __slots__ = ("_keys", "props")

    def __init__(self, props: Props) -> None:
        self.props = props
        self._keys: dict[str, list[tuple]] = {}

    def values(self, name: str) -> list[str]:
        values = self.props.get(name)
        if type(values) is list:
            return values
        # Only a deliberately corrupted product holds a non-list; compare its text.
        return [] if values is None else [str(values)]

    def keys(self, name: str) -> list[tuple]:
        keys = self._keys.get(name)
        if keys is None:
            keys = [value_key(str(v)) for v in self.values(name)]
            self._keys[name] = keys
        return keys


# ---------------------------------------------------------------- comparisons


def _as_number(text: str) -> float | None:
    return float(text) if _NUMBER_RE.match(text.strip()) else None


def _comparable(kind: str, text: str) -> Any:
    """A value or literal in the form its field compares (None: cannot be compared)."""
    if kind == "date":
        return canonical_date(text)
    if kind == "number":
        return _as_number(text)
    return text


def _match(name: str, literal: str) -> Predicate:
    """`eq`: an OpenSearch match query on the field."""
    kind = field_type(name)
    if kind == "text":
        # A match query analyses the literal and matches any of its words (operator OR).
        wanted = set(analysed(literal))
        return lambda rec: any(wanted.intersection(analysed(str(v))) for v in rec.values(name))
    target = _comparable(kind, literal)
    if target is None:
        return lambda rec: False
    return lambda rec: any(_comparable(kind, str(v)) == target for v in rec.values(name))


_RANGE = {
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
}


def _range(name: str, op: str, literal: str) -> Predicate:
    kind = field_type(name)
    kind = "keyword" if kind == "text" else kind
    target = _comparable(kind, literal)
    test = _RANGE[op]

    def ranged(rec: Record) -> bool:
        if target is None:
            return False
        for value in rec.values(name):
            mine = _comparable(kind, str(value))
            if mine is not None and test(mine, target):
                return True
        return False

    return ranged


def _like(name: str, pattern: str) -> Predicate:
    """`like`: simple_query_string on one field, default operator OR. Its terms are split on
    white space; a term ending in `*` is a prefix query, any other `*` is a literal character
    (so `*3I*` looks for values starting with "*3I" and finds nothing); on a `keyword` field a
    term must equal a whole value, case included."""
    text_field = field_type(name) == "text"
    terms = [t for t in pattern.split() if t]

    def term_test(term: str) -> Callable[[str], bool]:
        prefix = term.endswith("*")
        stem = term[:-1] if prefix else term
        if text_field:
            stem = stem.lower()
            if prefix:
                return lambda value: any(w.startswith(stem) for w in analysed(value))
            return lambda value: stem in analysed(value)
        if prefix:
            return lambda value: value.startswith(stem)
        return lambda value: value == stem

    tests = [term_test(t) for t in terms]
    return lambda rec: any(test(str(v)) for v in rec.values(name) for test in tests)


# ---------------------------------------------------------------- lexer

# Token kinds in Search.g4's rule order: on equal length the earlier rule wins (ANTLR), so
# `eq` is EQ and `equal` is a FIELD.
_KEYWORD_RULES = [
    ("NOT", re.compile(r"NOT|not")),
    ("EQ", re.compile(r"[eE][qQ]")), ("NE", re.compile(r"[nN][eE]")),
    ("GT", re.compile(r"[gG][tT]")), ("GE", re.compile(r"[gG][eE]")),
    ("LT", re.compile(r"[lL][tT]")), ("LE", re.compile(r"[lL][eE]")),
    ("LIKE", re.compile(r"[lL][iI][kK][eE]")),
    ("LPAREN", re.compile(r"\(")), ("RPAREN", re.compile(r"\)")),
    ("AND", re.compile(r"[aA][nN][dD]")), ("OR", re.compile(r"[oO][rR]")),
    ("FIELD", re.compile(r"[A-Za-z_][A-Za-z0-9_.:/]*")),
    ("STRINGVAL", re.compile(r'"[^"\r\n]*"')),
    ("NUMBER", re.compile(r"-?[0-9]+(?:\.[0-9]*)?")),
]
_WS = re.compile(r"[ \t\r\n]+")
_OPERATORS = ("EQ", "NE", "GT", "GE", "LT", "LE")


def tokenize(text: str) -> list[tuple[str, str]]:
    """(kind, text) tokens; characters no rule starts are skipped, as ANTLR's lexer does."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        space = _WS.match(text, position)
        if space:
            position = space.end()
            continue
        best: tuple[str, str] | None = None
        for kind, rule in _KEYWORD_RULES:
            found = rule.match(text, position)
            if found and (best is None or len(found.group()) > len(best[1])):
                best = (kind, found.group())
        if best is None:
            position += 1  # "token recognition error": the lexer drops one character
            continue
        tokens.append(best)
        position += len(best[1])
    tokens.append(("EOF", "<EOF>"))
    return tokens


# ---------------------------------------------------------------- parser


class _Parser:
    """Recursive descent over Search.g4; any mismatch bails out, as BailErrorStrategy does."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> str:
        index = min(self.pos + offset, len(self.tokens) - 1)
        return self.tokens[index][0]

    def take(self, *kinds: str) -> str:
        kind, text = self.tokens[self.pos]
        if kind not in kinds:
            raise QuerySyntaxError(f"mismatched input '{text}' expecting {' or '.join(kinds)}")
        self.pos += 1
        return text

    def query(self) -> Predicate:
        predicate = self.query_term()
        self.take("EOF")
        return predicate

    def query_term(self) -> Predicate:
        if self.peek() in ("NOT", "LPAREN"):
            return self.group()
        name = field_name(self.take("FIELD"))
        if self.peek() == "LIKE":
            self.take("LIKE")
            return _like(name, self.take("STRINGVAL")[1:-1])
        op = self.take(*_OPERATORS).lower()
        kind = self.peek()
        literal = self.take("NUMBER", "STRINGVAL")
        if kind == "STRINGVAL":
            literal = literal[1:-1]
        if op == "eq":
            return _match(name, literal)
        if op == "ne":
            matches = _match(name, literal)
            return lambda rec: not matches(rec)
        return _range(name, op, literal)

    def group(self) -> Predicate:
        negate = self.peek() == "NOT"
        if negate:
            self.take("NOT")
        self.take("LPAREN")
        inner = self.expression()
        self.take("RPAREN")
        if negate:
            return lambda rec: not inner(rec)
        return inner

    def expression(self) -> Predicate:
        terms = [self.query_term()]
        joiner = self.peek()
        if joiner not in ("AND", "OR"):
            return terms[0]
        # andStatement or orStatement: the same conjunction repeated; another one ends the
        # statement and the group then expects ')'.
        while self.peek() == joiner:
            self.take(joiner)
            terms.append(self.query_term())
        if joiner == "AND":
            return lambda rec: all(t(rec) for t in terms)
        return lambda rec: any(t(rec) for t in terms)


def parse_query(text: str) -> Predicate:
    """q string -> predicate over `Record`; raises QuerySyntaxError."""
    return _Parser(text).query()
