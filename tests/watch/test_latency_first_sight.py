"""Release latency whose public date is only the harvester's first sight (the MPC states none) is
labelled so and never flagged "beyond policy"; the same latency stated by the archive is."""

from __future__ import annotations

import json

from catalog import Catalog
from catalog.store import commit_page, start_run
from harvester.engine import product_row
from harvester.product import Product
from harvester.watch.latency import latency_stats
from harvester.watch.policies import load_policies
from harvester.watch.settings import packaged
from tests.harvest_helpers import run_cli

FIRST_HARVEST = "2026-06-01T00:00:00.000Z"  # months after the observations


def observation(archive: str, n: int, *, stated: str | None) -> dict:
    return product_row(Product(
        archive=archive, native_id=f"obs{n}", target_name="3I", matched_by="alias:3I",
        mission="MPC" if archive == "mpc" else "MRO", instrument="W68" if archive == "mpc" else "HIRISE",
        obs_start="2025-07-02T00:00:00.000Z", obs_end="2025-07-02T00:00:00.000Z", access="public",
        public_since=stated, raw={"n": n}))


def test_first_sight_latency_is_labelled_and_not_held_to_the_policy(db_path):
    with Catalog.open(db_path) as catalog:
        for archive, stated in (("mpc", None), ("pds", "2026-05-31T00:00:00.000Z")):
            run_id = start_run(catalog, archive, archive, FIRST_HARVEST)
            commit_page(catalog, source=archive, archive=archive, run_id=run_id, now=FIRST_HARVEST,
                        products=[observation(archive, n, stated=stated) for n in range(3)],
                        cursor=None, records=3, skipped=0, requests=1)
        stats = {s.archive: s for s in latency_stats(catalog.conn, load_policies(packaged("policies.toml")))}
    mpc, pds = stats["mpc"], stats["pds"]
    assert mpc.median > 300 and pds.median > 300  # both about 11 months
    assert mpc.policy is not None and mpc.policy.high_days() < 300  # the MPC publishes in a day
    assert mpc.first_sight and mpc.basis == "first_sight"
    assert not mpc.beyond_policy and "beyond policy" not in mpc.flag()
    assert "first sight" in mpc.flag()
    assert not pds.first_sight and pds.beyond_policy and "beyond policy" in pds.flag()

    gaps = run_cli(["gaps", "--catalog", db_path, "--format", "json", "--section", "latency",
                    "--as-of", "2026-06-02"])
    assert gaps.returncode == 0, gaps.stderr
    by_archive = {row["archive"]: row for row in json.loads(gaps.stdout)["latency"]}
    assert by_archive["mpc"]["basis"] == "first_sight" and by_archive["mpc"]["beyond_policy"] is False
    assert by_archive["pds"]["basis"] == "archive" and by_archive["pds"]["beyond_policy"] is True
    table = run_cli(["gaps", "--catalog", db_path, "--section", "latency", "--as-of", "2026-06-02"])
    mpc_line = next(line for line in table.stdout.splitlines() if line.startswith("mpc"))
    assert "from first sight" in mpc_line and "beyond policy" not in mpc_line
