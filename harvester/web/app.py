"""`harvester serve`: the catalog on a web page through Datasette, read-only.

Besides the tables and canned queries: "What's new" (the `harvester news` digest) and the
release watch chart on pages of their own, a search box over the products' full-text index,
preview images where the archive gives one, and table pages that open on their rows.

The catalog is opened with `?mode=ro` (not `immutable`: harvests keep writing to it, and an
immutable open would not see their WAL; in a read-only directory, where SQLite cannot open a
WAL catalog that way, with `immutable=1` as catalog.db.open_readonly decides), and the database
refuses to hand out a writable connection at all, so nothing served can change the catalog:
Datasette's SQL box accepts only SELECT, and SQLite refuses a write on a read-only connection
besides.

Bounded like any user SQL: Datasette's sql_time_limit_ms and max_returned_rows, plus
catalog.limits' value size and memory ceiling on every connection.

Alert details stay private: every connection reads `subscriptions.address` and
`deliveries.error` (webhook URLs with tokens, mail addresses) as NULL, whatever the query (an
SQLite authorizer answering IGNORE), and the two tables are not listed. `--show-alerts` lists
them, with a canned query showing the addresses redacted (harvester.redact), through a view
that alone may read them.
"""

from __future__ import annotations

import importlib.util
import re
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harvester.errors import HarvesterError

INSTALL_HINT = ("harvester serve needs Datasette, which the harvester installs: reinstall it "
                "(pip install -e . in its folder, or pip install harvester-3i)")
# The Datasette releases `harvester serve` is tested with (the dependency's range, which
# tests/test_dependencies.py keeps equal to this): from 0.64 up to, not including, 0.66.
TESTED_DATASETTE = ((0, 64), (0, 66))
TEMPLATES = Path(__file__).parent / "templates"
# Long cells (raw JSON, extra) are cut on the page; the row page and JSON have them whole.
TRUNCATE_CELLS = 300


def require_datasette() -> None:
    try:
        import datasette  # noqa: F401
        import uvicorn  # noqa: F401
        from datasette.version import __version__
    except ImportError:
        raise HarvesterError(INSTALL_HINT) from None
    low, high = TESTED_DATASETTE
    if not low <= _release(__version__) < high:
        raise HarvesterError(
            f"harvester serve is tested with Datasette {low[0]}.{low[1]} up to {high[0]}.{high[1]} "
            f"(not included); this is Datasette {__version__}: "
            f"pip install 'datasette>={low[0]}.{low[1]},<{high[0]}.{high[1]}'")


def _release(version: str) -> tuple[int, ...]:
    """(major, minor) of a version string: "0.65.5" -> (0, 65); "1.0a19" -> (1, 0)."""
    numbers = [int(re.match(r"\d*", part).group() or 0) for part in version.split(".")[:2]]
    return tuple(numbers + [0] * (2 - len(numbers)))



# Columns no page may show as they are, and the views (made on each connection) that may read
# them to show them redacted.
PRIVATE_COLUMNS = {("subscriptions", "address"), ("deliveries", "error")}
REDACTING_VIEWS = ("alert_subscriptions", "alert_deliveries")


def private_columns_authorizer(action: int, arg1: str | None, arg2: str | None,
                               database: str | None, context: str | None) -> int:
    if (action == sqlite3.SQLITE_READ and (arg1, arg2) in PRIVATE_COLUMNS
            and context not in REDACTING_VIEWS):
        return sqlite3.SQLITE_IGNORE  # reads as NULL
    return sqlite3.SQLITE_OK


