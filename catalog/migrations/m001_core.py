"""Migration 1 of the catalog: the harvest's own tables. Never edit it once released: add a new
migration instead."""

VERSION = 1
DESCRIPTION = "products, events, runs, source_state, rejects"
SQL = """
CREATE TABLE products (
    product_key      TEXT PRIMARY KEY,
    archive          TEXT NOT NULL,
    native_id        TEXT NOT NULL,
    version          TEXT,
    source           TEXT NOT NULL,
    mission          TEXT,
    instrument       TEXT,
    target_name      TEXT,
    matched_by       TEXT,
    product_type     TEXT,
    processing_level TEXT,
    obs_start        TEXT,
    obs_end          TEXT,
    release_date     TEXT,
    access           TEXT NOT NULL DEFAULT 'unknown'
                     CHECK (access IN ('public', 'exclusive', 'unknown')),
    first_seen       TEXT NOT NULL,
    last_seen        TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    first_public     TEXT,
    url              TEXT,
    size_bytes       INTEGER,
    program          TEXT,
    title            TEXT,
    extra            TEXT,
    raw              TEXT,
    content_hash     TEXT NOT NULL
);
CREATE INDEX idx_products_archive ON products(archive);
CREATE INDEX idx_products_mission_instrument ON products(mission, instrument);
CREATE INDEX idx_products_instrument ON products(instrument);
CREATE INDEX idx_products_obs_start ON products(obs_start);
CREATE INDEX idx_products_release_date ON products(release_date);
CREATE INDEX idx_products_first_seen ON products(first_seen);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    time        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    product_key TEXT,
    source      TEXT,
    run_id      INTEGER,
    detail      TEXT
);
CREATE INDEX idx_events_time ON events(time);
CREATE INDEX idx_events_kind_time ON events(kind, time);
CREATE INDEX idx_events_product ON events(product_key);
-- A product is new once: a replayed page can never announce it twice.
CREATE UNIQUE INDEX idx_events_new_once ON events(product_key) WHERE kind = 'new';

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT NOT NULL,
    archive     TEXT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'interrupted')),
    requests    INTEGER NOT NULL DEFAULT 0,
    pages       INTEGER NOT NULL DEFAULT 0,
    records     INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    new         INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    released    INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    pid         INTEGER
);
CREATE INDEX idx_runs_source_started ON runs(source, started_at);

CREATE TABLE source_state (
    source               TEXT PRIMARY KEY,
    archive              TEXT,
    cursor               TEXT,
    last_run_id          INTEGER,
    last_status          TEXT,
    last_success_at      TEXT,
    last_new_at          TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    updated_at           TEXT
);

CREATE TABLE rejects (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    source     TEXT NOT NULL,
    run_id     INTEGER,
    native_id  TEXT,
    reason     TEXT NOT NULL,
    raw        TEXT,
    raw_hash   TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    times_seen INTEGER NOT NULL DEFAULT 1,
    UNIQUE (source, raw_hash)
);
"""
