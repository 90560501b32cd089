"""Unit and functional: measurement designs on hand-built event logs give hand-computed figures.

The log is written by hand (no simulation), so each expected figure below is worked out in
the comments: windows, pro-rating of accrued rows, bed-days of a stay cut at a window edge,
deaths inside the after window, the causal figure from the paired intervention-driven rows.
"""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.config import ScenarioError
from sim.engine.recorder import SCHEMA
from sim.measure import MeasureError, compute_design, load_targets, measure_events
from sim.measure.designs import normalise_events
from sim.measure.targets import Cohort, Metric, TargetFile

WARMUP = 365.25
HORIZON = 4 * 365.25


def row(rep, paradigm, person, time, kind, duration=0.0, quantity=1.0, stratum="unstable",
        detail="", readmission=False, avoidable=False):
    return dict(replication=rep, paradigm=paradigm, person=person, time=time, kind=kind,
                provider="none", payer="none", duration=duration, quantity=quantity, cost=0.0,
                stratum=stratum, readmission=readmission, avoidable=avoidable, detail=detail)


def log() -> pd.DataFrame:
    P, I = "person", "intervention"  # noqa: E741  (P and I read as the two care systems in the rows below)
    rows = [
        # --- replication 0, person-driven run ------------------------------------------
        # person 1: enrolled day 500 (in the period [365.25, 730.5)); windows [400,500) / [500,600)
        row(0, P, 1, 500, "team_enrol", duration=60),
        row(0, P, 1, 420, "admission", 12, 10, detail="via_ed"),                 # beds [422,432): before 10
        row(0, P, 1, 495, "admission", 10, 10, detail="via_ed", avoidable=True),  # beds [495,505): 5 | 5
        row(0, P, 1, 450, "outpatient_visit", 100, 4, detail="routine"),           # accrued [450,550): 2 | 2
        row(0, P, 1, 510, "outpatient_visit", 0, 1, detail="followup"),            # after 1
        row(0, P, 1, 480, "ed_visit"), row(0, P, 1, 520, "ed_visit"),
        row(0, P, 1, 560, "death", 0, 0, detail="home"),                          # dies in the after window
        # person 2: enrolled 700 and again 800 (first only: 700); windows [600,700) / [700,800)
        row(0, P, 2, 700, "team_enrol", duration=30), row(0, P, 2, 800, "team_enrol", duration=30),
        row(0, P, 2, 650, "admission", 4, 4, detail="via_ed", avoidable=True),   # before 4
        row(0, P, 2, 750, "admission", 3, 2, detail="direct"),  # waited 1 day: beds [751,753): after 2
        # person 3: enrolled before the period: not in the cohort
        row(0, P, 3, 300, "team_enrol", duration=30),
        row(0, P, 3, 310, "admission", 5, 5, detail="via_ed"),
        # --- replication 0, intervention-driven run (same persons, no team) -------------
        row(0, I, 1, 420, "admission", 12, 10, detail="via_ed"),
        row(0, I, 1, 495, "admission", 10, 10, detail="via_ed", avoidable=True),  # after 5
        row(0, I, 1, 520, "admission", 40, 40, detail="via_ed", avoidable=True),  # beds [520,560): after 40
        row(0, I, 1, 560, "death", 0, 0, detail="hospital"),
        row(0, I, 2, 750, "admission", 10, 10, detail="via_ed"),                  # after 10
        row(0, I, 3, 310, "admission", 5, 5, detail="via_ed"),
        # --- replication 1 ----------------------------------------------------------------
        row(1, P, 1, 600, "team_enrol", duration=30),
        row(1, P, 1, 550, "admission", 5, 5, detail="via_ed"),                    # before 5, after 0
        row(1, I, 1, 550, "admission", 5, 5, detail="via_ed"),
        row(1, I, 1, 620, "admission", 5, 5, detail="via_ed"),                    # after 5
    ]
    return pd.DataFrame(rows)


