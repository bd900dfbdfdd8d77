"""`harvester serve`: the catalog on a web page through Datasette, read-only.

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

INSTALL_HINT = "harvester serve needs Datasette: pip install 'harvester-3i[web]'"


def require_datasette() -> None:
    try:
        import datasette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise HarvesterError(INSTALL_HINT) from None


def build_datasette(catalog_path: str) -> Any:
    """A Datasette over the catalog alone, with its metadata, canned queries and Atom feeds."""
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm
    from datasette.utils import tilde_encode

    from catalog.db import open_readonly
    from harvester.web.metadata import build_metadata

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
    ds = Datasette(files=[], metadata=metadata,
                   settings={"sql_time_limit_ms": 5000, "allow_download": False})
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


def serve(catalog_path: str, *, host: str, port: int, echo: Callable[[str], Any]) -> None:
    require_datasette()
    import uvicorn

    ds = build_datasette(catalog_path)
    sock = listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    echo(f"serving {catalog_path} read-only at http://{shown}:{bound_port}/ (Ctrl-C to stop)")
    server = uvicorn.Server(uvicorn.Config(ds.app(), log_level="warning", lifespan="off"))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
