"""Migration 8 of the catalog: full-text search over the products, and what each reader of
`harvester news` last saw. Never edit it once released: add a new migration instead.

- `products_fts`: an FTS5 index of the products' title, target name, mission, instrument and
  program, with the products table as its content (the text is not stored twice). It is
  written in the form sqlite-utils' `enable_fts(..., create_triggers=True)` makes, so
  sqlite-utils (`table.search()`, `rebuild_fts()`) and Datasette (the search box) find it.
  Triggers keep it in step with every write to `products`, inside the same transaction as the
  write: a harvest page and its index entries commit together or not at all. The update
  trigger fires only when an indexed column is written, so a harvest that merely touches
  `last_seen` on unchanged products costs the index nothing. The index is filled from the
  products already stored when the migration runs.
- `news_readers`: per reader of this catalog, the newest event `harvester news` showed them,
  so `harvester news --since last` starts where they left off.
"""

VERSION = 8
DESCRIPTION = "search and news"

FTS_TABLE = "products_fts"
FTS_COLUMNS = ("title", "target_name", "mission", "instrument", "program")

_COLUMNS = ", ".join(f'"{c}"' for c in FTS_COLUMNS)
_NEW = ", ".join(f'new."{c}"' for c in FTS_COLUMNS)
_OLD = ", ".join(f'old."{c}"' for c in FTS_COLUMNS)

SQL = f"""
CREATE VIRTUAL TABLE "{FTS_TABLE}" USING FTS5 (
    {_COLUMNS},
    content="products"
);
INSERT INTO "{FTS_TABLE}" ("{FTS_TABLE}") VALUES ('rebuild');

CREATE TRIGGER "products_ai" AFTER INSERT ON "products" BEGIN
  INSERT INTO "{FTS_TABLE}" (rowid, {_COLUMNS}) VALUES (new.rowid, {_NEW});
END;
CREATE TRIGGER "products_ad" AFTER DELETE ON "products" BEGIN
  INSERT INTO "{FTS_TABLE}" ("{FTS_TABLE}", rowid, {_COLUMNS}) VALUES('delete', old.rowid, {_OLD});
END;
CREATE TRIGGER "products_au" AFTER UPDATE OF {_COLUMNS} ON "products" BEGIN
  INSERT INTO "{FTS_TABLE}" ("{FTS_TABLE}", rowid, {_COLUMNS}) VALUES('delete', old.rowid, {_OLD});
  INSERT INTO "{FTS_TABLE}" (rowid, {_COLUMNS}) VALUES (new.rowid, {_NEW});
END;

CREATE TABLE news_readers (
    reader         TEXT PRIMARY KEY,
    last_event_id  INTEGER NOT NULL,
    last_looked_at TEXT NOT NULL
);
"""
