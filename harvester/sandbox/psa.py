"""ESA PSA TAP stand-in: `{prefix}/sync` on table `psa.epn_core` (EPN-TAP 2.0 columns).

A scenario granule:
    {"granule_uid": ..., "target_name": ..., "alt_target_name": "C/2025 N1#3I",
     "instrument_host_name": ..., "instrument_name": ..., "time_min": ISO or JD,
     "time_max": ..., "creation_date": ISO, "release_date": ISO (2099-01-01 = placeholder),
     "appears": ISO (default creation_date), "revisions": [{"appears": ISO, ...changed columns}]}
A granule is served once `appears` has passed; each revision changes it once its own `appears`
has passed (modification_date follows unless the revision sets it), as a re-delivery would.
time_min/time_max are served as Julian Dates; other dates as ISO text, as the PSA sends them.

A record `{"schema": {"absent": ["alt_target_name"]}}` serves the table without those columns:
alt_target_name is optional in EPN-TAP 2.0 and in no public PSA column list, and a query naming a
column the table lacks fails whole. TAP_SCHEMA.columns says which columns exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .archive import Archive, SandboxRequest
from .reply import Reply, text_reply
from .tap import CONTROL_KEYS, Column, TapRow, TapTable, serve_sync
from .timeutil import parse_time, to_mjd

TABLE = "psa.epn_core"
JD_MJD_OFFSET = 2400000.5
COLUMNS = [
    Column("granule_uid", "char"), Column("granule_gid", "char"), Column("obs_id", "char"),
    Column("dataproduct_type", "char"), Column("target_name", "char"),
    Column("alt_target_name", "char"), Column("target_class", "char"),
    Column("time_min", "double", unit="d", ucd="time.start"),
    Column("time_max", "double", unit="d", ucd="time.end"),
    Column("instrument_host_name", "char"), Column("instrument_name", "char"),
    Column("measurement_type", "char"), Column("processing_level", "int"),
    Column("creation_date", "char", xtype="timestamp"),
    Column("modification_date", "char", xtype="timestamp"),
    Column("release_date", "char", xtype="timestamp"),
    Column("service_title", "char"), Column("access_url", "char"), Column("access_format", "char"),
    Column("access_estsize", "int", unit="kbyte"), Column("thumbnail_url", "char"),
    Column("file_name", "char"), Column("s_region", "char"),
]
_NAMES = [c.name for c in COLUMNS]


def _jd(value: Any) -> Any:
    """ISO -> JD; numbers are taken as JD already; anything else is served verbatim."""
    if value is None or isinstance(value, int | float):
        return value
    try:
        return round(to_mjd(value) + JD_MJD_OFFSET, 6)
    except ValueError:
        return value


def _columns(raw: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in raw.items() if k not in CONTROL_KEYS and not k.startswith("_")}
    for name in ("time_min", "time_max"):
        if name in values:
            values[name] = _jd(values[name])
    return values


def make_row(raw: dict[str, Any]) -> TapRow:
    uid = raw.get("granule_uid")
    if not uid:
        raise ValueError(f"PSA granule without granule_uid: {raw!r}")
    created = raw.get("creation_date") or raw.get("appears") or "2025-01-01T00:00:00"
    row = {name: None for name in _NAMES}
    row.update({
        "granule_gid": "corrected", "obs_id": str(uid).rsplit(":", 1)[-1],
        "dataproduct_type": "im", "target_class": "comet", "measurement_type": "phot.flux",
        "processing_level": 2, "creation_date": created, "modification_date": created,
        "release_date": created, "service_title": "PSA", "access_format": "application/x-pds4",
    })
    row.update(_columns(raw))
    if row["time_max"] is None:
        row["time_max"] = row["time_min"]
    revisions = []
    for revision in raw.get("revisions") or []:
        fields = _columns(revision)
        fields.setdefault("modification_date", revision["appears"])
        revisions.append((parse_time(revision["appears"]), fields))
    revisions.sort(key=lambda r: r[0])
    return TapRow(str(uid), row, parse_time(raw.get("appears") or created), revisions)


class PsaArchive(Archive):
    prefix = "/psa-tap/tap"
    # A service's row limits (TAP: MAXREC default and hard cap); tests lower them to force caps.
    default_maxrec = 2000
    maxrec_limit = 50000

    def __init__(self) -> None:
        self.table = TapTable(TABLE, COLUMNS, "granule_uid", make_row)

    def add(self, records: Iterable[dict[str, Any]]) -> int:
        rows = []
        for record in records:
            if "schema" in record:
                self.table.drop_columns((record["schema"] or {}).get("absent") or [])
            else:
                rows.append(record)
        return self.table.add(rows)

    def corrupt(self, key: Any, **fields: Any) -> None:
        self.table.corrupt(str(key), **fields)

    def __len__(self) -> int:
        return len(self.table)

    def serve(self, request: SandboxRequest) -> Reply:
        if request.path.rstrip("/") != "/sync":
            return text_reply(f"Not found: {self.prefix}{request.path}", 404)
        return serve_sync(request.method, request.query, request.body, {TABLE: self.table},
                          request.clock, default_maxrec=self.default_maxrec,
                          maxrec_limit=self.maxrec_limit)

    def base_urls(self, base_url: str) -> dict[str, str]:
        return {"psa": base_url}
