"""The mechanisms that bring today's care near Swedish statistics (issue 14, last step).

Tier: property and statistical. Planned (elective) admissions: direct, never readmissions, at the
stratum's rate per person-year at home, with their own length of stay (tested in
test_core_statistics); terminal deteriorations that need a bed, at the stratum's share; routine
visits scaled by frailty, exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

import tests.core_invariants as ci
from sim.domain.health import DETERIORATION, NEEDS_ASSESSMENT, NEEDS_BED
from sim.domain.strata import STRATA
from sim.domain.streams import replication_seed
from sim.domain.units import DAYS_PER_YEAR
from sim.experiments.runner import run_replication
from sim.population import draw_trajectories, make_population
from tests.conftest import small_scenario

ALPHA = 1e-3


def test_planned_admissions_rate_and_rows():
    rates = {"stable": 0.5, "fluctuating": 1.0, "unstable": 1.5, "palliative": 0.2}
    s = small_scenario(persons=2000, years=1.0, warmup=0.25, seed=31, capacity={"beds": 200},
                       hospital={"planned_admissions_per_year": rates})
    df = ci.frame(run_replication(s, 0, ("intervention",), keep=True).tables["intervention"])
    adm = df[df.kind == "admission"]
    planned = adm[adm.detail == "planned"]
    assert len(planned) > 300
    assert not planned.readmission.any() and not planned.avoidable.any()
    assert (planned.provider == "hospital").all()
    # No ED visit comes with a planned admission (it is direct): the ED visits are those of the other routes.
    ed = df[df.kind == "ed_visit"]
    assert not set(zip(planned.person, planned.time, strict=True)) & set(zip(ed.person, ed.time, strict=True))
    # Rate: a planned admission is drawn each week (from day 7) for each person at home then, with
    # P = 1 - exp(-rate x 7 d) by stratum; the expected draws follow from the routine primary-care rows,
    # which cover every stretch at home (one stratum each). A draw becomes an admission on a day within
    # the week if the person is still at home then: admissions are at most the draws, and most of them.
    home = df[(df.kind == "primary_care_visit") & (df.detail == "routine")]
    t0, t1 = home.time.to_numpy(), (home.time + home.duration).to_numpy()
    weeks = np.floor((t1 - 1e-9) / 7.0) - np.floor((t0 - 1e-9) / 7.0)  # week boundaries 7k in [t0, t1)
    weeks -= (t0 <= 0.0)  # no draw at day 0
    p_week = np.array([-np.expm1(-rates[k] * 7 / DAYS_PER_YEAR) for k in STRATA])
    p = p_week[[STRATA.index(x) for x in home.stratum]]
    expected, sd = float((weeks * p).sum()), float(np.sqrt((weeks * p * (1 - p)).sum()))
    n = len(planned)
    assert expected - 0.1 * expected - 3 * sd < n < expected + 3 * sd, (n, expected, sd)


def test_no_planned_admissions_without_a_rate():
    s = small_scenario(persons=600, years=0.5, hospital={"planned_admissions_per_year": None})
    df = ci.frame(run_replication(s, 0, ("intervention",), keep=True).tables["intervention"])
    assert not (df.detail == "planned").any()


def test_terminal_deteriorations_need_a_bed_at_the_stratum_share():
    share = {"stable": 0.8, "fluctuating": 0.5, "unstable": 0.2, "palliative": 0.0}
    # No other deteriorations: every deterioration of the trajectory is a terminal one.
    s = small_scenario(persons=10000, years=2.0, warmup=0.0, seed=5,  # about 120 deaths in the fluctuating stratum
                       health={"deterioration_rate_per_year": dict.fromkeys(STRATA, 1e-9),
                               "terminal_episode_share": dict.fromkeys(STRATA, 1.0),
                               "terminal_share_needs_bed": share})
    seed = replication_seed(s.simulation.seed, 0)
    pop = make_population(s, seed)
    tr = draw_trajectories(s, pop, seed)
    det = tr.kind == DETERIORATION
    assert set(np.unique(tr.acuity[det])) <= {NEEDS_BED, NEEDS_ASSESSMENT}
    for i, st in enumerate(STRATA):
        a = tr.acuity[det & (tr.stratum == i)]
        if share[st] in (0.0, 1.0):
            assert (a == NEEDS_BED).mean() == share[st] if len(a) else True
            continue
        assert len(a) > 100, st
        p = stats.binomtest(int((a == NEEDS_BED).sum()), len(a), share[st]).pvalue
        assert p > ALPHA, (st, (a == NEEDS_BED).mean())


def test_terminal_share_leaves_the_trajectory_times_alone():
    # Only the acuity of the terminal deteriorations changes: times, persons, kinds and strata do not.
    base = small_scenario(persons=1500, years=1.0, seed=9, health={"terminal_share_needs_bed": None})
    bed = small_scenario(persons=1500, years=1.0, seed=9)
    seed = replication_seed(9, 0)
    a = draw_trajectories(base, make_population(base, seed), seed)
    b = draw_trajectories(bed, make_population(bed, seed), seed)
    for name in ("time", "person", "kind", "stratum", "det_index"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert (a.acuity != b.acuity).any()


def test_routine_visits_scale_with_frailty_exactly():
    s = small_scenario(persons=800, years=0.5, seed=13, routine={"visits_frailty_exponent": 1.0})
    seed = replication_seed(s.simulation.seed, 0)
    frailty = make_population(s, seed).frailty_or_ones()
    df = ci.frame(run_replication(s, 0, ("intervention",), keep=True).tables["intervention"])
    r = s.routine
    for kind, per_year in (("primary_care_visit", r.primary_care_visits_per_year),
                           ("outpatient_visit", r.outpatient_visits_per_year)):
        rows = df[(df.kind == kind) & (df.detail == "routine") & (df.duration > 0)]
        rate = np.array(per_year.as_tuple())[[STRATA.index(x) for x in rows.stratum.astype(str)]]
        expected = rate / DAYS_PER_YEAR * rows.duration.to_numpy() * frailty[rows.person.to_numpy()]
        np.testing.assert_allclose(rows.quantity.to_numpy(), expected, rtol=1e-9)