def cohort(**kw) -> Cohort:
    base = dict(index="team_enrol", period_years=(0.0, 1.0), before_days=100.0, after_days=100.0)
    return Cohort(**{**base, **kw})


BED_DAYS = Metric(kind="admission", spread="stay")
OUTPATIENT = Metric(kind="outpatient_visit", spread="interval")


def test_bed_days_naive_causal_and_gap():
    res = compute_design(normalise_events(log()), cohort(), BED_DAYS, WARMUP, HORIZON).set_index("replication")
    r0 = res.loc[0]
    # before = 10 + 5 (person 1) + 4 (person 2) = 19; after = 5 + 2 = 7
    assert r0["before"] == pytest.approx(19) and r0["after"] == pytest.approx(7)
    assert r0["naive"] == pytest.approx(7 / 19 - 1)
    # same persons, same windows, intervention rows: 5 + 40 + 10 = 55
    assert r0["after_cf"] == pytest.approx(55)
    assert r0["causal"] == pytest.approx(7 / 55 - 1)
    assert r0["counterfactual"] == pytest.approx(55 / 19 - 1)
    assert (1 + r0["naive"]) == pytest.approx((1 + r0["causal"]) * (1 + r0["counterfactual"]))
    assert r0["persons"] == 2 and r0["index_rows"] == 2
    assert r0["died_share"] == pytest.approx(0.5)  # person 1 dies on day 560, inside [500, 600)
    r1 = res.loc[1]
    assert r1["naive"] == pytest.approx(-1.0) and r1["causal"] == pytest.approx(-1.0)


def test_accrued_rows_are_pro_rated():
    res = compute_design(normalise_events(log()), cohort(), OUTPATIENT, WARMUP, HORIZON).set_index("replication")
    # accrued 4 visits over [450, 550): 2 before, 2 after; follow-up at 510: after. 3 / 2 - 1
    assert res.loc[0, "before"] == pytest.approx(2) and res.loc[0, "after"] == pytest.approx(3)
    assert res.loc[0, "naive"] == pytest.approx(0.5)
    assert math.isnan(res.loc[0, "causal"])  # no outpatient rows in the intervention run: 0 → undefined
    assert math.isnan(res.loc[1, "naive"])  # nothing before: a relative change is undefined


def test_flags_and_counts():
    m = Metric(kind="admission", value="count", flag="avoidable")
    res = compute_design(normalise_events(log()), cohort(), m, WARMUP, HORIZON).set_index("replication")
    # avoidable admissions: before person 2 day 650 (1); after person 1 day 495? no, 495 < 500: before.
    # before = 2, after = 0 → -100 %; intervention after: day 520 (1) → causal -100 %
    assert res.loc[0, "before"] == 2 and res.loc[0, "after"] == 0
    assert res.loc[0, "naive"] == pytest.approx(-1.0)
    assert res.loc[0, "after_cf"] == 1


def test_control_comparison():
    # Index: discharges with the team (here: team_enrol rows as the index events), 30 days after;
    # control: intervention-run discharges (end of a non-censored admission, survived).
    c = cohort(comparison="control", before_days=0.0, after_days=100.0, first_only=False,
               control={"index": "discharge", "paradigm": "intervention", "period_years": (0.0, 1.0)})
    res = compute_design(normalise_events(log()), c, BED_DAYS, WARMUP, HORIZON).set_index("replication")
    # replication 0 control discharges in [365.25, 730.5): person 1 at 432 and at 505 (the stay
    # ending 560 ends in death: no discharge; person 2's at 760 is after the period).
    # Bed-days in 100 days after each: from 432: [495,505) 10 + [520,532) 12 = 22;
    # from 505: [520,560) 40 → control mean 31.
    # Cohort index rows in the period (first_only false): 500 (p1) and 700 (p2; 800 is outside).
    # After: p1 [500,600) 5; p2 [700,800) 2 → mean 3.5.
    assert res.loc[0, "before"] == pytest.approx(31)
    assert res.loc[0, "naive"] == pytest.approx(3.5 / 31 - 1)
    assert res.loc[0, "index_rows"] == 2 and res.loc[0, "persons"] == 2
    # causal: same index rows in the intervention run: 5 + 40 and 10 → 7 / 55 - 1
    assert res.loc[0, "causal"] == pytest.approx(7 / 55 - 1)
    assert res.loc[0, "counterfactual"] == pytest.approx(27.5 / 31 - 1)


