"""Before/after: CPU time of one paired replication of the default, two code trees side by side.

The headline replication (default scenario, both care systems, events to Parquet, one core)
run from two source trees in turn: ``--before`` (a git revision, exported to a temporary
folder) and the working tree. Rounds alternate the trees so both see the same load on a shared
machine; each round runs each tree ``--repeats`` times in a fresh process and keeps the
minimum CPU time. Printed: the median over rounds of those minima, per tree, and their ratio.
Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, header

#: Baseline: main just before the first speed-up of issue 13 (after the cost column left the event log).
BASELINE = "422ade9"

_CHILD = r"""
import json, os, sys, tempfile, time
tree = sys.argv[1]
sys.path.insert(0, tree)
sys.path.insert(0, os.path.join(tree, "benchmarks"))
import sim
assert os.path.realpath(sim.__file__).startswith(os.path.realpath(tree)), sim.__file__
from common import default_scenario, paradigms
try:
    from sim.experiments.runner import run_replication
except ImportError:  # a tree from before sim/experiments (the baseline)
    from sim.runner import run_replication
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
scenario = default_scenario()
cpu = []
with tempfile.TemporaryDirectory() as tmp:
    for k in range(int(sys.argv[2])):
        t0 = time.process_time()
        run_replication(scenario, 0, paradigms(), os.path.join(tmp, f"e{k}.parquet"))
        cpu.append(time.process_time() - t0)
print(json.dumps(cpu))
"""


def cpu_seconds(tree: Path, repeats: int) -> list[float]:
    """CPU seconds of ``repeats`` headline replications run from ``tree`` in a fresh process."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(tree), str(repeats)], check=True,
                         capture_output=True, text=True, cwd=tree)
    return json.loads(out.stdout.strip().splitlines()[-1])


def chain(revs: list[str], rounds: int, repeats: int) -> dict[str, float]:
    """Each revision in ``revs`` (``.`` for the working tree) measured in interleaved rounds; one change at a time.

    Prints the median of per-round minima per tree and the ratio of each tree to the one before it.
    """
    header(f"Chain: headline replication, CPU s, {' -> '.join(revs)}, {rounds} rounds x {repeats}")
    with tempfile.TemporaryDirectory(prefix="narvard-ab-") as tmp:
        trees = {}
        for rev in revs:
            if rev == ".":
                trees[rev] = ROOT
                continue
            trees[rev] = Path(tmp) / rev
            trees[rev].mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True)
            subprocess.run(["tar", "-x", "-C", str(trees[rev])], input=archive.stdout, check=True)
        mins: dict[str, list[float]] = {rev: [] for rev in revs}
        for r in range(rounds):
            order = revs if r % 2 == 0 else revs[::-1]
            for rev in order:
                mins[rev].append(min(cpu_seconds(trees[rev], repeats)))
            print(f"round {r + 1}: " + ", ".join(f"{rev} {mins[rev][-1]:.3f}" for rev in revs), flush=True)
    med = {rev: statistics.median(v) for rev, v in mins.items()}
    for a, b in zip(revs, revs[1:], strict=False):
        print(f"{b} against {a}: {med[a]:.3f} -> {med[b]:.3f} s, x{med[a] / med[b]:.3f}")
    print(f"all: {revs[0]} {med[revs[0]]:.3f} -> {revs[-1]} {med[revs[-1]]:.3f} s, x{med[revs[0]] / med[revs[-1]]:.3f}")
    return med


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--before", default=BASELINE, help="git revision of the 'before' tree")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--chain", nargs="+", help="revisions to measure one after another ('.' = working tree): "
                                              "the speed-up of each change on its own")
    args = ap.parse_args(argv)
    if args.chain:
        return chain(args.chain, args.rounds, args.repeats)
    header(f"Before/after: headline replication, CPU s, {args.before} vs the working tree, "
           f"{args.rounds} rounds x {args.repeats}")
    with tempfile.TemporaryDirectory(prefix="narvard-ab-") as tmp:
        before = Path(tmp)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
        mins: dict[str, list[float]] = {"before": [], "after": []}
        for r in range(args.rounds):
            order = [("before", before), ("after", ROOT)]
            if r % 2:  # alternate which goes first
                order.reverse()
            for name, tree in order:
                mins[name].append(min(cpu_seconds(tree, args.repeats)))
            print(f"round {r + 1}: before {mins['before'][-1]:.3f} s, after {mins['after'][-1]:.3f} s", flush=True)
    b, a = statistics.median(mins["before"]), statistics.median(mins["after"])
    print(f"CPU per paired replication: before {b:.3f} s, after {a:.3f} s; speed-up x{b / a:.3f} "
          f"(target: <= 1.25 s, x2 on issue 13's 2.5 s)")
    return {"before": b, "after": a, "speedup": b / a, "rounds": mins}


if __name__ == "__main__":
    main()
