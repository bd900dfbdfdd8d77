"""`harvester demo`: the offline tour. Sandbox archives in-process, three harvests a year apart on
the scenario's clock (so the tour shows products arriving late and embargoes ending), then the
alerts, the status, a few SQL answers, and last the release watch as of the last harvest."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from harvester.config import Config, load_config, with_base_urls

# Three looks at the archives: during the wait for the Mars data, on the scenario's own clock,
# and after the JWST GO embargo of December 2025 ends.
LOOKS = [
    ("2025-12-01T00:00:00Z", "first look, after the US shutdown"),
    (None, "the scenario's clock"),
    ("2027-01-05T00:00:00Z", "after the JWST embargo ends"),
]

QUERIES = [
    ("What each archive holds",
     "SELECT archive, mission, instrument, COUNT(*) AS products, "
     "SUM(access = 'exclusive') AS exclusive FROM products "
     "GROUP BY archive, mission, instrument ORDER BY archive, mission, instrument"),
    ("Found by the comet's ephemeris: frames that never name it (rule, and how far inside the "
     "footprint's edge the predicted position fell)",
     "SELECT product_key, mission, instrument, target_name, matched_by AS rule, "
     "json_extract(extra, '$.ephemeris.offset_arcsec') AS offset_arcsec, "
     "substr(json_extract(extra, '$.ephemeris.time'), 1, 16) AS inside_at FROM products "
     "WHERE matched_by LIKE 'ephemeris:%' ORDER BY mission, obs_start"),
    ("What happened, by kind of event",
     "SELECT kind, COUNT(*) AS events, MIN(time) AS first, MAX(time) AS last "
     "FROM events GROUP BY kind ORDER BY kind"),
    ("Still under exclusive access (metadata public, data embargoed)",
     "SELECT product_key, mission, instrument, obs_start, release_date FROM products "
     "WHERE access = 'exclusive' ORDER BY release_date"),
    ("Release latency (days from end of observation to public)",
     "SELECT archive, mission, instrument, COUNT(*) AS n, "
     "ROUND(AVG(julianday(COALESCE(release_date, first_public, first_seen)) - "
     "julianday(obs_end)), 1) AS mean_days FROM products WHERE access = 'public' "
     "AND obs_end IS NOT NULL GROUP BY archive, mission, instrument ORDER BY mean_days DESC"),
]


# Sources that find frames by the comet's ephemeris, and the sandbox service each one asks.
FOOTPRINT_KINDS = {"mast-position": "mast", "obscore-position": None, "catch": "catch"}


def sandbox_config(config: Config, base_urls: dict[str, str]) -> Config:
    """The user's config pointed at the sandbox: every source the sandbox stands in for,
    ObsCore archives and footprint searches shipped disabled included, and no need to spare a
    local server."""
    base_urls = dict(base_urls)
    sources = {}
    for name, s in config.sources.items():
        if s.kind in FOOTPRINT_KINDS:
            # A footprint search asks its archive's service: MAST's, the ObsCore service of its
            # `archive` (irsa), CATCH's.
            service = FOOTPRINT_KINDS[s.kind] or getattr(s, "archive", "") or name
            if service in base_urls:
                base_urls[name] = base_urls[service]
                s = dataclasses.replace(s, enabled=True)
                if hasattr(s, "poll_interval"):
                    s = dataclasses.replace(s, poll_interval=0.05)  # the sandbox's jobs are quick
        elif s.kind == "obscore" and name in base_urls:
            s = dataclasses.replace(s, enabled=True)
        # A source's own rate limit is per host, and every sandbox archive shares one host.
        sources[name] = dataclasses.replace(s, rate_limit=None)
    config = with_base_urls(dataclasses.replace(config, sources=sources), base_urls)
    if "horizons" in base_urls and config.ephemeris is not None:
        config = dataclasses.replace(config, ephemeris=dataclasses.replace(
            config.ephemeris, horizons_url=base_urls["horizons"], rate_limit=None))
    return dataclasses.replace(config, http=dataclasses.replace(
        config.http, rate_limit=100.0, backoff_initial=0.1, backoff_max=1.0))


def resolve_names(config: Config, base_urls: dict[str, str], echo: Callable[[str], None]) -> None:
    from harvester.engine import archive_target_ids
    from harvester.names.store import resolve_and_store
    from harvester.timeutil import iso, utcnow

    echo("\n== harvester target resolve: every designation of 3I from the sandbox's JPL SBDB and MPC,"
         " and its context LID from the PDS registry")
    outcome = resolve_and_store(config, sbdb_base=base_urls["sbdb"], mpc_base=base_urls["mpc"],
                                now=iso(utcnow()), archives=archive_target_ids)
    for answer in outcome.answers:
        accepted = ", ".join(c.text for c in answer.accepted) or "none"
        echo(f"  {answer.service}: {answer.error or 'accepted ' + accepted}")


def show_watch(catalog_path: str, config: Config, now: datetime, echo: Callable[[str], None]) -> None:
    from harvester.watch.report import summary_lines

    echo(f"\n== harvester gaps --catalog {catalog_path} --as-of {now.date()} (the release watch, in short)")
    for line in summary_lines(catalog_path, config, now):
        echo("  " + line)
    echo(f"  Full table and a chart: harvester gaps --catalog {catalog_path} --plot gaps.html")


def show_news(catalog_path: str, links: Any, since: str, echo: Callable[[str], None]) -> None:
    from harvester.news.render import render_text
    from harvester.news.service import whats_new
    from harvester.news.since import parse_since
    from harvester.timeutil import parse_iso

    echo(f"\n== harvester news --catalog {catalog_path} --since {since[:10]} (what the last "
         "harvest brought, in plain words)")
    digest = whats_new(catalog_path, parse_since(since, parse_iso(since)), now=parse_iso(since),
                       links=links)
    for line in render_text(digest).splitlines():
        echo("  " + line if line else "")


def run_demo(config_path: str | None, catalog_path: str, *, keep: bool,
             echo: Callable[[str], None]) -> None:
    from catalog.query import readonly_connection, run_query
    from catalog.status import source_status
    from harvester.alerts.demo import add_demo_subscription, show_pending_alerts
    from harvester.engine import harvest
    from harvester.links import Links
    from harvester.output import write_rows
    from harvester.sandbox import Sandbox, default_scenario

    if not keep:
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{catalog_path}{suffix}").unlink(missing_ok=True)
    scenario = default_scenario()
    with Sandbox(scenario, port=0) as sandbox:
        config = sandbox_config(load_config(config_path, catalog_override=catalog_path),
                                sandbox.base_urls)
        final_clock = sandbox.clock
        last_look = final_clock
        saved_now = os.environ.get("HARVESTER_NOW")
        try:
            os.environ["HARVESTER_NOW"] = LOOKS[0][0]
            add_demo_subscription(catalog_path, echo)
            resolve_names(config, sandbox.base_urls, echo)
            for clock, label in LOOKS:
                clock = clock or final_clock.strftime("%Y-%m-%dT%H:%M:%SZ")
                last_look = sandbox.set_clock(clock)
                os.environ["HARVESTER_NOW"] = clock
                echo(f"\n== Harvest at {clock} ({label}) from the sandbox archives at {sandbox.url}")
                report = harvest(config)
                for result in report.results:
                    echo("  " + result.summary_line())
        finally:
            if saved_now is None:
                os.environ.pop("HARVESTER_NOW", None)
            else:
                os.environ["HARVESTER_NOW"] = saved_now
    # Links to the archives the user's config names, not to the sandbox that is gone by now.
    show_news(catalog_path, Links.from_config(load_config(config_path)), LOOKS[-1][0], echo)
    show_pending_alerts(catalog_path, echo, limit=8)
    echo(f"\n== harvester status --catalog {catalog_path}")
    conn = readonly_connection(catalog_path)
    try:
        rows = source_status(conn, list(config.sources))
    finally:
        conn.close()
    columns = ["source", "status", "products", "exclusive", "last_new_product", "rejects"]
    write_rows(columns, [[r.get(c) for c in columns] for r in rows], "table")
    for title, query in QUERIES:
        echo(f"\n== {title}\n   harvester sql --catalog {catalog_path} \"{query}\"")
        cols, result_rows = run_query(catalog_path, query)
        write_rows(cols, result_rows, "table")
    # Last, the watch as of the last harvest: what the catalog holds then is what it judges.
    show_watch(catalog_path, config, last_look, echo)
    echo(f"\nThe catalog is {catalog_path}. Try: harvester sql --catalog {catalog_path} "
         "\"select * from products limit 5\"")
