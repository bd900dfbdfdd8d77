"""Which campaign observation each record of the packaged sandbox scenario is evidence of, read
from the scenario's own notes (never from the harvester's matching, which is what tests check):

- MAST, PDS and CNSA records say `campaign.yaml <id>: ...` in `_source`;
- PSA and ObsCore rows say `(campaign <id>)` in the `_comment` of the first row of a group, and
  the rows after it with the same host/service and instrument belong to the same group;
- MPC observations carry the bare id in `_source`.
Decoys and records of no documented observation map to nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

CAMPAIGN = Path(__file__).resolve().parent.parent / "config" / "campaign.toml"


def campaign_ids() -> set[str]:
    return set(re.findall(r'^id = "([^"]+)"', CAMPAIGN.read_text(encoding="utf-8"), re.M))


def _named(text: str | None, ids: set[str]) -> str | None:
    text = text or ""
    found = re.search(r"campaign\.yaml ([\w.-]+)", text) or re.search(r"\(campaign ([\w.-]+)\)", text)
    if found and found.group(1) in ids:
        return found.group(1)
    return text.strip() if text.strip() in ids else None


def evidence(scenario: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(archive, native id) -> campaign id, for every record that is a documented observation."""
    ids = campaign_ids()
    found: dict[tuple[str, str], str] = {}
    for row in scenario.get("mast", []):
        if (cid := _named(row.get("_source"), ids)):
            found[("mast", str(row["obsid"]))] = cid
    for rec in scenario.get("pds", []):
        if (cid := _named(rec.get("_source"), ids)):
            found[("pds", rec["lidvid"].split("::")[0])] = cid
    for rec in scenario.get("mpc", []):
        if "obsid" in rec and (cid := _named(rec.get("_source"), ids)):
            found[("mpc", rec["obsid"])] = cid
    for batch in scenario.get("cnsa", []):
        if (cid := _named(batch.get("_source"), ids)):
            for item in batch.get("files", []):
                found[("cnsa", str(item.get("dataInfoId") or item.get("id")))] = cid
    for archive, group_of, key in (("psa", ("instrument_host_name", "instrument_name"), "granule_uid"),
                                   ("obscore", ("service", "instrument_name"), "obs_publisher_did")):
        current, group = None, None
        for row in scenario.get(archive, []):
            this_group = tuple(row.get(k) for k in group_of)
            if "_comment" in row:
                current, group = _named(row["_comment"], ids), this_group
            elif this_group != group:
                current = None
            if current:
                name = row.get("service") if archive == "obscore" else "psa"
                native = str(row[key])
                if archive == "obscore" and row.get("obs_id"):
                    native += f"#{row['obs_id']}"  # ObsCore products are (publisher DID, obs_id)
                found[(name, native)] = current
    return found
