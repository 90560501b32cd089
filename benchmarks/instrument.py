"""An instrumented model for the benchmarks: counts engine events without changing the model.

``CountingModel`` subclasses :class:`sim.engine.model.Model` and wraps its environment's
``schedule`` (an instance attribute shadows the method; every SimPy event is scheduled
through it). Each scheduled event is counted under ``<event class> <model function>``, the
first function outside SimPy on the call stack, which says which part of the model asked
for it. The model's logic is untouched; only the benchmark pays for the bookkeeping.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import simpy

import sim.experiments.runner
from sim.engine import Model

_SIMPY = str(Path(simpy.__file__).parent)


class CountingModel(Model):
    """A model whose engine events are counted by kind; heap size sampled at each schedule."""

    counts: Counter = Counter()
    heap_sum = 0
    heap_max = 0
    run_seconds = 0.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        env = self.env
        inner = env.schedule
        cls = type(self)

        def schedule(event, priority=1, delay=0):
            if type(event) is simpy.Process:  # a process ending: name its generator
                where = event._generator.__name__
            else:
                f = sys._getframe(1)
                while f is not None and (f.f_code.co_filename.startswith(_SIMPY) or f.f_code.co_filename == __file__):
                    f = f.f_back
                where = f.f_code.co_name if f is not None else "?"
            cls.counts[f"{type(event).__name__} {where}"] += 1
            n = len(env._queue)
            cls.heap_sum += n
            if n > cls.heap_max:
                cls.heap_max = n
            return inner(event, priority, delay)

        env.schedule = schedule
        # The model's environment pushes its timeouts on the queue itself (sim.engine.environment): here they go
        # through SimPy's Timeout and ``schedule`` again, so that they are counted.
        env.timeout = lambda delay=0, value=None: simpy.Timeout(env, delay, value)

    @classmethod
    def reset(cls) -> None:
        cls.counts = Counter()
        cls.heap_sum = cls.heap_max = 0
        cls.run_seconds = 0.0


class TimedModel(Model):
    """A model that adds the wall time of its ``run`` (the engine loop) to a class total."""

    run_seconds = 0.0
    events = 0

    def run(self):
        t0 = time.perf_counter()
        out = super().run()
        type(self).run_seconds += time.perf_counter() - t0
        type(self).events += next(self.env._eid)
        return out

    @classmethod
    def reset(cls) -> None:
        cls.run_seconds = 0.0
        cls.events = 0


@contextmanager
def model_class(cls):
    """Make ``sim.experiments.runner.run_replication`` build ``cls`` instead of ``Model``."""
    old = sim.experiments.runner.Model
    sim.experiments.runner.Model = cls
    try:
        yield cls
    finally:
        sim.experiments.runner.Model = old
