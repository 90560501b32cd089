"""ABC-SMC posterior (sim.experiments.calibration.abc): recovery, resume, refusal to mix.

Tier: statistical (recovery) and functional. A toy model with the calibration's interface (a
parameter set -> the naive figure of each target, with noise) stands in for the simulation, so
the tests run in seconds; the posterior is pyabc's, the distance the calibration's band distance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiments.calibration.abc import HISTORY, BandDistance, key, marginals, run_abc
from sim.experiments.calibration.study import StudyError
from sim.experiments.executor import Executor
from sim.measure.targets import TargetFile

TRUE = {"toy.a": 0.3, "toy.b": 0.5}
NOISE = 0.02


def toy_targets(b_reported: float = 0.8) -> TargetFile:
    """Two summary targets: A = a, B = a + b, reported at the true parameters, bands ± 0.05."""
    return TargetFile.model_validate({
        "metrics": {}, "cohorts": {},
        "targets": {
            "A": {"description": "a", "reported": TRUE["toy.a"], "summary_metric": "a", "scale": 0.05},
            "B": {"description": "a + b", "reported": b_reported, "summary_metric": "ab", "scale": 0.05},
        },
        "calibration": {"scenario": "none.toml", "parameters": {
            "toy.a": {"low": 0.0, "high": 1.0, "source": "toy"},
            "toy.b": {"low": 0.0, "high": 1.0, "source": "toy"}}},
    })


def toy_model(pars) -> dict[str, float]:
    """The toy: A = a + noise, B = a + b + noise (numpy's global generator, seeded by the sampler)."""
    a, b = float(pars[key("toy.a")]), float(pars[key("toy.b")])
    e = np.random.normal(0.0, NOISE, 2)  # noqa: NPY002  (the sampler seeds the global generator per task)
    return {"naive:A": a + e[0], "naive:B": a + b + e[1], "cpu_seconds": 0.0}


def test_band_distance_is_the_calibration_loss():
    d = BandDistance(toy_targets())
    assert d({"naive:A": 0.33, "naive:B": 0.78}, {}) == 0.0  # inside both bands
    # A misses its band (0.25...0.35) by 0.1 = 2 scales: sqrt(2^2)
    assert d({"naive:A": 0.45, "naive:B": 0.8}, {}) == pytest.approx(2.0)
    assert d({"naive:A": float("nan"), "naive:B": 0.8}, {}) == pytest.approx(5.0)  # sqrt(25): cannot compute


def exact_abc_posterior(tf: TargetFile, eps: float, n_grid: int = 201, n_noise: int = 400):
    """The toy's exact ABC posterior at tolerance ``eps`` on a grid: P(distance <= eps | a, b) x prior.

    The acceptance probability of each grid point is the share of ``n_noise`` noise pairs (common
    to all points, seeded) whose distance is within ``eps``; the distance is the band distance's
    formula, checked against ``BandDistance`` itself below. Returns (a, b, weights) flat arrays.
    """
    g = np.linspace(0.0, 1.0, n_grid)
    a, b = (m.ravel() for m in np.meshgrid(g, g, indexing="ij"))
    e = np.random.default_rng(7).normal(0.0, NOISE, (n_noise, 2))

    def miss(x, target):  # band distance in scales (the band is reported +- scale)
        t = tf.targets[target]
        return np.maximum(np.abs(x - t.reported) - t.scale, 0.0) / t.scale

    xa = a[:, None] + e[None, :, 0]
    xb = a[:, None] + b[:, None] + e[None, :, 1]
    dist = np.sqrt(miss(xa, "A") ** 2 + miss(xb, "B") ** 2)
    probe = BandDistance(tf)
    for i in (0, 12345, 30000):  # the vectorised formula is the calibration's distance
        assert dist[i, 0] == pytest.approx(probe({"naive:A": xa[i, 0], "naive:B": xb[i, 0]}, {}))
    return a, b, (dist <= eps).mean(axis=1)


def test_recovers_known_parameters_within_the_posterior_interval(tmp_path):
    tf = toy_targets()
    run = run_abc(tf, {}, tmp_path, Executor(), population=60, generations=5, model=toy_model)
    assert len(run.populations) == 5
    marg = marginals(run.last, tf.calibration.parameters).set_index("parameter")
    for name, true in TRUE.items():
        assert marg.loc[name, "q05"] <= true <= marg.loc[name, "q95"], (name, marg.loc[name].to_dict())
    assert abs(run.last["weight"].sum() - 1.0) < 1e-9
    # The sample's mean and variance are the exact ABC posterior's at the last epsilon, within
    # sampling error from ESS weighted draws: se of the mean sqrt(var / ESS), of the variance
    # sqrt((m4 - var^2) / ESS), m4 the exact fourth central moment. 4 se, not 2: two moments of two
    # parameters are checked, and the exact posterior's grid of common noise has its own error.
    w = run.last["weight"].to_numpy(float)
    ess = 1.0 / float(np.sum((w / w.sum()) ** 2))
    a, b, pw = exact_abc_posterior(tf, float(run.populations["epsilon"].iloc[-1]))
    for name, x in (("toy.a", a), ("toy.b", b)):
        mean = np.average(x, weights=pw)
        var = np.average((x - mean) ** 2, weights=pw)
        m4 = np.average((x - mean) ** 4, weights=pw)
        assert abs(marg.loc[name, "mean"] - mean) <= 4 * np.sqrt(var / ess), (name, marg.loc[name, "mean"], mean)
        se = np.sqrt((m4 - var**2) / ess)
        sample_var = marg.loc[name, "sd"] ** 2
        assert abs(sample_var - var) <= 4 * se, (name, sample_var, var, se, ess)
        # The targets pin both down: the sample is narrower than the uniform prior.
        assert sample_var < 1.0 / 12.0


def test_resume_goes_on_and_refuses_to_mix(tmp_path):
    tf = toy_targets()
    run_abc(tf, {}, tmp_path, Executor(), population=20, generations=2, model=toy_model)
    assert (tmp_path / HISTORY).is_file()
    with pytest.raises(StudyError, match="--resume"):  # a stored history is not replaced silently
        run_abc(tf, {}, tmp_path, Executor(), population=20, generations=3, model=toy_model)
    with pytest.raises(StudyError, match="targets"):  # another reported figure: another study
        run_abc(toy_targets(b_reported=0.7), {}, tmp_path, Executor(), population=20, generations=3,
                model=toy_model, resume=True)
    run = run_abc(tf, {}, tmp_path, Executor(), population=20, generations=3, model=toy_model, resume=True)
    assert list(run.populations["generation"]) == [0, 1, 2]
    # epsilon falls from generation to generation (median of the previous distances)
    eps = run.populations["epsilon"].to_numpy()
    assert eps[2] <= eps[1]
    fresh = run_abc(tf, {}, tmp_path, Executor(), population=20, generations=1, model=toy_model, fresh=True)
    assert list(fresh.populations["generation"]) == [0]


def test_a_seed_gives_the_same_history_on_any_executor_and_after_a_resume(tmp_path):
    """Task i of generation t seeds its draws from (seed, t, i): serial, two worker processes and a
    resumed run give the same particles in every generation, another seed other ones."""
    from sim.experiments.calibration.abc import HISTORY

    def generations(folder):  # every generation's particles, as stored
        import pyabc

        h = pyabc.History(f"sqlite:///{folder / HISTORY}")
        return [h.get_distribution(t=t)[0].sort_index(axis=1) for t in range(h.max_t + 1)]

    from sim.experiments.executor import make_executor

    tf = toy_targets()
    cols = ["toy.a", "toy.b", "weight", "distance"]
    straight = run_abc(tf, {}, tmp_path / "a", Executor(), population=20, generations=3, model=toy_model, seed=5)
    run_abc(tf, {}, tmp_path / "b", Executor(), population=20, generations=2, model=toy_model, seed=5)
    resumed = run_abc(tf, {}, tmp_path / "b", Executor(), population=20, generations=3, model=toy_model, seed=5,
                      resume=True)
    with make_executor("processes", 2, None) as ex:
        pooled = run_abc(tf, {}, tmp_path / "c", ex, population=20, generations=3, model=toy_model, seed=5)
    other = run_abc(tf, {}, tmp_path / "d", Executor(), population=20, generations=3, model=toy_model, seed=6)
    for folder, run in ((tmp_path / "b", resumed), (tmp_path / "c", pooled)):
        assert run.last[cols].equals(straight.last[cols])
        assert run.populations["epsilon"].tolist() == straight.populations["epsilon"].tolist()
        for mine, theirs in zip(generations(folder), generations(tmp_path / "a"), strict=True):
            pd.testing.assert_frame_equal(mine, theirs)
    assert not other.last[cols].equals(straight.last[cols])


def test_effective_sample_size_and_point_estimates():
    from sim.experiments.calibration.abc import effective_sample_size, point_estimate

    assert effective_sample_size(np.full(8, 0.125)) == pytest.approx(8.0)
    assert effective_sample_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1.0)
    params = toy_targets().calibration.parameters
    last = __import__("pandas").DataFrame({
        "weight": [0.1, 0.2, 0.3, 0.4], "distance": [0.5, 0.0, 0.0, 1.0],
        "toy.a": [0.1, 0.2, 0.3, 0.9], "toy.b": [0.4, 0.3, 0.2, 0.1]})
    best = point_estimate(last, params, "best")  # the smallest distance; among the ties the larger weight
    assert best == {"toy.a": 0.3, "toy.b": 0.2}
    med = point_estimate(last, params, "median")
    assert 0.2 <= med["toy.a"] <= 0.9 and 0.1 <= med["toy.b"] <= 0.3  # between the middle particles by weight
    with pytest.raises(ValueError, match="median"):
        point_estimate(last, params, "mean")


