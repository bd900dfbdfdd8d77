"""Every designation of the target, from the services that know them: JPL SBDB and the MPC.

One function per service asks it and reads its answer into candidate designations; a
candidate that the alias matcher cannot use safely (a bare name like ATLAS that many objects
carry, a bare number, anything that would match a known decoy) is kept but refused, with the
reason, so the catalog can say why it is not matched on. Nothing here touches the catalog:
`harvester target resolve` stores what this returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harvester.errors import HarvesterError, HTTPError
from harvester.names.matcher import AliasMatcher, fold

# Names that are not the target but look like it; a resolved alias must not match any of them.
DECOYS = (
    "C/2019 Y4 (ATLAS)", "ATLAS25abc", "C/2025 N10", "C/2025 N11 (ATLAS)", "M31I-FIELD",
    "2I/Borisov", "C/2019 Q4 (Borisov)", "1I/'Oumuamua", "A/2017 U1", "3D/Biela", "C/2024 G3 (ATLAS)",
)
_PARENTHESIZED = re.compile(r"^(?P<head>.+?)\s*\((?P<inner>[^()]+)\)\s*$")
_SPACES = re.compile(r"\s+")
# Comet-style permanent ids (67P, 3I, 1I) are written "67P/Name"; minor planets "(1) Ceres".
_COMET_PERMID = re.compile(r"^\d+[PIDX]$")


class ResolveError(HarvesterError):
    """A name service could not be asked, or answered in a way that cannot be read."""


@dataclass
class Candidate:
    """A designation as a service gave it, and which field of the answer it came from; or
    (kind `target_lid`) an archive's own identifier of the target, e.g. a PDS context LID."""

    text: str
    field: str
    refused: str | None = None
    kind: str = "designation"
    raw: str | None = None      # the text that matched, when it is not `text` itself


@dataclass
class ServiceAnswer:
    service: str
    query: str
    url: str
    candidates: list[Candidate] = field(default_factory=list)
    error: str | None = None
    note: str | None = None

    @property
    def accepted(self) -> list[Candidate]:
        return [c for c in self.candidates if c.refused is None]


def alias_problem(text: str) -> str | None:
    """Why `text` must not be matched on as a name of the target, or None when it is safe."""
    folded = fold(text)
    if folded.isdigit():
        return "a bare number (an object number or SPK id), not how archives name the target"
    if len(folded) < 2:
        return "too short to tell the target apart"
    if not any(ch.isdigit() for ch in folded):
        return "a name, not a designation: names are shared by many objects (ATLAS names comets and supernovae)"
    matcher = AliasMatcher(text)
    for decoy in DECOYS:
        if matcher.match(decoy):
            return f"would also match {decoy!r}, which is another object"
    return None


def candidates_from(pairs: Iterable[tuple[str, Any]]) -> list[Candidate]:
    """(field, value) pairs to candidates: blanks dropped, spacing tidied, one per folded text,
    each checked by alias_problem."""
    found: list[Candidate] = []
    seen: set[str] = set()
    for name, value in pairs:
        if not isinstance(value, str):
            continue
        text = _SPACES.sub(" ", value).strip()
        key = fold(text)
        if not text or key in seen:
            continue
        seen.add(key)
        found.append(Candidate(text, name, alias_problem(text)))
    return found


def _with_parts(name: str, text: Any) -> list[tuple[str, Any]]:
    """A full name "3I/ATLAS (C/2025 N1)" and its two halves, each a designation of its own."""
    pairs: list[tuple[str, Any]] = [(name, text)]
    if isinstance(text, str):
        parts = _PARENTHESIZED.match(text.strip())
        if parts:
            pairs += [(f"{name}.head", parts["head"]), (f"{name}.inner", parts["inner"])]
    return pairs


# ---- JPL SBDB -------------------------------------------------------------------------------

def sbdb_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/sbdb.api"


