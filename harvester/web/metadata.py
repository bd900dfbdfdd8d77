"""What `harvester serve` tells Datasette about the catalog: a description of each table and
column, canned queries, and the Atom feed of events.

Only tables present in the catalog are described (a feature's tables appear with its
migration); a canned query whose table is missing says so in its one row instead of failing.
"""

from __future__ import annotations

import sqlite3
from typing import Any

TITLE = "3I/ATLAS archive catalog"

_TIME = "UTC, ISO 8601 with a Z (sorts and compares as text; works with julianday())"

TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "products": (
        "One row per archive product of 3I/ATLAS, keyed archive:native id. Metadata as the "
        "archive states it, normalized; raw keeps the record exactly as it was sent.",
        {
            "product_key": "archive:native id (MAST obsid, PDS lid, PSA granule_uid, MPC obsid)",
            "archive": "where it lives: mast, pds, psa, mpc, cnsa, or an ObsCore source's name",
            "native_id": "the archive's own identifier",
            "version": "PDS vid or the archive's version, if any",
            "source": "the configured source that harvested it",
            "mission": "normalized host (JWST, HST, MRO, TGO ...; station code for MPC)",
            "instrument": "normalized instrument (NIRSPEC, HIRISE, CASSIS ...)",
            "target_name": "the target exactly as the archive spells it",
            "matched_by": "which alias or rule made it a product of 3I/ATLAS",
            "product_type": "image, spectrum, cube, astrometry, document ...",
            "processing_level": "raw, calibrated, derived ...",
            "obs_start": f"start of the observation, {_TIME}",
            "obs_end": f"end of the observation, {_TIME}",
            "release_date": "the archive's own public date (MAST t_obs_release, PSA release_date, "
                            "ObsCore obs_release_date); empty when the archive states none",
            "access": "public, exclusive (metadata public, data embargoed until release_date), "
                      "or unknown",
            "first_seen": "when the harvester first saw it (never changes)",
            "last_seen": "when a harvest last saw it",
            "updated_at": "when its content last changed",
            "first_public": "when it was first seen public (or the archive's own evidence)",
            "url": "where to get it",
            "size_bytes": "size, if the archive says",
            "program": "proposal or program id",
            "title": "the archive's title",
            "extra": "JSON: further normalized fields",
            "raw": "JSON: the record exactly as the archive sent it",
            "content_hash": "fingerprint of the content columns (an update changes it)",
            "raw_hash": "fingerprint of the archive's record and of what normalized it: a "
                        "harvest that meets the same record again skips normalizing it",
        },
    ),
    "events": (
        "What happened, append-only, with a stable id: new, updated, released products; the "
        "release watch's overdue/silent/failing events. Alerts and the Atom feed read it.",
        {
            "id": "stable event id (increases; never reused)",
            "time": f"when it was recorded, {_TIME}",
            "kind": "new, updated, released, or a watch kind (overdue, silent ...)",
            "product_key": "the product it is about (empty for watch events about an archive)",
            "source": "the source that recorded it",
            "run_id": "the run (table runs) that recorded it",
            "detail": "JSON: what changed (before/after, release date ...)",
        },
    ),
    "runs": (
        "One row per harvest of one source: when, how it ended, what it found and cost.",
        {
            "id": "run id; every log line of the run carries it",
            "source": "the configured source",
            "archive": "its archive",
            "started_at": f"start, {_TIME}",
            "finished_at": f"end, {_TIME}",
            "status": "ok, failed, interrupted (stopped or killed; the next run resumes), running",
            "requests": "HTTP requests made",
            "pages": "pages stored (each committed with its cursor in one transaction)",
            "records": "records read",
            "skipped": "records about other targets",
            "new": "new products", "updated": "updated products",
            "released": "products that went from exclusive to public",
            "rejected": "records that could not be read (see rejects)",
            "error": "why it failed or stopped",
            "pid": "process id of the harvest",
        },
    ),
    "source_state": (
        "One row per source: its cursor and health.",
        {
            "cursor": "JSON: where the next run starts (an archive release/ingest time)",
            "last_run_id": "its latest run",
            "last_status": "that run's status",
            "last_success_at": "when it last succeeded",
            "last_new_at": "when it last brought a new product",
            "consecutive_failures": "failed runs in a row",
        },
    ),
    "rejects": (
        "Raw records that could not be read, with the reason, kept for review (one row per "
        "distinct record; times_seen counts repeats).",
        {
            "reason": "why it could not be read",
            "raw": "the record as the archive sent it",
            "raw_hash": "fingerprint of raw",
            "native_id": "its identifier, if one could be read",
            "times_seen": "how many harvests met it",
        },
    ),
    "expected": (
        "Documented observations of 3I/ATLAS (the campaign file, as the last run loaded it) "
        "that the release watch expects to see in an archive.",
        {
            "id": "the observation's id in the campaign file",
            "status": "documented (a source describes it) or unconfirmed",
            "platform": "telescope or spacecraft, as the campaign names it",
            "archive": "the archive it should reach (mast, pds, psa ...; other)",
            "archive_note": "the campaign's own words about where it goes",
            "obs_start": "start of the observing window", "obs_end": "end of the window",
            "expected_public_by": "when the archive's policy says it should be public",
            "policy": "the release policy that sets the due date",
            "watch": "1 if the watch follows it",
            "sources": "JSON: where the observation is documented (URLs)",
        },
    ),
    "expected_status": (
        "What the release watch concluded for each expected observation at its last run.",
        {
            "status": "released, exclusive, pending, overdue, not_watched (no enabled source "
                      "for its archive) or unconfirmed",
            "as_of": "when the watch evaluated it",
            "due_date": "when it should be public", "due_basis": "how the due date was set",
            "first_public": "when a matching product was first public",
            "latency_days": "days from the end of the observation to public",
            "exclusive_until": "release date of matching products still embargoed",
            "overdue_days": "days past due with nothing public",
            "due_in_days": "days until due",
            "products": "matching products", "public_products": "of which public",
            "reason": "why this status",
        },
    ),
    "expected_products": (
        "Which products matched which expected observation, and why.",
        {"reason": "how the product matched (archive, instrument, time window ...)"},
    ),
    "watch_state": (
        "The release watch's memory: each subject's last state, so an event is emitted once per "
        "change of state.",
        {"subject": "an expected observation or a source", "since": "when it entered the state"},
    ),
    "subscriptions": (
        "Alert subscriptions: a predicate over the alerts view and a channel (email, webhook, "
        "Atom, stdout).",
        {
            "predicate": "SQL condition over the alerts view",
            "channel": "email, webhook, atom or stdout",
            "matched_through": "the last event id already matched",
        },
    ),
    "deliveries": (
        "The alerts outbox: one row per (subscription, event), sent at least once.",
        {
            "status": "pending, sent or failed",
            "attempts": "sending attempts so far",
            "next_attempt_at": "when it is tried next",
        },
    ),
    "aliases": (
        "Names of the target found by asking services, with where they came from: designations "
        "from SBDB and the MPC (harvester target resolve; the matcher uses them besides the "
        "config's aliases) and PDS target context LIDs from the registry (PDS harvests ask for "
        "their products).",
        {
            "alias": "the designation as matched, or the target LID",
            "kind": "designation or target_lid",
            "service": "which service gave it (sbdb, mpc, or the PDS source's name)",
            "raw": "the text that matched (for a target LID: the context's name)",
            "refused": "why the matcher does not use it, if it does not",
        },
    ),
    "alerts": (
        "The view alert subscriptions are written against: one row per event with the product "
        "it is about (empty product columns for events about an archive).",
        {"event_id": "the event's id (table events)"},
    ),
    "source_counts": (
        "Each source's products and how many are exclusive, kept by triggers on products "
        "(what `harvester status` shows without counting).",
        {"products": "products stored by the source", "exclusive": "of them, not yet public"},
    ),
    "scheduler_heartbeats": (
        "One row per harvester schedule process: its last heartbeat and state.",
        {
            "beat_at": "its last heartbeat",
            "state": "starting, idle, harvesting, waiting_for_lock, stopped",
            "next_due_at": "when it next harvests",
            "next_sources": "JSON: what it harvests then",
        },
    ),
}