def prepare_connection(conn: sqlite3.Connection) -> None:
    """What every connection Datasette gets has: the redacting views, the bounds, then the
    authorizer (last: it would not let the views be made)."""
    from catalog.limits import HEAP_CEILING, MAX_VALUE_BYTES, heap_ceiling
    from harvester.redact import redact_address, redact_text

    conn.create_function("harvester_redact_address", 2, redact_address, deterministic=True)
    conn.create_function("harvester_redact_text", 1, redact_text, deterministic=True)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "subscriptions" in tables:
        conn.execute("CREATE TEMP VIEW IF NOT EXISTS alert_subscriptions AS SELECT id, name, "
                     "channel, harvester_redact_address(channel, address) AS address, mode, "
                     "format, predicate, created_at, matched_through, match_error "
                     "FROM main.subscriptions")
    if "deliveries" in tables:
        conn.execute("CREATE TEMP VIEW IF NOT EXISTS alert_deliveries AS SELECT id, "
                     "subscription_id, event_id, status, attempts, next_attempt_at, sent_at, "
                     "harvester_redact_text(error) AS error FROM main.deliveries")
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    heap_ceiling(HEAP_CEILING)
    conn.set_authorizer(private_columns_authorizer)


def build_datasette(catalog_path: str, config: Any = None, *, show_alerts: bool = False) -> Any:
    """A Datasette over the catalog alone, with its metadata, canned queries, Atom feeds and
    the harvester's pages. `config` (a harvester Config) gives the release watch its campaign
    and the links their MAST base URL; default: the packaged config."""
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm
    from datasette.utils import tilde_encode

    from catalog.db import open_readonly, readonly_uri
    from harvester.links import Links
    from harvester.web.metadata import build_metadata
    from harvester.web.pages import WebContext

    path = str(Path(catalog_path).resolve())
    name = Path(catalog_path).stem or "catalog"
    conn = open_readonly(path)  # a missing or unreadable catalog is one clear line, here
    try:
        uri = readonly_uri(conn, path)  # mode=ro, or immutable=1 in a read-only directory
        metadata = build_metadata(conn, name, "/" + tilde_encode(name), show_alerts=show_alerts)
    finally:
        conn.close()

    class ReadOnlyDatabase(Database):
        def connect(self, write: bool = False) -> Any:
            if write:
                raise PermissionError("harvester serve opens the catalog read-only")
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            getattr(self, "_all_file_connections", []).append(conn)
            prepare_connection(conn)
            return conn

    _register_atom_renderer(pm)
    _register_pages(pm)
    if config is None:
        from harvester.config import load_config

        config = load_config(None, catalog_override=path)
    ds = Datasette(files=[], metadata=metadata, template_dir=str(TEMPLATES),
                   settings={"sql_time_limit_ms": 5000, "max_returned_rows": 1000,
                             "allow_download": False, "truncate_cells_html": TRUNCATE_CELLS})
    ds.harvester = WebContext(name=name, path=path, config=config, links=Links.from_config(config))
    for existing in list(ds.databases):
        if existing == "_memory":
            ds.remove_database(existing)
    ds.add_database(ReadOnlyDatabase(ds, path, is_mutable=True), name=name)
    return ds


def _register_atom_renderer(pm: Any) -> None:
    # datasette-atom, when installed, registers the same `.atom` extension itself.
    if importlib.util.find_spec("datasette_atom") is not None:
        return
    from harvester.web import atom as serve_atom

    if not pm.is_registered(serve_atom):
        pm.register(serve_atom, name="harvester-atom")


def _register_pages(pm: Any) -> None:
    from harvester.web import pages

    if not pm.is_registered(pages):
        pm.register(pages, name="harvester-pages")


def listen(host: str, port: int) -> socket.socket:
    """Bind before starting, so port 0 can be told to the user and a busy port is one line."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        raise HarvesterError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def serve(catalog_path: str, *, host: str, port: int, echo: Callable[[str], Any],
          config: Any = None, show_alerts: bool = False) -> None:
    require_datasette()
    import uvicorn

    ds = build_datasette(catalog_path, config, show_alerts=show_alerts)
    sock = listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    echo(f"serving {catalog_path} read-only at http://{shown}:{bound_port}/ (Ctrl-C to stop)")
    server = uvicorn.Server(uvicorn.Config(ds.app(), log_level="warning", lifespan="off"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