def parse_sbdb(answer: Any) -> tuple[list[Candidate], str | None]:
    """SBDB's answer to `sbdb.api?sstr=...&alt-des=1`: candidates, and a note when it names no
    single object (not found, or several matches)."""
    if not isinstance(answer, dict):
        raise ResolveError(f"SBDB answer is not a JSON object: {str(answer)[:200]}")
    if "list" in answer:
        names = ", ".join(str(m.get("pdes") or m.get("name")) for m in answer["list"][:5]
                          if isinstance(m, dict))
        return [], f"several objects match ({names}); nothing taken from SBDB"
    obj = answer.get("object")
    if not isinstance(obj, dict):
        return [], f"no object: {answer.get('message') or 'SBDB found nothing'}"
    pairs: list[tuple[str, Any]] = [("des", obj.get("des"))]
    pairs += _with_parts("fullname", obj.get("fullname"))
    for alternate in obj.get("des_alt") or []:
        if isinstance(alternate, dict):
            # des, pri (primary), yl (old year-letter), rn (roman numeral) ...
            pairs += [(f"des_alt.{key}", value) for key, value in alternate.items()]
    return candidates_from(pairs), None


def ask_sbdb(http: Any, base_url: str, designation: str) -> ServiceAnswer:
    url = sbdb_url(base_url)
    result = ServiceAnswer("sbdb", designation, url)
    try:
        answer = http.get_json(url, params={"sstr": designation, "alt-des": "1"})
    except HTTPError as exc:
        if exc.status == 404:
            result.note = "no object: SBDB found nothing"
        else:
            result.error = str(exc)
        return result
    result.candidates, result.note = parse_sbdb(answer)
    return result


# ---- MPC designation identifier -------------------------------------------------------------

def identifier_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/api/query-identifier"


def parse_mpc_identifier(answer: Any, query: str) -> tuple[list[Candidate], str | None]:
    """The MPC's answer to `/api/query-identifier {"ids": [query]}`: candidates and a note."""
    if not isinstance(answer, dict):
        raise ResolveError(f"MPC identifier answer is not a JSON object: {str(answer)[:200]}")
    entry = answer.get(query)
    if entry is None and len(answer) == 1:
        entry = next(iter(answer.values()))
    if not isinstance(entry, dict):
        return [], "no object: the MPC answer does not mention it"
    found = entry.get("found")
    if found == 0:
        return [], "no object: the MPC does not know it"
    if isinstance(found, int) and found > 1:
        return [], f"{found} objects match; nothing taken from the MPC"
    name = entry.get("name")
    permid = entry.get("permid")
    provisional = entry.get("unpacked_primary_provisional_designation")
    pairs: list[tuple[str, Any]] = [
        ("iau_designation", entry.get("iau_designation")),
        ("permid", permid),
        ("unpacked_primary_provisional_designation", provisional),
        ("packed_permid", entry.get("packed_permid")),
        ("packed_primary_provisional_designation", entry.get("packed_primary_provisional_designation")),
        ("orbfit_name", entry.get("orbfit_name")),
    ]
    for key in ("unpacked_secondary_provisional_designations", "packed_secondary_provisional_designations"):
        pairs += [(key, value) for value in entry.get(key) or []]
    if isinstance(name, str) and name.strip():
        # A name alone is refused; joined to a designation the IAU way it is a full name.
        if isinstance(permid, str) and permid:
            style = f"{permid}/{name}" if _COMET_PERMID.match(permid) else f"({permid}) {name}"
            pairs.append(("permid+name", style))
        if isinstance(provisional, str) and provisional[:2] in ("C/", "P/", "I/", "A/", "D/", "X/"):
            pairs.append(("provisional+name", f"{provisional} ({name})"))
        pairs.append(("name", name))
    return candidates_from(pairs), None


def ask_mpc(http: Any, base_url: str, designation: str) -> ServiceAnswer:
    url = identifier_url(base_url)
    result = ServiceAnswer("mpc", designation, url)
    try:
        answer = http.get_json(url, json_body={"ids": [designation]})
    except HTTPError as exc:
        result.error = str(exc)
        return result
    result.candidates, result.note = parse_mpc_identifier(answer, designation)
    return result


def resolve(http: Any, *, designation: str, sbdb_base: str, mpc_base: str) -> list[ServiceAnswer]:
    """Ask both services; one failing never hides what the other said."""
    answers = []
    for ask, base in ((ask_sbdb, sbdb_base), (ask_mpc, mpc_base)):
        try:
            answers.append(ask(http, base, designation))
        except ResolveError as exc:
            service = "sbdb" if ask is ask_sbdb else "mpc"
            answers.append(ServiceAnswer(service, designation, base, error=str(exc)))
    return answers