# Bookkeeping no reader needs on the home page (news_readers also holds login names).
# deferred_schema is a backfill's indexes set aside while it loads (catalog.bulk).
HIDDEN = ("schema_version", "sqlite_sequence", "alerts_instance", "news_readers", "deferred_schema")
# Who gets alerts, and how: not listed unless `harvester serve --show-alerts` (their addresses
# read as NULL on every page either way; see harvester.web.app).
ALERT_TABLES = ("subscriptions", "deliveries")
ALERT_QUERIES: dict[str, dict[str, Any]] = {
    "alert_subscriptions": {
        "title": "Alert subscriptions (addresses redacted)",
        "description": "Each subscription, its channel and its address shown redacted, and "
                       "why its predicate is not matching, if it is not.",
        "requires": ("subscriptions",),
        "sql": "select * from temp.alert_subscriptions order by name",
    },
    "alert_deliveries": {
        "title": "Alert deliveries (errors redacted)",
        "description": "The outbox, newest first.",
        "requires": ("deliveries",),
        "sql": "select * from temp.alert_deliveries order by id desc",
    },
}


# Where an archive names a preview image in the product's extra (MAST jpegURL, EPN-TAP
# thumbnail_url); the page shows it as an image (harvester.web.pages, harvester.links).
PREVIEW_SQL = ("coalesce(json_extract(p.extra, '$.jpegURL'), "
               "json_extract(p.extra, '$.thumbnail_url'))")

