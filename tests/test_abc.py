"""ABC-SMC posterior (sim.experiments.calibration.abc): recovery, resume, refusal to mix.

Tier: statistical (recovery) and functional. A toy model with the calibration's interface (a
parameter set -> the naive figure of each target, with noise) stands in for the simulation, so
the tests run in seconds; the posterior is pyabc's, the distance the calibration's band distance.
"""

from __future__ import annotations

import numpy as np
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


def test_recovers_known_parameters_within_the_posterior_interval(tmp_path):
    tf = toy_targets()
    run = run_abc(tf, {}, tmp_path, Executor(), population=60, generations=5, model=toy_model)
    assert len(run.populations) == 5
    marg = marginals(run.last, tf.calibration.parameters).set_index("parameter")
    for name, true in TRUE.items():
        assert marg.loc[name, "q05"] <= true <= marg.loc[name, "q95"], (name, marg.loc[name].to_dict())
    # The targets pin both down: the posterior is far narrower than the prior.
    assert (marg["shrinkage"] > 0.8).all()
    assert abs(run.last["weight"].sum() - 1.0) < 1e-9


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
