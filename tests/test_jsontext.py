"""The catalog's JSON text is the standard library's, whichever encoder wrote it: a backfill
after the speed-up stores byte for byte what it stored before."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from harvester import jsontext

SCALARS = (st.none() | st.booleans() | st.floats() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.text() | st.sampled_from([1e-5, 3.2e-05, 1e-7, 1e16, 1e-4, -0.0, 61251.80496885259,
                                          "\x7f", "é", "\u2028", "0.00001", "e-5"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=6), max_leaves=30)


def stdlib(value, **extra):
    return json.dumps(value, separators=(",", ":"), default=str, **extra)


@settings(max_examples=1000, deadline=None)
@given(VALUES)
def test_dumps_is_the_standard_librarys_text(value):
    assert jsontext.dumps(value) == stdlib(value)
    assert jsontext.dumps_sorted(value) == stdlib(value, sort_keys=True)


@settings(max_examples=600, deadline=None)
@given(VALUES)
def test_loads_reads_what_the_standard_library_reads(value):
    text = stdlib(value)
    # NaN is not equal to itself: compare what each reading writes back.
    assert stdlib(jsontext.loads(text.encode())) == stdlib(json.loads(text))
    assert stdlib(jsontext.loads(text)) == stdlib(json.loads(text))


def test_values_orjson_would_write_differently_take_the_standard_path():
    when = datetime(2025, 7, 1, tzinfo=UTC)
    for value in ({"t": when}, {"id": uuid.UUID(int=7)}, {"x": math.inf}, {"x": 3.2e-05},
                  {"name": "Ḟrame"}, {1: "int key"}, {"big": 2**80}, (1, 2)):
        assert jsontext.dumps(value) == stdlib(value)
        assert jsontext.dumps_sorted(value) == stdlib(value, sort_keys=True)


def test_loads_keeps_long_integers_and_the_non_standard_literals():
    assert jsontext.loads(b'{"id": 123456789012345678901234567890}') == {"id": 123456789012345678901234567890}
    assert math.isnan(jsontext.loads(b"[NaN]")[0]) and jsontext.loads(b"[Infinity]") == [math.inf]
    assert jsontext.loads(b'"\\ud800"') == "\ud800"
