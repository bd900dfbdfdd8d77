"""The sandbox's PDS Search API behaves as the real registry does (registry-api's Search.g4, its
listener and response transformer, the registry's field mapping), not as our adapter once
assumed: one query term at the top, exact `eq`, `like` as simple_query_string, "null" fields."""

from __future__ import annotations

import pytest
import requests

from harvester.sandbox import Sandbox, default_scenario
from harvester.sandbox.pds_query import QuerySyntaxError, parse_query, tokenize

T3I = "urn:nasa:pds:context:target:comet.3i_atlas"
HARVEST = "ops:Harvest_Info.ops:harvest_date_time"
NAME = "pds:Target_Identification.pds:name"


@pytest.fixture(scope="module")
def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def get(http, sandbox, expect=200, **params):
    resp = http.get(sandbox.base_urls["pds"] + "/products", params=params,
                    headers={"Accept": "application/json"}, timeout=10)
    assert resp.status_code == expect, resp.text
    return resp.json() if expect == 200 else resp.text


def product(n, harvest, **kw):
    rec = {"lidvid": f"urn:nasa:pds:test:data:p{n:02d}::1.0", "title": f"product {n}",
           "target_name": "3I/ATLAS", "target_lid": T3I, "harvest_date_time": harvest,
           "start_date_time": "2025-10-02T18:43:12.000Z", "stop_date_time": "2025-10-02T18:43:16Z"}
    rec.update(kw)
    return {k: v for k, v in rec.items() if v is not None}


@pytest.fixture(scope="module")
def qsb():
    products = [
        product(1, "2026-01-01T00:00:00Z", target_name="3I/ATLAS"),
        product(2, "2026-01-02T00:00:00.000Z", target_name="C/2019 Y4 (ATLAS)",
                target_lid="urn:nasa:pds:context:target:comet.c2019_y4_atlas"),
        product(3, "2026-01-03T12:00:00.5Z", target_name=["Mars", "3I-ATLAS"],
                target_lid=["urn:nasa:pds:context:target:planet.mars", T3I],
                product_class="Product_Ancillary", title="HiRISE frame of 3I"),
        product(4, "2026-01-04T00:00:00Z", target_name="W3IRS5", target_lid=None, file_size="1500",
                stop_date_time=None),
        product(5, "2026-01-05T00:00:00Z", target_name="C/2025 N10",
                target_lid="urn:nasa:pds:context:target:comet.c2025_n10", file_size="900"),
    ]
    with Sandbox({"clock": "2026-06-01T00:00:00Z", "pds": products}) as sandbox:
        yield sandbox


def _ids(body):
    return sorted(int(d["id"].split(":data:p")[1][:2]) for d in body["data"])


@pytest.mark.parametrize("q, expected", [
    (f'ref_lid_target eq "{T3I}"', [1, 3]),  # one bare comparison is a whole query
    (f'(ref_lid_target eq "{T3I}")', [1, 3]),
    (f'({NAME} eq "3I/ATLAS")', [1]),  # keyword fields: exact
    (f'({NAME} eq "3i/atlas")', []),  # ... case included
    (f'({NAME} eq "3I")', []),  # ... a whole value, never a part
    (f'({NAME} like "3I*")', [1, 3]),  # like: a trailing * is a prefix query
    (f'({NAME} like "*3I*")', []),  # a leading * is a literal: *3I* matches nothing
    (f'({NAME} like "*ATLAS*")', []),
    (f'({NAME} like "3I/ATLAS")', [1]),  # no wildcard: equal to a whole value
    (f'({NAME} like "C/2019 W3IRS5")', [4]),  # white space splits terms, joined by OR
    ('(pds:Target_Identification/pds:name eq "W3IRS5")', [4]),  # '/' form accepted
    ('(title eq "hirise")', [3]),  # title is a text field: analysed words, any of them
    ('(product_class ne "Product_Observational")', [3]),
    (f'(ref_lid_target ne "{T3I}")', [2, 4, 5]),  # ne: no value equals; missing counts
    (f'({HARVEST} ge "2026-01-02T00:00:00Z")', [2, 3, 4, 5]),  # dates compare as instants
    (f'({HARVEST} gt "2026-01-02T00:00:00.000Z")', [3, 4, 5]),
    (f'({HARVEST} le "2026-01-03")', [1, 2]),
    ('(ops:Data_File_Info.ops:file_size gt 1000)', [4]),  # a long field compares numerically
    (f'((ref_lid_target eq "{T3I}") and (product_class eq "Product_Observational"))', [1]),
    (f'((ref_lid_target eq "{T3I}") or ({NAME} eq "W3IRS5") or ({NAME} eq "C/2025 N10"))',
     [1, 3, 4, 5]),
    (f'(ref_lid_target eq "{T3I}" and {HARVEST} ge "2026-01-02")', [3]),  # bare terms in a group
    (f'NOT (ref_lid_target eq "{T3I}")', [2, 4, 5]),
    (f'not ((ref_lid_target eq "{T3I}") OR ({NAME} eq "W3IRS5"))', [2, 5]),
    (f'(((ref_lid_target eq "{T3I}") or ({NAME} eq "W3IRS5")) AND ({HARVEST} GE "2026-01-02"))',
     [3, 4]),
])
def test_q_selects_what_the_registry_selects(http, qsb, q, expected):
    body = get(http, qsb, q=q)
    assert _ids(body) == expected
    assert body["summary"]["hits"] == len(expected)


