"""The one Student-t interval and the number formatters (sim.stats)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.stats import format_sig, format_value, markdown_table, t_interval

NAN = float("nan")


def test_t_interval_matches_the_table_value():
    # 1, 2, 3: mean 2, sd 1; t(0.975, 2 df) = 4.303 (any t table), half-width 4.303 / sqrt(3)
    mean, lo, hi = t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert hi - mean == pytest.approx(4.303 / math.sqrt(3), abs=1e-3)
    assert mean - lo == pytest.approx(hi - mean)
    # 90 %: t(0.95, 2 df) = 2.920
    assert t_interval([1.0, 2.0, 3.0], level=0.90)[2] - 2.0 == pytest.approx(2.920 / math.sqrt(3), abs=1e-3)


def test_t_interval_with_few_or_missing_values():
    assert all(math.isnan(x) for x in t_interval([]))
    mean, lo, hi = t_interval([5.0])
    assert mean == 5.0 and math.isnan(lo) and math.isnan(hi)
    # a replication without a value is left out (measures) ...
    assert t_interval([1.0, NAN, 2.0, 3.0]) == t_interval([1.0, 2.0, 3.0])
    assert t_interval([NAN, NAN]) == pytest.approx((NAN,) * 3, nan_ok=True)
    # ... or makes the figure unknown (summary metrics: every replication has one)
    assert all(math.isnan(x) for x in t_interval([1.0, NAN, 2.0], drop_nan=False))


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(finite, min_size=2, max_size=30), st.floats(min_value=0.01, max_value=100), finite)
def test_t_interval_is_centred_and_moves_with_an_affine_change(values, scale, shift):
    mean, lo, hi = t_interval(values)
    assert lo <= mean <= hi
    assert mean - lo == pytest.approx(hi - mean, rel=1e-9, abs=1e-6)
    m2, lo2, hi2 = t_interval([scale * v + shift for v in values])
    assert m2 == pytest.approx(scale * mean + shift, rel=1e-9, abs=1e-3)
    assert hi2 - lo2 == pytest.approx(scale * (hi - lo), rel=1e-6, abs=1e-3)


def test_t_interval_covers_the_true_mean_about_95_percent_of_the_time():
    # 4,000 samples of 5 normal draws: coverage is binomial(4000, 0.95), sd 0.0034; 4 sd either side
    rng = np.random.default_rng(7)
    draws = rng.normal(10.0, 3.0, size=(4000, 5))
    covered = np.mean([lo <= 10.0 <= hi for _, lo, hi in map(t_interval, draws)])
    assert abs(covered - 0.95) < 4 * math.sqrt(0.95 * 0.05 / 4000)


def test_formatters():
    assert format_value(-0.234, relative=True) == "-23 %"
    assert format_value(0.05, relative=True) == "+5 %"
    assert format_value(1234.4, relative=False) == "1,234"
    assert format_value(12.345, relative=False) == "12.3"
    assert format_value(NAN, relative=False) == format_sig(NAN) == ""
    assert format_sig(0.123456) == "0.123"
    assert markdown_table(["a", "b"], [[1, "x"], [2, "y"]]) == "| a | b |\n|---|---|\n| 1 | x |\n| 2 | y |\n"


@settings(deadline=None)  # the first example imports scipy.stats
@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=40), st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99]))
def test_t_interval_is_scipy_stats_t_to_the_bit(values, level):
    # sim.stats takes the quantile from scipy.special (no scipy.stats import): the same bits as t.ppf
    from scipy import stats

    v = np.asarray(values)
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    mean = float(v.mean())
    assert t_interval(values, level) == (mean, mean - half, mean + half)


@settings(deadline=None)
@given(st.one_of(st.floats(0.0, 50.0), st.floats(0.0, 1e300), st.sampled_from([0.0, 5e-324, math.inf, -1.0, NAN])),
       st.sampled_from([1.0 - 2.0**-53, 0.5, 0.999, 1e-9]))
def test_scenario_checks_poisson_quantile_is_scipy_stats_to_the_bit(mean, q):
    # the scenario checks' Poisson quantile (no scipy.stats import) against scipy.stats.poisson.ppf
    from scipy import stats

    from sim.config.checks import _poisson_ppf

    want, got = float(stats.poisson.ppf(q, mean)), _poisson_ppf(q, mean)
    assert got == want or (math.isnan(got) and math.isnan(want))


def test_a_run_needs_no_scipy_stats():
    # scipy.stats costs about 3e9 instructions to import: the CLI, a scenario's validation and a run do without it
    import subprocess
    import sys

    code = ("import sys; import sim.cli; from tests.conftest import small_scenario; "
            "from sim.experiments.runner import run_replication; "
            "run_replication(small_scenario(persons=200, years=0.25, warmup=0.0), 0, ('intervention', 'person')); "
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
