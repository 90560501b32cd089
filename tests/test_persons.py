"""The persons of issue 14: frailty, age-dependent hazards, the age structure, home-help recipients.

Tier: unit and statistical. Frailty is a pure function of (seed, person) from its own stream, so
it does not depend on the care system, the care parameters or the other streams; its distribution
is the gamma of mean 1 and the scenario's variance. The start population's age bands match the
scenario's shares within the exact binomial spread. Rates rise with age and frailty as the hazard
ratios say (the exact rate table), and a run with a birthday cut draws the same trajectory for a
person whatever the others do.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.domain.health import DEATH, DETERIORATION, STRATUM_CHANGE
from sim.domain.streams import Stream, replication_seed, stream_key, uniforms
from sim.population import draw_trajectories, make_population
from sim.population.health import _personal_factors, rate_classes
from sim.population.population import Attributes, dependence_probability, gamma_mean_one, survivor_frailty_scale
from tests.conftest import small_scenario

ALPHA = 1e-3


def test_frailty_is_its_own_stream_and_independent_of_care():
    """Frailty depends on (seed, person) only: not on the care parameters, the population size or entrants."""
    a = small_scenario(persons=3000, seed=5)
    b = small_scenario(persons=2000, seed=5, routing={"ed_share_minor": {"stable": 0.9, "fluctuating": 0.9,
                                                                          "unstable": 0.9, "palliative": 0.9}},
                       concepts={"mobile_team": {"enabled": False}}, population={"entrants_per_year": 10.0})
    seed = replication_seed(a.simulation.seed, 0)
    pa, pb = make_population(a, seed), make_population(b, seed)
    n = min(pa.size, pb.size)
    assert np.array_equal(pa.frailty[:2000], pb.frailty[:2000])
    # exactly the FRAILTY stream's first number of each person, through the gamma quantile (times the
    # survivors' scale at the start age for those present at the start: tests/test_frailty_selection.py)
    u = uniforms(stream_key(seed, Stream.FRAILTY), np.arange(n, dtype=np.uint64), 0)
    scale = np.where(np.arange(n) < pa.n_initial, survivor_frailty_scale(a.health, pa.age_at_entry[:n]), 1.0)
    assert np.allclose(pa.frailty[:n], gamma_mean_one(u, a.health.frailty_variance) * scale, rtol=0, atol=0)
    # and the other person attributes are untouched by it (POPULATION stream, columns as before)
    off = small_scenario(persons=3000, seed=5, health={"frailty_variance": 0.0})
    po = make_population(off, seed)
    assert po.frailty is None
    assert np.array_equal(po.u_dep, pa.u_dep) and np.array_equal(po.age_at_entry, pa.age_at_entry)


def test_both_care_systems_meet_the_same_trajectories():
    """The trajectory is drawn from the population alone: the care section cannot change it."""
    a = small_scenario(persons=800, seed=11)
    b = small_scenario(persons=800, seed=11, hospital={"relapse_probability_30d": {
        "stable": 0.9, "fluctuating": 0.9, "unstable": 0.9, "palliative": 0.9}},
        concepts={"direct_admission": False})
    seed = replication_seed(11, 1)
    ta = draw_trajectories(a, make_population(a, seed), seed)
    tb = draw_trajectories(b, make_population(b, seed), seed)
    for f in ("time", "person", "kind", "stratum", "acuity", "death_time"):
        assert np.array_equal(getattr(ta, f), getattr(tb, f)), f


def test_frailty_distribution():
    """Gamma with mean 1 and the scenario's variance (KS on 20,000 persons)."""
    s = small_scenario(persons=20000, seed=3, health={"frailty_variance": 0.7,
                                                      "frailty_selection_hazard_per_year": 0.0})
    f = make_population(s, replication_seed(3, 0)).frailty
    k = 1 / 0.7
    assert stats.kstest(f, stats.gamma(k, scale=1 / k).cdf).pvalue > ALPHA


@settings(max_examples=30, deadline=None)
@given(u=st.floats(1e-9, 1 - 1e-9), var=st.floats(0.01, 5.0))
def test_gamma_quantile(u, var):
    """``gamma_mean_one`` is the gamma quantile (scipy's ppf), and 1 for variance 0."""
    g = gamma_mean_one(np.array([u]), var)[0]
    assert g == pytest.approx(stats.gamma(1 / var, scale=var).ppf(u), rel=1e-6, abs=1e-12)
    assert gamma_mean_one(np.array([u]), 0.0)[0] == 1.0


