"""Parquet export: one dataset of the products, hive-partitioned by archive
(`DIR/archive=mast/part-0.parquet`), readable by pyarrow, pandas and DuckDB."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from catalog.query import readonly_connection
from harvester.errors import CatalogError

STRING_COLUMNS = (
    "product_key", "archive", "native_id", "version", "source", "mission", "instrument",
    "target_name", "matched_by", "product_type", "processing_level", "obs_start", "obs_end",
    "release_date", "access", "first_seen", "last_seen", "updated_at", "first_public", "url",
    "program", "title", "extra", "raw", "content_hash",
)
BATCH_ROWS = 20_000


def export_parquet(catalog_path: str | Path, out_dir: str | Path) -> int:
    """Write the products to `out_dir` (replaced whole, atomically); returns the row count."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    columns = [*STRING_COLUMNS[:20], "size_bytes", *STRING_COLUMNS[20:]]
    schema = pa.schema([(c, pa.int64() if c == "size_bytes" else pa.string()) for c in columns])
    out = Path(out_dir)
    _refuse_foreign_directory(out)
    conn = readonly_connection(catalog_path)  # before anything is made: a bad catalog leaves nothing
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as exc:
        conn.close()
        raise CatalogError(f"{out}: cannot write the export here: {exc.strerror or exc}") from None
    count = 0
    try:
        cursor = conn.execute(f"SELECT {', '.join(columns)} FROM products ORDER BY archive, product_key")

        def batches() -> Iterator[pa.RecordBatch]:
            nonlocal count
            while True:
                rows = cursor.fetchmany(BATCH_ROWS)
                if not rows:
                    return
                count += len(rows)
                arrays = [pa.array([r[i] for r in rows], type=schema.field(i).type)
                          for i in range(len(columns))]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)

        ds.write_dataset(
            batches(), staging / "data", schema=schema, format="parquet",
            partitioning=ds.partitioning(pa.schema([("archive", pa.string())]), flavor="hive"),
            basename_template="part-{i}.parquet", existing_data_behavior="overwrite_or_ignore",
        )
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
    written = staging / "data"
    if not written.exists():
        written.mkdir()
    previous = None
    if out.exists():
        previous = out.with_name(f".{out.name}-old")
        shutil.rmtree(previous, ignore_errors=True)
        out.rename(previous)
    written.rename(out)
    shutil.rmtree(staging, ignore_errors=True)
    if previous:
        shutil.rmtree(previous, ignore_errors=True)
    return count


def _refuse_foreign_directory(out: Path) -> None:
    """The export replaces `out` whole; never do that to a folder that holds anything else."""
    if not out.exists():
        return
    if not out.is_dir():
        raise CatalogError(f"{out}: exists and is not a directory")
    foreign = [p.name for p in out.iterdir() if not p.name.startswith("archive=")]
    if foreign:
        raise CatalogError(
            f"{out}: holds files that are not a previous export ({', '.join(sorted(foreign)[:3])}); "
            "choose an empty or new directory"
        )