def test_write_fitted_overlay_from_a_toy_posterior(tmp_path):
    """The toy posterior's point estimate becomes the overlay: each weighted median, inside its 90 % interval and
    near the truth, with a header naming the population, generations, evaluations and ESS."""
    import tomllib

    from sim.experiments.calibration.abc import effective_sample_size
    from sim.experiments.calibration.posterior import FittedPoint, PosteriorSettings, predictive_check, write_posterior

    tf = toy_targets()
    run = run_abc(tf, {}, tmp_path, Executor(), population=40, generations=4, model=toy_model)
    assert (run.populations["ess"] > 1).all() and (run.populations["ess"] <= 40 + 1e-9).all()
    marg = marginals(run.last, tf.calibration.parameters).set_index("parameter")
    point = {n: float(marg.loc[n, "median"]) for n in TRUE}
    for name in ("trials.csv", "ensemble.md", "fit.csv"):  # another fit's outputs: removed with the commit
        (tmp_path / name).write_text("old\n")
    (tmp_path / "notes.txt").write_text("the planner's own file")
    draws = __import__("pandas").DataFrame({"A": [0.3, 0.31], "B": [0.8, 0.79]})
    fp = FittedPoint("median", point, __import__("pandas").DataFrame(), __import__("pandas").DataFrame(), 0)
    settings = PosteriorSettings(40, 4, 1, 2, 1, "serial")
    write_posterior(tmp_path, run, tf, draws, predictive_check(draws, tf), settings, 0.0, fp)
    text = (tmp_path / "fitted.toml").read_text()
    fitted = tomllib.loads(text)["toy"]
    for name, true in TRUE.items():
        v = fitted[name.split(".")[1]]
        assert v == pytest.approx(point[name], abs=1e-4)
        assert marg.loc[name, "q05"] <= v <= marg.loc[name, "q95"]
        assert abs(v - true) < 0.1, (name, v)
    ess = effective_sample_size(run.last["weight"].to_numpy(float))
    assert f"population 40, 4 generations, {run.evaluations} evaluations" in text and f"ESS {ess:.1f}" in text
    assert "weighted median" in text and "# 90 % " in text
    assert not (tmp_path / "trials.csv").exists() and not (tmp_path / "ensemble.md").exists()
    assert not (tmp_path / "fit.csv").exists()  # no fit run (replications 0): the old one described another point
    assert (tmp_path / "notes.txt").read_text() == "the planner's own file"
    head = "| generation | epsilon | particles | evaluations | acceptance | ESS |"
    assert head in (tmp_path / "posterior.md").read_text()


