"""`q` strings the PDS registry accepts.

The registry parses `q` with registry-api's Search.g4: the whole query is ONE comparison or ONE
parenthesised group, and `and` and `or` are never mixed inside one group. So every query here is
built from groups: `((a) or (b))` for alternatives, `((alternatives) and (window))` for both.
String literals cannot hold a double quote or a line break (STRINGVAL is `"` ~["\\r\\n]* `"`).
`like` is not used: PDS documents it as broken and, where it works, `*` is only a trailing prefix
wildcard; names are matched with exact `eq` on each spelling instead (docs/archives.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

HARVEST_TIME = "ops:Harvest_Info.ops:harvest_date_time"
TARGET_NAME = "pds:Target_Identification.pds:name"


def quotable(value: str) -> bool:
    """Can `value` be a STRINGVAL of the grammar?"""
    return not any(ch in value for ch in '"\r\n')


def comparison(field: str, op: str, value: str) -> str:
    if not quotable(value):
        raise ValueError(f"{value!r} cannot be written in a PDS query (double quote or line break)")
    return f'{field} {op} "{value}"'


def any_of(terms: Sequence[str]) -> str:
    """One group: `(a or b or c)`; a single term is `(a)`."""
    if not terms:
        raise ValueError("an empty alternative matches nothing")
    return "(" + " or ".join(f"({t})" for t in terms) + ")"


def all_of(groups: Sequence[str]) -> str:
    """One group of groups: `(g1 and g2)`; a single group is itself."""
    if len(groups) == 1:
        return groups[0]
    return "(" + " and ".join(groups) + ")"


def spellings(names: Iterable[str]) -> list[str]:
    """Each distinct spelling once, plus its upper-case form: `eq` on a keyword field is exact,
    case included (peppi's contexts() tries case variants the same way)."""
    found: list[str] = []
    for name in names:
        for variant in (name.strip(), name.strip().upper()):
            if variant and quotable(variant) and variant not in found:
                found.append(variant)
    return found


def target_group(lids: Sequence[str], names: Sequence[str]) -> str:
    """Products whose target reference is one of `lids` or whose target name is one of `names`."""
    terms = [comparison("ref_lid_target", "eq", lid) for lid in lids if quotable(lid)]
    terms += [comparison(TARGET_NAME, "eq", name) for name in names]
    return any_of(terms)


def harvest_query(targets: str, harvested_since: str | None) -> str:
    if not harvested_since:
        return targets
    return all_of([targets, any_of([comparison(HARVEST_TIME, "ge", harvested_since)])])


def context_query(target_types: Sequence[str]) -> str:
    """Target context products, of these `pds:Target.pds:type` values (all types when empty)."""
    groups = [any_of([comparison("product_class", "eq", "Product_Context")])]
    if target_types:
        groups.append(any_of([comparison("pds:Target.pds:type", "eq", t) for t in target_types]))
    return all_of(groups)
