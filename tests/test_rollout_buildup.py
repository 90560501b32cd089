"""A team builds up: recruitment delays its start, its caseload cap ramps up, its effect grows (issue 18)."""


import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.config import ScenarioError
from sim.experiments.runner import run_replication
from tests.conftest import DUMMY_SECTION as SECTION
from tests.conftest import small_scenario


def _events(**section):
    s = small_scenario(persons=2000, years=1.5, concepts={"dummy_team": {**SECTION, **section}})
    r = run_replication(s, 0, ("person",), keep=True)
    e = r.tables["person"].to_pandas()
    for c in ("kind", "detail", "provider"):
        e[c] = e[c].astype(str)
    return s, e


@given(start=st.floats(0, 1000), rec=st.floats(0, 300), ramp=st.floats(0, 500), learn=st.floats(0, 500),
       a=st.floats(0, 1), t=st.floats(0, 3000))
def test_build_up_shares_are_monotone_and_bounded(start, rec, ramp, learn, a, t):
    from sim.config.concepts import ConceptParams

    p = ConceptParams(enabled=True, start_day=start, recruitment_days=rec, ramp_days=ramp, learning_days=learn,
                      learning_start_effect=a)
    cap, eff = p.build_up(t)
    cap2, eff2 = p.build_up(t + 50.0)
    assert 0.0 <= cap <= cap2 <= 1.0
    assert min(a, 1.0) - 1e-12 <= eff <= eff2 <= 1.0
    if t - start - rec >= max(ramp, learn):
        assert (cap, eff) == (1.0, 1.0)
    assert p.active_between()[0] == start + rec


def test_neutral_build_up_leaves_the_dump_unchanged():
    from sim.config.concepts import ConceptParams

    assert ConceptParams(enabled=True).model_dump() == {"enabled": True}
    assert ConceptParams(enabled=True, ramp_days=10.0).model_dump() == {"enabled": True, "ramp_days": 10.0}


def test_recruitment_must_end_before_the_window(dummy):
    with pytest.raises(ScenarioError, match=r"end_day must be after start_day \+ recruitment_days"):
        small_scenario(persons=200, years=1.0, concepts={"dummy_team": {**SECTION, "start_day": 10.0,
                                                                        "end_day": 50.0, "recruitment_days": 60.0}})


def test_recruitment_delays_acting_and_paying(dummy):
    start, rec = 200.0, 90.0
    _, e = _events(start_day=start, recruitment_days=rec)
    enrol = e[e["kind"] == "dummy_enrol"]
    assert len(enrol) > 0 and enrol["time"].min() >= start + rec
    fixed = e[(e["kind"] == "fixed_cost") & (e["provider"] == "dummy_team")]
    assert fixed["time"].min() == start + rec


def test_caseload_ramps_up_to_its_cap(dummy):
    start, ramp, cap = 100.0, 300.0, SECTION["caseload_max"]
    _, e = _events(start_day=start, ramp_days=ramp)
    enrol = e[e["kind"] == "dummy_enrol"]
    begin, end = enrol["time"].to_numpy(), (enrol["time"] + enrol["duration"]).to_numpy()
    # Enrolled at each enrolment start (including the one starting): never above the ramped cap.
    for t in begin:
        n = int(((begin <= t) & (end > t)).sum())
        allowed = max(1, int(np.floor(cap * min(1.0, (t - start) / ramp) + 1e-9)))
        assert n <= allowed
    # It does reach the full cap after the ramp (the dummy's unstable persons fill it).
    late = begin[begin > start + ramp]
    assert max(int(((begin <= t) & (end > t)).sum()) for t in late) == cap


def _team_prevented_in_hours(**team):
    s = small_scenario(persons=5000, years=1.5, seed=11, concepts={"mobile_team": team})
    e = run_replication(s, 0, ("person",), keep=True).tables["person"].to_pandas()
    q = s.concepts.mobile_team
    hour = (e["time"] % 1.0) * 24.0
    in_hours = ((e["time"] % 7.0) < q.weekdays) & (hour >= q.hours_start) & (hour < q.hours_end)
    return int(((e["kind"].astype(str) == "team_visit") & (e["detail"].astype(str) == "prevented") & in_hours).sum())


def test_learning_scales_the_effect():
    full = _team_prevented_in_hours()
    # Effect at most 730 / 3650 of the full during the run, and near zero early: far fewer prevented.
    learning = _team_prevented_in_hours(learning_days=3650.0, learning_start_effect=0.0)
    assert full >= 15 and learning <= 0.35 * full
