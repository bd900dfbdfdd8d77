"""JSON text as the catalog has always written it, faster.

The catalog's JSON columns (`raw`, `extra`, event details) are the standard library's output:
`json.dumps(value, separators=(",", ":"), default=str)`, with `sort_keys=True` for the sorted
forms. A backfill writes three of them per product and they were a tenth of its time. orjson
writes the same text for most values about ten times faster; where it would not (non-ASCII
text, which the standard library escapes; floats below 1e-4, which it writes with an exponent;
infinities, which orjson writes as null; types orjson knows and the standard library does not),
the standard library writes it. So the text is always exactly the standard library's (a
property test holds both forms to it), and only the speed changes.

Decoding is likewise orjson's, except for what it reads differently from `json.loads`:
integers past 64 bits (orjson makes them floats), NaN and Infinity (orjson refuses them), lone
surrogates; those answers are read by the standard library.
"""

from __future__ import annotations

import json
import re
from typing import Any

try:
    import orjson
except ImportError:  # the project declares it; without it everything is the standard library's
    orjson = None

_PLAIN = dict(separators=(",", ":"), default=str)
_SORTED = dict(separators=(",", ":"), default=str, sort_keys=True)
# A float the standard library writes with an exponent and orjson without (0.000032 vs 3.2e-05),
# or with a one-digit exponent (1e-7 vs 1e-07). Matches inside strings too: those fall back, safely.
_EXPONENT_DIFFERS = re.compile(rb"0\.0000|e-\d(?!\d)")
# Integers orjson would read as floats (past 64 bits) hide in any run of 19 or more digits. Found
# by mapping every digit to "0" and searching for 19 of them: a regex over a page of answers
# took longer than orjson's whole parse of it.
_LONG_RUN = b"0" * 19
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")

if orjson is not None:
    _OPTIONS = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                | orjson.OPT_PASSTHROUGH_SUBCLASS)
    _OPTIONS_SORTED = _OPTIONS | orjson.OPT_SORT_KEYS


def dumps(value: Any) -> str:
    """`json.dumps(value, separators=(",", ":"), default=str)`, exactly."""
    text = _fast(value, sort=False)
    return text if text is not None else json.dumps(value, **_PLAIN)


def dumps_sorted(value: Any) -> str:
    """`json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)`, exactly."""
    text = _fast(value, sort=True)
    return text if text is not None else json.dumps(value, **_SORTED)


def loads(data: bytes | str) -> Any:
    """`json.loads(data)`, exactly."""
    if orjson is None:
        return json.loads(data)
    raw = data.encode() if isinstance(data, str) else data
    if raw.translate(_DIGITS_TO_ZERO).find(_LONG_RUN) < 0:
        try:
            return orjson.loads(raw)
        except (orjson.JSONDecodeError, TypeError, ValueError):
            pass  # NaN, Infinity, a lone surrogate, or not JSON at all: the library says which
    return json.loads(data)


def _fast(value: Any, *, sort: bool) -> str | None:
    """orjson's text when it is the standard library's, else None."""
    if orjson is None:
        return None
    try:
        out = orjson.dumps(value, default=str, option=_OPTIONS_SORTED if sort else _OPTIONS)
    except (TypeError, ValueError, OverflowError):
        return None  # keys that are not strings, integers past 64 bits, surrogates ...
    if not out.isascii() or b"\x7f" in out or _EXPONENT_DIFFERS.search(out):
        return None
    # What the text says must be the value itself: an infinity written as null, a type orjson
    # knows (a UUID) or one handed to `default` reads back as something else, and takes the
    # standard library's path.
    if orjson.loads(out) != value:
        return None
    return out.decode("ascii")
