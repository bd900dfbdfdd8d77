"""`harvester demo`: the offline tour. Sandbox archives in-process, two harvests a year apart on
the scenario's clock (so the tour shows products arriving late and embargoes ending), then the
status and a few SQL answers."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from harvester.config import load_config, with_base_urls

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


def run_demo(config_path: str | None, catalog_path: str, *, keep: bool,
             echo: Callable[[str], None]) -> None:
    from catalog.query import readonly_connection, run_query
    from catalog.status import source_status
    from harvester.engine import harvest
    from harvester.output import write_rows
    from harvester.sandbox import Sandbox, default_scenario

    if not keep:
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{catalog_path}{suffix}").unlink(missing_ok=True)
    scenario = default_scenario()
    with Sandbox(scenario, port=0) as sandbox:
        config = load_config(config_path, catalog_override=catalog_path)
        config = with_base_urls(config, sandbox.base_urls)
        # The sandbox is on this machine: no need to spare it like a real archive.
        config = dataclasses.replace(config, http=dataclasses.replace(
            config.http, rate_limit=100.0, backoff_initial=0.1, backoff_max=1.0))
        final_clock = sandbox.clock
        saved_now = os.environ.get("HARVESTER_NOW")
        try:
            for clock, label in LOOKS:
                clock = clock or final_clock.strftime("%Y-%m-%dT%H:%M:%SZ")
                sandbox.set_clock(clock)
                os.environ["HARVESTER_NOW"] = clock
                echo(f"\n== Harvest at {clock} ({label}) from the sandbox archives at {sandbox.url}")
                report = harvest(config)
                from harvester.cli import summary_line

                for result in report.results:
                    echo("  " + summary_line(result))
        finally:
            if saved_now is None:
                os.environ.pop("HARVESTER_NOW", None)
            else:
                os.environ["HARVESTER_NOW"] = saved_now
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
    echo(f"\nThe catalog is {catalog_path}. Try: harvester sql --catalog {catalog_path} "
         "\"select * from products limit 5\"")
