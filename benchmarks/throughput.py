"""Throughput: the model's engine events per second against bare SimPy loops, in one run.

The model runs the default scenario (one replication, every registered care system). The
bare loops schedule the same number of timeouts: (a) one process yielding timeouts (heap of
one), (b) as many processes as the model's mean heap size, each yielding exponential
timeouts (a heap comparable in size). Measurements are interleaved and repeated, so the
ratio is taken between neighbours in time on this shared machine; median and range shown.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import simpy
from anchors import bare_simpy
from common import default_scenario, header, paradigms, spread
from instrument import CountingModel, TimedModel, model_class

from sim.experiments.runner import run_replication


def bare_single(n: int) -> float:
    """Events per second of one process yielding ``n`` timeouts."""
    env = simpy.Environment()

    def proc():
        for _ in range(n):
            yield env.timeout(1.0)

    env.process(proc())
    t0 = time.perf_counter()
    env.run()
    return next(env._eid) / (time.perf_counter() - t0)


def bare_heap(n: int, k: int, seed: int = 1) -> float:
    """Events per second of bare SimPy with ``k`` processes, ``n`` events in all (:func:`anchors.bare_simpy`)."""
    env = bare_simpy(n, k, seed)
    t0 = time.perf_counter()
    env.run()
    return next(env._eid) / (time.perf_counter() - t0)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    par = paradigms()
    scenario = default_scenario()
    header(f"Throughput: default scenario, 1 replication, paradigms {'+'.join(par)}")

    # Heap size of the model (instrumented run, not timed).
    CountingModel.reset()
    with model_class(CountingModel):
        res = run_replication(scenario, 0, par)
    mean_heap = CountingModel.heap_sum / max(1, sum(CountingModel.counts.values()))
    k = max(1, round(mean_heap))
    n = res.events
    print(f"engine events per replication: {n:,}; model heap size mean {mean_heap:.1f}, max {CountingModel.heap_max}")

    model_rate, model_rate_all, single, heap = [], [], [], []
    for _ in range(args.repeats):
        single.append(bare_single(n))
        heap.append(bare_heap(n, k))
        TimedModel.reset()
        t0 = time.perf_counter()
        with model_class(TimedModel):
            run_replication(scenario, 0, par)
        wall = time.perf_counter() - t0
        model_rate.append(TimedModel.events / TimedModel.run_seconds)
        model_rate_all.append(TimedModel.events / wall)
    r_heap = [m / b for m, b in zip(model_rate, heap, strict=True)]
    r_single = [m / b for m, b in zip(model_rate, single, strict=True)]
    r_heap_all = [m / b for m, b in zip(model_rate_all, heap, strict=True)]
    print(f"bare SimPy, 1 process:              {spread(single)} events/s")
    print(f"bare SimPy, {k} processes (heap ~{k}): {spread(heap)} events/s")
    print(f"model, engine loop (Model.run):     {spread(model_rate)} events/s")
    print(f"model, whole replication:           {spread(model_rate_all)} events/s"
          " (population, trajectories, metrics included)")
    print(f"ratio model / bare (heap ~{k}):       {spread(r_heap)}   (no target: issue 13's figures are in figures.py)")
    print(f"ratio model / bare (1 process):     {spread(r_single)}")
    print(f"ratio whole replication / bare heap: {spread(r_heap_all)}")
    return {"events": n, "mean_heap": mean_heap, "ratio_heap": statistics.median(r_heap),
            "ratio_single": statistics.median(r_single), "model_rate": statistics.median(model_rate),
            "bare_heap": statistics.median(heap), "bare_single": statistics.median(single),
            "ratio_heap_range": (min(r_heap), max(r_heap)), "log2_events": math.log2(n)}


if __name__ == "__main__":
    main()
