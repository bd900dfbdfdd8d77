"""Migration 5 of the catalog: the tables of the schedule feature. Never edit it once released:
add a new migration instead.

- `scheduler_heartbeats`: one row per `harvester schedule` process, rewritten at each beat, so
  `harvester status` can tell a scheduler that is alive (idle, harvesting, waiting for the lock)
  from one that stopped cleanly or died (its last beat is too old).
"""

VERSION = 5
DESCRIPTION = "schedule"
SQL = """
CREATE TABLE scheduler_heartbeats (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    started_at    TEXT NOT NULL,
    beat_at       TEXT NOT NULL,
    interval_s    REAL NOT NULL,
    state         TEXT NOT NULL
                  CHECK (state IN ('starting', 'idle', 'harvesting', 'waiting_for_lock', 'stopped')),
    sources       TEXT,
    next_due_at   TEXT,
    next_sources  TEXT,
    last_error    TEXT,
    stopped_at    TEXT
);
CREATE INDEX idx_scheduler_heartbeats_beat ON scheduler_heartbeats(beat_at);
"""
