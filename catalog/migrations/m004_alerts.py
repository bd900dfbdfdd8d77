"""Migration 4 of the catalog: the tables of the alerts feature. Never edit it once released:
add a new migration instead.

- `alerts`: the view subscription predicates are written against: one row per event, with the
  product it is about (NULL columns for events about no product, like the watch's `silent`).
- `subscriptions`: who wants what, how; `matched_through` is the last event id already matched
  for it (a new subscription starts at the newest event, so it does not get the history).
- `deliveries`: the outbox, one row per (subscription, event), never two.
- `alerts_instance`: a random token made once per catalog, so the Message-IDs and
  Idempotency-Keys of two catalogs never collide at a shared receiver.
"""

VERSION = 4
DESCRIPTION = "alerts"
SQL = """
CREATE VIEW alerts AS
SELECT e.id               AS event_id,
       e.time             AS time,
       e.kind             AS kind,
       e.product_key      AS product_key,
       e.source           AS source,
       e.run_id           AS run_id,
       e.detail           AS detail,
       COALESCE(p.archive, json_extract(e.detail, '$.archive')) AS archive,
       p.native_id        AS native_id,
       p.version          AS version,
       p.mission          AS mission,
       p.instrument       AS instrument,
       p.target_name      AS target_name,
       p.matched_by       AS matched_by,
       p.product_type     AS product_type,
       p.processing_level AS processing_level,
       p.obs_start        AS obs_start,
       p.obs_end          AS obs_end,
       p.release_date     AS release_date,
       p.access           AS access,
       p.first_seen       AS first_seen,
       p.first_public     AS first_public,
       p.url              AS url,
       p.size_bytes       AS size_bytes,
       p.program          AS program,
       p.title            AS title,
       p.extra            AS extra
FROM events e LEFT JOIN products p ON p.product_key = e.product_key;

CREATE TABLE subscriptions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    predicate       TEXT NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook', 'atom', 'stdout')),
    address         TEXT,
    mode            TEXT NOT NULL DEFAULT 'each' CHECK (mode IN ('each', 'run', 'day')),
    format          TEXT NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack')),
    secret_env      TEXT,
    created_at      TEXT NOT NULL,
    matched_through INTEGER NOT NULL DEFAULT 0,
    match_error     TEXT
);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_attempt_at TEXT,
    sent_at         TEXT,
    batch           INTEGER,
    error           TEXT,
    UNIQUE (subscription_id, event_id)
);
-- Only the live part of the outbox: sent and failed rows leave it.
CREATE INDEX idx_deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';

CREATE TABLE alerts_instance (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL
);
INSERT INTO alerts_instance (id, token) VALUES (1, lower(hex(randomblob(6))));
"""
