"""Functional: conservation and physical invariants of the event log, on fixed small scenarios.

Persons are conserved (alive at start + entered - died = alive at end, in the metrics and in
the enter/death rows); no bed or short-term place is held by more persons than there are
places; nothing has a negative duration or quantity; nothing happens to a person before entry
or after death; a person is in one place at a time; each row carries the stratum the person
was in at its time (a stay: when it began). Both care systems, including scarce ones.
The checks themselves are in :mod:`tests.core_invariants`; the first tests here show that
they do fail on a log that breaks them.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.care import CARE_SYSTEMS
from sim.domain.streams import replication_seed
from sim.experiments.runner import run_replication
from sim.population import draw_trajectories, make_population
from tests import core_invariants as ci
from tests.conftest import small_scenario

PARADIGMS = tuple(CARE_SYSTEMS)
CENSUS = ("persons_start", "persons_entered", "persons_died", "persons_end")


def run_logged(scenario, rep: int = 0):
    """One replication with its event logs, and the persons' entry and death times."""
    res = run_replication(scenario, rep, PARADIGMS, keep=True)
    seed = replication_seed(scenario.simulation.seed, rep)
    pop = make_population(scenario, seed)
    traj = draw_trajectories(scenario, pop, seed)
    return res, {p: ci.frame(res.tables[p]) for p in PARADIGMS}, pop.entry_time, traj.death_time


# Scenarios: the shrunk default; beds and places so scarce that queues are long; no
# entrants and no warm-up; a longer run with a sicker population.
CASES = {
    "default": {},
    "scarce": {"capacity": {"beds": 1, "short_term_places": 1}},
    "tight": {"capacity": {"beds": 3, "short_term_places": 2}, "seed": 11},
    "closed": {"population": {"entrants_per_year": 0.0}, "warmup": 0.0, "seed": 5},
    "sick": {"health": {"deterioration_rate_per_year": {"stable": 1.0, "fluctuating": 3.0}},
             "persons": 600, "years": 2.0, "seed": 3},
}


def _scenario(name):
    kw = dict(CASES[name])
    top = {k: kw.pop(k) for k in ("seed", "persons", "years", "warmup") if k in kw}
    return small_scenario(**top, **kw)


@pytest.fixture(scope="module", params=list(CASES))
def logged(request):
    s = _scenario(request.param)
    return (s, *run_logged(s))


# ---------------------------------------------------------------- the checks can fail
def test_max_concurrent():
    assert ci.max_concurrent(np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])) == 1  # hand-overs
    assert ci.max_concurrent(np.array([0.0, 0.5, 0.9]), np.array([1.0, 2.0, 3.0])) == 3
    assert ci.max_concurrent(np.array([]), np.array([])) == 0


def test_checks_catch_broken_logs():
    s = _scenario("scarce")
    _, logs, entry, death = run_logged(s)
    df = logs["intervention"]
    assert ci.all_problems(df, s, entry, death) == []
    adm = df.index[df.kind == "admission"]
    # Beds held over the whole stay (ignoring the wait for a bed) overfill the one bed.
    wrong = df.copy()
    wrong.loc[adm, "quantity"] = wrong.loc[adm, "duration"]
    assert any("beds occupied" in p for p in ci.check_capacity(wrong, s.capacity.beds, 99))
    # A person's second stay moved into the first.
    twice = df[df.kind == "admission"].person.value_counts()
    p = twice.index[0]
    rows = df.index[(df.kind == "admission") & (df.person == p)]
    moved = df.copy()
    moved.loc[rows[1], "time"] = moved.loc[rows[0], "time"] + 1e-3
    assert any("overlapping stays" in x for x in ci.check_one_place(moved))
    # Routine volume accrued at home while in hospital.
    home = df.copy()
    a = df.loc[rows[0]]
    home.loc[len(home)] = {**a.to_dict(), "kind": "home_help", "detail": "routine",
                           "time": a.time + a.duration / 2, "duration": a.duration}
    assert any("home rows during a stay" in x for x in ci.check_one_place(home))
    # A row after death and one before entry.
    dead = np.flatnonzero(np.isfinite(death))[0]
    late = df.copy()
    late.loc[len(late)] = {**df.iloc[0].to_dict(), "person": dead, "time": death[dead] + 1.0}
    assert any("after death" in x for x in ci.check_life_span(late, entry, death))
    entrant = np.flatnonzero(entry > 1.0)[0]
    early = df.copy()
    early.loc[len(early)] = {**df.iloc[0].to_dict(), "person": entrant, "time": entry[entrant] - 1.0}
    assert any("before entry" in x for x in ci.check_life_span(early, entry, death))
    neg = df.copy()
    neg.loc[adm[0], "duration"] = -1.0
    assert ci.check_nonnegative(neg)
    # An admission labelled with another stratum than the one the person was in.
    relabel = df.copy()
    relabel.loc[adm[0], "stratum"] = "palliative" if df.loc[adm[0], "stratum"] != "palliative" else "stable"
    assert any("stratum is not the one at their time" in x for x in ci.check_strata(relabel))


