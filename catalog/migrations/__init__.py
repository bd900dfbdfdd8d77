"""The catalog's schema as forward migrations, one module per migration, numbered in the order
they run. A migration runs once, in a transaction; `schema_version` records which have run.
Never edit a released migration: add the next module and list it here. Numbers are assigned
to parallel branches in advance, so the list may skip some until they merge: the catalog applies
every listed migration it has not recorded, not only those above its highest number."""

from __future__ import annotations

from catalog.migrations import (
    m001_core,
    m002_aliases,
    m003_watch,
    m004_alerts,
    m005_heartbeats,
    m006_match_backoff,
    m007_target_ids,
    m008_search_and_news,
    m009_ephemeris,
    m010_fast_paths,
)

_MODULES = (m001_core, m002_aliases, m003_watch, m004_alerts, m005_heartbeats, m006_match_backoff,
            m007_target_ids, m008_search_and_news,
            m009_ephemeris, m010_fast_paths)

MIGRATIONS: list[tuple[int, str, str]] = [(m.VERSION, m.DESCRIPTION, m.SQL) for m in _MODULES]
LATEST_VERSION = max(version for version, _, _ in MIGRATIONS)
