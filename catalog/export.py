"""Parquet export: the catalog as three datasets readable by pyarrow, pandas and DuckDB,

    DIR/products/archive=mast/part-0.parquet   (hive-partitioned by archive)
    DIR/events/part-0.parquet
    DIR/expected_status/part-0.parquet         (the release watch's statuses, with what each
                                                observation is)

with typed columns: times are timestamp[us, UTC], counts and sizes int64, days float64, and the
JSON columns (`extra`, `raw`, `detail`) strings whose meaning is in their field metadata and the
schema's (`harvester.json_columns`). DIR is replaced whole, atomically, and never when it holds
anything but a previous export.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.query import readonly_connection
from harvester.errors import CatalogError

BATCH_ROWS = 20_000
DATASETS = ("products", "events", "expected_status")

TIME = "time"
JSON = "json"

PRODUCTS = [
    ("product_key", "str"), ("archive", "str"), ("native_id", "str"), ("version", "str"),
    ("source", "str"), ("mission", "str"), ("instrument", "str"), ("target_name", "str"),
    ("matched_by", "str"), ("product_type", "str"), ("processing_level", "str"),
    ("obs_start", TIME), ("obs_end", TIME), ("release_date", TIME), ("access", "str"),
    ("first_seen", TIME), ("last_seen", TIME), ("updated_at", TIME), ("first_public", TIME),
    ("url", "str"), ("size_bytes", "int"), ("program", "str"), ("title", "str"),
    ("extra", JSON), ("raw", JSON), ("content_hash", "str"),
]
EVENTS = [
    ("id", "int"), ("time", TIME), ("kind", "str"), ("product_key", "str"), ("source", "str"),
    ("run_id", "int"), ("expected_id", "str"), ("detail", JSON),
]
EXPECTED_STATUS = [
    ("expected_id", "str"), ("status", "str"), ("as_of", TIME), ("platform", "str"),
    ("archive", "str"), ("mission", "str"), ("instrument", "str"), ("program", "str"),
    ("obs_start", TIME), ("obs_end", TIME), ("due_date", TIME), ("due_basis", "str"),
    ("first_public", TIME), ("latency_days", "float"), ("exclusive_until", TIME),
    ("overdue_days", "float"), ("due_in_days", "float"), ("products", "int"),
    ("public_products", "int"), ("reason", "str"),
]
MEANINGS = {
    "extra": "JSON object: the archive's further fields, normalized (e.g. MAST jpegURL, PSA "
             "thumbnail_url, MPC positions); parse with json.loads or DuckDB's json functions",
    "raw": "JSON: the record exactly as the archive sent it",
    "detail": "JSON object: what the event is about (an update's changed columns and their "
              "values before, a release date, the release watch's reason and due date)",
}
DESCRIPTIONS = {
    "products": "One row per archive product of 3I/ATLAS, keyed archive:native id.",
    "events": "What happened, append-only, with a stable id: new, updated, released products; "
              "the release watch's overdue, silent and failing events.",
    "expected_status": "The release watch's last conclusion for each documented observation "
                       "(status, due date, first public, latency), with what it is.",
}
QUERIES = {
    "products": "SELECT {columns} FROM products ORDER BY archive, product_key",
    "events": "SELECT {columns} FROM events ORDER BY id",
    "expected_status": "SELECT {columns} FROM expected_status s LEFT JOIN expected x "
                       "ON x.id = s.expected_id ORDER BY x.position, s.expected_id",
}
_QUALIFIED = {"expected_status": {
    **{c: f"s.{c}" for c, _ in EXPECTED_STATUS},
    **{c: f"x.{c}" for c in ("platform", "archive", "mission", "instrument", "program",
                             "obs_start", "obs_end")},
}}
COLUMNS = {"products": PRODUCTS, "events": EVENTS, "expected_status": EXPECTED_STATUS}


@dataclass
class ExportReport:
    counts: dict[str, int]
    unreadable_times: int = 0  # time values that were not ISO 8601, left empty

    def summary(self, directory: str) -> str:
        c = self.counts
        text = (f"wrote {c['products']:,} products (partitioned by archive), {c['events']:,} "
                f"events and {c['expected_status']:,} expected observations to {directory}")
        if self.unreadable_times:
            text += f" ({self.unreadable_times} time values were not ISO 8601 and are empty)"
        return text


def schema_of(dataset: str) -> Any:
    import pyarrow as pa

    types = {TIME: pa.timestamp("us", tz="UTC"), JSON: pa.string(), "str": pa.string(),
             "int": pa.int64(), "float": pa.float64()}
    fields = []
    for name, kind in COLUMNS[dataset]:
        meta = {}
        if kind == JSON:
            meta = {"format": "json", "meaning": MEANINGS[name]}
        elif kind == TIME:
            meta = {"meaning": "UTC time (the catalog's ISO 8601 text)"}
        fields.append(pa.field(name, types[kind], metadata=meta or None))
    json_columns = {n: MEANINGS[n] for n, kind in COLUMNS[dataset] if kind == JSON}
    return pa.schema(fields, metadata={
        "harvester.dataset": dataset, "harvester.description": DESCRIPTIONS[dataset],
        "harvester.json_columns": json.dumps(json_columns), "harvester.times": "UTC"})


def export_parquet(catalog_path: str | Path, out_dir: str | Path) -> ExportReport:
    """Write the three datasets to `out_dir`, replacing a previous export whole."""
    import pyarrow.dataset as ds

    out = Path(out_dir)
    _refuse_foreign_directory(out)
    conn = readonly_connection(catalog_path)  # before anything is made: a bad catalog leaves nothing
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as exc:
        conn.close()
        raise CatalogError(f"{out}: cannot write the export here: {exc.strerror or exc}") from None
    report = ExportReport(counts={})
    try:
        for dataset in DATASETS:
            schema = schema_of(dataset)
            batches = _batches(conn, dataset, schema, report)
            target = staging / "data" / dataset
            options: dict[str, Any] = {}
            if dataset == "products":
                import pyarrow as pa

                options["partitioning"] = ds.partitioning(pa.schema([("archive", pa.string())]),
                                                          flavor="hive")
            ds.write_dataset(batches, target, schema=schema, format="parquet",
                             basename_template="part-{i}.parquet",
                             existing_data_behavior="overwrite_or_ignore", **options)
            target.mkdir(parents=True, exist_ok=True)  # an empty dataset is still a folder
    except OSError as exc:
        # pyarrow raises OSError for a full disk or a file it cannot write: one line, and the
        # previous export (if any) is left as it was.
        shutil.rmtree(staging, ignore_errors=True)
        raise CatalogError(f"{out}: export failed, the previous one (if any) is unchanged: "
                           f"{getattr(exc, 'strerror', None) or exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        conn.close()
    _swap_in(staging, out)
    return report


def _batches(conn: sqlite3.Connection, dataset: str, schema: Any, report: ExportReport
             ) -> Iterator[Any]:
    import pyarrow as pa

    names = [n for n, _ in COLUMNS[dataset]]
    kinds = dict(COLUMNS[dataset])
    qualified = _QUALIFIED.get(dataset, {})
    columns = ", ".join(f"{qualified.get(n, n)} AS {n}" for n in names)
    report.counts[dataset] = 0
    try:
        cursor = conn.execute(QUERIES[dataset].format(columns=columns))
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise CatalogError(f"export {dataset}: {exc}") from None
        return  # a catalog from before that feature: an empty dataset
    while True:
        rows = cursor.fetchmany(BATCH_ROWS)
        if not rows:
            return
        report.counts[dataset] += len(rows)
        arrays = []
        for i, name in enumerate(names):
            values = [r[i] for r in rows]
            if kinds[name] == TIME:
                arrays.append(_times(values, report))
            else:
                arrays.append(pa.array(values, type=schema.field(name).type))
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _times(values: list[Any], report: ExportReport) -> Any:
    """ISO 8601 texts as timestamp[us, UTC]: Arrow's own parser for the catalog's canonical
    form, one by one for anything else (a bare date is its UTC midnight)."""
    import pyarrow as pa

    kind = pa.timestamp("us", tz="UTC")
    try:
        return pa.array(values, type=pa.string()).cast(kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    parsed = []
    for value in values:
        moment = _parse_time(value)
        if moment is None and value not in (None, ""):
            report.unreadable_times += 1
        parsed.append(moment)
    return pa.array(parsed, type=kind)


def _parse_time(value: Any) -> datetime | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _swap_in(staging: Path, out: Path) -> None:
    previous = None
    if out.exists():
        previous = out.with_name(f".{out.name}-old")
        shutil.rmtree(previous, ignore_errors=True)
        out.rename(previous)
    (staging / "data").rename(out)
    shutil.rmtree(staging, ignore_errors=True)
    if previous:
        shutil.rmtree(previous, ignore_errors=True)


def _refuse_foreign_directory(out: Path) -> None:
    """The export replaces `out` whole; never do that to a folder that holds anything else.
    A previous export is the three datasets (or, from older versions, `archive=` folders)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise CatalogError(f"{out}: exists and is not a directory")
    foreign = [p.name for p in out.iterdir()
               if not (p.is_dir() and (p.name in DATASETS or p.name.startswith("archive=")))]
    if foreign:
        raise CatalogError(
            f"{out}: holds files that are not a previous export ({', '.join(sorted(foreign)[:3])}); "
            "choose an empty or new directory"
        )
