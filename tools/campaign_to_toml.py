"""Write config/campaign.toml from the documented campaign (shared/data/campaign.yaml).

    python tools/campaign_to_toml.py ../shared/data/campaign.yaml > config/campaign.toml

campaign.yaml describes each observation in free text ("NASA PDS Imaging Node / HiRISE team").
The release watch needs the archive as one of the harvested archive names and the mission,
instrument and program as the catalog spells them; CATALOG below says that for each entry id,
and the free text is kept (`archive_note`, `instrument_note`, `notes`). Regenerating overwrites
hand edits of config/campaign.toml: add your own expectations to a copy (set [watch] campaign).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import yaml

ATLAS_STATIONS = ["W68", "M22", "T05", "T08"]  # MPC codes: Chile, South Africa, Haleakala, Mauna Loa
TGO = ["TGO", "Trace Gas Orbiter"]
MEX = ["MEX", "Mars Express"]
JUICE = ["JUICE", "Jupiter Icy Moons Explorer"]

# id -> how the catalog names it: archive(s) (the first sets the release policy), mission and
# instrument spellings (any one may match a product's value), program ids, and watch overrides.
CATALOG: dict[str, dict[str, Any]] = {
    "atlas-discovery": {"archive": "mpc", "instrument": ATLAS_STATIONS},
    "ztf-precovery": {"archive": ["mpc", "irsa"], "instrument": ["I41", "ZTF"]},
    "tess-precovery": {"archive": "mast", "mission": "TESS", "instrument": "Photometer",
                       "watch": False,
                       "watch_note": "TESS full-frame images do not name the target, so a search "
                                     "by name cannot find them (it takes an ephemeris footprint test)"},
    "rubin-commissioning": {"archive": "mpc", "instrument": "X05"},
    "vlt-fors2-20250703": {"archive": "eso", "instrument": "FORS2", "policy": "eso-waived"},
    "vlt-muse-20250703": {"archive": "eso", "instrument": "MUSE"},
    "vlt-xshooter-early": {"archive": "eso", "instrument": "XSHOOTER"},
    "gtc-ttt": {"archive": "other", "program": "GTC 62-GTC55/24B"},
    "hst-wfc3-20250721": {"archive": "mast", "mission": "HST", "instrument": "WFC3/UVIS"},
    "swift-uvot": {"archive": ["heasarc", "mast"], "mission": "SWIFT", "instrument": "UVOT"},
    "jwst-nirspec-20250806": {"archive": "mast", "mission": "JWST", "instrument": "NIRSPEC/IFU",
                              "policy": "jwst-dd"},
    "spherex-aug2025": {"archive": "irsa", "mission": "SPHEREx"},
    "irtf-spex-aug2025": {"archive": "irsa", "instrument": "SpeX"},
    "vlt-xshooter-uves-monitoring": {"archive": "eso", "instrument": ["XSHOOTER", "UVES"],
                                     "program": ["115.29F3", "115.27ZL"]},
    "vlt-uves-nife": {"archive": "eso", "instrument": "UVES"},
    "gemini-south-gmos-20250827": {"archive": "cadc", "instrument": "GMOS",
                                   "program": "GS-2025B-DD-103"},
    "psyche-mi": {"archive": "pds", "mission": "PSYCHE", "instrument": "MI"},
    "stereo-a-hi1": {"archive": "other"},
    "lucy-llorri": {"archive": "pds", "mission": "LUCY", "instrument": "LLORRI"},
    "punch-wfi": {"archive": "other"},
    "meerkat-oh": {"archive": "other"},
    "maven-iuvs": {"archive": "pds", "mission": "MAVEN", "instrument": "IUVS"},
    "tianwen1-hiric": {"archive": "cnsa", "mission": "Tianwen-1", "instrument": "HiRIC"},
    "tgo-cassis": {"archive": "psa", "mission": TGO, "instrument": "CaSSIS"},
    "tgo-nomad": {"archive": "psa", "mission": TGO, "instrument": "NOMAD"},
    "mex-hrsc": {"archive": "psa", "mission": MEX, "instrument": "HRSC"},
    "mex-omega-spicam": {"archive": "psa", "mission": MEX, "instrument": ["OMEGA", "SPICAM"]},
    "mro-hirise": {"archive": "pds", "mission": "MRO", "instrument": "HIRISE"},
    "m2020-navcam": {"archive": "pds", "mission": "MARS2020", "instrument": "NAVCAM"},
    "m2020-mastcamz": {"archive": "pds", "mission": "MARS2020", "instrument": "MASTCAMZ"},
    "soho-lasco-c3": {"archive": "other"},
    "psp-wispr": {"archive": "other"},
    "juice-navcam": {"archive": "psa", "mission": JUICE, "instrument": "NAVCAM"},
    "juice-science": {"archive": "psa", "mission": JUICE,
                      "instrument": ["JANUS", "MAJIS", "UVS", "SWI", "PEP"]},
    "europa-clipper-uvs": {"archive": "pds", "mission": ["CLIPPER", "Europa Clipper"],
                           "instrument": "UVS"},
    "xrism-xtend": {"archive": "heasarc", "mission": "XRISM", "instrument": "Xtend"},
    "hst-wfc3-20251130": {"archive": "mast", "mission": "HST", "instrument": "WFC3"},
    "hst-wfc3-monitoring": {"archive": "mast", "mission": "HST", "instrument": "WFC3"},
    "xmm-epicpn": {"archive": "heasarc", "mission": "XMM", "instrument": "EPIC"},
    "spherex-dec2025": {"archive": "irsa", "mission": "SPHEREx"},
    "subaru-focas": {"archive": "other"},
    "gbt-breakthrough-listen": {"archive": "other"},
    "jwst-nirspec-dec2025": {"archive": "mast", "mission": "JWST", "instrument": "NIRSPEC/IFU"},
    "iawn-astrometry-campaign": {"archive": "mpc"},
    "tess-sector-1751": {"archive": "mast", "mission": "TESS", "instrument": "Photometer"},
}

# Unconfirmed entries have no id in campaign.yaml: platform -> (id, archive, mission, window).
UNCONFIRMED = {
    "Juno": ("unconfirmed-juno", "pds", "JUNO", (date(2026, 3, 16), date(2026, 3, 16))),
    "Curiosity": ("unconfirmed-curiosity", "pds", "MSL", None),
    "GOES-19": ("unconfirmed-goes19-ccor1", "other", None, None),
    "Europa Clipper": ("unconfirmed-clipper-ion-tail", "pds", "CLIPPER", None),
}

PERIODS = [
    ("us-shutdown-2025", "US government shutdown", ("archives", "US_shutdown_2025")),
    ("solar-conjunction", "3I solar conjunction (elongation < 30 deg)",
     ("orbit", "solar_conjunction_from_earth", "elongation_below_30deg")),
]


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        if sum(len(str(v)) + 4 for v in value) > 72:
            return "[\n" + "".join(f"    {toml_value(v)},\n" for v in value) + "]"
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def table(name: str, pairs: list[tuple[str, Any]]) -> str:
    lines = [f"[[{name}]]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in pairs if value not in (None, [], "")]
    return "\n".join(lines) + "\n"


def observation(entry: dict[str, Any]) -> str:
    ident = entry["id"]
    mapping = CATALOG.get(ident)
    if mapping is None:
        raise SystemExit(f"campaign.yaml: observation {ident!r}: add it to CATALOG in {__file__}")
    pairs = [
        ("id", ident), ("status", entry.get("status", "documented")),
        ("platform", entry.get("platform")), ("archive", mapping["archive"]),
        ("archive_note", entry.get("archive")), ("mission", mapping.get("mission")),
        ("instrument", mapping.get("instrument")), ("instrument_note", entry.get("instrument")),
        ("program", mapping.get("program")), ("obs_start", entry.get("obs_start")),
        ("obs_end", entry.get("obs_end")), ("released_on", entry.get("released_on")),
        ("expected_public_by", entry.get("expected_public_by")), ("policy", mapping.get("policy")),
        ("watch", mapping.get("watch")), ("watch_note", mapping.get("watch_note")),
        ("notes", _notes(entry)), ("sources", entry.get("source_urls")),
    ]
    return table("observation", pairs)


def _notes(entry: dict[str, Any]) -> str | None:
    notes = entry.get("release_notes") or ""
    if entry.get("program_id"):
        notes = f"Program as documented: {entry['program_id']}. {notes}"
    return notes.strip() or None


def unconfirmed(entry: dict[str, Any]) -> str:
    platform = entry["platform"]
    key = next((k for k in UNCONFIRMED if platform.startswith(k)), None)
    if key is None:
        raise SystemExit(f"campaign.yaml: unconfirmed {platform!r}: add it to UNCONFIRMED in {__file__}")
    ident, archive, mission, window = UNCONFIRMED[key]
    pairs = [("id", ident), ("status", "unconfirmed"), ("platform", platform), ("archive", archive),
             ("mission", mission), ("obs_start", window[0] if window else None),
             ("obs_end", window[1] if window else None),
             ("notes", entry.get("note")), ("sources", entry.get("source_urls"))]
    return table("observation", pairs)


def period(data: dict[str, Any], ident: str, label: str, path: tuple[str, ...]) -> str:
    node = data
    for key in path:
        node = node[key]
    note = node.get("effect") or ("computed" if node.get("computed") else None)
    return table("period", [("id", ident), ("label", label), ("start", node["start"]),
                            ("end", node["end"]), ("note", note), ("sources", node.get("source_urls"))])


HEADER = """\
# Expected observations of 3I/ATLAS for the release watch (`harvester gaps`), written from
# shared/data/campaign.yaml by tools/campaign_to_toml.py; ids are campaign.yaml's own.
#
# [[observation]] keys: id, status ("documented" | "unconfirmed": listed, never flagged),
# platform, archive (a harvested archive name: mast, pds, psa, mpc, cnsa, eso, irsa, heasarc,
# cadc, or any source's archive; "other" = not harvested; a list means "any of these", the first
# sets the release policy), archive_note (free text), mission / instrument / program (as the
# catalog spells them; a list gives alternative spellings), instrument_note, obs_start / obs_end
# (UTC dates), released_on (first public release of anything: press image, preprint),
# expected_public_by (free text), policy (a rule id of policies.toml, to pick one explicitly),
# watch = false with watch_note (an archive copy the harvester cannot find), notes, sources.
# [[period]] keys: id, label, start, end, note, sources (drawn on the chart).
"""


def convert(data: dict[str, Any]) -> str:
    parts = [HEADER]
    parts += [period(data, *spec) for spec in PERIODS]
    parts += [observation(entry) for entry in data["observations"]]
    parts += [unconfirmed(entry) for entry in data.get("unconfirmed", [])]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("campaign_yaml", type=Path)
    args = parser.parse_args()
    sys.stdout.write(convert(yaml.safe_load(args.campaign_yaml.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
