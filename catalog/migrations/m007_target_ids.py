"""Migration 7 of the catalog: identifiers of the target in archives' own terms beside its
designations. Never edit it once released: add a new migration instead.

- `aliases.kind`: `designation` for what the name services answer (`harvester target resolve`:
  SBDB, the MPC), `target_lid` for a PDS target context LID found among the registry's context
  products (by a harvest or by `target resolve`). Harvests match names on designations and ask
  the PDS registry for products of every stored target LID; both keep their provenance
  (service, field, raw text, query, first and last seen).
- ObsCore products are keyed by (obs_publisher_did, obs_id), `<did>#<obs_id>`: a real ALMA
  answer repeats one publisher DID over two observations. Products stored under the DID alone
  are re-keyed from their raw row, their events with them (the watch's expected_products are
  rebuilt by the next evaluation), so an upgraded catalog neither duplicates nor re-announces them.
"""

VERSION = 7
DESCRIPTION = "target ids, ObsCore keys"
_OLD_OBSCORE = (
    "json_extract(raw, '$.obs_publisher_did') IS NOT NULL "
    "AND native_id = json_extract(raw, '$.obs_publisher_did') "
    "AND coalesce(json_extract(raw, '$.obs_id'), '') != ''"
)
SQL = f"""
ALTER TABLE aliases ADD COLUMN kind TEXT NOT NULL DEFAULT 'designation';
UPDATE events SET product_key = product_key || '#' || (
    SELECT json_extract(p.raw, '$.obs_id') FROM products p WHERE p.product_key = events.product_key)
WHERE product_key IN (SELECT product_key FROM products WHERE {_OLD_OBSCORE});
UPDATE products SET native_id = native_id || '#' || json_extract(raw, '$.obs_id'),
    product_key = product_key || '#' || json_extract(raw, '$.obs_id')
WHERE {_OLD_OBSCORE};
DELETE FROM expected_products WHERE product_key NOT IN (SELECT product_key FROM products);
"""