# The release watch's own latency (its index is on exactly this expression), so the page
# and `harvester gaps` agree.
_LATENCY = ("julianday(coalesce(first_public, release_date, first_seen)) - julianday(obs_end)")

QUERIES: dict[str, dict[str, Any]] = {
    "new_this_week": {
        "title": "New this week",
        "description": "Products first seen in the last 7 days, or since the date you give.",
        "requires": ("events", "products"),
        "sql": f"""select e.time as seen, p.archive, p.mission, p.instrument, p.product_key,
       {PREVIEW_SQL} as preview, p.title, p.obs_start, p.access, p.release_date, p.url, p.source
from events e join products p on p.product_key = e.product_key
where e.kind = 'new'
  and e.time >= coalesce(nullif(:since, ''), strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days'))
order by e.time desc, e.id desc""",
    },
    "expected_observations": {
        "title": "Expected observations and their status",
        "description": "Each observation of the campaign the release watch expects, with its "
                       "status as of the watch's last evaluation, overdue first.",
        "requires": ("expected", "expected_status"),
        "sql": """select x.id, s.status, x.platform, x.archive, x.mission, x.instrument, x.program,
       x.obs_start, x.obs_end, s.due_date, s.exclusive_until, s.overdue_days, s.due_in_days,
       s.products, s.public_products, s.first_public, s.latency_days, s.reason, s.as_of
from expected x left join expected_status s on s.expected_id = x.id
order by case s.status when 'overdue' then 0 when 'pending' then 1 when 'exclusive' then 2
         when 'released' then 3 else 4 end, x.position""",
    },
    "release_latency_by_archive": {
        "title": "Release latency by archive",
        "description": "Days from the end of an observation to public (when it was first seen "
                       "public, else the archive's release date, else first seen), per archive "
                       "and mission, over public products.",
        "requires": ("products",),
        "sql": f"""select archive, mission, count(*) as products,
       round(min({_LATENCY}), 1) as min_days,
       round(avg({_LATENCY}), 1) as mean_days,
       round(max({_LATENCY}), 1) as max_days
from products
where access = 'public' and obs_end is not null
group by archive, mission
order by archive, mean_days desc""",
    },
    "exclusive_until": {
        "title": "Under exclusive access, and until when",
        "description": "Products whose metadata is public but whose data are embargoed, by "
                       "release date.",
        "requires": ("products",),
        "sql": """select p.release_date as public_on,
       round(julianday(p.release_date) - julianday('now'), 1) as days_left,
       p.archive, p.mission, p.instrument, p.program, p.product_key, p.obs_start, p.title
from products p
where p.access = 'exclusive'
order by p.release_date, p.product_key""",
    },
    "rejects_to_review": {
        "title": "Rejects to review",
        "description": "Records an archive sent that could not be read, most recent first.",
        "requires": ("rejects",),
        "sql": """select r.last_seen, r.source, r.native_id, r.reason, r.times_seen,
       substr(r.raw, 1, 300) as raw_start
from rejects r
order by r.last_seen desc, r.id desc""",
    },
    "events_feed": {
        "title": "Events of the 3I/ATLAS catalog",
        "description": "The latest 200 events; add .atom to the URL for an Atom feed.",
        "requires": ("events",),
        "sql": """select 'tag:harvester-3i,2025:' || {token} || '/event/' || e.id as atom_id,
       e.time as atom_updated,
       e.kind || ': ' || coalesce(e.product_key, e.source, '') as atom_title,
       trim(coalesce(p.mission || ' ', '') || coalesce(p.instrument || ' ', '')
            || coalesce('observed ' || p.obs_start || ' ', '')
            || coalesce('access ' || p.access || ' ', '') || coalesce(e.detail, '')) as atom_content,
       p.url as atom_link, e.kind, e.product_key, e.source
from events e left join products p on p.product_key = e.product_key
order by e.id desc
limit 200""",
    },
}