def test_strata_filter_and_period():
    ev = normalise_events(log())
    res = compute_design(ev, cohort(strata=["fluctuating"]), BED_DAYS, WARMUP, HORIZON)
    assert (res["index_rows"] == 0).all() and res["naive"].isna().all()


def test_window_outside_run_is_refused():
    with pytest.raises(MeasureError, match="outside the run"):
        compute_design(normalise_events(log()), cohort(before_days=400.0), BED_DAYS, WARMUP, HORIZON, "X")


def test_cohort_validation():
    with pytest.raises(ValueError, match="control"):
        cohort(comparison="control")
    with pytest.raises(ValueError, match="unknown event kind"):
        cohort(index="team_enrolment")
    with pytest.raises(ValueError, match="unknown event kind"):
        Metric(kind="admissions")


def test_targets_file_errors_name_file_and_field(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text('[metrics.m]\nkind = "admission"\nspred = "stay"\n[cohorts]\n[targets]\n')
    with pytest.raises(ScenarioError, match=r"t\.toml: metrics\.m\.spred: unknown field"):
        load_targets(p)
    p.write_text('[metrics]\n[cohorts]\n[targets.A]\ndescription = "x"\ncohort = "c"\nmetric = "m"\n')
    with pytest.raises(ScenarioError, match="no cohort 'c'"):
        load_targets(p)


def test_bundled_targets_load():
    tf = load_targets("calibration/targets.toml")
    assert {"SKA-1", "SKA-2", "SKA-3", "SKA-4", "RON-1", "RON-2", "RON-3", "CAP-1", "CAP-2", "STR-1"} <= set(tf.targets)
    assert tf.targets["RON-2"].band_or_default() == (-1.0, -0.60)
    assert tf.targets["SKA-1"].band_or_default() == pytest.approx((-0.97, -0.87))


def small_targets() -> TargetFile:
    return TargetFile.model_validate({
        "metrics": {"bed_days": {"kind": "admission", "spread": "stay"}},
        "cohorts": {"c": {"index": "team_enrol", "period_years": [0, 1], "before_days": 100, "after_days": 100}},
        "targets": {
            "T-1": {"description": "bed-days", "reported": -0.60, "cohort": "c", "metric": "bed_days"},
            "T-2": {"description": "hassle", "reported": 0.35, "band": [0.2, 0.5],
                    "summary_metric": "nurse_hassle_share", "paradigm": "intervention"},
            "T-3": {"description": "no figure", "cohort": "c", "metric": "bed_days"},
        },
    })


def test_measure_table_intervals_and_band():
    reps = pd.DataFrame({"replication": [0, 1], "paradigm": ["intervention"] * 2, "nurse_hassle_share": [0.3, 0.4]})
    table, detail = measure_events(log(), small_targets(), WARMUP, HORIZON, reps)
    t = table.set_index("target")
    naive = [7 / 19 - 1, -1.0]
    mean = sum(naive) / 2
    half = 12.706204736 * abs(naive[0] - naive[1]) / 2  # t(0.975, 1) * sd / sqrt(2)
    assert t.loc["T-1", "naive_mean"] == pytest.approx(mean)
    assert t.loc["T-1", "naive_ci_low"] == pytest.approx(mean - half, rel=1e-6)
    assert t.loc["T-1", "band_low"] == pytest.approx(-0.65) and t.loc["T-1", "band_high"] == pytest.approx(-0.55)
    assert t.loc["T-1", "within_band"]  # a wide interval overlaps
    assert t.loc["T-2", "naive_mean"] == pytest.approx(0.35) and t.loc["T-2", "within_band"]
    assert math.isnan(t.loc["T-3", "reported"]) and t.loc["T-3", "within_band"] is None
    assert list(table.columns) == ["target", "reported", "band_low", "band_high", "naive_mean", "naive_ci_low",
                                   "naive_ci_high", "causal_mean", "causal_ci_low", "causal_ci_high", "within_band"]
    assert detail.set_index("target").loc["T-1", "persons_per_replication"] == pytest.approx(1.5)


def test_measure_command_on_a_results_folder(tmp_path, monkeypatch):
    from sim.cli import app
    from sim.output.results import write_manifest

    folder = tmp_path / "res"
    folder.mkdir()
    table = pa.Table.from_pandas(log(), preserve_index=False)
    table = pa.Table.from_arrays([table[n].cast(SCHEMA.field(n).type) for n in SCHEMA.names], schema=SCHEMA)
    pq.write_table(table, folder / "events.parquet")
    manifest = {"tool": "narvard-sim", "scenario": {"simulation": {"warmup_years": 1.0, "years": 3.0}},
                "seed": 1, "replications": 2, "paradigms": ["intervention", "person"]}
    write_manifest(folder, manifest)  # with the file hashes readers verify
    targets = tmp_path / "targets.toml"
    targets.write_text(
        '[metrics.bed_days]\nkind = "admission"\nspread = "stay"\n'
        '[cohorts.c]\nindex = "team_enrol"\nperiod_years = [0, 1]\nbefore_days = 100\nafter_days = 100\n'
        '[targets.T-1]\ndescription = "bed-days"\nreported = -0.6\ncohort = "c"\nmetric = "bed_days"\n'
    )
    res = CliRunner().invoke(app, ["measure", str(folder), "--targets", str(targets)])
    assert res.exit_code == 0, res.output
    out = pd.read_csv(folder / "measures.csv")
    assert out.loc[0, "naive_mean"] == pytest.approx(((7 / 19 - 1) + -1.0) / 2, rel=1e-5)
    bad = CliRunner().invoke(app, ["measure", str(tmp_path / "nowhere"), "--targets", str(targets)])
    assert bad.exit_code == 2


@pytest.mark.parametrize("seed", range(6))
def test_window_sums_pair_rows_as_the_merge_does(seed):
    # window_sums pairs each index row with its person's rows by sorted keys: the same sums, to the bit, as
    # the inner merge it replaced (several rows a key, so a different order of addition would show;
    # points, intervals, index rows whose person has no rows, repeated index rows)
    import numpy as np

    from sim.measure.designs import _window_sums_merge, window_sums

    rng = np.random.default_rng(seed)
    n = 400
    start = rng.uniform(0, 1000, n)
    r = pd.DataFrame({"replication": rng.integers(0, 2, n).astype(np.int32), "person": rng.integers(0, 6, n),
                      "start": start, "end": start + np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0, 200, n)),
                      "qty": rng.uniform(0.1, 10, n)})
    i = pd.DataFrame({"replication": rng.integers(0, 2, 30).astype(np.int32), "person": rng.integers(0, 8, 30),
                      "t": rng.uniform(0, 1000, 30)})
    for lo, hi in ((0.0, 365.25), (-182.625, 0.0), (-1000.0, 1000.0)):
        got, want = window_sums(r, i, lo, hi), _window_sums_merge(r, i, lo, hi)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()


@settings(max_examples=200, deadline=None)
@given(keys=st.lists(st.tuples(st.integers(0, 3), st.sampled_from([0, 1, 7, 65535, 65536, 2**20, 2**31 - 1])),
                     max_size=60),
       wide=st.booleans())
def test_stable_order_is_numpy_stable_argsort(keys, wide):
    # The radix passes give the same permutation as numpy's stable sort of the int64 keys (ties in row order)
    import numpy as np

    from sim.measure.designs import stable_order

    packed = np.array([(r << 32 | p) if not wide else (r << 60 | p << 2) for r, p in keys], np.int64)
    assert np.array_equal(stable_order(packed), np.argsort(packed, kind="stable"))
