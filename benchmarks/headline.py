"""Headline: the default scenario, both care systems paired, one replication, one core.

The process is pinned to one CPU (``os.sched_setaffinity``) and runs ``run_replication``
with the events streamed to a Parquet file, as ``narvard compare`` does per replication.
Until the person-driven care system is registered, intervention only (said in the output).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import default_scenario, header, paradigms, spread

from sim.experiments.runner import run_replication


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    pin = hasattr(os, "sched_setaffinity")
    if pin:
        cpus = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cpus)})
    par = paradigms()
    scenario = default_scenario()
    header(f"Headline: default scenario, {'+'.join(par)}"
           f"{'' if len(par) == 2 else ' (person-driven care not registered yet)'}, 1 replication, 1 core")
    walls = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                res = run_replication(scenario, 0, par, str(Path(tmp) / "events.parquet"))
                walls.append(time.perf_counter() - t0)
    finally:
        if pin:  # worker processes started later inherit the affinity: give the cores back
            os.sched_setaffinity(0, cpus)
    print(f"wall time: {spread(walls)} s (target <= 5 s); {res.events:,} engine events")
    return {"seconds": statistics.median(walls), "min": min(walls), "max": max(walls), "events": res.events}


if __name__ == "__main__":
    main()
