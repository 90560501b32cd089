"""All benchmarks, printed (``make bench``). Figures only: nothing here asserts on time.

``python benchmarks/run_all.py`` (``make bench``) runs the quick set, about 5 minutes on an
idle 2-core machine: issue 13's figures before/after (:mod:`figures`: the headline, CPU per
person-year against the anchors, CPU per engine event against bare SimPy, one calibration
evaluation, the workshop what-if, region memory at 40,000 persons x 10 years), then the
growth exponents in persons and years (:mod:`scaling`, quick grid). ``--full`` measures the
region at its real 330,000 persons x 10 years (before and after: about 5 minutes more), the
full scaling grid, the engine-event throughput, the work per person-year and the replications
on executors. ``--profile`` adds a cProfile of one replication. ``--before REV`` chooses the
'before' revision (default: :data:`figures.BASELINE`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import figures  # noqa: E402
import scaling  # noqa: E402
from common import ROOT, paradigms  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--full", action="store_true", help="region at 330,000 persons, full grids, executors")
    ap.add_argument("--quick", action="store_true", help="the quick set (the default)")
    ap.add_argument("--profile", action="store_true", help="also profile one replication")
    ap.add_argument("--before", default=figures.BASELINE, help="git revision of the 'before' tree")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved before/after rounds per figure")
    args = ap.parse_args()
    os.chdir(ROOT)
    t0 = time.perf_counter()
    print(f"narvard-sim benchmarks ({'full' if args.full else 'quick'}); care systems: {', '.join(paradigms())}")
    print("The machine may be shared: each section prints the load average; before and after are measured "
          "in the same minutes, interleaved, and compared as ratios.")
    fig_args = ["--before", args.before, "--rounds", str(args.rounds)]
    if args.full:
        fig_args += ["--region-persons", "330000"]
    if not (ROOT / ".git").exists():
        print("not a git checkout: no 'before' tree; figures skipped")
        f = None
    else:
        f = figures.main(fig_args)
    s = scaling.main(["--full"] if args.full else [])
    if args.full:
        import replications
        import throughput
        import work

        throughput.main([])
        work.main([])
        replications.main([])
    if args.profile:
        import profile_model

        profile_model.main([])
    print("\n=== Summary ===")
    if f is not None:
        figures.print_table(f)
    e = s["exponents"]
    print(f"growth exponent of CPU time in persons {e['persons']:.2f}, in years {e['years']:.2f} (target <= 1.1; "
          f"{'full' if args.full else 'quick'} grid, working tree)")
    print(f"benchmarks took {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
