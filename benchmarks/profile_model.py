"""Profile one replication of the default scenario (cProfile), both care systems.

Prints the functions with the most time of their own, and the share of the run spent in
the event log (``Recorder.record`` and Parquet writes), the SimPy engine and the model.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

from common import default_scenario, header, paradigms

from sim.experiments.runner import run_replication


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--top", type=int, default=20)
    args = ap.parse_args(argv)
    par = paradigms()
    scenario = default_scenario()
    header(f"Profile: default scenario, {'+'.join(par)}, 1 replication (cProfile; times inflated by it)")
    prof = cProfile.Profile()
    prof.runcall(run_replication, scenario, 0, par)
    stats = pstats.Stats(prof)
    total = stats.total_tt
    own: dict[str, float] = {"simpy": 0.0, "recorder": 0.0, "model+care": 0.0, "numpy/pyarrow/other": 0.0}
    for (file, _line, _fn), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        if "/simpy/" in file:
            own["simpy"] += tt
        elif file.endswith("recorder.py") or "pack" in _fn:
            own["recorder"] += tt
        elif "/sim/" in file:
            own["model+care"] += tt
        else:
            own["numpy/pyarrow/other"] += tt
    print("own time by part: " + ", ".join(f"{k} {v / total:.0%}" for k, v in own.items()))
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
