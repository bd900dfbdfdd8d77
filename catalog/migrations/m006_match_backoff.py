"""Migration 6 of the catalog: how a subscription's matching has been failing. Never edit it once
released: add a new migration instead.

A predicate that fails (SQLite refuses it, or it runs past its time limit) leaves its
subscription's cursor where it was and says why in `match_error`; `match_failures` counts the
failed passes in a row, and `match_retry_at`, set when the predicate ran out of time, is when
the next pass may try it again (doubling, up to a day), so a runaway predicate costs a harvest
its time limit once in a while, not on every run. A pass that matches clears all three.
"""

VERSION = 6
DESCRIPTION = "subscription match failures"
SQL = """
ALTER TABLE subscriptions ADD COLUMN match_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN match_retry_at TEXT;
"""
