"""Global sensitivity (``narvard sensitivity``): common random numbers, resume, refusal, the analyses' wiring."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.config.loader import ScenarioError, resolve
from sim.experiments.executor import make_executor
from sim.experiments.runner import run_replication
from sim.experiments.sensitivity.assumptions import (
    AssumptionFile,
    check_against,
    defaults,
    load_assumptions,
)
from sim.experiments.sensitivity.evaluate import evaluate_point, persons_digest, point_scenario
from sim.experiments.sensitivity.output import write_outputs
from sim.experiments.sensitivity.run import fingerprint, run_study
from sim.experiments.sensitivity.study import StudyError, StudyStore
from tests.conftest import DEFAULT, ROOT, small_scenario

HEALTH = ("enter", "stratum_change", "deterioration", "death")


def _spec(assumptions: dict, **design) -> AssumptionFile:
    base = {"seed": 3, "replications": [0], "noise_replications": 0, "morris_trajectories": 2,
            "sobol_n": 4, "sobol_max": 2, "resamples": 50}
    return AssumptionFile.model_validate({"design": {**base, **design}, "assumptions": assumptions})


SMALL_ASSUMPTIONS = {
    "concepts.home_physician.prevent_share": {"low": 0.1, "high": 0.35, "source": "test"},
    "hospital.los_mean_days": {"low": 0.85, "high": 1.15, "mode": "scale", "source": "test"},
    "concepts.safe_discharge.teams": {"low": 1, "high": 2, "source": "test"},
}


def _small_data() -> dict:
    return small_scenario(persons=600, years=0.5, warmup=0.25).model_dump(mode="json")


# ---------------------------------------------------------------- common random numbers
def test_design_points_share_persons_and_health_events():
    """Two design points far apart: the same persons, trajectories and health-event rows, per replication.

    Health-event rows: entries, stratum changes, deteriorations and deaths at the same times for
    the same persons (their detail, where a death happened, say, is the care's doing).
    """
    data = _small_data()
    spec = _spec(SMALL_ASSUMPTIONS)
    lo = {k: a.low for k, a in spec.assumptions.items()}
    hi = {k: a.high for k, a in spec.assumptions.items()}
    a, b = point_scenario(data, spec, lo), point_scenario(data, spec, hi)
    assert a.hospital.los_mean_days.unstable != b.hospital.los_mean_days.unstable  # the points differ
    assert b.concepts.safe_discharge.teams == 2 and isinstance(b.concepts.safe_discharge.teams, int)
    assert persons_digest(a, 0) == persons_digest(b, 0)
    assert persons_digest(a, 0) != persons_digest(a, 1)  # the digest does see other persons
    health = []
    for sc in (a, b):
        res = run_replication(sc, 0, ("intervention", "person"), keep=True)
        t = res.tables["person"].to_pandas()
        # trajectory rows: a post-discharge relapse is the care system's doing (it follows the stay)
        t = t[t["kind"].astype(str).isin(HEALTH) & (t["detail"].astype(str) != "relapse")]
        health.append(t[["time", "person", "kind"]].sort_values(["time", "person", "kind"]).reset_index(drop=True))
        assert res.metrics["person"] != {}  # ran
    assert len(health[0]) > 100
    pd.testing.assert_frame_equal(health[0], health[1])
    rows_lo, rows_hi = evaluate_point(data, spec, lo, [0]), evaluate_point(data, spec, hi, [0])
    assert rows_lo[0]["persons_sha256"] == rows_hi[0]["persons_sha256"]
    assert rows_lo[0]["person:bed_days"] != rows_hi[0]["person:bed_days"]  # while the outcome moves


# ---------------------------------------------------------------- an analytic function through the same code
def ishigami(scenario_data, spec, values, replications):
    """Ishigami function (a = 7, b = 0.1) of x.a, x.b, x.c as a design point's 'model run'."""
    x1, x2, x3 = values["x.a"], values["x.b"], values.get("x.c", 0.0)
    y = math.sin(x1) + 7.0 * math.sin(x2) ** 2 + 0.1 * x3 ** 4 * math.sin(x1)
    return [{"replication": r, "y": y, "cpu_seconds": 0.0} for r in replications]


def linear(scenario_data, spec, values, replications):
    """y = 3 x.a − 1 x.b + 0 x.c: Morris mu* = |coefficient| × range exactly, sigma 0."""
    return [{"replication": r, "y": 3.0 * values["x.a"] - values["x.b"], "cpu_seconds": 0.0} for r in replications]


def _y(rows: pd.DataFrame):
    return rows[["y"]].astype(float), {"y": ("", "toy")}


TOY = {"x": {"a": 0.0, "b": 0.0, "c": 0.0}}
PI = {"low": -math.pi, "high": math.pi, "source": "Ishigami"}


def test_ishigami_indices_within_salibs_intervals(tmp_path):
    """Known Sobol' indices of the Ishigami function (Saltelli et al. 2008) through the study code."""
    spec = _spec({"x.a": PI, "x.b": PI, "x.c": PI}, sobol_n=1024, sobol_max=3, resamples=200, select_share=0.001,
                 morris_trajectories=10)
    store = StudyStore.open(tmp_path, fingerprint("toy", spec, ishigami))
    res = run_study(store, TOY, spec, make_executor("serial"), evaluate=ishigami, outputs_fn=_y)
    assert set(res.selected) == {"x.a", "x.b", "x.c"}
    v = 0.5 + 7.0 ** 2 / 8 + 0.1 * math.pi ** 4 / 5 + 0.1 ** 2 * math.pi ** 8 / 18
    v1 = 0.5 * (1 + 0.1 * math.pi ** 4 / 5) ** 2
    v2 = 7.0 ** 2 / 8
    v13 = 0.1 ** 2 * math.pi ** 8 * (1 / 18 - 1 / 50)
    truth = {"x.a": (v1 / v, (v1 + v13) / v), "x.b": (v2 / v, v2 / v), "x.c": (0.0, v13 / v)}
    s = res.sobol.set_index("assumption")
    for k, (s1, st) in truth.items():
        assert abs(s.loc[k, "S1"] - s1) <= s.loc[k, "S1_conf"], (k, s.loc[k, "S1"], s1)
        assert abs(s.loc[k, "ST"] - st) <= s.loc[k, "ST_conf"], (k, s.loc[k, "ST"], st)


def test_linear_model_morris_and_tornado_exact(tmp_path):
    """A linear model: mu* = |a| (high − low), sigma 0, and the tornado's swings, exactly."""
    ranges = {"x.a": {"low": -1.0, "high": 2.0, "source": "t"}, "x.b": {"low": 0.0, "high": 4.0, "source": "t"},
              "x.c": {"low": -1.0, "high": 1.0, "source": "t"}}
    spec = _spec(ranges, morris_trajectories=6, sobol_max=0)
    store = StudyStore.open(tmp_path, fingerprint("toy", spec, linear))
    res = run_study(store, TOY, spec, make_executor("serial"), evaluate=linear, outputs_fn=_y)
    m = res.morris.set_index("assumption")
    np.testing.assert_allclose(m.loc[["x.a", "x.b", "x.c"], "mu_star"], [9.0, 4.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(m.loc[["x.a", "x.b"], "mu"], [9.0, -4.0], atol=1e-9)
    np.testing.assert_allclose(m["sigma"], 0.0, atol=1e-9)
    o = res.oat.set_index("assumption")
    np.testing.assert_allclose(o.loc[["x.a", "x.b", "x.c"], "swing"], [9.0, 4.0, 0.0])
    assert res.selected == [] and res.sobol.empty


# ---------------------------------------------------------------- resume and refusal
STOP = {"after": None}


def stoppable(scenario_data, spec, values, replications):
    """The Ishigami function, interrupted (KeyboardInterrupt) once ``STOP['after']`` runs are done."""
    if STOP["after"] is not None:
        if STOP["after"] <= 0:
            raise KeyboardInterrupt
        STOP["after"] -= 1
    return ishigami(scenario_data, spec, values, replications)


def test_resume_after_interrupt_gives_the_same_tables(tmp_path):
    """Interrupted after k points, resumed: the same tables and files as a run straight through."""
    spec = _spec({"x.a": PI, "x.b": PI, "x.c": PI}, sobol_n=8, noise_replications=2, sobol_max=2)
    fp = fingerprint("toy", spec, stoppable)
    ex = make_executor("serial")
    straight = run_study(StudyStore.open(tmp_path / "a", fp), TOY, spec, ex, evaluate=stoppable, outputs_fn=_y)
    for k in (3, 12, 20):  # inside the one-at-a-time, the Morris and the Sobol' stage
        folder = tmp_path / f"b{k}"
        STOP["after"] = k
        with pytest.raises(KeyboardInterrupt):
            run_study(StudyStore.open(folder, fp), TOY, spec, ex, evaluate=stoppable, outputs_fn=_y)
        STOP["after"] = None
        reopened = StudyStore.open(folder, fp)
        assert reopened.runs == k  # every finished point was kept, nothing else
        calls = {"n": 0}

        def counted(*a, _c=calls):
            _c["n"] += 1
            return ishigami(*a)

        resumed = run_study(reopened, TOY, spec, ex, evaluate=counted, outputs_fn=_y)
        assert calls["n"] == sum(straight.evaluations.values()) - k  # only the missing points ran
        for name in ("oat", "morris", "sobol"):
            pd.testing.assert_frame_equal(getattr(resumed, name), getattr(straight, name))
        assert resumed.selected == straight.selected
    write_outputs(tmp_path / "a", straight, spec, "toy", [])
    write_outputs(tmp_path / "b20", resumed, spec, "toy", [])
    for f in ("oat.csv", "morris.csv", "sobol.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b20" / f).read_bytes()


def test_refuses_to_mix_studies(tmp_path):
    """Another assumptions range, scenario or design in the same folder: refused; --fresh starts over."""
    spec = _spec({"x.a": PI, "x.b": PI})
    fp = fingerprint("toy", spec, ishigami)
    store = StudyStore.open(tmp_path, fp)
    run_study(store, TOY, spec, make_executor("serial"), evaluate=ishigami, outputs_fn=_y)
    wider = _spec({"x.a": {**PI, "high": 4.0}, "x.b": PI})
    with pytest.raises(StudyError, match="the assumptions or their ranges differ"):
        StudyStore.open(tmp_path, fingerprint("toy", wider, ishigami))
    with pytest.raises(StudyError, match="the scenario"):
        StudyStore.open(tmp_path, fingerprint("other scenario", spec, ishigami))
    with pytest.raises(StudyError, match="the design"):
        StudyStore.open(tmp_path, fingerprint("toy", _spec({"x.a": PI, "x.b": PI}, morris_trajectories=3), ishigami))
    # A larger Sobol' N is the same study: the screening's points are kept, its own points stored apart.
    larger = _spec({"x.a": PI, "x.b": PI}, sobol_n=8)
    store = StudyStore.open(tmp_path, fingerprint("toy", larger, ishigami))
    before = store.runs
    res = run_study(store, TOY, larger, make_executor("serial"), evaluate=ishigami, outputs_fn=_y)
    assert store.runs - before == res.evaluations["sobol"] == 8 * (len(res.selected) + 2)
    assert len(StudyStore.open(tmp_path, fp).rows) > 0  # the stored study is untouched
    fresh = StudyStore.open(tmp_path, fingerprint("toy", wider, ishigami), fresh=True)
    assert fresh.runs == 0
    (tmp_path / "study.json").unlink()  # points without a record: not ours
    (tmp_path / "points.parquet").write_bytes(b"x")
    with pytest.raises(StudyError, match="points without"):
        StudyStore.open(tmp_path, fp)


# ---------------------------------------------------------------- the assumptions file
def test_bundled_assumptions_fit_the_default_scenario():
    """calibration/sensitivity.toml: no fitted parameter, every path in the default scenario, the default inside."""
    spec = load_assumptions(ROOT / "calibration" / "sensitivity.toml")
    data = resolve(DEFAULT)
    check_against(spec, data, "sensitivity.toml")
    assert 12 <= len(spec.assumptions) <= 15
    assert all(a.source.strip() for a in spec.assumptions.values())
    base = defaults(spec, data)
    assert point_scenario(data, spec, base).model_dump() == point_scenario(data, spec, dict(base)).model_dump()


def test_refuses_pinned_and_misplaced_assumptions(tmp_path):
    """A fitted parameter, a simulation field, a missing field or a default outside its range: one line each."""
    f = tmp_path / "s.toml"
    f.write_text(f'targets = "{ROOT / "calibration" / "targets.toml"}"\n'
                 '[assumptions."concepts.mobile_team.prevent_share"]\nlow = 0.1\nhigh = 0.9\nsource = "x"\n'
                 '[assumptions."simulation.years"]\nlow = 1.0\nhigh = 2.0\nsource = "x"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_assumptions(f)
    text = str(exc.value)
    assert "pinned by a calibration target" in text and "simulation may not be varied" in text
    spec = _spec({"costs.bed_day": {"low": 100.0, "high": 200.0, "source": "x"},
                  "costs.no_such": {"low": 1.0, "high": 2.0, "source": "x"}})
    with pytest.raises(ScenarioError) as exc:
        check_against(spec, resolve(DEFAULT), "s.toml")
    assert "outside [100, 200]" in str(exc.value) and "no field 'no_such'" in str(exc.value)


def test_report_section_reads_the_study_tables(tmp_path):
    """The report's sensitivity section: filled from a study's tables, else it says what it lacks."""
    from sim.report.sections import Context, Unavailable, sensitivity

    with pytest.raises(Unavailable, match="narvard sensitivity"):
        sensitivity(Context(tmp_path, calibration=tmp_path))
    spec = _spec({"x.a": PI, "x.b": PI, "x.c": PI}, morris_trajectories=4, sobol_max=2)
    folder = tmp_path / "sensitivity"
    res = run_study(StudyStore.open(folder, fingerprint("toy", spec, ishigami)), TOY, spec,
                    make_executor("serial"), evaluate=ishigami, outputs_fn=_y)
    write_outputs(folder, res, spec, "toy", [])
    ctx = Context(tmp_path, calibration=tmp_path)
    section = sensitivity(ctx)
    assert "x.b" in section.body and len(ctx.figures) == 2  # the tornado and the Sobol' bars


def test_outputs_are_paired_differences_and_take_unmet_need_when_present():
    """Headline outputs from stored rows: person − today, beds freed, unmet need only when every row has it."""
    from sim.experiments.sensitivity.evaluate import outputs

    rows = pd.DataFrame({
        "intervention:cost_region_sek": [100.0, 110.0], "person:cost_region_sek": [90.0, 130.0],
        "intervention:cost_municipality_sek": [50.0, 50.0], "person:cost_municipality_sek": [40.0, 45.0],
        "intervention:bed_days": [900.0, 1000.0], "person:bed_days": [800.0, 950.0],
        "intervention:bed_occupancy": [0.70, 0.72], "person:bed_occupancy": [0.65, 0.70], "beds": [120.0, 100.0],
    })
    y, info = outputs(rows)
    np.testing.assert_allclose(y["net_cost_region"], [-10.0, 20.0])
    np.testing.assert_allclose(y["net_cost_municipality"], [-10.0, -5.0])
    np.testing.assert_allclose(y["bed_days"], [-100.0, -50.0])
    np.testing.assert_allclose(y["beds_freed"], [6.0, 2.0])
    assert set(info) == set(y.columns)
    y, info = outputs(rows.assign(**{"person:mobile_team_unserved": [3.0, 4.0]}))
    np.testing.assert_allclose(y["mobile_team_unserved"], [3.0, 4.0])  # today's care has none: the level
    y, _ = outputs(rows.assign(**{"person:mobile_team_unserved": [3.0, np.nan]}))  # older rows lack it
    assert "mobile_team_unserved" not in y
