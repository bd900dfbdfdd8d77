"""Migration 3 of the catalog: the tables of the watch feature. Never edit it once released:
add a new migration instead.

`expected` is config/campaign.toml as the last run loaded it; `expected_status` and
`expected_products` are what the last run concluded (status, due date, the products that
matched and why); `watch_state` remembers each subject's last state so an event is emitted once
per change of state; `watch_arrivals` counts, per source and day, the products that first
appeared in public that day (each run adds the products of its `new` events, from the event id
in `watch_progress`), which is the publication history silence is judged on. Two indexes on
`products` keep the watch fast on a large catalog: the matching of expected observations
(archive, mission, instrument, time) and the latency statistics (percentiles walk an
expression index).
"""

VERSION = 3
DESCRIPTION = "watch"

# The watch's latency queries must spell these exactly as the index below does, or SQLite will
# not use it: the code imports them from here.
LATENCY_EXPR = "julianday(coalesce(first_public, release_date, first_seen)) - julianday(obs_end)"
LATENCY_WHERE = "access = 'public' AND obs_end IS NOT NULL"
# When a product first existed in public, metadata or data: the archive's own public date where
# it states one (a backfill must not make everything look new), else our first sight of it.
ARRIVAL_EXPR = "min(first_seen, coalesce(first_public, first_seen))"
# Fills watch_arrivals from every product: the migration runs it once for products stored before
# the watch existed (a bulk-loaded catalog may run it again after emptying the table).
ARRIVALS_FROM_PRODUCTS = (
    f"INSERT INTO watch_arrivals (source, day, products) SELECT source, substr({ARRIVAL_EXPR}, 1, 10), "
    "count(*) FROM products GROUP BY 1, 2"
)

SQL = f"""
CREATE TABLE expected (
    id                 TEXT PRIMARY KEY,
    position           INTEGER NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('documented', 'unconfirmed')),
    platform           TEXT,
    archive            TEXT NOT NULL,
    archives           TEXT NOT NULL,
    archive_note       TEXT,
    mission            TEXT,
    instrument         TEXT,
    program            TEXT,
    spellings          TEXT,
    obs_start          TEXT,
    obs_end            TEXT,
    released_on        TEXT,
    expected_public_by TEXT,
    policy             TEXT,
    watch              INTEGER NOT NULL DEFAULT 1,
    watch_note         TEXT,
    notes              TEXT,
    sources            TEXT,
    loaded_at          TEXT NOT NULL
);

CREATE TABLE expected_status (
    expected_id     TEXT PRIMARY KEY,
    status          TEXT NOT NULL CHECK (status IN ('released', 'exclusive', 'pending', 'overdue',
                                                    'not_watched', 'unconfirmed')),
    as_of           TEXT NOT NULL,
    due_date        TEXT,
    due_basis       TEXT,
    first_public    TEXT,
    latency_days    REAL,
    exclusive_until TEXT,
    overdue_days    REAL,
    due_in_days     REAL,
    products        INTEGER NOT NULL DEFAULT 0,
    public_products INTEGER NOT NULL DEFAULT 0,
    reason          TEXT
);

CREATE TABLE expected_products (
    expected_id TEXT NOT NULL,
    product_key TEXT NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (expected_id, product_key)
);
CREATE INDEX idx_expected_products_product ON expected_products(product_key);

CREATE TABLE watch_state (
    subject TEXT PRIMARY KEY,
    state   TEXT NOT NULL,
    since   TEXT NOT NULL,
    detail  TEXT
);

CREATE TABLE watch_arrivals (
    source   TEXT NOT NULL,
    day      TEXT NOT NULL,
    products INTEGER NOT NULL,
    PRIMARY KEY (source, day)
) WITHOUT ROWID;
{ARRIVALS_FROM_PRODUCTS};

CREATE TABLE watch_progress (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO watch_progress (name, value) SELECT 'events', coalesce(max(id), 0) FROM events;

ALTER TABLE events ADD COLUMN expected_id TEXT;
CREATE INDEX idx_events_expected ON events(expected_id) WHERE expected_id IS NOT NULL;

CREATE INDEX idx_products_watch_match ON products(archive, mission, instrument, obs_start, obs_end);
CREATE INDEX idx_products_watch_latency ON products(archive, mission, instrument, {LATENCY_EXPR})
    WHERE {LATENCY_WHERE};
"""
