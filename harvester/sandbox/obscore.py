"""ObsCore TAP stand-ins: several services, each `{prefix}/<service>/tap/sync` with `ivoa.obscore`.

A scenario row:
    {"service": "eso" | "irsa" | "heasarc" | "cadc" | any name, "obs_publisher_did": ...,
     "obs_collection": ..., "target_name": ..., "t_min": ISO or MJD, "t_max": ...,
     "obs_release_date": ISO, "appears": ISO (default t_max + 1 day), "revisions": [...]}
A row is served once `appears` has passed: metadata of data still under exclusive access is
public, with obs_release_date in the future, as at ESO. t_min/t_max are served as MJD.

Rows are keyed by (obs_publisher_did, obs_id): a real ALMA answer has two rows with one
publisher DID and different obs_ids (tests/data/obscore/alma_duplicate_did.vot.xml). A record
`{"service": "koa", "schema": {"row_limit": 0, "absent": [...]}}` gives a service its own cap
below MAXREC (KOA answered QUERY_STATUS=OVERFLOW with zero rows and no DATA element) and drops
columns it lacks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from .archive import Archive, SandboxRequest
from .reply import Reply, text_reply
from .tap import CONTROL_KEYS, Column, TapRow, TapTable, serve_sync
from .timeutil import mjd_to_datetime, parse_time, to_mjd

TABLE = "ivoa.obscore"
SERVICES = ("eso", "irsa", "heasarc", "cadc")
COLUMNS = [
    Column("dataproduct_type", "char"), Column("calib_level", "int"), Column("obs_collection", "char"),
    Column("obs_id", "char"), Column("obs_publisher_did", "char"), Column("access_url", "char"),
    Column("access_format", "char"), Column("access_estsize", "long", unit="kbyte"),
    Column("target_name", "char"), Column("s_ra", "double", unit="deg"),
    Column("s_dec", "double", unit="deg"), Column("s_region", "char"),
    Column("t_min", "double", unit="d"), Column("t_max", "double", unit="d"),
    Column("t_exptime", "double", unit="s"), Column("em_min", "double", unit="m"),
    Column("em_max", "double", unit="m"), Column("o_ucd", "char"),
    Column("instrument_name", "char"), Column("facility_name", "char"),
    Column("proposal_id", "char"), Column("obs_title", "char"), Column("data_rights", "char"),
    Column("obs_release_date", "char", xtype="timestamp"), Column("obs_creator_did", "char"),
]
_NAMES = [c.name for c in COLUMNS]


def _mjd(value: Any) -> Any:
    if value is None or isinstance(value, int | float):
        return value
    try:
        return to_mjd(value)
    except ValueError:
        return value


def _columns(raw: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in raw.items() if k not in CONTROL_KEYS and not k.startswith("_")}
    for name in ("t_min", "t_max"):
        if name in values:
            values[name] = _mjd(values[name])
    return values


def row_key(did: Any, obs_id: Any) -> str:
    return f"{did}\n{obs_id or ''}"


def make_row(raw: dict[str, Any]) -> TapRow:
    did = raw.get("obs_publisher_did")
    if not did:
        raise ValueError(f"ObsCore row without obs_publisher_did: {raw!r}")
    row = {name: None for name in _NAMES}
    row.update({"dataproduct_type": "image", "calib_level": 2, "access_format": "application/fits"})
    row.update(_columns(raw))
    if row["t_max"] is None:
        row["t_max"] = row["t_min"]
    if row["t_min"] is not None and row["t_max"] is not None and row["t_exptime"] is None \
            and isinstance(row["t_min"], float | int) and isinstance(row["t_max"], float | int):
        row["t_exptime"] = round((row["t_max"] - row["t_min"]) * 86400.0, 3)
    if raw.get("appears"):
        appears = parse_time(raw["appears"])
    elif isinstance(row["t_max"], int | float):
        # Pipelines publish metadata about a day after the exposure ends.
        appears = mjd_to_datetime(row["t_max"]) + timedelta(days=1)
    else:
        appears = parse_time(0.0)
    revisions = sorted(((parse_time(r["appears"]), _columns(r)) for r in raw.get("revisions") or []),
                       key=lambda r: r[0])
    return TapRow(row_key(did, row.get("obs_id")), row, appears, revisions)


class ObsCoreArchive(Archive):
    prefix = "/obscore"
    default_maxrec = 2000
    maxrec_limit = 50000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tables: dict[str, TapTable] = {name: self._table() for name in SERVICES}
        self.row_limits: dict[str, int] = {}

    @staticmethod
    def _table() -> TapTable:
        return TapTable(TABLE, COLUMNS, "obs_publisher_did", make_row)

    def add(self, records: Iterable[dict[str, Any]]) -> int:
        by_service: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            service = str(record.get("service") or SERVICES[0])
            if "schema" in record:
                self._configure(service, record["schema"] or {})
                continue
            by_service.setdefault(service, []).append(record)
        added = 0
        for service, rows in by_service.items():
            with self._lock:
                table = self.tables.setdefault(service, self._table())
            added += table.add(rows)
        return added

    def _configure(self, service: str, schema: dict[str, Any]) -> None:
        with self._lock:
            table = self.tables.setdefault(service, self._table())
            if "row_limit" in schema:
                self.row_limits[service] = int(schema["row_limit"])
        table.drop_columns(schema.get("absent") or [])

    def corrupt(self, key: Any, **fields: Any) -> None:
        """Corrupt the row(s) of publisher DID `key` (or of the exact (DID, obs_id) key)."""
        key = str(key)
        for table in self.tables.values():
            hits = [k for k in table.keys() if k == key or k.split("\n", 1)[0] == key]
            for hit in hits:
                table.corrupt(hit, **fields)
            if hits:
                return
        raise KeyError(key)

    def __len__(self) -> int:
        return sum(len(t) for t in self.tables.values())

    def serve(self, request: SandboxRequest) -> Reply:
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[1:] != ["tap", "sync"] or parts[0] not in self.tables:
            return text_reply(f"Not found: {self.prefix}{request.path}", 404)
        return serve_sync(request.method, request.query, request.body, {TABLE: self.tables[parts[0]]},
                          request.clock, default_maxrec=self.default_maxrec,
                          maxrec_limit=self.maxrec_limit, row_limit=self.row_limits.get(parts[0]))

    def base_urls(self, base_url: str) -> dict[str, str]:
        urls = {name: f"{base_url}/{name}/tap" for name in self.tables}
        urls["obscore"] = urls[SERVICES[0]]
        return urls
