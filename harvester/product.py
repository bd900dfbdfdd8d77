"""The normalized product record: the contract every source fills (see docs/design.md)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from harvester import jsontext

ACCESS_VALUES = ("public", "exclusive", "unknown")

# Fields whose change is a real change of the product (an `updated` event). The harvester's own
# clock fields and the raw record are not: re-harvesting the same data must change nothing.
CONTENT_FIELDS = (
    "archive", "native_id", "version", "mission", "instrument", "target_name",
    "product_type", "processing_level", "obs_start", "obs_end", "release_date", "access",
    "url", "size_bytes", "program", "title", "extra",
)


@dataclass
class Product:
    archive: str
    native_id: str
    target_name: str
    matched_by: str
    mission: str | None = None
    instrument: str | None = None
    version: str | None = None
    product_type: str | None = None
    processing_level: str | None = None
    obs_start: str | None = None
    obs_end: str | None = None
    release_date: str | None = None
    access: str = "unknown"
    url: str | None = None
    size_bytes: int | None = None
    program: str | None = None
    title: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    raw: Any = None
    # When the archive says it became public (PDS harvest time, a past MAST t_obs_release).
    # Not content: it moves when an archive re-loads a product, which is no news.
    public_since: str | None = None
    # Other spellings the archive gives for the mission and instrument (LIDs, long names), best
    # first: the platforms table may know one the `mission`/`instrument` value does not. Not
    # stored: the normalized values and the archive's own spelling in `extra` are.
    mission_names: list[str] = field(default_factory=list)
    instrument_names: list[str] = field(default_factory=list)
    # Set by a source that finds products by another rule than the name (an ephemeris footprint
    # test): what it found, kept in `product_matches`. Such a product never overwrites one that
    # another source stored (found by name, or by another footprint search): one product per
    # frame, with every finding recorded beside it. Not content.
    evidence: dict[str, Any] | None = None

    @property
    def product_key(self) -> str:
        return f"{self.archive}:{self.native_id}"

    def extra_json(self) -> str:
        return jsontext.dumps_sorted(self.extra)

    def content(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies `raw`, which dominated a 100,000-row backfill.
        return {name: getattr(self, name) for name in CONTENT_FIELDS}

    def content_hash(self, extra_json: str | None = None) -> str:
        """A fingerprint of the content fields; equal fingerprints mean nothing to report."""
        if extra_json is None:
            extra_json = self.extra_json()
        values = tuple(extra_json if name == "extra" else getattr(self, name) for name in CONTENT_FIELDS)
        # repr of a tuple of str/int/float/None is deterministic and far cheaper than JSON.
        return hashlib.sha256(repr(values).encode()).hexdigest()[:32]
