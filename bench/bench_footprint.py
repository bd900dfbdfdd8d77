"""Speed and memory of the ephemeris search's footprint matching: 100,000 frames against a one-year
ephemeris at 1-hour steps (8,761 positions).

    python bench/bench_footprint.py                     # 100,000 frames, 5 repeats (~1 min)
    python bench/bench_footprint.py --frames 20000 --repeat 3 --out /tmp/quick.md

A script, not a test. What is timed is the code a footprint source runs on every page of frames a
service returns (harvester.sources.footprint_search.judge_rows): read each frame's `s_region`
(STC-S text), choose its sample times (its mid-time; every ephemeris step across an exposure
longer than a step), interpolate the comet's position at each, test inside/outside and the offset
from the edge. Frames are fed in pages of 5,000 (a MAST page), as a source gets them.

The frames, drawn with a fixed seed over 2025-05-01..2026-05-01 along the sandbox's model of 3I's
path: 40% centred near the comet's position at their own time (most hold it), 30% just beside it
(a few arcminutes to a degree outside their edge), 30% anywhere on the sky; quadrilaterals of
0.1..4 degrees; 98% exposures of 1..20 minutes, 2% of 1..7 days (pixel files of a pointing).

Measured (each the median of K runs, all listed): frames/s of the whole matching; peak Python
memory (tracemalloc) while matching 25%, 50% and 100% of the frames in pages, which is flat when
memory does not grow with the number of frames; and, as the reference, spherical_geometry's own
per-frame `SphericalPolygon.contains_point` on a 5,000-frame sample at the same interpolated
positions (the issue names no peer; this is the library the bulk path is checked against).
Target: under 5 s for 100,000 frames, flat memory.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shlex
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from results import write_section  # noqa: E402  (bench/ is a folder of scripts)

START_MJD, DAYS = 60796.0, 365.0     # 2025-05-01 .. 2026-05-01
PAGE = 5000
TARGET_S = 5.0


def one_year_ephemeris():
    """The sandbox's geocentric path of 3I, tabulated hourly for a year, as Horizons would."""
    import numpy as np

    from harvester.ephemeris.model import Ephemeris
    from harvester.sandbox.path import Path as SkyPath

    records = json.loads((ROOT / "harvester" / "sandbox" / "default_scenario_horizons.json").read_text())
    path = SkyPath.from_record(next(r for r in records if r["center"] == "500"))
    times = START_MJD + np.arange(0, DAYS * 24 + 1) / 24.0
    positions = [path.at(float(t)) for t in times]
    return Ephemeris(target="C/2025 N1", observer="500", step="1h", mjd=times,
                     ra=np.array([p[0] for p in positions]), dec=np.array([p[1] for p in positions]),
                     solution="JPL#27"), path


def polygon(ra: float, dec: float, width: float, height: float, turn: float) -> str:
    corners = []
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x, y = dx * width / 2, dy * height / 2
        x, y = x * math.cos(turn) - y * math.sin(turn), x * math.sin(turn) + y * math.cos(turn)
        d = max(-89.9, min(89.9, dec + y))
        corners += [(ra + x / math.cos(math.radians(d))) % 360, d]
    return "POLYGON ICRS " + " ".join(f"{v:.6f}" for v in corners)


def make_frames(count: int, path, seed: int) -> list[dict]:
    rng = random.Random(seed)
    frames = []
    for i in range(count):
        t_min = START_MJD + rng.uniform(0, DAYS - 8)
        t_max = t_min + (rng.uniform(1, 20) / 1440 if rng.random() < 0.98 else rng.uniform(1, 7))
        width, height = rng.uniform(0.1, 4), rng.uniform(0.1, 4)
        kind = rng.random()
        if kind < 0.7:
            ra, dec, _ = path.at((t_min + t_max) / 2)
            if kind < 0.4:
                ra, dec = ra + rng.uniform(-0.3, 0.3) * width, dec + rng.uniform(-0.3, 0.3) * height
            else:
                dec += (height / 2 + rng.uniform(0.05, 1.0)) * rng.choice((-1, 1))
        else:
            ra, dec = rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-1, 1)))
        frames.append({"obsid": i, "s_region": polygon(ra, dec, width, height, rng.uniform(0, 1.5)),
                       "t_min": t_min, "t_max": t_max})
    return frames


