"""The PDS Search API `q` language: tokenizer, recursive-descent parser, evaluator.

Grammar (after NASA-PDS/registry-api lexer/Search.g4; keywords case-insensitive):

    query       := expression EOF
    expression  := term ( (AND term)+ | (OR term)+ )?
    term        := NOT? "(" expression ")" | comparison | like | existence
    comparison  := FIELD (eq|ne|gt|ge|lt|le) (STRING | NUMBER)
    like        := FIELD NOT? LIKE STRING            -- wildcards * and ?
    existence   := EXISTS FIELD | FIELD EXISTS

Two deliberate choices, both matching what the real service accepts:
* `and` and `or` cannot be mixed at one level without parentheses (the real
  grammar has separate and/or statements), so `a and b or c` is a 400.
* A bare top-level `(a) and (b)` is accepted: NASA's own client (pds.peppi)
  sends exactly that shape.

A property holds a list of strings; a comparison is true if any value
satisfies it, `ne` is true when no value equals (Elasticsearch must_not), and
a missing property satisfies only `ne` and `not`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .timeutil import canonical_date
from .util import wildcard_regex

Props = dict[str, list[str]]
Predicate = Callable[[Any], bool]

_NUMBER_RE = re.compile(r"^-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?$")
_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<string>"[^"\r\n]*")
      | (?P<number>-?\d+(?:\.\d*)?(?![A-Za-z0-9_.:/*]))
      | (?P<word>[A-Za-z_*][A-Za-z0-9_.:/*]*)
    )""",
    re.VERBOSE,
)
_OPERATORS = {"eq", "ne", "gt", "ge", "lt", "le"}
_KEYWORDS = _OPERATORS | {"and", "or", "not", "like", "exists"}


class QuerySyntaxError(ValueError):
    """The q string does not parse; the server answers HTTP 400."""


def field_name(name: str) -> str:
    """API property names use '.', OpenSearch ones '/': accept both."""
    return name.replace("/", ".")


def value_key(text: str) -> tuple:
    """Comparison key of one property value: dates by instant, numbers numerically.

    The kind comes first so keys of different kinds never compare their payloads.
    """
    canon = canonical_date(text)
    if canon is not None:
        return (1, canon)
    if _NUMBER_RE.match(text):
        return (0, float(text))
    return (2, text)


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


def _compare(a_key: tuple, a_raw: str, b_key: tuple, b_raw: str) -> int:
    if a_key[0] == b_key[0]:
        a, b = a_key[1], b_key[1]
    else:
        a, b = a_raw, b_raw
    return (a > b) - (a < b)


def _comparison(name: str, op: str, literal: str) -> Predicate:
    lit_key = value_key(literal)

    if op in ("eq", "ne"):
        def equals(rec: Record) -> bool:
            raws = rec.values(name)
            if not raws:
                return False
            if literal in raws:
                return True
            return any(k == lit_key for k in rec.keys(name))

        if op == "eq":
            return equals
        return lambda rec: not equals(rec)

    accept = {
        "gt": lambda c: c > 0, "ge": lambda c: c >= 0,
        "lt": lambda c: c < 0, "le": lambda c: c <= 0,
    }[op]

    def ranged(rec: Record) -> bool:
        raws = rec.values(name)
        if not raws:
            return False
        return any(accept(_compare(k, str(raw), lit_key, literal))
                   for k, raw in zip(rec.keys(name), raws, strict=True))

    return ranged


def _like(name: str, pattern: str, negate: bool) -> Predicate:
    rx = wildcard_regex(pattern, many="*", one="?")

    def matches(rec: Record) -> bool:
        return any(rx.fullmatch(str(v)) for v in rec.values(name))

    if negate:
        return lambda rec: not matches(rec)
    return matches


def _exists(name: str) -> Predicate:
    return lambda rec: bool(rec.values(name))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.pos = 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str, int]]:
        tokens: list[tuple[str, str, int]] = []
        i = 0
        end = len(text.rstrip())
        while i < end:
            m = _TOKEN_RE.match(text, i)
            if not m or m.end() == i:
                bad = text[i:].lstrip()[:20]
                raise QuerySyntaxError(f"token recognition error at: '{bad}'")
            kind = m.lastgroup or ""
            value = m.group(kind)
            start = m.start(kind)
            if kind == "word" and value.lower() in _KEYWORDS:
                kind = value.lower()
            tokens.append((kind, value, start))
            i = m.end()
        tokens.append(("eof", "<EOF>", len(text)))
        return tokens

    def peek(self) -> str:
        return self.tokens[self.pos][0]

    def next(self, *expected: str) -> tuple[str, str, int]:
        tok = self.tokens[self.pos]
        if expected and tok[0] not in expected:
            want = " or ".join(expected)
            raise QuerySyntaxError(
                f"mismatched input '{tok[1]}' at position {tok[2]}, expecting {want}")
        self.pos += 1
        return tok

    def parse(self) -> Predicate:
        if self.peek() == "eof":
            raise QuerySyntaxError("empty query")
        pred = self.expression()
        self.next("eof")
        return pred

    def expression(self) -> Predicate:
        terms = [self.term()]
        joiner = None
        while self.peek() in ("and", "or"):
            kind = self.next()[0]
            if joiner is not None and kind != joiner:
                raise QuerySyntaxError(
                    f"cannot mix 'and' and 'or' without parentheses (position "
                    f"{self.tokens[self.pos - 1][2]})")
            joiner = kind
            terms.append(self.term())
        if len(terms) == 1:
            return terms[0]
        if joiner == "and":
            return lambda rec: all(t(rec) for t in terms)
        return lambda rec: any(t(rec) for t in terms)

    def term(self) -> Predicate:
        kind = self.peek()
        if kind in ("not", "lparen"):
            negate = False
            if kind == "not":
                self.next()
                negate = True
            self.next("lparen")
            inner = self.expression()
            self.next("rparen")
            if negate:
                return lambda rec: not inner(rec)
            return inner
        if kind == "exists":
            self.next()
            return _exists(field_name(self.next("word")[1]))
        name = field_name(self.next("word")[1])
        op = self.peek()
        if op == "exists":
            self.next()
            return _exists(name)
        if op in ("like", "not"):
            negate = self.next()[0] == "not"
            if negate:
                self.next("like")
            return _like(name, self.next("string")[1][1:-1], negate)
        if op in _OPERATORS:
            self.next()
            kind, value, _ = self.next("string", "number")
            literal = value[1:-1] if kind == "string" else value
            return _comparison(name, op, literal)
        tok = self.tokens[self.pos]
        raise QuerySyntaxError(
            f"mismatched input '{tok[1]}' at position {tok[2]}, expecting an operator")


def parse_query(text: str) -> Predicate:
    """q string -> predicate over `Record`; raises QuerySyntaxError."""
    return _Parser(text).parse()