def test_age_bands_at_the_start():
    """Persons per age band within the exact binomial (Clopper-Pearson) interval of the band's share;
    uniform within a band (KS); entrants at 65 or, moving in, from the same bands."""
    s = small_scenario(persons=30000, seed=9)
    p = s.population
    pop = make_population(s, replication_seed(9, 0))
    n0 = pop.n_initial
    age = pop.age_at_entry[:n0]
    edges = [*p.age_band_lower_years, p.age_max]
    a = ALPHA / len(p.age_band_shares)
    for lo, hi, share in zip(edges, edges[1:], p.age_band_shares, strict=False):
        inside = (age >= lo) & (age < hi)
        ci = stats.binomtest(int(inside.sum()), n0).proportion_ci(1 - a, method="exact")
        assert ci.low <= share <= ci.high, (lo, inside.mean(), share)
        if inside.sum() > 200:
            assert stats.kstest((age[inside] - lo) / (hi - lo), "uniform").pvalue > a
    assert age.min() >= 65.0 and age.max() < p.age_max
    entrant_age = pop.age_at_entry[n0:]
    assert ((entrant_age == 65.0) | (entrant_age > 65.0)).all()


def test_rate_classes_and_factors():
    """Deterioration, worse moves and dying scaled; better moves and palliative death not."""
    cls = rate_classes()
    # stable: det, move to stable (none), fluctuating/unstable (worse), palliative (dying), death (dying)
    assert cls[0].tolist() == [1, 0, 2, 2, 3, 3]
    assert cls[2].tolist() == [1, 0, 0, 0, 3, 3]  # unstable: better moves not scaled
    assert cls[3].tolist() == [1, 0, 0, 0, 0, 0]  # palliative: its death rate is its own phase length
    h = small_scenario().health.model_copy(update={
        "deterioration_hazard_ratio_per_year_of_age": 1.05, "worsening_hazard_ratio_per_year_of_age": 1.04,
        "dying_hazard_ratio_per_year_of_age": 1.15, "age_reference_years": 75.0})
    f = _personal_factors(h, np.array([1.0, 2.0, 0.5]), np.array([75.0, 85.0, 65.0]))
    assert f[0].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert f[1] == pytest.approx([1.0, 2 * 1.05**10, 2 * 1.04**10, 2 * 1.15**10])
    assert f[2] == pytest.approx([1.0, 0.5 * 1.05**-10, 0.5 * 1.04**-10, 0.5 * 1.15**-10])


def test_rates_rise_with_age_and_frailty():
    """Deterioration and death per person-year, from the drawn trajectories: higher for 85+ than 65-74,
    higher for the frailest quarter than for the least frail quarter (one population of 20,000)."""
    s = small_scenario(persons=20000, seed=4, years=2.0, warmup=0.0)
    seed = replication_seed(4, 0)
    pop = make_population(s, seed)
    tr = draw_trajectories(s, pop, seed)
    n0 = pop.n_initial
    end = np.minimum(tr.death_time[:n0], s.horizon_days)
    years = end / 365.25
    det = np.bincount(tr.person[tr.kind == DETERIORATION], minlength=pop.size)[:n0]
    dead = np.isfinite(tr.death_time[:n0])
    age = pop.age_at_entry[:n0]
    young, old = age < 75, age >= 85
    assert det[old].sum() / years[old].sum() > 1.5 * det[young].sum() / years[young].sum()
    assert dead[old].sum() / years[old].sum() > 4 * dead[young].sum() / years[young].sum()
    q1, q3 = np.quantile(pop.frailty[:n0], [0.25, 0.75])
    frail, robust = pop.frailty[:n0] > q3, pop.frailty[:n0] < q1
    assert det[frail].sum() / years[frail].sum() > 2 * det[robust].sum() / years[robust].sum()


def test_birthday_cuts_leave_event_order_sane():
    """With age-dependent rates the trajectory still starts with entry, ends at death, once, in time order."""
    s = small_scenario(persons=500, seed=2, years=3.0, warmup=0.5)
    seed = replication_seed(2, 0)
    tr = draw_trajectories(s, make_population(s, seed), seed)
    assert (np.diff(tr.time) >= 0).all()
    deaths = tr.person[tr.kind == DEATH]
    assert len(deaths) == len(np.unique(deaths)) == np.isfinite(tr.death_time).sum()
    assert (tr.time < s.horizon_days).all()
    assert set(np.unique(tr.kind)) <= {0, 1, 2, 3, DETERIORATION, STRATUM_CHANGE, DEATH}


def test_dependence_rises_with_age_and_frailty():
    """P(dependent) = 1 - (1 - q)^w: q itself at weight 1, rising with age and frailty, in 0-1."""
    s = small_scenario(persons=4000, seed=8, population={"dependence_hazard_ratio_per_year_of_age": 1.1,
                                                          "dependence_frailty_exponent": 1.0})
    pop = make_population(s, replication_seed(8, 0))
    probs = dependence_probability(s, pop)
    q = s.population.personal_care_dependent.as_tuple()
    w = 1.1 ** (np.floor(pop.age_at_entry) - s.health.age_reference_years) * pop.frailty
    for qs, p in zip(q, probs, strict=True):
        assert np.allclose(p, 1 - (1 - qs) ** w)
        assert ((p >= 0) & (p <= 1)).all()
    attrs = Attributes(s, pop)
    assert (attrs.dep[:-1] <= attrs.dep[1:]).all()  # monotone in the stratum (same latent uniform)
