"""Migration 7 of the catalog: identifiers of the target in archives' own terms beside its
designations. Never edit it once released: add a new migration instead.

- `aliases.kind`: `designation` for what the name services answer (`harvester target resolve`:
  SBDB, the MPC), `target_lid` for a PDS target context LID found among the registry's context
  products (by a harvest or by `target resolve`). Harvests match names on designations and ask
  the PDS registry for products of every stored target LID; both keep their provenance
  (service, field, raw text, query, first and last seen).
"""

VERSION = 7
DESCRIPTION = "target ids"
SQL = """
ALTER TABLE aliases ADD COLUMN kind TEXT NOT NULL DEFAULT 'designation';
"""
