"""RON-1...3 (Trygg hemgång): the cohort is every discharge with the team, whatever happened after it.

Tier: exact. A hand-built event log: the team is granted at discharge planning; a person granted
it who went to a short-term place after all carries a 0-day ``safe_discharge`` row (detail
``short_term_care``) at the discharge and stays in the cohort. Before the fix such persons had no
row, so RON-3 ("short-term care ceases") was -100 % by construction; the same log without the
grant row shows that.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim.measure import compute_design, load_targets
from sim.measure.designs import normalise_events
from sim.measure.targets import default_targets

WARMUP = 365.25
HORIZON = 4 * 365.25


def row(paradigm, person, time, kind, duration=0.0, quantity=1.0, stratum="fluctuating", detail=""):
    return dict(replication=0, paradigm=paradigm, person=person, time=time, kind=kind, provider="none",
                payer="none", duration=duration, quantity=quantity, cost=0.0, stratum=stratum,
                readmission=False, avoidable=False, detail=detail)


def log(with_grant_row: bool = True) -> pd.DataFrame:
    P, I = "person", "intervention"  # noqa: E741
    rows = [
        # person 10: granted the team at the discharge on day 410, went home (a 21-day period)
        row(P, 10, 400, "admission", 10, 10, detail="via_ed"),
        row(P, 10, 410, "safe_discharge", 21, 1, detail="home"),
        # person 11: granted the team at the discharge on day 505, went to a short-term place (20 days)
        row(P, 11, 500, "admission", 5, 5, detail="via_ed"),
        row(P, 11, 505, "short_term_care", 20, 20),
        # person 12: discharged on day 600 while the team was full: not with the team
        row(P, 12, 590, "admission", 10, 10, detail="via_ed"),
        row(P, 12, 600, "short_term_care", 30, 30),
        # --- the same persons without the team (the control: target-group discharges, alive)
        row(I, 10, 400, "admission", 10, 10, detail="via_ed"),
        row(I, 10, 410, "short_term_care", 30, 30),
        row(I, 11, 500, "admission", 5, 5, detail="via_ed"),
        row(I, 11, 505, "short_term_care", 20, 20),
        row(I, 12, 590, "admission", 10, 10, detail="via_ed"),
        row(I, 12, 600, "short_term_care", 30, 30),
        # another stratum: not comparable
        row(I, 13, 700, "admission", 5, 5, stratum="stable", detail="via_ed"),
        row(I, 13, 705, "short_term_care", 50, 50, stratum="stable"),
        # a stay that ends in death is no discharge
        row(I, 14, 800, "admission", 6, 6, detail="via_ed"),
        row(I, 14, 806, "death", 0, 0, detail="hospital"),
    ]
    if with_grant_row:
        rows.append(row(P, 11, 505, "safe_discharge", 0, 1, detail="short_term_care"))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def ron3():
    tf = load_targets(default_targets())
    t = tf.targets["RON-3"]
    return tf.cohorts[t.cohort], tf.metrics[t.metric]


def test_ron3_counts_everyone_discharged_with_the_team(ron3):
    cohort, metric = ron3
    res = compute_design(normalise_events(log()), cohort, metric, WARMUP, HORIZON).iloc[0]
    # cohort: persons 10 (day 410) and 11 (day 505): short-term days in 60 days 0 + 20, mean 10
    assert res["index_rows"] == 2 and res["persons"] == 2
    assert res["after"] == pytest.approx(20)
    # control: fluctuating discharges alive (10, 11, 12): 30, 20, 30 → mean 80 / 3
    assert res["before"] == pytest.approx(80 / 3)
    assert res["naive"] == pytest.approx(10 / (80 / 3) - 1)  # -62.5 %
    # causal: the same discharges without the team: 30 + 20
    assert res["after_cf"] == pytest.approx(50)
    assert res["causal"] == pytest.approx(20 / 50 - 1)


def test_dropping_short_term_stays_meets_ron3_by_construction(ron3):
    # The old cohort (no row for a grant that ended in short-term care): -100 % whatever the effect.
    cohort, metric = ron3
    res = compute_design(normalise_events(log(with_grant_row=False)), cohort, metric, WARMUP, HORIZON).iloc[0]
    assert res["index_rows"] == 1
    assert res["naive"] == pytest.approx(-1.0)


def test_model_records_every_grant_at_the_discharge():
    # In a run: every safe_discharge row is dated at a discharge of that person, and a grant that
    # ended in a short-term place (0 days, detail short_term_care) at the start of that stay.
    from sim.experiments.runner import run_replication
    from tests.conftest import small_scenario

    s = small_scenario(persons=2500, years=1.5,
                       concepts={"safe_discharge": {"short_term_care_multiplier": 0.5, "caseload_max": 50}})
    ev = run_replication(s, 0, ("person",), keep=True).tables["person"].to_pandas()
    for c in ("kind", "detail"):
        ev[c] = ev[c].astype(str)
    adm = ev[(ev["kind"] == "admission") & (ev["detail"] != "censored")]
    ends = set(zip(adm["person"], (adm["time"] + adm["duration"]).round(9), strict=True))
    sd = ev[ev["kind"] == "safe_discharge"]
    assert len(sd) > 20
    assert all(k in ends for k in zip(sd["person"], sd["time"].round(9), strict=True))
    to_stc = sd[sd["detail"] == "short_term_care"]
    stc = ev[ev["kind"] == "short_term_care"]
    stc_starts = set(zip(stc["person"], stc["time"].round(9), strict=True))
    assert len(to_stc) > 0 and (to_stc["duration"] == 0).all()
    assert all(k in stc_starts for k in zip(to_stc["person"], to_stc["time"].round(9), strict=True))
