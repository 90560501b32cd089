"""All benchmarks, printed (``make bench``). Figures only: nothing here asserts on time.

``python benchmarks/run_all.py`` runs the quick set (a few minutes on 2 cores): headline,
throughput, work per person-year, the quick scaling grid, replications on a 6,000-person
scenario, and before/after: the headline's CPU time at the revision before issue 13's speed-ups
against the working tree, interleaved (``benchmarks/ab.py``; skipped outside a git checkout).
``--full`` runs the full scaling grid (5,000 / 80,000 / 330,000 persons at 5
years; 1 / 3 / 10 years at 80,000 persons: about 10 minutes more) and the replications on
the default scenario. ``--profile`` adds a cProfile of one replication.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ab  # noqa: E402
import headline  # noqa: E402
import replications  # noqa: E402
import scaling  # noqa: E402
import throughput  # noqa: E402
import work  # noqa: E402
from common import ROOT, paradigms  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--full", action="store_true", help="full scaling grid, default-size replications")
    ap.add_argument("--quick", action="store_true", help="the quick set (the default)")
    ap.add_argument("--profile", action="store_true", help="also profile one replication")
    args = ap.parse_args()
    os.chdir(ROOT)
    t0 = time.perf_counter()
    print(f"narvard-sim benchmarks ({'full' if args.full else 'quick'}); care systems: {', '.join(paradigms())}")
    print("The machine may be shared: each section prints the load average; ratios are taken within one run.")
    h = headline.main([])
    t = throughput.main([])
    w = work.main([])
    scaling.main(["--full"] if args.full else [])
    r = replications.main([] if args.full else ["--persons", "6000"])
    b = ab.main([]) if (ROOT / ".git").exists() else None
    if args.profile:
        import profile_model

        profile_model.main([])
    print("\n=== Summary ===")
    print(f"headline (default, {'+'.join(paradigms())}, 1 replication, 1 core): {h['seconds']:.2f} s (target <= 5)")
    print(f"throughput ratio model / bare SimPy (comparable heap): {t['ratio_heap']:.3f} (target >= 0.5); "
          f"against 1-process loop {t['ratio_single']:.3f}")
    for par, v in w.items():
        print(f"engine events per person-year [{par}]: {v['events_per_py']:.2f}; "
              f"event-log rows: {v['rows_per_py']:.2f}")
    print(f"replications speed-up: processes x2 {r['speedup_processes']:.2f} (target >= 1.8), "
          f"Dask LocalCluster x2 {r['speedup_dask']:.2f}"
          + (f", dask CLI cluster x2 {r['speedup_cli']:.2f}" if "speedup_cli" in r else ""))
    if b is not None:
        print(f"before/after issue 13 (headline CPU, median of per-round minima): {b['before']:.2f} -> "
              f"{b['after']:.2f} s, x{b['speedup']:.2f} (target <= 1.25 s, x2)")
    print(f"benchmarks took {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
