"""The synthetic 65+ population: who is there at the start, who enters, their attributes.

Attributes for the inclusion criteria come from fixed latent uniforms per person, compared
with stratum-dependent probabilities (or Poisson quantiles), so they rise monotonically when
a person's stratum worsens and never need a new draw.

Each person also holds a persistent frailty (gamma, mean 1, from its own FRAILTY stream) that
scales the health process's rates (:mod:`sim.population.health`) and, with age, the needs
assessment for personal-care dependence (home help), and a fixed factor for the home-help hours
granted to a recipient (gamma, mean 1).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy.special import gammaincinv

from sim import stats
from sim.config.scenario import Scenario
from sim.domain.strata import STRATA
from sim.domain.streams import Stream, stream_key, uniforms
from sim.domain.units import AGE_FLOOR_YEARS, DAYS_PER_YEAR

# Index of each latent uniform in a person's POPULATION stream (never renumber).
_U_AGE, _U_STRATUM, _U_CHRONIC, _U_MEDS, _U_DEP, _U_HHC, _U_CANCER, _U_WISH, _U_HOURS = range(9)
_U_FRAILTY = 0  # index in the person's FRAILTY stream


@dataclass
class Population:
    """Everyone who is ever in the area during a run; arrays indexed by person id."""

    entry_time: np.ndarray  #: day of entry (0 for those present at the start)
    age_at_entry: np.ndarray  #: years
    stratum_at_entry: np.ndarray  #: index into STRATA
    u_chronic: np.ndarray
    u_meds: np.ndarray
    u_dep: np.ndarray
    u_hhc: np.ndarray
    u_cancer: np.ndarray
    u_wish: np.ndarray
    n_initial: int
    frailty: np.ndarray | None = None  #: persistent factor (mean 1); None: everyone 1
    u_hours: np.ndarray | None = None  #: latent uniform of the granted home-help hours

    def frailty_or_ones(self) -> np.ndarray:
        """Return the frailty of every person (ones when the scenario has none)."""
        return np.ones(self.size) if self.frailty is None else self.frailty

    @property
    def size(self) -> int:
        """Number of persons ever present."""
        return len(self.entry_time)


def gamma_mean_one(u: np.ndarray, variance: float) -> np.ndarray:
    """Quantiles of a gamma distribution with mean 1 and ``variance`` (shape 1/variance) at ``u``."""
    if variance <= 0:
        return np.ones(len(u))
    return gammaincinv(1.0 / variance, u) * variance


def survivor_frailty_scale(h, age: np.ndarray) -> np.ndarray:
    """Factor (0-1] taking a new 65-year-old's frailty to a survivor's at ``age`` (years).

    Shared-frailty selection (Vaupel, Manton & Stallard 1979), :func:`sim.stats.survivor_frailty_scale`
    with the [health] section's selection hazard, frailty variance, dying hazard ratio and reference age.
    """
    return stats.survivor_frailty_scale(h.frailty_selection_hazard_per_year, h.frailty_variance,
                                        h.dying_hazard_ratio_per_year_of_age, h.age_reference_years, age,
                                        AGE_FLOOR_YEARS)


def poisson_quantile(u: np.ndarray, mean: float) -> np.ndarray:
    """Poisson quantiles of uniforms on (0, 1): the smallest ``k`` with ``P(X <= k) >= u``.

    Equal to ``scipy.stats.poisson.ppf(u, mean)`` (same CDF, ``scipy.special.pdtr``), but a
    search in a table of the CDF instead of an inversion per person: about 100 times faster,
    which matters for a region of 330,000 persons.
    """
    k = np.arange(64)
    while special.pdtr(k[-1], mean) < 1.0:
        k = np.arange(2 * len(k))
    return np.searchsorted(special.pdtr(k, mean), u, side="left").astype(np.int16)


class Attributes:
    """Attribute look-ups for one scenario: ``f(person, stratum, time)``."""

    def __init__(self, scenario: Scenario, pop: Population):
        p = scenario.population
        self.pop = pop
        # Age at entry and day of entry as Python floats for :meth:`age` (no numpy scalar per look-up).
        self._age0 = array("d", np.asarray(pop.age_at_entry, np.float64).tobytes())
        self._entry = array("d", np.asarray(pop.entry_time, np.float64).tobytes())
        # Poisson quantile tables per stratum, evaluated once for every person.
        self.chronic = np.stack(
            [poisson_quantile(pop.u_chronic, m) for m in p.chronic_diagnoses_mean.as_tuple()]
        )
        self.meds = np.stack(
            [poisson_quantile(pop.u_meds, m) for m in p.medications_mean.as_tuple()]
        )
        self.dep = np.stack([pop.u_dep < q for q in dependence_probability(scenario, pop)])
        self.hhc = np.stack([pop.u_hhc < q for q in p.home_health_enrolled.as_tuple()])
        self.cancer = pop.u_cancer < p.incurable_cancer_given_palliative
        self.wish = pop.u_wish < p.wishes_palliative_team
        shape = scenario.routine.home_help_hours_shape
        #: factor (mean 1) on a recipient's weekly home-help hours, fixed per person
        self.help_hours_factor = (np.ones(pop.size) if shape is None or pop.u_hours is None
                                  else gamma_mean_one(pop.u_hours, 1.0 / shape))

    def age(self, person: int, t: float) -> float:
        """Age in years at day ``t``."""
        return self._age0[person] + (t - self._entry[person]) / DAYS_PER_YEAR  # float64 arithmetic, as numpy's


def dependence_probability(scenario: Scenario, pop: Population) -> list[np.ndarray]:
    """Per stratum, each person's probability of personal-care dependence (the home-help need).

    ``1 - (1 - q_s) ** w`` with ``q_s`` the stratum's ``personal_care_dependent`` and the weight
    ``w = ratio ** (age at entry - reference age) * frailty ** exponent``: a proportional-hazards
    form, so it stays in 0-1, rises with the stratum, with age and with frailty, and is ``q_s``
    itself when ``w = 1`` (no age or frailty effect).
    """
    p = scenario.population
    ratio, power = p.dependence_hazard_ratio_per_year_of_age, p.dependence_frailty_exponent
    q = p.personal_care_dependent.as_tuple()
    if ratio == 1.0 and power == 0.0:
        return [np.full(pop.size, x) for x in q]
    age = np.floor(pop.age_at_entry)
    w = ratio ** (age - scenario.health.age_reference_years) * pop.frailty_or_ones() ** power
    return [-np.expm1(w * np.log1p(-x)) if x < 1.0 else np.ones(pop.size) for x in q]


def _band_ages(p, u: np.ndarray) -> np.ndarray:
    """Ages from the age bands by inversion: the band by its share, uniform within it."""
    edges = np.array([*p.age_band_lower_years, p.age_max])
    cum = np.concatenate([[0.0], np.cumsum(p.age_band_shares)])
    cum[-1] = 1.0
    return np.interp(u, cum, edges)


def _draw_entrants(scenario: Scenario, key_area: np.uint64) -> np.ndarray:
    rate = scenario.population.entrants_per_year / DAYS_PER_YEAR
    horizon = scenario.horizon_days
    if rate <= 0:
        return np.empty(0)
    times: list[np.ndarray] = []
    last, start = 0.0, 0
    block = max(64, int(rate * horizon * 1.2) + 64)
    while True:
        u = uniforms(key_area, 0, np.arange(start, start + block))
        t = last + np.cumsum(-np.log(u) / rate)
        times.append(t[t < horizon])
        if t[-1] >= horizon:
            break
        last, start = float(t[-1]), start + block
    return np.concatenate(times)


def make_population(scenario: Scenario, seed: int) -> Population:
    """Draw the initial population and the entrants from their own streams."""
    p = scenario.population
    n0 = p.persons_65plus
    entrant_times = _draw_entrants(scenario, stream_key(seed, Stream.AREA))
    n = n0 + len(entrant_times)
    ids = np.arange(n, dtype=np.uint64)
    key = stream_key(seed, Stream.POPULATION)
    u = uniforms(key, ids[:, None], np.arange(9)[None, :])  # counter-based: columns 0-7 as before

    movers = u[:, _U_AGE] < p.share_entrants_moving_in
    # Entrants: most turn 65; movers-in get an age from the same distribution (re-using the
    # uniform scaled to stay independent of the mover flag).
    u_mover = np.minimum(u[:, _U_AGE] / max(p.share_entrants_moving_in, 1e-12), 1.0 - 1e-12)
    if p.age_band_lower_years is not None:
        age, mover_age = _band_ages(p, u[:, _U_AGE]), _band_ages(p, u_mover)
    else:
        span = p.age_max - AGE_FLOOR_YEARS
        # Truncated exponential by inversion: age - 65 ~ Exp(mean) conditioned on < span.
        trunc = 1.0 - np.exp(-span / p.age_excess_mean_years)
        age = AGE_FLOOR_YEARS - p.age_excess_mean_years * np.log1p(-u[:, _U_AGE] * trunc)
        mover_age = AGE_FLOOR_YEARS - p.age_excess_mean_years * np.log1p(-u_mover * trunc)
    is_entrant = ids >= n0
    age = np.where(is_entrant, np.where(movers, mover_age, AGE_FLOOR_YEARS), age)

    shares0 = np.cumsum(p.stratum_shares.as_tuple())
    shares_e = np.cumsum(p.entrant_stratum_shares.as_tuple())
    st0 = np.minimum(np.searchsorted(shares0, u[:, _U_STRATUM], side="right"), len(STRATA) - 1)
    ste = np.minimum(np.searchsorted(shares_e, u[:, _U_STRATUM], side="right"), len(STRATA) - 1)
    stratum = np.where(is_entrant, ste, st0).astype(np.int8)

    entry = np.concatenate([np.zeros(n0), entrant_times])
    variance = scenario.health.frailty_variance
    frailty = None
    if variance > 0:
        uf = uniforms(stream_key(seed, Stream.FRAILTY), ids, _U_FRAILTY)
        frailty = gamma_mean_one(uf, variance)
        selection = survivor_frailty_scale(scenario.health, age)
        frailty = np.where(is_entrant, frailty, frailty * selection)
    return Population(
        entry_time=entry,
        age_at_entry=age,
        stratum_at_entry=stratum,
        u_chronic=u[:, _U_CHRONIC],
        u_meds=u[:, _U_MEDS],
        u_dep=u[:, _U_DEP],
        u_hhc=u[:, _U_HHC],
        u_cancer=u[:, _U_CANCER],
        u_wish=u[:, _U_WISH],
        n_initial=n0,
        frailty=frailty,
        u_hours=u[:, _U_HOURS],
    )
