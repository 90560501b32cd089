"""Resource guard: a run's memory and time, estimated before it starts, refused above a limit.

A scenario can be valid field by field and still ask for more than the machine has (ten
million persons for a hundred years; a deterioration every day; a million entrants a year).
The model's work is linear in its drivers, so a linear estimate from three numbers per
replication is enough to refuse such a run in milliseconds instead of failing after an hour:

- persons ever present: the start population plus the entrants over warm-up and measured years;
- person-years lived, by need stratum: the expected occupancy of the health process (a
  continuous-time Markov chain with death absorbing), integrated over the horizon;
- health events drawn up front (entries, stratum changes, deteriorations, deaths): occupancy
  times each stratum's total event rate. They are held in memory for the whole replication.

Memory is one replication's process peak; replications run ``parallel`` at once. Time is
every replication of every care system, divided over the parallel workers.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from sim.config.scenario import STRATA, Scenario
from sim.domain.units import AGE_FLOOR_YEARS
from sim.stats import survivor_frailty_scale

# Coefficients from real runs (``benchmarks/resource_guard.py``: one replication of both care
# systems in a fresh process, events streamed to Parquet, as ``compare`` runs them; 8 points from
# 200 to 114,000 persons, 0.2 to 9 years, deterioration rates x1, x8 and x24, 100,000 entrants a
# year; peak memory 0.21 to 0.44 GiB, 0.05 to 22 s; a 2-core machine under the shared load of
# this session). Non-negative least squares: memory within 7 % and time within 26 % of every
# point but the smallest. Only the order of magnitude matters: the guard stops runs that need ten
# or a thousand times what the machine has. Checked outside the fit: 1,000,000 entrants a year
# for 0.5 years (518,000 persons) estimated 0.57 GiB and 29 s, measured 0.41 GiB and 18 s; the
# region scenario (408,000 persons, 1.66 million health events) estimated 1.2 GiB per
# replication, the README's measured peak 0.92 GiB (overestimates: on the safe side).
M0 = 0.223  #: GiB: Python, numpy, pandas, pyarrow, SimPy and the model's code
M_EVENT = 5.92e-7  #: GiB per health event drawn (the trajectory arrays and what the care systems hold per event)
T_PY = 7.82e-5  #: seconds per person-year, both care systems (population, routine volume, nurse balance)
T_EVENT = 3.25e-5  #: seconds per health event, both care systems (the response: ED, beds, teams)

#: Environment variables that set the limits (GiB, hours) and the lower warning thresholds.
ENV_MEMORY = "NARVARD_MEMORY_LIMIT_GIB"
ENV_MEMORY_WARN = "NARVARD_MEMORY_WARN_GIB"
ENV_HOURS = "NARVARD_TIME_LIMIT_HOURS"
ENV_HOURS_WARN = "NARVARD_TIME_WARN_HOURS"


def physical_memory_gib() -> float:
    """Installed memory of this machine (GiB); 16 when the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 16.0


@dataclass(frozen=True)
class Limits:
    """Refuse above ``memory_gib``/``hours``; warn above ``warn_memory_gib``/``warn_hours``."""

    memory_gib: float
    warn_memory_gib: float
    hours: float
    warn_hours: float

    @classmethod
    def from_env(cls) -> Limits:
        """Read the limits from the environment; else 80 % / 50 % of this machine's memory, 24 h / 15 min."""
        ram = physical_memory_gib()

        def get(name: str, default: float) -> float:
            text = os.environ.get(name, "")
            try:
                value = float(text) if text else default
            except ValueError:
                return default
            return value if value > 0 and math.isfinite(value) else default

        return cls(get(ENV_MEMORY, 0.8 * ram), get(ENV_MEMORY_WARN, 0.5 * ram),
                   get(ENV_HOURS, 24.0), get(ENV_HOURS_WARN, 0.25))


