"""The weekly tick shared by the processes that act once a week (planned admissions, housing assessments)."""

from __future__ import annotations

from collections.abc import Callable, Generator

import numpy as np
import simpy

from sim.domain.streams import stream_starts, uniforms_from
from sim.domain.units import DAYS_PER_WEEK

_CELLS = 1 << 17  # persons x weeks drawn at a time by WeeklyHits (1 MiB a float64 temporary: in cache)


def every_week(env: simpy.Environment, horizon: float,
               act: Callable[[int, float], None]) -> Generator[simpy.Event, None, None]:
    """Call ``act(week, t)`` at the end of each whole week (week 1, 2, ...; t in days) before ``horizon``.

    A SimPy process body (``yield from`` it): a week ending at or after the horizon is not acted on.
    """
    week = 0
    while env.now < horizon:
        yield env.timeout(DAYS_PER_WEEK)
        week += 1
        if env.now >= horizon:
            break
        act(week, env.now)


class WeeklyHits:
    """The persons whose weekly uniform is below ``threshold``, week by week: a sparse, shared pre-draw.

    Week ``w``'s uniform of person ``p`` is ``uniforms(key, p, w)``. A weekly draw that acts on
    a person only when that number is below a per-stratum probability (planned admissions)
    needs, each week, only the persons below the largest of those probabilities: they are
    found here for all persons and a run of weeks at once (``_CELLS`` numbers a time) and
    kept, so that every care system of a replication reads the same lists (common random
    numbers) and nobody draws the rest again. ``week(w)``: ``(persons, numbers)``, persons
    ascending, as arrays.
    """

    def __init__(self, key, persons: int, threshold: float) -> None:
        self.starts = stream_starts(key, np.arange(persons))
        self.threshold = threshold
        self.chunk = max(1, _CELLS // max(persons, 1))
        self.drawn = 1  # weeks below this are drawn (weeks count from 1)
        self.hits: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def week(self, w: int) -> tuple[np.ndarray, np.ndarray]:
        """Persons (ascending, int64) whose week-``w`` number is below the threshold, and those numbers (float64)."""
        while w >= self.drawn:
            weeks = np.arange(self.drawn, self.drawn + self.chunk)
            u = uniforms_from(self.starts[None, :], weeks[:, None])  # (weeks, persons)
            row, person = np.nonzero(u < self.threshold)  # row-major: by week, then person
            cut = np.searchsorted(row, np.arange(len(weeks) + 1))
            for j, wk in enumerate(weeks.tolist()):
                lo, hi = cut[j], cut[j + 1]
                if hi > lo:
                    pair = (person[lo:hi], u[j, person[lo:hi]])
                    for a in pair:  # shared by the care systems of a replication: none may change them
                        a.flags.writeable = False
                    self.hits[wk] = pair
            self.drawn += self.chunk
        hit = self.hits.get(w)
        return (np.empty(0, np.int64), np.empty(0)) if hit is None else hit
