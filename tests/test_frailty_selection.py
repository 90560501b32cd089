"""The start population's frailty as survivors' frailty (shared-frailty selection, issue 14's drift)."""

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.population.population import gamma_mean_one, survivor_frailty_scale


def _health(m: float, var: float = 2.0, r: float = 1.15) -> SimpleNamespace:
    """The [health] fields the selection reads (the function takes the scenario's Health section)."""
    return SimpleNamespace(frailty_selection_hazard_per_year=m, frailty_variance=var,
                           dying_hazard_ratio_per_year_of_age=r, age_reference_years=75.0)


def test_off_at_zero_and_one_at_65():
    ages = np.array([65.0, 75.0, 95.0])
    assert (survivor_frailty_scale(_health(0.0), ages) == 1.0).all()
    assert survivor_frailty_scale(_health(0.01), np.array([65.0]))[0] == pytest.approx(1.0)


@given(m=st.floats(0.001, 0.2), var=st.floats(0.1, 4.0), r=st.floats(1.0, 1.2))
@settings(max_examples=60, deadline=None)
def test_scale_falls_with_age_within_0_1(m, var, r):
    s = survivor_frailty_scale(_health(m, var, r), np.linspace(65.0, 105.0, 41))
    assert (s > 0.0).all() and (s <= 1.0).all() and (np.diff(s) <= 1e-15).all()


def test_survivors_of_a_simulated_cohort_have_the_scaled_gamma():
    """Draw new 65-year-olds, let each survive to 85 with probability exp(-Z M): the survivors' frailty
    has the scaled draw's distribution (gamma of the same shape, rate k + M); a two-sample
    Kolmogorov-Smirnov test on about 280,000 survivors (fixed seeds) and the survivors' mean."""
    from scipy.stats import ks_2samp

    h = _health(0.02)
    rng = np.random.default_rng(3)
    z = gamma_mean_one(rng.random(400_000), h.frailty_variance)
    scale = survivor_frailty_scale(h, np.array([85.0]))[0]
    k = 1.0 / h.frailty_variance
    cum = k / scale - k  # M(85) from the scale
    survivors = z[rng.random(len(z)) < np.exp(-z * cum)]
    model = gamma_mean_one(rng.random(len(survivors)), h.frailty_variance) * scale
    assert ks_2samp(survivors, model).pvalue > 0.001
    # The survivors' mean frailty is the scale (mean 1 at 65); standard error about 0.003 here.
    assert survivors.mean() == pytest.approx(scale, abs=5 * survivors.std() / np.sqrt(len(survivors)))
    # A wrong selection (twice the cumulative hazard) is told apart by the same test.
    wrong = gamma_mean_one(rng.random(len(survivors)), h.frailty_variance) * k / (k + 2 * cum)
    assert ks_2samp(survivors, wrong).pvalue < 1e-6


def test_the_default_start_population_has_the_survivors_draw():
    """Exact, on the shipped default: the persons present at the start have the entrants' gamma quantile of
    their own FRAILTY uniform times the survivor scale at their age; the entrants have it unscaled."""
    from sim.config import load_scenario
    from sim.domain.streams import Stream, stream_key, uniforms
    from sim.population import make_population
    from tests.conftest import ROOT

    s = load_scenario(ROOT / "scenarios" / "default.toml")
    h = s.health
    assert h.frailty_selection_hazard_per_year > 0.0  # on in the default (issue 14's re-tune)
    pop = make_population(s, 7)
    n0 = pop.n_initial
    u = uniforms(stream_key(7, Stream.FRAILTY), np.arange(pop.size, dtype=np.uint64), 0)
    drawn = gamma_mean_one(u, h.frailty_variance)
    scale = survivor_frailty_scale(h, pop.age_at_entry[:n0])
    np.testing.assert_array_equal(pop.frailty[:n0], drawn[:n0] * scale)
    np.testing.assert_array_equal(pop.frailty[n0:], drawn[n0:])
    assert (scale[pop.age_at_entry[:n0] >= 85.0] < 0.75).all()  # the selection matters at the ages it is for


@given(var=st.floats(0.1, 3.0), e=st.floats(0.0, 3.0))
@settings(max_examples=40, deadline=None)
def test_deterioration_multiplier_has_mean_one_over_the_entrants_gamma(var, e):
    """Z ** e / E[Z ** e]: its expectation over the entrants' gamma (scipy's numerical integral) is 1."""
    from scipy.stats import gamma

    from sim.population.health import deterioration_frailty

    h = SimpleNamespace(deterioration_frailty_exponent=e, frailty_variance=var)
    law = gamma(a=1.0 / var, scale=var)
    assert law.expect(lambda z: deterioration_frailty(h, np.atleast_1d(z))[0]) == pytest.approx(1.0, rel=1e-6)
    z = gamma_mean_one((np.arange(100) + 0.5) / 100, var)
    h1 = SimpleNamespace(deterioration_frailty_exponent=1.0, frailty_variance=var)
    assert deterioration_frailty(h1, z) is z  # exponent 1: the frailty itself (outputs unchanged)
