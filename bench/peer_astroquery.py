"""The peer for bench/bench.py: astroquery fetching the same MAST rows as the harvester.

Run as its own process (bench.py measures its wall time and peak RSS with os.wait4):

    python bench/peer_astroquery.py --mast-url http://127.0.0.1:PORT/mast \
        --collections JWST,HST,TESS,SWIFT --patterns '%3I%,%2025%N1%'

One `Observations.query_criteria(obs_collection=[...], target_name=PATTERN)` per pattern, as the
harvester's MAST source sends one Mast.Caom.Filtered query per `target_patterns` entry. astroquery
turns a target_name value containing `%` or `*` into the filter's `freeText`, exactly the filter
the harvester builds. Prints one JSON line: rows per pattern, the size of the union of obsids, and
the in-process import and query times.
"""

from __future__ import annotations

import argparse
import json
import time
import types

STARTED = time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mast-url", required=True, help="the sandbox's MAST base URL (.../mast)")
    parser.add_argument("--collections", required=True, help="comma-separated obs_collection values")
    parser.add_argument("--patterns", required=True, help="comma-separated target_name patterns")
    parser.add_argument("--pagesize", type=int, default=None,
                        help="astroquery page size (default: astroquery's own, conf.pagesize)")
    args = parser.parse_args()
    collections = [c for c in args.collections.split(",") if c]
    patterns = [p for p in args.patterns.split(",") if p]

    import astroquery
    import astroquery.mast

    from harvester.sandbox import Sandbox

    # Both steps are needed (see Sandbox.attach_astroquery): conf.server, then the portal URLs
    # that astroquery baked into the Observations object at import time.
    astroquery.mast.conf.server = args.mast_url
    observations = Sandbox.attach_astroquery(
        types.SimpleNamespace(base_urls={"mast": args.mast_url}), astroquery.mast.Observations)
    imported = time.perf_counter()

    rows: dict[str, int] = {}
    obsids: set[str] = set()
    for pattern in patterns:
        table = observations.query_criteria(obs_collection=collections, target_name=pattern,
                                            pagesize=args.pagesize)
        rows[pattern] = len(table)
        obsids.update(str(o) for o in table["obsid"])
    done = time.perf_counter()
    print(json.dumps({
        "rows": rows,
        "rows_total": sum(rows.values()),
        "union_obsids": len(obsids),
        "import_s": imported - STARTED,
        "query_s": done - imported,
        "pagesize": args.pagesize or int(astroquery.mast.conf.pagesize),
        "astroquery": astroquery.__version__,
    }))


if __name__ == "__main__":
    main()
