"""pyabc's mapping sampler with seeded tasks, so that a posterior run is reproducible (imported lazily).

pyabc's ``MappingSampler`` reseeds numpy's and Python's global generators from the operating
system's entropy in every task, so no two runs draw the same particles. Here task ``i`` of
generation ``t`` seeds both from ``(seed, t, i)`` instead: the same seed, population and targets
give the same history whatever the executor or the number of workers (a task's draws depend on
its place, not on which worker runs it), and a resumed run draws what an uninterrupted one would.
"""

from __future__ import annotations

import functools
import random

import numpy as np
import pyabc


def task_seed(seed: int, t: int, i: int) -> int:
    """Return the 32-bit seed of task ``i`` of generation ``t`` (``t`` is -1 for a calibration sample)."""
    return int(np.random.SeedSequence([seed, t + 1, i]).generate_state(1)[0])


class SeededMappingSampler(pyabc.sampler.MappingSampler):
    """``MappingSampler`` whose task ``i`` of generation ``t`` seeds the global generators from ``(seed, t, i)``."""

    def __init__(self, map_, seed: int = 0):
        super().__init__(map_=map_)
        self.seed = seed

    def __getstate__(self):  # the tasks carry the sampler to the workers: keep the seed
        return (*super().__getstate__(), self.seed)

    def __setstate__(self, state):
        *rest, self.seed = state
        super().__setstate__(tuple(rest))

    def map_function(self, simulate_one, task_seed_):  # noqa: D102 (pyabc's, with the global seeds fixed)
        simulate_one = self.unpickle(simulate_one)
        np.random.seed(task_seed_)  # noqa: NPY002  (pyabc's model, prior and kernel draw from the globals)
        random.seed(task_seed_)
        evaluations = 0
        sample = self._create_empty_sample()
        while True:
            new = simulate_one()
            evaluations += 1
            sample.append(new)
            if new.accepted:
                return sample, evaluations

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
        """As pyabc's, with each task's seed as its mapped item."""
        fn = functools.partial(self.map_function, self.pickle(simulate_one))
        results = [r for r in self.map_(fn, [task_seed(self.seed, t, i) for i in range(n)])
                   if not isinstance(r, Exception)]
        samples, evaluations = zip(*results, strict=True)
        self.nr_evaluations_ = sum(evaluations)
        sample = self._create_empty_sample()
        for s in samples:
            sample += s
        return sample
