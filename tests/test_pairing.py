"""Functional: the same persons under two care systems (common random numbers).

With every service concept switched off, person-driven care reproduces intervention-driven
care row for row; with the concepts on, every person's health trajectory (entries, stratum
changes, deaths) is identical in both runs.
"""

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.experiments.runner import run_replication
from tests.conftest import small_scenario


def _rows(table, kinds=None):
    t = table.drop_columns(["paradigm"])
    if kinds is not None:
        t = t.filter(pc.is_in(pc.cast(t["kind"], "string"), value_set=pa.array(kinds)))
    return t


def test_concepts_off_reproduces_intervention_exactly():
    s = small_scenario(persons=2500, years=1.5).concepts_off()
    r = run_replication(s, 0, ("intervention", "person"), keep=True)
    a, b = _rows(r.tables["intervention"]), _rows(r.tables["person"])
    assert a.num_rows > 1000
    assert a.equals(b)


def test_concepts_on_change_care_but_not_health():
    s = small_scenario(persons=2500, years=1.5)
    r = run_replication(s, 0, ("intervention", "person"), keep=True)
    a, b = r.tables["intervention"], r.tables["person"]
    assert not _rows(a).equals(_rows(b)), "the concepts should change what care does"
    health = ["enter", "stratum_change", "death"]
    cols = ["person", "time", "kind", "stratum"]
    ha = _rows(a, health).select(cols).sort_by([("person", "ascending"), ("time", "ascending")])
    hb = _rows(b, health).select(cols).sort_by([("person", "ascending"), ("time", "ascending")])
    assert ha.num_rows > 2500
    assert ha.equals(hb)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31), rep=st.integers(0, 50))
def test_health_trajectories_identical_for_any_seed(seed, rep):
    s = small_scenario(persons=400, years=0.7, warmup=0.3, seed=seed)
    r = run_replication(s, rep, ("intervention", "person"), keep=True)
    health = ["enter", "stratum_change", "death"]
    cols = ["person", "time", "kind", "stratum"]
    ha = _rows(r.tables["intervention"], health).select(cols).sort_by([("person", "ascending"), ("time", "ascending")])
    hb = _rows(r.tables["person"], health).select(cols).sort_by([("person", "ascending"), ("time", "ascending")])
    assert ha.equals(hb)


def test_each_concept_switches_off_alone():
    base = small_scenario(persons=2000, years=1.0)
    for name in ("mobile_team", "palliative_team", "home_physician", "safe_discharge"):
        c = base.concepts
        off = c.model_copy(update={name: getattr(c, name).model_copy(update={"enabled": False})})
        s = base.model_copy(update={"concepts": off})
        m = run_replication(s, 0, ("person",)).metrics["person"]
        metric = {"mobile_team": "mobile_team_caseload", "palliative_team": "palliative_team_caseload",
                  "home_physician": "home_physician_list", "safe_discharge": "safe_discharge_caseload"}[name]
        assert m[metric] == 0.0
        others = [v for k, v in {"mobile_team": "mobile_team_caseload", "home_physician": "home_physician_list",
                                 "palliative_team": "palliative_team_caseload"}.items() if k != name]
        assert all(m[o] > 0 for o in others)
