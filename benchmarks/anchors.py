"""Anchors for CPU per person-year: the same toy patient pathway as a hand-written heapq loop and as idiomatic SimPy.

The toy pathway (one care system, no care logic, no event log): each person lives at home
until an exponential death time; deteriorations come as a Poisson process; a share of them
is admitted, waits first-come first-served for one of a fixed number of beds, stays an
exponential length of stay and goes home (deteriorations in hospital are ignored). It has
what every discrete-event model of the kind has: a calendar of person events, a queue for a
scarce resource, holding times.

* **engine limit** (:func:`heapq_loop`): a hand-written event loop on :mod:`heapq` with
  tuples, a bed counter and a deque of waiting persons; nothing a general engine could
  do with less Python.
* **idiomatic SimPy** (:func:`idiomatic_simpy`): one process per person, ``yield
  env.timeout(...)``, ``with beds.request() as req: yield req``: how the SimPy documentation
  writes such a model.

The figure is CPU seconds (``time.process_time``) per simulated person-year; the model's
comes from the default scenario (:mod:`figures`). Random numbers: one ``random.Random``
per anchor, so the two anchors simulate the same pathway, not the same draws.
"""

from __future__ import annotations

import argparse
import heapq
import random
import time
from collections import deque

import simpy

#: The toy pathway's rates: the default area's order of magnitude (per person-year, days).
DETERIORATIONS_PER_YEAR = 0.5
DEATHS_PER_YEAR = 0.05
ADMITTED_SHARE = 0.35
LOS_DAYS = 6.0
BEDS_PER_1000 = 6.7
DAYS = 365.25

_DET, _DEATH, _DISCHARGE = 0, 1, 2


def heapq_loop(persons: int, years: float, seed: int = 1) -> dict[str, float]:
    """Run the toy pathway as a hand-written heapq event loop; CPU seconds and person-years."""
    c0 = time.process_time()
    rng = random.Random(seed)
    horizon = years * DAYS
    det_rate = DETERIORATIONS_PER_YEAR / DAYS
    beds_free = max(1, round(persons * BEDS_PER_1000 / 1000))
    waiting: deque[int] = deque()
    alive = [True] * persons
    in_bed = [False] * persons
    heap: list[tuple[float, int, int, int]] = []
    seq = 0
    person_days = 0.0
    for p in range(persons):
        death = rng.expovariate(DEATHS_PER_YEAR / DAYS)
        person_days += min(death, horizon)
        heap.append((death, seq, _DEATH, p))
        seq += 1
        heap.append((rng.expovariate(det_rate), seq, _DET, p))
        seq += 1
    heapq.heapify(heap)
    push, pop = heapq.heappush, heapq.heappop
    events = 0
    while heap:
        t, _s, kind, p = pop(heap)
        if t > horizon:
            break
        events += 1
        if kind == _DET:
            if not alive[p]:
                continue
            push(heap, (t + rng.expovariate(det_rate), seq, _DET, p))
            seq += 1
            if in_bed[p] or rng.random() >= ADMITTED_SHARE:
                continue
            in_bed[p] = True
            if beds_free:
                beds_free -= 1
                push(heap, (t + rng.expovariate(1.0 / LOS_DAYS), seq, _DISCHARGE, p))
                seq += 1
            else:
                waiting.append(p)
        elif kind == _DEATH:
            alive[p] = False
        else:  # discharge: the bed goes to the first one waiting
            in_bed[p] = False
            if waiting:
                q = waiting.popleft()
                push(heap, (t + rng.expovariate(1.0 / LOS_DAYS), seq, _DISCHARGE, q))
                seq += 1
            else:
                beds_free += 1
    return {"cpu": time.process_time() - c0, "person_years": person_days / DAYS, "events": events}


def idiomatic_simpy(persons: int, years: float, seed: int = 1) -> dict[str, float]:
    """Run the toy pathway as idiomatic SimPy (a process per person); CPU seconds and person-years."""
    c0 = time.process_time()
    rng = random.Random(seed)
    horizon = years * DAYS
    det_rate = DETERIORATIONS_PER_YEAR / DAYS
    env = simpy.Environment()
    beds = simpy.Resource(env, capacity=max(1, round(persons * BEDS_PER_1000 / 1000)))
    person_days = 0.0

    def person(death: float):
        while True:
            wait = rng.expovariate(det_rate)
            if env.now + wait >= death:
                return
            yield env.timeout(wait)
            if rng.random() < ADMITTED_SHARE:
                with beds.request() as req:
                    yield req
                    yield env.timeout(rng.expovariate(1.0 / LOS_DAYS))

    for _ in range(persons):
        death = rng.expovariate(DEATHS_PER_YEAR / DAYS)
        person_days += min(death, horizon)
        env.process(person(death))
    env.run(until=horizon)
    return {"cpu": time.process_time() - c0, "person_years": person_days / DAYS, "events": next(env._eid)}


def bare_simpy(n: int, k: int, seed: int = 1) -> simpy.Environment:
    """Bare SimPy, ready to run: ``k`` processes yielding exponential timeouts, ``n`` events in all."""
    env = simpy.Environment()
    rng = random.Random(seed)
    per = max(1, n // k)

    def proc():
        for _ in range(per):
            yield env.timeout(rng.expovariate(1.0))

    for _ in range(k):
        env.process(proc())
    return env


def bare_simpy_per_event(n: int = 400_000, k: int = 230, seed: int = 1) -> float:
    """CPU seconds per event of bare SimPy (:func:`bare_simpy`)."""
    env = bare_simpy(n, k, seed)
    c0 = time.process_time()
    env.run()
    return (time.process_time() - c0) / next(env._eid)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=18000)
    ap.add_argument("--years", type=float, default=4.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    best: dict[str, float] = {}
    for _ in range(args.repeats):  # interleaved; the minimum of each
        for name, fn in (("heapq", heapq_loop), ("simpy", idiomatic_simpy)):
            r = fn(args.persons, args.years)
            best[name] = min(best.get(name, float("inf")), r["cpu"] / r["person_years"])
        best["bare_event"] = min(best.get("bare_event", float("inf")), bare_simpy_per_event())
    print(f"toy pathway, {args.persons} persons x {args.years:g} years: CPU per person-year "
          f"heapq loop {best['heapq'] * 1e6:.1f} us, idiomatic SimPy {best['simpy'] * 1e6:.1f} us; "
          f"bare SimPy {best['bare_event'] * 1e6:.2f} us per event")
    return best


if __name__ == "__main__":
    main()
