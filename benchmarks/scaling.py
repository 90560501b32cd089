"""Scaling: CPU time and peak memory over persons and years, one fresh process per point.

Each point runs in a new Python process (``--child``), so its peak resident memory
(VmHWM of that process) is its own. The child builds the default scenario scaled
to the persons (entrants and capacities in proportion, ``common.scaled_scenario``), with
no warm-up and the given years, runs one replication of every registered care system with
the events streamed to a Parquet file, and reports CPU and wall time (after imports), engine
events, rows and peak memory. Growth exponents are least-squares slopes on log-log axes.

Grids: ``--quick`` (default of ``make bench``) persons 5,000 / 20,000 / 80,000 at 1 year and
years 1 / 3 / 10 at 5,000 persons; ``--full`` persons 5,000 / 80,000 / 330,000 at 5 years
and years 1 / 3 / 10 at 80,000 persons, plus 330,000 x 5 for the memory target.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
QUICK = {"persons": ([5000, 20000, 80000], 1.0), "years": ([1.0, 3.0, 10.0], 5000)}
FULL = {"persons": ([5000, 80000, 330000], 5.0), "years": ([1.0, 3.0, 10.0], 80000)}


def child(persons: int, years: float) -> None:
    from common import header, paradigms, scaled_scenario  # noqa: F401

    from sim.experiments.runner import run_replication

    scenario = scaled_scenario(persons, years, warmup=0.0)
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        res = run_replication(scenario, 0, paradigms(), str(Path(tmp) / "events.parquet"))
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        size = (Path(tmp) / "events.parquet").stat().st_size
    rss = peak_rss()
    print(json.dumps({"persons": persons, "years": years, "wall": wall, "cpu": cpu, "events": res.events,
                      "rss": rss, "parquet_bytes": size, "paradigms": list(paradigms())}))


def peak_rss() -> int:
    """Peak resident memory of this process (bytes).

    VmHWM from /proc on Linux: ``ru_maxrss`` survives ``exec``, so a child started from a big
    parent would report the parent's peak; VmHWM starts afresh with the new program.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def run_point(persons: int, years: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(persons), str(years)],
                         check=True, capture_output=True, text=True, cwd=HERE)
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_rss() -> int:
    """Peak memory of a process that only imports the model (the floor of every point)."""
    code = "import sim.experiments.runner, pyarrow.parquet, common, scaling; print(scaling.peak_rss())"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=HERE,
                         env={**os.environ, "PYTHONPATH": str(HERE)})
    return int(out.stdout.strip())


def slope(x, y) -> float:
    """Least-squares slope of log y on log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main(argv=None) -> dict:
    from common import header, paradigms

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--full", action="store_true", help="the full grid (several minutes)")
    ap.add_argument("--quick", action="store_true", help="the quick grid (default)")
    args = ap.parse_args(argv)
    grid = FULL if args.full else QUICK
    header(f"Scaling ({'full' if args.full else 'quick'} grid), paradigms {'+'.join(paradigms())}, "
           "no warm-up, events streamed to Parquet, one process per point")
    base = baseline_rss()
    print(f"peak memory of a process that only imports the model: {base / 2**20:.0f} MiB")
    print(f"{'persons':>8} {'years':>5} {'CPU s':>7} {'events':>11} {'ev/s':>8} {'peak MiB':>9} "
          f"{'above base':>10} {'parquet MiB':>11}")
    results = {}
    for axis in ("persons", "years"):
        values, fixed = grid[axis]
        pts = []
        for v in values:
            persons, years = (v, fixed) if axis == "persons" else (fixed, v)
            if (persons, years) in results:
                r = results[(persons, years)]
            else:
                r = results[(persons, years)] = run_point(persons, years)
                print(f"{persons:>8,} {years:>5g} {r['cpu']:>7.2f} {r['events']:>11,} "
                      f"{r['events'] / r['cpu']:>8.0f} {r['rss'] / 2**20:>9.0f} "
                      f"{(r['rss'] - base) / 2**20:>10.0f} {r['parquet_bytes'] / 2**20:>11.1f}", flush=True)
            pts.append(r)
        x = [p[axis] for p in pts]
        print(f"  growth exponent in {axis} (at {axis == 'persons' and 'years' or 'persons'} "
              f"= {fixed:g}): {slope(x, [p['cpu'] for p in pts]):.2f} of CPU time (target <= 1.1; wall "
              f"{slope(x, [p['wall'] for p in pts]):.2f}); "
              f"of engine events: {slope(x, [p['events'] for p in pts]):.2f}; "
              f"of peak memory above the import floor: {slope(x, [max(p['rss'] - base, 1) for p in pts]):.2f}")
    pts = list(results.values())
    py = [p["persons"] * p["years"] for p in pts]
    print(f"  over all points, CPU time ~ (persons x years)^{slope(py, [p['cpu'] for p in pts]):.2f}")
    exps = {}
    for axis in ("persons", "years"):
        values, fixed = grid[axis]
        pts_axis = [results[(v, fixed) if axis == "persons" else (fixed, v)] for v in values]
        exps[axis] = slope(values, [p["cpu"] for p in pts_axis])
    return {"base_rss": base, "points": pts, "exponents": exps}


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        sys.path.insert(0, str(HERE))
        child(int(sys.argv[2]), float(sys.argv[3]))
    else:
        sys.path.insert(0, str(HERE))
        main()