def match(frames: list[dict], eph) -> int:
    from harvester.sources.footprint_search import VERDICT, judge_rows

    inside = 0
    for start in range(0, len(frames), PAGE):
        page = [dict(f) for f in frames[start:start + PAGE]]   # a fresh page, as from the service
        judge_rows(eph, page, region=lambda r: r["s_region"], times=lambda r: (r["t_min"], r["t_max"]),
                   step=1 / 24, observer="geocentric")
        inside += sum(1 for r in page if r[VERDICT] and r[VERDICT].get("inside"))
    return inside


def peer(frames: list[dict], eph) -> float:
    """spherical_geometry one frame at a time, at the same positions (mid-times only)."""
    import numpy as np
    from spherical_geometry.polygon import SphericalPolygon

    from harvester.footprint.inside import unit_vectors
    from harvester.footprint.regions import parse_region

    mids = np.array([(f["t_min"] + f["t_max"]) / 2 for f in frames])
    ras, decs, _ = eph.positions_at(mids)
    started = time.perf_counter()
    for frame, ra, dec in zip(frames, ras, decs, strict=True):
        (shape,) = parse_region(frame["s_region"])
        centre = (sum(shape.ra) / 4, sum(shape.dec) / 4)
        polygon_ = SphericalPolygon.from_radec(list(shape.ra), list(shape.dec), center=centre)
        polygon_.contains_point(unit_vectors(ra, dec))
    return len(frames) / (time.perf_counter() - started)


def peak_mib(frames: list[dict], eph) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    match(frames, eph)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    eph, path = one_year_ephemeris()
    frames = make_frames(args.frames, path, args.seed)
    match(frames[:2000], eph)   # warm: numpy, the parser's regexes
    times, cpu, inside = [], [], 0
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        inside = match(frames, eph)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    median = statistics.median(times)
    peaks = {share: peak_mib(frames[: int(len(frames) * share)], eph) for share in (0.25, 0.5, 1.0)}
    peer_rates = [peer(frames[:5000], eph) for _ in range(3)]
    load_after = os.getloadavg()
    rate = len(frames) / median
    peer_rate = statistics.median(peer_rates)
    command = "python bench/bench_footprint.py" + (
        "" if sys.argv[1:] == [] else " " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    runs = ", ".join(f"{t:.2f}" for t in times)
    cpu_runs = ", ".join(f"{t:.2f}" for t in cpu)
    speed = "met" if median < TARGET_S else "NOT met"
    flat = "met" if peaks[1.0] < 1.5 * peaks[0.25] else "NOT met"
    memory = f"{peaks[0.25]:.1f} / {peaks[0.5]:.1f} / {peaks[1.0]:.1f}"
    peer_runs = ", ".join(f"{r:,.0f}" for r in peer_rates)
    text = f"""## Footprint matching (the ephemeris search)

`{command}` on {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores,
load average {load_before[0]:.1f} before and {load_after[0]:.1f} after (the machine is shared; other
engineers' runs compete for the 2 cores).

{len(frames):,} frames against a one-year ephemeris at 1-hour steps ({len(eph):,} positions), in pages of
{PAGE:,}; {inside:,} frames held the comet.

| measure | median | all runs | target |
| --- | --- | --- | --- |
| matching {len(frames):,} frames (s) | {median:.2f} | {runs} | under {TARGET_S:g} s: {speed} |
| CPU time of it (s; what the load average does not steal) | {statistics.median(cpu):.2f} | {cpu_runs} | |
| frames/s | {rate:,.0f} | | |
| peak Python memory, 25% / 50% / 100% of the frames (MiB) | {memory} | | flat: {flat} |
| spherical_geometry per frame (frames/s, 5,000) | {peer_rate:,.0f} | {peer_runs} | {rate / peer_rate:.1f}x |

Peak memory is tracemalloc's (Python allocations, numpy arrays included) while matching, the
frames themselves excluded (they are built before and held by the caller, as a page is).
"""
    write_section(Path(args.out), "footprint", text)
    print(text)


if __name__ == "__main__":
    main()