@dataclass(frozen=True)
class Drivers:
    """What a replication's work grows with."""

    persons: float  #: persons ever present
    person_years: float
    health_events: float  #: drawn up front and held for the whole replication


def _integrals(q: np.ndarray, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """``∫_0^H e^{Qt} dt`` and ``∫_0^H (H - t) e^{Qt} dt`` from one matrix exponential."""
    from scipy.linalg import expm

    k = len(q)
    big = np.zeros((3 * k, 3 * k))
    big[:k, :k] = q
    big[:k, k:2 * k] = np.eye(k)
    big[k:2 * k, 2 * k:] = np.eye(k)
    e = expm(big * horizon)
    return e[:k, k:2 * k], e[:k, 2 * k:]


def _mean_age_multipliers(s: Scenario) -> tuple[float, float, float]:
    """Mean hazard multipliers (deterioration, worsening, dying) over the start population's ages.

    The frailty has mean 1 (the start population's: its survivors' mean at each age when the selection is
    on); the age multipliers are averaged over the start ages (age bands or the truncated exponential),
    which is all a resource estimate needs.
    """
    h, pop = s.health, s.population
    if not h.personal_rates:
        return 1.0, 1.0, 1.0
    grid = np.linspace(AGE_FLOOR_YEARS, pop.age_max, 4001)[:-1] + (pop.age_max - AGE_FLOOR_YEARS) / 8000
    if pop.age_band_lower_years is not None:
        edges = np.array([*pop.age_band_lower_years, pop.age_max])
        band = np.searchsorted(edges, grid, side="right") - 1
        weight = np.array(pop.age_band_shares)[band] / np.diff(edges)[band]
    else:
        weight = np.exp(-(grid - AGE_FLOOR_YEARS) / pop.age_excess_mean_years)
    weight = weight / weight.sum()
    x = np.floor(grid) - h.age_reference_years
    # the start population's mean frailty at each age (survivors' frailty; 1 when the selection is off), for
    # deteriorations too and there to the first power, not deterioration_frailty_exponent's (the survivors'
    # mean of Z ** e / E[Z ** e] is scale ** e): the frail gather in the worse strata with their higher
    # deterioration rates, which this stratum-level estimate does not see; so it meets the drawn events
    # (tests/test_budget.py; with scale ** 2 the estimate was 16 % below the events drawn in its scenario)
    scale = survivor_frailty_scale(h.frailty_selection_hazard_per_year, h.frailty_variance,
                                   h.dying_hazard_ratio_per_year_of_age, h.age_reference_years, grid,
                                   AGE_FLOOR_YEARS)
    return (float(weight @ (h.deterioration_hazard_ratio_per_year_of_age ** x * scale)),
            float(weight @ (h.worsening_hazard_ratio_per_year_of_age ** x * scale)),
            float(weight @ (h.dying_hazard_ratio_per_year_of_age ** x * scale)))


def drivers(s: Scenario) -> Drivers:
    """Persons ever present, person-years and health events of one replication (expected values)."""
    h, pop = s.health, s.population
    years = s.simulation.warmup_years + s.simulation.years
    n, entrants = float(pop.persons_65plus), float(pop.entrants_per_year)
    k = len(STRATA)
    q = np.zeros((k, k))
    total = np.zeros(k)
    m_det, m_worse, m_dying = _mean_age_multipliers(s)
    pall = STRATA.index("palliative")
    for i, origin in enumerate(STRATA):
        moves = getattr(h.transition_rates_per_year, origin)
        for j, dest in enumerate(STRATA):
            q[i, j] = moves.get(dest, 0.0) * (1.0 if j <= i else m_dying if j == pall else m_worse)
        death = getattr(h.death_rate_per_year, origin) * (1.0 if i == pall else m_dying)
        q[i, i] = -(q[i].sum() + death)
        total[i] = q[i].sum() - q[i, i] + getattr(h.deterioration_rate_per_year, origin) * m_det
    persons = n + entrants * years
    try:
        once, twice = _integrals(q, years)
        occ = n * np.array(pop.stratum_shares.as_tuple()) @ once
        occ = occ + entrants * np.array(pop.entrant_stratum_shares.as_tuple()) @ twice
        person_years = float(occ.sum())
        events = persons + float(occ @ total)
        if not (math.isfinite(person_years) and math.isfinite(events)):
            raise ValueError
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):  # bound: nobody dies, the highest rates
        person_years = persons * years
        events = persons + person_years * float(total.max())
    return Drivers(persons, person_years, events)