@pytest.mark.parametrize("q", [
    # What the adapter used to send: two terms at the top level.
    f'((ref_lid_target eq "{T3I}") or ({NAME} like "*3I*")) and ({HARVEST} ge "2026-01-01")',
    '(a eq "1") and (b eq "2")',
    '(a eq "1") or (b eq "2")',
    '(a eq "1" and b eq "2" or c eq "3")',  # and/or mixed inside one group
    '((a eq "1") and (b eq "2") or (c eq "3"))',
    '(title eq "x"',  # unbalanced
    'title eq',  # missing value
    'title = "x"',  # not an operator
    'not title eq "x"',  # NOT only before a parenthesised group
    'Not (title eq "x")',  # NOT is NOT or not, nothing else
    '(title like x)',  # like needs a quoted string
    '(title like 3)',
    '(title exists)',  # existence is on an unmerged branch, not on main
    f'({NAME} not like "x")',
    '"just a string"',
    '()',
])
def test_anything_else_is_a_400_in_the_registrys_words(http, qsb, q):
    text = get(http, qsb, expect=400, q=q)
    assert text.startswith("400 BAD_REQUEST\n Request uri=/pds/api/search/1/products failed")
    assert ("UnparsableQParamException: Unable to parse the q parameter:Invalid q string value "
            "syntax null(ref:") in text
    assert text.rstrip().endswith("pds-operator@jpl.nasa.gov")


def test_keywords_follow_the_lexer_rules():
    kinds = [k for k, _ in tokenize('(Title EQ "a" AnD lid Like "b*") oR not (x ne -1.5)')]
    assert kinds == ["LPAREN", "FIELD", "EQ", "STRINGVAL", "AND", "FIELD", "LIKE", "STRINGVAL",
                     "RPAREN", "OR", "NOT", "LPAREN", "FIELD", "NE", "NUMBER", "RPAREN", "EOF"]
    # `equal` is longer than `eq`: a field, as ANTLR's longest match decides.
    assert tokenize("equal")[0] == ("FIELD", "equal")
    # A character no token starts is dropped by the lexer and the parse goes on.
    assert parse_query('(title eq "x") ;')
    with pytest.raises(QuerySyntaxError):
        parse_query('(title eq "x") (lid eq "y")')


def test_fields_limit_properties_and_missing_ones_are_the_string_null(http, qsb):
    body = get(http, qsb, q='(lidvid eq "urn:nasa:pds:test:data:p04::1.0")',
               fields=f"lidvid,{NAME},ref_lid_target,pds:Time_Coordinates.pds:stop_date_time")
    (doc,) = body["data"]
    assert doc["properties"] == {
        "lidvid": ["urn:nasa:pds:test:data:p04::1.0"], NAME: ["W3IRS5"],
        "ref_lid_target": ["null"], "pds:Time_Coordinates.pds:stop_date_time": ["null"]}
    assert "stop_date_time" not in doc  # null members are left out of the product
    assert doc["targets"] == []


def test_top_level_references_are_there_whatever_fields_asked(http, qsb):
    body = get(http, qsb, q='(lidvid eq "urn:nasa:pds:test:data:p03::1.0")', fields="lidvid")
    (doc,) = body["data"]
    assert doc["properties"] == {"lidvid": ["urn:nasa:pds:test:data:p03::1.0"]}
    assert [t["id"] for t in doc["targets"]] == ["urn:nasa:pds:context:target:planet.mars", T3I]
    assert doc["targets"][1]["href"].endswith("/products/" + T3I)
    assert {"id", "type", "title", "investigations", "observing_system_components", "metadata"} <= set(doc)


def test_sort_and_search_after_rules_are_the_registrys(http, qsb):
    text = get(http, qsb, expect=400, **{"search-after": "x"})
    assert "SortSearchAfterMismatchException: sort argument must be provided" in text
    text = get(http, qsb, expect=400, sort=f"{HARVEST},lidvid", **{"search-after": "x"})
    assert "must be of equal length" in text
    assert "UnknownQueryParameterException" in get(http, qsb, expect=400, start=10)


def test_default_scenario_has_target_contexts_to_discover(http):
    with Sandbox(default_scenario()) as sandbox:
        body = get(http, sandbox, q='(product_class eq "Product_Context")', limit=100,
                   fields="lid,title,pds:Target.pds:name,pds:Alias.pds:alternate_title")
        by_lid = {d["properties"]["lid"][0]: d["properties"] for d in body["data"]}
        real = by_lid["urn:nasa:pds:context:target:comet.c2025_n1_atlas"]
        assert "3I/ATLAS" in real["pds:Alias.pds:alternate_title"]
        assert by_lid["urn:nasa:pds:context:target:comet.2i_borisov"]["pds:Target.pds:name"] == [
            "2I/Borisov"]
        # The configured guess is not a context product of the scenario.
        assert T3I not in by_lid
