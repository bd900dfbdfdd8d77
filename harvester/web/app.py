"""`harvester serve`: the catalog on a web page through Datasette, read-only.

Besides the tables and canned queries: "What's new" (the `harvester news` digest) and the
release watch chart on pages of their own, a search box over the products' full-text index,
preview images where the archive gives one, and table pages that open on their rows.

The catalog is opened with `?mode=ro` (not `immutable`: harvests keep writing to it, and an
immutable open would not see their WAL), and the database refuses to hand out a writable
connection at all, so nothing served can change the catalog: Datasette's SQL box accepts only
SELECT, and SQLite refuses a write on a read-only connection besides.
"""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harvester.errors import HarvesterError

INSTALL_HINT = ("harvester serve needs Datasette, which the harvester installs: reinstall it "
                "(pip install -e . in its folder, or pip install harvester-3i)")
TEMPLATES = Path(__file__).parent / "templates"
# Long cells (raw JSON, extra) are cut on the page; the row page and JSON have them whole.
TRUNCATE_CELLS = 300


def require_datasette() -> None:
    try:
        import datasette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise HarvesterError(INSTALL_HINT) from None


def build_datasette(catalog_path: str, config: Any = None) -> Any:
    """A Datasette over the catalog alone, with its metadata, canned queries, Atom feeds and
    the harvester's pages. `config` (a harvester Config) gives the release watch its campaign
    and the links their MAST base URL; default: the packaged config."""
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm
    from datasette.utils import tilde_encode

    from catalog.db import open_readonly
    from harvester.links import Links
    from harvester.web.metadata import build_metadata
    from harvester.web.pages import WebContext

    class ReadOnlyDatabase(Database):
        def connect(self, write: bool = False) -> Any:
            if write:
                raise PermissionError("harvester serve opens the catalog read-only")
            return super().connect(write=False)

    path = str(Path(catalog_path).resolve())
    name = Path(catalog_path).stem or "catalog"
    conn = open_readonly(path)  # a missing or unreadable catalog is one clear line, here
    try:
        metadata = build_metadata(conn, name, "/" + tilde_encode(name))
    finally:
        conn.close()
    _register_atom_renderer(pm)
    _register_pages(pm)
    if config is None:
        from harvester.config import load_config

        config = load_config(None, catalog_override=path)
    ds = Datasette(files=[], metadata=metadata, template_dir=str(TEMPLATES),
                   settings={"sql_time_limit_ms": 5000, "allow_download": False,
                             "truncate_cells_html": TRUNCATE_CELLS})
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
          config: Any = None) -> None:
    require_datasette()
    import uvicorn

    ds = build_datasette(catalog_path, config)
    sock = listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    echo(f"serving {catalog_path} read-only at http://{shown}:{bound_port}/ (Ctrl-C to stop)")
    server = uvicorn.Server(uvicorn.Config(ds.app(), log_level="warning", lifespan="off"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