@dataclass(frozen=True)
class Estimate:
    """A run's expected peak memory and wall time."""

    drivers: Drivers
    memory_gib: float  #: one replication's process
    parallel: int  #: replications at once
    hours: float  #: wall time of the whole run

    @property
    def total_memory_gib(self) -> float:
        """Memory of every replication that runs at once."""
        return self.memory_gib * self.parallel


def estimate(s: Scenario, paradigms: int = 2, workers: int | None = None) -> Estimate:
    """Estimate memory and time of ``s`` with ``paradigms`` care systems on ``workers`` processes."""
    d = drivers(s)
    reps = s.simulation.replications
    parallel = max(1, min(reps, workers or os.cpu_count() or 1))
    memory = M0 + M_EVENT * d.health_events
    seconds = (T_PY * d.person_years + T_EVENT * d.health_events) * paradigms / 2
    hours = seconds * math.ceil(reps / parallel) / 3600
    return Estimate(d, memory, parallel, hours)


def _fields(s: Scenario, e: Estimate) -> str:
    """Name the fields that drive the estimate, with their values."""
    sim, pop = s.simulation, s.population
    per_py = e.drivers.health_events / max(e.drivers.person_years, 1e-9)
    return (f"population.persons_65plus = {pop.persons_65plus:,}, population.entrants_per_year = "
            f"{pop.entrants_per_year:,.6g}, simulation.warmup_years + years = {sim.warmup_years + sim.years:g},"
            f" health.*_rate_per_year ({per_py:,.3g} health events per person-year),"
            f" simulation.replications = {sim.replications}")


def check(s: Scenario, paradigms: int = 2, workers: int | None = None,
          limits: Limits | None = None) -> tuple[list[str], list[str]]:
    """``(refusals, warnings)``: at most one line each, naming the fields, the estimate and the limit."""
    limits = limits or Limits.from_env()
    e = estimate(s, paradigms, workers)
    d = e.drivers
    size = (f"{d.persons:,.0f} persons, {d.person_years:,.0f} person-years and {d.health_events:,.3g}"
            " health events per replication")
    memory = (f"an estimated {e.total_memory_gib:,.3g} GiB of memory ({e.memory_gib:,.3g} GiB per replication,"
              f" {e.parallel} at once)")
    time = f"an estimated {e.hours:,.3g} hours"
    over = []
    if e.total_memory_gib > limits.memory_gib:
        over.append(f"{memory}, above the limit of {limits.memory_gib:.3g} GiB ({ENV_MEMORY})")
    if e.hours > limits.hours:
        over.append(f"{time}, above the limit of {limits.hours:g} hours ({ENV_HOURS})")
    if over:
        fewer = e.memory_gib <= limits.memory_gib and e.parallel > 1 and e.hours <= limits.hours
        hint = "; or run fewer at once (--workers)" if fewer else ""
        return [f"{_fields(s, e)}: {size} need {' and '.join(over)}; make the area, the horizon, the rates"
                f" or the replications smaller{hint}"], []
    heavy = []
    if e.total_memory_gib > limits.warn_memory_gib:
        heavy.append(f"{memory} of this machine's {physical_memory_gib():.3g} GiB")
    if e.hours > limits.warn_hours:
        heavy.append(f"{time} ({s.simulation.replications} replications)")
    if heavy:
        return [], [f"this run needs {' and '.join(heavy)}: {size}"]
    return [], []
