"""Functional: a calibration recovers known parameters from targets the model itself produced.

Synthetic targets: the model is run at known effect sizes (Trygg hemgång's home-help
multiplier, the mobile team's outpatient multiplier); its own naive figures become the
"reported" figures; the calibration, which starts blind within the parameter ranges, must
find the known values inside the range of its best trials. Small area, short run, small
budget; deterministic (fixed seeds, the same replications in every trial).
"""

from __future__ import annotations

import tomllib

import pytest

from sim.calibration.fit import apply_params, calibrate, evaluate, set_path
from sim.config.loader import _deep_merge, resolve, validate
from sim.executor import Executor, ProcessExecutor
from sim.measure.targets import TargetFile
from tests.conftest import DEFAULT

TRUTH = {"concepts.safe_discharge.home_help_multiplier": 0.4,
         "concepts.mobile_team.outpatient_multiplier": 0.3}


def scenario_data(persons: int = 2500) -> dict:
    data = resolve(DEFAULT)
    return _deep_merge(data, {
        "simulation": {"seed": 11, "years": 1.0, "warmup_years": 0.5, "replications": 1},
        "population": {"persons_65plus": persons, "entrants_per_year": persons * 0.047},
        "capacity": {"beds": max(4, persons * 120 // 18000), "short_term_places": max(2, persons * 60 // 18000)},
    })


def targets(reported: dict[str, float] | None = None) -> TargetFile:
    reported = reported or {"H": -0.5, "O": -0.5}
    return TargetFile.model_validate({
        "metrics": {"help": {"kind": "home_help", "spread": "interval"},
                    "outpatient": {"kind": "outpatient_visit", "spread": "interval"}},
        "cohorts": {
            "discharged": {"index": "safe_discharge", "period_years": [0, 0.5], "before_days": 120, "after_days": 120},
            "team": {"index": "team_enrol", "period_years": [0, 0.5], "before_days": 120, "after_days": 120},
        },
        "targets": {
            "H": {"description": "home help", "reported": reported["H"], "band": [reported["H"] - 0.15, reported["H"] + 0.15],
                  "cohort": "discharged", "metric": "help"},
            "O": {"description": "outpatient", "reported": reported["O"], "band": [reported["O"] - 0.15, reported["O"] + 0.15],
                  "cohort": "team", "metric": "outpatient"},
        },
        "calibration": {"scenario": "-", "budget": 20, "replications_per_trial": 1, "final_replications": 2,
                        "seed": 3, "parameters": {
                            "concepts.safe_discharge.home_help_multiplier": {"low": 0.05, "high": 1.0},
                            "concepts.mobile_team.outpatient_multiplier": {"low": 0.0, "high": 1.0}}},
    })


def test_set_path_refuses_unknown_fields():
    data = scenario_data()
    assert set_path(data, "concepts.mobile_team.prevent_share", 0.1)["concepts"]["mobile_team"]["prevent_share"] == 0.1
    assert data["concepts"]["mobile_team"]["prevent_share"] != 0.1  # the original is untouched
    with pytest.raises(KeyError, match="prevent_shar"):
        set_path(data, "concepts.mobile_team.prevent_shar", 0.1)


def test_calibration_recovers_known_parameters(tmp_path):
    data = scenario_data()
    truth = evaluate(data, TRUTH, [0], targets())
    reported = {m["target"]: m["naive_mean"] for m in truth["measures"]}
    assert reported["H"] < -0.15 and reported["O"] < -0.15  # the effects are visible in the designs
    tf = targets(reported)
    with ProcessExecutor(2) as ex:
        res = calibrate(tf, data, tmp_path, ex, workers=2, budget=20, profile_points=6)
        assert len(res.trials) == 20
        ident = res.identifiability.set_index("parameter")
        for name, value in TRUTH.items():
            lo, hi = ident.loc[name, "profile_low"], ident.loc[name, "profile_high"]
            assert lo - 1e-9 <= value <= hi + 1e-9, (name, value, lo, hi)
            assert abs(res.best_params[name] - value) < 0.12, (name, res.best_params[name])
            assert hi - lo < 0.5  # the targets pin the parameter down
        # resumable: the stored study goes on to a larger budget, keeping the trials it has
        again = calibrate(tf, data, tmp_path, Executor(), workers=1, budget=21, final_replications=2, resume=True)
    assert len(again.trials) == 21
    assert set(res.trials["trial"]) <= set(again.trials["trial"])
    fitted = tomllib.loads((tmp_path / "fitted.toml").read_text())
    assert set(fitted["concepts"]) == {"safe_discharge", "mobile_team"}
    validate(apply_params(data, again.best_params))  # the overlay's values are valid
    fit = (tmp_path / "fit.csv").read_text().splitlines()
    assert fit[0].startswith("target,reported,band_low,band_high,naive_mean")
    assert (tmp_path / "fit.html").is_file() and (tmp_path / "identifiability.csv").is_file()
