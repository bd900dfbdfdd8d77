"""Release latency statistics per archive, mission and instrument, over the whole catalog.

Latency of a public product = (the archive's first public date, else its release date, else our
first sight) - end of observation, in days. Percentiles are nearest-rank values read by walking
an expression index (catalog/migrations/m003_watch.py), so a million products cost index seeks, not a
sort. Outliers: products beyond Q3 + 1.5 x IQR of their group (at least 1 day past Q3); a
group whose median is beyond its release policy's nominal latency is flagged too, unless that
median comes from the harvester's first sight (an archive that states no public date, like the
MPC): then it is only an upper bound, as late as the first harvest, and labelled so instead.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field

from catalog.migrations.m003_watch import LATENCY_EXPR, LATENCY_WHERE
from harvester.watch.matching import product_groups
from harvester.watch.policies import Policies, Policy

OUTLIER_KEYS = 5
_GROUP = f"archive = ? AND mission IS ? AND instrument IS ? AND {LATENCY_WHERE}"
# The product's public date is the harvester's first sight, not a date the archive stated
# (the same rule as harvester.watch.status.public_date_stated).
FIRST_SIGHT = ("(release_date IS NULL OR release_date = '') "
               "AND coalesce(first_public, first_seen) = first_seen")


@dataclass
class LatencyStats:
    archive: str
    mission: str | None
    instrument: str | None
    count: int
    median: float
    p90: float
    max: float
    q1: float
    q3: float
    outlier_above: float
    outliers: int
    outlier_keys: list[str] = field(default_factory=list)
    policy: Policy | None = None
    first_sight: bool = False  # the median product's public date is our first sight of it

    @property
    def basis(self) -> str:
        return "first_sight" if self.first_sight else "archive"

    @property
    def beyond_policy(self) -> bool:
        return (self.policy is not None and not self.first_sight
                and self.median > self.policy.high_days())

    def flag(self) -> str:
        flags = []
        if self.first_sight:
            flags.append("from first sight (upper bound: the archive states no date)")
        if self.beyond_policy:
            flags.append(f"median beyond policy ({self.policy.describe()})")
        if self.outliers:
            flags.append(f"{self.outliers} outlier(s) > {self.outlier_above:.0f} d")
        return "; ".join(flags)


def _nth(conn: sqlite3.Connection, group: tuple, rank: int) -> float:
    return conn.execute(f"SELECT {LATENCY_EXPR} FROM products WHERE {_GROUP} "
                        f"ORDER BY {LATENCY_EXPR} LIMIT 1 OFFSET ?", (*group, rank)).fetchone()[0]


def _nth_first_sight(conn: sqlite3.Connection, group: tuple, rank: int) -> bool:
    row = conn.execute(f"SELECT {FIRST_SIGHT} FROM products WHERE {_GROUP} "
                       f"ORDER BY {LATENCY_EXPR} LIMIT 1 OFFSET ?", (*group, rank)).fetchone()
    return bool(row and row[0])


def _largest(conn: sqlite3.Connection, group: tuple) -> float:
    return conn.execute(f"SELECT {LATENCY_EXPR} FROM products WHERE {_GROUP} "
                        f"ORDER BY {LATENCY_EXPR} DESC LIMIT 1", group).fetchone()[0]


def _rank(count: int, fraction: float) -> int:
    return max(math.ceil(fraction * count) - 1, 0)


def _percentile(conn: sqlite3.Connection, group: tuple, count: int, fraction: float) -> float:
    return _nth(conn, group, _rank(count, fraction))


def latency_stats(conn: sqlite3.Connection, policies: Policies | None = None) -> list[LatencyStats]:
    stats = []
    for group in product_groups(conn):
        count = conn.execute(f"SELECT count(*) FROM products WHERE {_GROUP}", group).fetchone()[0]
        if not count:
            continue
        q1, q3 = _percentile(conn, group, count, 0.25), _percentile(conn, group, count, 0.75)
        above = q3 + max(1.5 * (q3 - q1), 1.0)
        outliers = conn.execute(f"SELECT count(*) FROM products WHERE {_GROUP} AND {LATENCY_EXPR} > ?",
                                (*group, above)).fetchone()[0]
        keys = [row[0] for row in conn.execute(
            f"SELECT product_key FROM products WHERE {_GROUP} AND {LATENCY_EXPR} > ? "
            f"ORDER BY {LATENCY_EXPR} DESC LIMIT {OUTLIER_KEYS}", (*group, above))]
        stats.append(LatencyStats(
            archive=group[0], mission=group[1], instrument=group[2], count=count,
            median=_percentile(conn, group, count, 0.5), p90=_percentile(conn, group, count, 0.9),
            max=_largest(conn, group), q1=q1, q3=q3, outlier_above=above,
            outliers=outliers, outlier_keys=keys,
            policy=policies.for_products(*group) if policies else None,
            first_sight=_nth_first_sight(conn, group, _rank(count, 0.5))))
    return stats