def _missing_query(table: str) -> str:
    note = (f"The table {table} is not in this catalog yet: the feature that fills it has not "
            f"run here. Run harvester run with a harvester that has it, then reload.")
    return f"select '{note}' as note"


def present_tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Tables and views of the catalog, with their columns."""
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")]
    return {name: [c[1] for c in conn.execute(f'PRAGMA table_info("{name}")')] for name in names}


def build_metadata(conn: sqlite3.Connection, database: str, url: str, *,
                   show_alerts: bool = False) -> dict[str, Any]:
    """Datasette metadata for the catalog behind `conn`, served as database `database` at
    path `url` (tilde-encoded). The alert tables are listed only with `show_alerts`."""
    in_file = present_tables(conn)
    present = {name: columns for name, columns in in_file.items()
               if show_alerts or name not in ALERT_TABLES}
    tables: dict[str, Any] = {}
    for name, (description, columns) in TABLES.items():
        if name in present:
            tables[name] = {
                "description": description,
                "columns": {c: text for c, text in columns.items() if c in present[name]},
            }
    tables["products"] = dict(tables.get("products", {}), sort_desc="first_seen",
                              facets=["archive", "access", "mission"])
    tables["events"] = dict(tables.get("events", {}), sort_desc="id", facets=["kind"])
    for name in HIDDEN + (() if show_alerts else ALERT_TABLES):
        if name in in_file:
            tables[name] = {"hidden": True}
    queries = {}
    for name, query in {**QUERIES, **(ALERT_QUERIES if show_alerts else {})}.items():
        missing = [t for t in query["requires"] if t not in present]
        sql = _missing_query(missing[0]) if missing else query["sql"]
        if name == "events_feed":
            sql = sql.replace("{token}", _token_sql(present))
        queries[name] = {"title": query["title"], "description": query["description"], "sql": sql}
    return {
        "title": TITLE,
        "description_html": _home_html(present, url),
        "databases": {database: {"description": "The harvester's catalog, read-only.",
                                 "tables": tables, "queries": queries}},
    }


def _token_sql(present: dict[str, list[str]]) -> str:
    # The same entry ids as the alerts' all-events Atom file, so a reader following both
    # sees each event once.
    if "alerts_instance" in present:
        return "(select token from alerts_instance where id = 1)"
    return "'catalog'"


def _home_html(present: dict[str, list[str]], url: str) -> str:
    from html import escape

    base = escape(url)
    items = []
    for name, (description, _) in TABLES.items():
        if name in present:
            items.append(f'<li><a href="{base}/{name}"><strong>{name}</strong></a>: '
                         f"{escape(description)}</li>")
    queries = "".join(
        f'<li><a href="{base}/{name}">{escape(q["title"])}</a></li>'
        for name, q in QUERIES.items()
    ) + "".join(
        f'<li><a href="{base}/{name}">{escape(q["title"])}</a></li>'
        for name, q in ALERT_QUERIES.items() if all(t in present for t in q["requires"])
    )
    search = ""
    if "products_fts" in present:
        search = (f'<form class="harvester-search" action="{base}/products" method="get">'
                  '<label for="harvester-search">Search the products:</label> '
                  '<input id="harvester-search" type="search" name="_search" size="30" '
                  'placeholder="hirise, nirspec ifu, juice ..."> <input type="submit" value="Search">'
                  "</form>")
    return (
        "<p>Every archive product of the interstellar comet 3I/ATLAS the harvester has found, "
        f'read-only. Open a table, or write SQL on the <a href="{base}">database page</a>.</p>'
        f"{search}"
        '<p><strong><a href="/-/news">What\'s new</a></strong> (the last 7 days, grouped by '
        'archive and instrument) &middot; <strong><a href="/-/gaps">Release watch chart</a>'
        "</strong> (what was observed, and when the archives made it public)</p>"
        f"<h3>Tables</h3><ul>{''.join(items)}</ul>"
        f"<h3>Canned queries</h3><ul>{queries}</ul>"
        f'<p>Atom feed of events: <a href="{base}/events_feed.atom">events_feed.atom</a></p>'
    )
