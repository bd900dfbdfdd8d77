"""Migration 10 of the catalog: what lets a backfill run at the speed of SQLite and `harvester
status` answer without reading every product (issue 15). Never edit it once released: add a
new migration instead.

- `products.raw_hash`: a fingerprint of the archive's record as it arrived and of everything its
  normalization depended on (catalog.fastpath). A rerun that meets the same record again knows
  the product is unchanged without normalizing it. NULL for rows stored before this migration:
  those are normalized once more, as before, and get theirs.
- `deferred_schema`: the indexes and triggers a backfill into an empty catalog set aside while
  it loads (catalog.bulk), with their SQL, until it builds them again at its end. Rows here mean
  a load is under way or was killed; the next harvest finishes it.
- `source_counts`: each source's products and how many are exclusive, kept by triggers in the
  same transaction as every write to `products`, so status reads one row per source.
- `idx_products_source_newest`: each source's newest product in one index seek.
"""

VERSION = 10
DESCRIPTION = "fast paths"

# Each source's products and exclusive ones, counted (also how a load rebuilds the kept counts).
COUNT_PRODUCTS = ("SELECT source, COUNT(*), SUM(access = 'exclusive') FROM products "
                  "GROUP BY source")

SQL = f"""
ALTER TABLE products ADD COLUMN raw_hash TEXT;

CREATE TABLE deferred_schema (
    name        TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    tbl_name    TEXT NOT NULL,
    sql         TEXT NOT NULL,
    deferred_at TEXT NOT NULL
);

CREATE TABLE source_counts (
    source    TEXT PRIMARY KEY,
    products  INTEGER NOT NULL DEFAULT 0,
    exclusive INTEGER NOT NULL DEFAULT 0
);
INSERT INTO source_counts (source, products, exclusive) {COUNT_PRODUCTS};

CREATE TRIGGER products_count_ai AFTER INSERT ON products BEGIN
  INSERT INTO source_counts (source, products, exclusive)
    VALUES (new.source, 1, new.access = 'exclusive')
    ON CONFLICT (source) DO UPDATE SET products = products + 1,
      exclusive = exclusive + excluded.exclusive;
END;
CREATE TRIGGER products_count_ad AFTER DELETE ON products BEGIN
  UPDATE source_counts SET products = products - 1, exclusive = exclusive - (old.access = 'exclusive')
    WHERE source = old.source;
END;
CREATE TRIGGER products_count_au AFTER UPDATE OF source, access ON products
  WHEN old.source IS NOT new.source OR old.access IS NOT new.access BEGIN
  UPDATE source_counts SET products = products - 1, exclusive = exclusive - (old.access = 'exclusive')
    WHERE source = old.source;
  INSERT INTO source_counts (source, products, exclusive)
    VALUES (new.source, 1, new.access = 'exclusive')
    ON CONFLICT (source) DO UPDATE SET products = products + 1,
      exclusive = exclusive + excluded.exclusive;
END;

CREATE INDEX idx_products_source_newest ON products(source, first_seen, product_key);
"""