# ---------------------------------------------------------------- conservation
def test_persons_conserved(logged):
    s, res, logs, _, _ = logged
    for paradigm in PARADIGMS:
        m = res.metrics[paradigm]
        assert m["persons_start"] + m["persons_entered"] - m["persons_died"] == m["persons_end"]
        # The same counts rebuilt from the enter and death rows of the log.
        got = ci.event_log_counts(logs[paradigm], s.warmup_days, s.horizon_days)
        assert got == {k: m[k] for k in CENSUS}
        assert m["persons_start"] > 0 and m["persons_died"] > 0


def test_deaths_metric_matches_census(logged):
    # The death rate (per 1,000 person-years) times person-years is the number who died.
    _, res, _, _, _ = logged
    for paradigm in PARADIGMS:
        m = res.metrics[paradigm]
        assert m["deaths"] * m["person_years"] / 1000.0 == pytest.approx(m["persons_died"], rel=1e-9)


def test_same_persons_under_both_care_systems(logged):
    # The exogenous trajectory does not depend on the care system.
    _, _, logs, _, _ = logged
    cols = ["person", "time", "stratum"]
    for kind in ("enter", "stratum_change", "death"):
        a, b = (logs[p][logs[p].kind == kind][cols].sort_values(cols).reset_index(drop=True) for p in PARADIGMS[:2])
        assert a.equals(b), kind
    det = [len(logs[p][(logs[p].kind == "deterioration") & (logs[p].detail != "relapse")]) for p in PARADIGMS]
    assert len(set(det)) == 1


# ---------------------------------------------------------------- physical invariants
def test_invariants(logged):
    s, _, logs, entry, death = logged
    for paradigm in PARADIGMS:
        assert ci.all_problems(logs[paradigm], s, entry, death) == [], paradigm


def test_bed_occupancy_from_rows(logged):
    # Time-weighted occupied beds over the measured period, rebuilt from the bed intervals,
    # equals the summary metric; and is a share, never above 1.
    s, res, logs, _, _ = logged
    w, h = s.warmup_days, s.horizon_days
    for paradigm in PARADIGMS:
        t0, t1 = ci.bed_intervals(logs[paradigm])
        busy = np.clip(np.minimum(t1, h) - np.maximum(t0, w), 0, None).sum()
        occ = busy / ((h - w) * s.capacity.beds)
        assert res.metrics[paradigm]["bed_occupancy"] == pytest.approx(occ, rel=1e-9)
        assert 0.0 < occ <= 1.0 + 1e-12


def test_scarce_beds_are_saturated_and_queue():
    # With one bed for 1,500 persons the bed is (almost) never empty after the warm-up, and
    # patients wait: the stays are longer than the bed-days.
    s = _scenario("scarce")
    res, logs, _, _ = run_logged(s)
    a = logs["intervention"][logs["intervention"].kind == "admission"]
    assert (a.duration - a.quantity).sum() > a.quantity.sum()
    assert res.metrics["intervention"]["bed_occupancy"] > 0.95
