"""Helpers for tests that harvest the sandbox archives: configs, snapshots, subprocess runs."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from catalog.search import index_problem
from harvester.config import load_config, with_base_urls

# A "slow" fault holds the sandbox's answer past the client's read timeout. Runs that meet one use
# a short timeout, so the timeout path is exercised without seconds of waiting per attempt;
# every other run keeps 2 s, far above what a loaded machine makes of a loopback answer.
READ_TIMEOUT = 2.0
SLOW_READ_TIMEOUT = 0.5
SLOW_FAULT = ("slow", {"delay": 1.0})


def read_timeout_for(fault_kind: str) -> float:
    return SLOW_READ_TIMEOUT if fault_kind == SLOW_FAULT[0] else READ_TIMEOUT


def fast_http(read_timeout: float = READ_TIMEOUT) -> str:
    return f"""
[http]
connect_timeout = 2
read_timeout = {read_timeout}
retries = 3
backoff_initial = 0.01
backoff_max = 0.05
retry_after_max = 2
rate_limit = 1000
"""


FAST_HTTP = fast_http()


def config_text(base_urls: dict[str, str], catalog: str, *, mast_page_size: int = 4,
                pds_page_size: int = 3, extra: str = "") -> str:
    return f"""
[catalog]
path = "{catalog}"
{FAST_HTTP}
[sources.mast]
base_url = "{base_urls['mast']}"
page_size = {mast_page_size}
executing_interval = 0.0
[sources.pds]
base_url = "{base_urls['pds']}"
page_size = {pds_page_size}
{extra}
"""


def write_config(tmp_path: Path, base_urls: dict[str, str], catalog: str, **kwargs) -> str:
    path = tmp_path / f"harvester-{abs(hash(catalog)) % 10**6}.toml"
    path.write_text(config_text(base_urls, catalog, **kwargs))
    return str(path)


def in_process_config(base_urls: dict[str, str], catalog: str, *, read_timeout: float = READ_TIMEOUT):
    config = with_base_urls(load_config(), base_urls)
    config.catalog.path = catalog
    http = dataclasses.replace(config.http, connect_timeout=2, read_timeout=read_timeout, retries=3,
                               backoff_initial=0.01, backoff_max=0.05, retry_after_max=2,
                               rate_limit=1000)
    return dataclasses.replace(config, http=http)


def run_cli(args: list[str], *, now: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    if now:
        full_env["HARVESTER_NOW"] = now
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "harvester.cli", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout)


def start_cli(args: list[str], *, now: str | None = None, env: dict[str, str] | None = None
              ) -> subprocess.Popen:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    if now:
        full_env["HARVESTER_NOW"] = now
    full_env.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "harvester.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env)


def snapshot(db: str) -> dict:
    """What must be identical between an interrupted-then-resumed harvest and a clean one."""
    conn = sqlite3.connect(db)
    try:
        products = sorted(conn.execute(
            "SELECT product_key, content_hash, access, version, first_public IS NOT NULL FROM products"))
        events = sorted(conn.execute("SELECT kind, product_key FROM events"))
        cursors = sorted(conn.execute("SELECT source, cursor FROM source_state"))
        # The search index is written by triggers inside each page's transaction: after a
        # crash it must agree with the products row for row (FTS5's own check), and find them.
        index = index_problem(conn)
        found = sorted(row[0] for row in conn.execute(
            "SELECT p.product_key FROM products_fts f JOIN products p ON p.rowid = f.rowid "
            "WHERE products_fts MATCH 'atlas OR c2025n1 OR n1 OR hirise'"))
        # A first harvest builds its indexes after loading (catalog.bulk): killed or not, the
        # next run must leave every index and trigger in place, and the kept counts right.
        schema = sorted(conn.execute("SELECT type, name FROM sqlite_master"))
        counts = sorted(conn.execute("SELECT source, products, exclusive FROM source_counts"))
    finally:
        conn.close()
    return {"products": products, "events": events, "cursors": cursors, "search_index": index,
            "found_by_search": found, "schema": schema, "source_counts": counts}


def count(db: str, sql: str, *params) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()
