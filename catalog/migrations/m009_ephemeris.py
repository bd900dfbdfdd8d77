"""Migration 9 of the catalog: the ephemeris search (issue 13). Never edit it once released:
add a new migration instead.

`ephemerides` caches what JPL Horizons answered, one row per (target, observer, step), with the
query that produced it and the orbit solution it came from. `product_matches` records every rule
that found a product with its evidence: a frame found by name and by an ephemeris footprint test
is one product, and this table keeps both findings (the ephemeris's predicted position and its
offset from the footprint's edge) whichever rule owns the product's row. It only creates tables,
so it may run before or after migrations 6-8.
"""

VERSION = 9
DESCRIPTION = "ephemeris"

SQL = """
CREATE TABLE ephemerides (
    target     TEXT NOT NULL,
    observer   TEXT NOT NULL,
    step       TEXT NOT NULL,
    start      TEXT NOT NULL,
    stop       TEXT NOT NULL,
    solution   TEXT,
    query      TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    points     INTEGER NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (target, observer, step)
);

CREATE TABLE product_matches (
    product_key TEXT NOT NULL,
    source      TEXT NOT NULL,
    rule        TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    run_id      INTEGER,
    detail      TEXT,
    PRIMARY KEY (product_key, source)
);
CREATE INDEX idx_product_matches_rule ON product_matches(rule);
"""