def test_posterior_command_writes_fitted_and_its_fit(tmp_path):
    """`narvard posterior --write-fitted` on a tiny area: the overlay holds posterior.csv's weighted median, fit.csv
    the point's targets; a scenario with the overlay loads it."""
    import tomllib

    import pandas as pd
    from typer.testing import CliRunner

    from sim.cli import app
    from sim.experiments.calibration.abc import weighted_quantile
    from tests.test_calibration import _cli_folder

    tf_path = _cli_folder(tmp_path)
    name = "concepts.safe_discharge.home_help_multiplier"
    res = CliRunner().invoke(app, ["posterior", str(tf_path), "--population", "4", "--generations", "1", "--check",
                                   "1", "--executor", "serial", "--write-fitted", "--fit-replications", "2"])
    assert res.exit_code == 0, res.output
    post = pd.read_csv(tmp_path / "posterior.csv")
    fitted = tomllib.loads((tmp_path / "fitted.toml").read_text())
    v = fitted["concepts"]["safe_discharge"]["home_help_multiplier"]
    assert v == pytest.approx(float(weighted_quantile(post[name].to_numpy(), post["weight"].to_numpy(), 0.5)),
                              abs=1e-4)
    assert 0.05 <= v <= 1.0
    fit = pd.read_csv(tmp_path / "fit.csv")
    assert list(fit["target"]) == ["H"] and "within_band" in fit
    assert "# Fit at the posterior's point estimate" in (tmp_path / "fit.md").read_text()
    bad = CliRunner().invoke(app, ["posterior", str(tf_path), "--resume", "--write-fitted", "--point", "mode"])
    assert bad.exit_code == 2 and "--point" in bad.output


