"""Regression: the metrics-only evaluation gives the figures of a full results folder, to the bit.

Tier: regression. :func:`sim.experiments.evaluate.evaluate` runs the replications with no
event log on disk and computes the measurement designs on the recorder's in-memory rows
(integer codes). A results folder of the same scenario (``simulate_to_folder``: events.parquet,
summary.csv, replications.csv) measured as ``narvard measure`` does must give the same
summary.csv bytes, the same per-replication design figures and the same measures, exactly.
The designs cover every way a row is placed and selected: point, interval and stay spreads,
counts, a flag, detail filters, strata, a control cohort (discharges, from the other run) and
before/after cohorts, and a summary target.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sim.config.loader import _deep_merge, resolve, validate
from sim.experiments.evaluate import PARADIGMS, evaluate
from sim.experiments.executor import make_executor
from sim.experiments.pipeline import simulate_to_folder
from sim.measure.report import measure_folder, needed_kinds, per_replication, read_needed_events
from sim.measure.targets import TargetFile
from sim.output.results import read_replications
from sim.output.summary import write_summary
from tests.conftest import DEFAULT

REPLICATIONS = 2


def scenario():
    data = _deep_merge(resolve(DEFAULT), {
        "simulation": {"seed": 5, "years": 1.0, "warmup_years": 0.5, "replications": REPLICATIONS},
        "population": {"persons_65plus": 2000, "entrants_per_year": 94},
        "capacity": {"beds": 13, "short_term_places": 7},
    })
    return validate(data, "test_evaluate")


def targets() -> TargetFile:
    period = [0.0, 0.5]
    return TargetFile.model_validate({
        "metrics": {
            "help": {"kind": "home_help", "spread": "interval"},
            "bed_days": {"kind": "admission", "spread": "stay"},
            "avoidable": {"kind": "admission", "value": "count", "flag": "avoidable"},
            "readmissions": {"kind": "admission", "value": "count", "flag": "readmission"},
            "ed": {"kind": "ed_visit", "details": ["via_ed", "plan_ed"]},
            "outpatient": {"kind": "outpatient_visit", "spread": "interval", "exclude_details": ["followup"]},
            "stc": {"kind": "short_term_care", "spread": "interval"},
        },
        "cohorts": {
            "discharged": {"index": "safe_discharge", "period_years": period, "before_days": 120,
                           "after_days": 120},
            "team": {"index": "team_enrol", "period_years": period, "before_days": 90, "after_days": 90,
                     "first_only": False, "strata": ["fluctuating", "unstable"]},
            "control": {"index": "safe_discharge", "period_years": period, "after_days": 60,
                        "comparison": "control",
                        "control": {"index": "discharge", "paradigm": "intervention", "period_years": period,
                                    "strata": ["fluctuating"]}},
        },
        "targets": {
            "H": {"description": "home help", "reported": -0.5, "cohort": "discharged", "metric": "help"},
            "B": {"description": "bed-days", "cohort": "team", "metric": "bed_days"},
            "A": {"description": "avoidable", "cohort": "team", "metric": "avoidable"},
            "E": {"description": "ED", "cohort": "discharged", "metric": "ed"},
            "O": {"description": "outpatient", "reported": -0.3, "cohort": "team", "metric": "outpatient"},
            "R": {"description": "readmissions", "reported": -0.8, "cohort": "control", "metric": "readmissions"},
            "S": {"description": "short-term care", "cohort": "control", "metric": "stc"},
            "C": {"description": "occupancy", "reported": 0.8, "summary_metric": "bed_occupancy",
                  "paradigm": "intervention"},
        },
    })


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "res"
    simulate_to_folder(scenario(), PARADIGMS, out, False, make_executor("serial"))
    return out


@pytest.fixture(scope="module")
def lean():
    return evaluate(scenario(), range(REPLICATIONS), targets())


def test_summary_is_that_of_the_results_folder(folder, lean, tmp_path):
    write_summary(pd.DataFrame(lean["summary"]), tmp_path / "summary.csv")
    assert (tmp_path / "summary.csv").read_bytes() == (folder / "summary.csv").read_bytes()
    reps = read_replications(folder)
    mine = pd.DataFrame(lean["metrics"])
    assert list(mine["paradigm"]) == list(reps["paradigm"])
    for col in reps.columns.drop(["replication", "paradigm"]):  # replications.csv holds 6 significant digits
        assert [f"{v:.6g}" for v in mine[col]] == [f"{v:.6g}" for v in reps[col].astype(float)], col


def test_design_figures_are_those_of_the_results_folder(folder, lean):
    tf, s = targets(), scenario()
    events = read_needed_events(folder, needed_kinds(tf))
    full = per_replication(events, tf, s.warmup_days, s.horizon_days, read_replications(folder))
    assert set(lean["designs"]) == set(tf.targets)
    cohort_sizes = []
    for tid, t in tf.targets.items():
        mine = pd.DataFrame(lean["designs"][tid])
        if t.is_design:  # exact: the same rows in the same order, as codes instead of names
            pd.testing.assert_frame_equal(mine, pd.DataFrame(full[tid].to_dict("records")), check_exact=True)
            cohort_sizes.append(int(mine["index_rows"].sum()))
        else:  # from replications.csv the folder has the metric to 6 significant digits
            assert [f"{v:.6g}" for v in mine["naive"]] == [f"{v:.6g}" for v in full[tid]["naive"]]
    assert min(cohort_sizes) > 0  # every design measured someone (the comparison is not of empty frames)
    table, _detail = measure_folder(folder, tf)
    measured = pd.DataFrame(lean["measures"]).set_index("target")
    for tid, t in tf.targets.items():
        if t.is_design:
            for col in ("naive_mean", "naive_ci_low", "causal_mean", "causal_ci_high"):
                a, b = measured.loc[tid, col], table.set_index("target").loc[tid, col]
                assert (a == b) or (math.isnan(a) and math.isnan(b)), (tid, col, a, b)


def test_the_way_through_parquet_gives_the_same_result(lean):
    slow = evaluate(scenario(), range(REPLICATIONS), targets(), metrics_only=False)
    for key in ("metrics", "summary", "measures", "measures_detail"):
        pd.testing.assert_frame_equal(pd.DataFrame(slow[key]), pd.DataFrame(lean[key]), check_exact=True)
    for tid in lean["designs"]:
        pd.testing.assert_frame_equal(pd.DataFrame(slow["designs"][tid]), pd.DataFrame(lean["designs"][tid]),
                                      check_exact=True)
    assert slow["engine_events"] == lean["engine_events"] > 0


def test_a_chunk_of_codes_reads_as_the_table_built_from_it():
    """The metrics-only accumulators read the recorder's rows of codes (RowsChunk) as the table's columns."""
    import numpy as np

    from sim.domain.columns import RowsChunk, TableChunk
    from sim.domain.events import DETAILS, KINDS, PROVIDERS, D, K
    from sim.engine.recorder import Recorder
    from sim.experiments.runner import VOCABULARIES

    got = []
    rec = Recorder(3, "person", on_rows=got.append)
    rng = np.random.default_rng(1)
    for i in range(500):
        rec.record(int(rng.integers(0, 50)), float(rng.uniform(0, 900)), int(rng.integers(0, len(KINDS))),
                   int(rng.integers(0, len(PROVIDERS))), 1, float(rng.uniform(0, 9)), float(rng.uniform(0, 4)),
                   int(rng.integers(0, 3)), int(rng.integers(0, len(DETAILS))), bool(i % 3), bool(i % 5 == 0))
    rec.flush()
    rows = got[0]
    fast, table = RowsChunk(rows, VOCABULARIES), TableChunk(rec._table(rows))
    assert fast.num_rows == table.num_rows == 500
    for name in ("person", "time", "duration", "quantity", "readmission", "avoidable"):
        assert np.array_equal(fast.column(name), table.column(name)), name
        assert fast.column(name).dtype == table.column(name).dtype, name
    for name, vocab in VOCABULARIES.items():
        assert np.array_equal(fast.codes(name, vocab), table.codes(name, vocab)), name
        values = {w: float(i) + 0.5 for i, w in enumerate(vocab) if i % 2}
        assert np.array_equal(fast.lookup(name, values), table.lookup(name, values)), name
    assert K["admission"] in fast.codes("kind", KINDS) and D["home"] in fast.codes("detail", DETAILS)
    with pytest.raises(ValueError, match="another vocabulary"):
        fast.codes("kind", DETAILS)
