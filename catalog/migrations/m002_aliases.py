"""Migration 2 of the catalog: the tables of the aliases feature. Never edit it once released:
add a new migration instead."""

VERSION = 2
DESCRIPTION = "aliases"
# One row per (service, alias): where a designation of the target came from, as the service
# spelled it, and when. A designation the matcher must not use is kept with the reason
# (`refused`), so `harvester target aliases` can say why it is not matched on.
SQL = """
CREATE TABLE aliases (
    alias      TEXT NOT NULL,
    service    TEXT NOT NULL,
    field      TEXT,
    raw        TEXT NOT NULL,
    query      TEXT,
    refused    TEXT,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    PRIMARY KEY (service, alias)
);
"""