def test_bundled_fitted_overlay_is_the_posteriors_point_inside_the_priors():
    """calibration/fitted.toml (every bundled scenario's overlay) holds each free parameter once, inside its prior,
    and says it was written from the posterior (the old optuna fit had values outside today's priors)."""
    import tomllib
    from pathlib import Path

    from sim.experiments.calibration.params import get_path
    from sim.measure.targets import load_targets

    folder = Path(__file__).resolve().parents[1] / "calibration"
    params = load_targets(folder / "targets.toml").calibration.parameters
    text = (folder / "fitted.toml").read_text()
    fitted = tomllib.loads(text)
    assert "narvard posterior --write-fitted" in text
    for name, p in params.items():
        v = float(get_path(fitted, name))
        assert p.low <= v <= p.high, (name, v, p.low, p.high)
    leaves = sum(len(t) for t in fitted["concepts"].values())
    assert leaves == len(params)


def test_defensive_transition_bounds_the_importance_weights():
    """The kernel mixes the KDE with the prior: its density is at least prior_share x the prior's everywhere, so no
    particle's weight (prior / proposal) exceeds 1 / prior_share; a share of the proposals comes from the prior."""
    import pandas as pd

    from sim.experiments.calibration.abc import prior, transition

    params = toy_targets().calibration.parameters
    dist = prior(params)
    tr = transition(dist, 0.25)
    # a tight cluster: the plain KDE's density far from it is ~0
    x = pd.DataFrame({"toy__a": [0.30, 0.31, 0.29, 0.30], "toy__b": [0.50, 0.49, 0.51, 0.50]})
    tr.fit(x, np.full(4, 0.25))
    np.random.seed(1)  # noqa: NPY002  (pyabc's kernels draw from the global generator)
    far = pd.Series({"toy__a": 0.95, "toy__b": 0.05})  # pyabc passes a parameter (a dict-like series)
    assert tr.pdf(far) >= 0.25 * dist.pdf(far) - 1e-12
    assert dist.pdf(far) / tr.pdf(far) <= 1 / 0.25 + 1e-9
    draws = tr.rvs(400)
    far_share = float(((draws["toy__a"] - 0.3).abs() > 0.2).mean())  # only prior draws land this far
    # Expected: prior share 0.25 x P(|a - 0.3| > 0.2) = 0.6 under the uniform 0-1 prior; 4 binomial
    # standard errors of 400 draws around it (a kernel without the prior part gives about 0).
    expected = 0.25 * 0.6
    assert abs(far_share - expected) < 4 * np.sqrt(expected * (1 - expected) / len(draws)), far_share
    frame = tr.pdf(draws.head(5))
    assert frame.shape == (5,) and (frame > 0).all()


def test_epsilon_stalled_compares_the_last_two_real_epsilons():
    import pandas as pd

    from sim.experiments.calibration.abc import epsilon_stalled

    pops = pd.DataFrame({"t": [-1, 0, 1, 2], "epsilon": [float("inf"), 1e9, 10.0, 9.5]})
    assert epsilon_stalled(pops, 0.10)  # 5 % fall
    assert not epsilon_stalled(pops, 0.04)
    assert not epsilon_stalled(pops.iloc[:3], 0.99)  # one real epsilon: nothing to compare (1e9 is not one)
    assert epsilon_stalled(pd.DataFrame({"t": [0, 1, 2], "epsilon": [1e9, 0.0, 0.0]}), 0.10)  # at 0: cannot fall


def test_min_eps_drop_stops_the_run_and_a_resume(tmp_path):
    """A fall below the rule ends the run after the generation that showed it, and a resume starts none."""
    tf = toy_targets()
    run = run_abc(tf, {}, tmp_path, Executor(), population=20, generations=5, model=toy_model, min_eps_drop=1.0)
    # generation 2 is the first with an epsilon to compare (generation 1's); no fall reaches 100 %
    assert list(run.populations["generation"]) == [0, 1, 2]
    assert run.notes and "less than 100%" in run.notes[0]
    again = run_abc(tf, {}, tmp_path, Executor(), population=20, generations=5, model=toy_model, resume=True,
                    min_eps_drop=1.0)
    assert list(again.populations["generation"]) == [0, 1, 2] and again.notes
    off = run_abc(tf, {}, tmp_path, Executor(), population=20, generations=4, model=toy_model, resume=True)
    assert list(off.populations["generation"]) == [0, 1, 2, 3] and not off.notes
