"""compare --posterior: every posterior draw runs on the same persons; the uncertainty table.

Tier: functional (pairing on a small run) and exact (the table from a hand-made frame).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiments.executor import Executor
from sim.experiments.posterior_compare import draw_sets, run_draws, uncertainty_table
from sim.measure.targets import TargetFile
from tests.conftest import small_scenario

NAMES = ["concepts.safe_discharge.home_help_multiplier", "concepts.mobile_team.prevent_share"]


def targets() -> TargetFile:
    return TargetFile.model_validate({
        "metrics": {}, "cohorts": {},
        "targets": {"CAP-1": {"description": "caseload", "reported": 24.0, "band": [21.6, 26.4],
                              "summary_metric": "mobile_team_caseload"}},
        "calibration": {"scenario": "x.toml", "parameters": {
            NAMES[0]: {"low": 0.1, "high": 1.0, "source": "test"},
            NAMES[1]: {"low": 0.2, "high": 0.8, "source": "test"}}},
    })


def test_draws_are_seeded_and_follow_the_weights():
    post = pd.DataFrame({NAMES[0]: [0.1, 0.9], NAMES[1]: [0.3, 0.7], "weight": [0.0, 1.0]})
    sets = draw_sets(post, NAMES, 5, seed=1)
    assert all(s == {NAMES[0]: 0.9, NAMES[1]: 0.7} for s in sets)
    post["weight"] = [0.5, 0.5]
    assert draw_sets(post, NAMES, 20, seed=3) == draw_sets(post, NAMES, 20, seed=3)


def test_every_draw_meets_the_same_persons():
    s = small_scenario(persons=900, years=0.6, warmup=0.3, replications=2)
    post = pd.DataFrame({NAMES[0]: [0.1, 0.6, 1.0], NAMES[1]: [0.2, 0.5, 0.8], "weight": [1 / 3] * 3})
    sets = [dict(zip(NAMES, v, strict=True)) for v in post[NAMES].to_numpy()]
    frame = run_draws(s, sets, targets(), Executor())
    assert sorted(frame["draw"].unique()) == [0, 1, 2] and sorted(frame["replication"].unique()) == [0, 1]
    person = frame[frame["paradigm"] == "person"]
    for _, g in person.groupby("replication"):
        # same replication: the same persons and health trajectories whatever the parameters
        for m in ("persons_start", "persons_entered", "persons_died", "person_years"):
            assert g[m].nunique() == 1, m
        # and the parameters do act: home help differs between the draws
        assert g["home_help_hours"].nunique() == 3
    # the intervention-driven run does not depend on the concepts' parameters at all
    inter = frame[frame["paradigm"] == "intervention"]
    for _, g in inter.groupby("replication"):
        assert g["bed_days"].nunique() == 1 and g["home_help_hours"].nunique() == 1


def test_uncertainty_table_from_a_hand_made_frame():
    rows = []
    # 4 draws × 2 replications; person - intervention cost_total: draw d -> d - 1.5 (two below 0, two above)
    for d in range(4):
        for r in range(2):
            rows.append({"draw": d, "replication": r, "paradigm": "intervention", "cost_total_sek": 100.0,
                         "bed_occupancy": 0.7})
            rows.append({"draw": d, "replication": r, "paradigm": "person", "cost_total_sek": 100.0 + d - 1.5,
                         "bed_occupancy": 0.7 - 0.01 * (d + 1), "naive:CAP-1": 24.0 if r == 0 else 30.0})
    summary = pd.DataFrame({"metric": ["cost_total_sek", "bed_occupancy"], "paradigm": ["difference"] * 2,
                            "unit": ["SEK", "share"], "mean": [-1.0, -0.02], "ci_low": [-2.0, -0.03],
                            "ci_high": [0.0, -0.01]})
    t = uncertainty_table(pd.DataFrame(rows), summary, targets(), beds=100).set_index("figure")
    assert t.loc["cost_total_sek", "mean"] == pytest.approx(0.0)  # mean of -1.5, -0.5, 0.5, 1.5
    assert t.loc["cost_total_sek", "stochastic_low"] == -2.0
    # both: half-widths (2.85 over the draws' quantiles, 1 stochastic) added in quadrature
    half = np.hypot((t.loc["cost_total_sek", "high"] - t.loc["cost_total_sek", "low"]) / 2, 1.0)
    assert t.loc["cost_total_sek", "combined_high"] == pytest.approx(half)
    assert t.loc["P(person-driven care lowers the total's net cost)", "mean"] == pytest.approx(0.5)
    beds = t.loc["beds freed"]
    assert beds["mean"] == pytest.approx(100 * np.mean([0.01, 0.02, 0.03, 0.04]))
    assert (beds["stochastic_low"], beds["stochastic_high"]) == pytest.approx((1.0, 3.0))
    # CAP-1 in its band (21.6 ... 26.4) in replication 0 of every draw, never in replication 1
    assert t.loc["P(CAP-1 reproduced in a new area)", "mean"] == pytest.approx(0.5)
