"""The weekly tick shared by the processes that act once a week (planned admissions, housing assessments)."""

from __future__ import annotations

from collections.abc import Callable, Generator

import simpy

from sim.domain.units import DAYS_PER_WEEK


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
