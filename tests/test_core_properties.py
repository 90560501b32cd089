"""Property: the model's invariants hold for any small scenario (hypothesis).

Random populations (200-1,500 persons), capacities from absurdly scarce (one bed, one
short-term place, a team caseload of one) to ample, rates scaled up and down, service concepts
switched on or off at random, random seeds. For each example and both care systems:

- persons are conserved (start + entered - died = end), and the event log agrees;
- beds and short-term places are never over-occupied, and bed occupancy is a share (<= 1);
- no negative duration, quantity or cost; no row before entry or after death;
- a person is in one place at a time;
- the exogenous trajectory (enter / stratum_change / death rows) is the same under both.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.care import CARE_SYSTEMS
from sim.config.loader import resolve
from sim.config.scenario import STRATA
from sim.domain.streams import replication_seed
from sim.experiments.runner import run_replication
from sim.population import draw_trajectories, make_population
from tests import core_invariants as ci
from tests.conftest import DEFAULT, small_scenario

PARADIGMS = tuple(CARE_SYSTEMS)
CENSUS = ("persons_start", "persons_entered", "persons_died", "persons_end")
BASE = resolve(DEFAULT)
CONCEPTS = ("mobile_team", "palliative_team", "home_physician", "safe_discharge")


def _scaled(per_stratum: dict, factor: float) -> dict:
    return {k: v * factor for k, v in per_stratum.items()}


@st.composite
def scenarios(draw):
    h, hosp = BASE["health"], BASE["hospital"]
    det = draw(st.floats(0.2, 4.0))
    move = draw(st.floats(0.3, 3.0))
    die = draw(st.floats(0.3, 3.0))
    los = draw(st.floats(0.3, 3.0))
    relapse = draw(st.sampled_from([0.0, 1.0, 1.0 / max(hosp["relapse_probability_30d"].values())]))
    persons = draw(st.integers(200, 1500))
    scarce = draw(st.booleans())
    beds = draw(st.integers(1, 3)) if scarce else draw(st.integers(4, max(5, persons // 60)))
    places = draw(st.integers(1, 3)) if draw(st.booleans()) else draw(st.integers(4, max(5, persons // 120)))
    concepts = {c: {"enabled": draw(st.booleans())} for c in CONCEPTS}
    for c in ("mobile_team", "palliative_team", "safe_discharge"):
        concepts[c]["caseload_max"] = draw(st.sampled_from([1, 2, 5, 30]))
    concepts["mobile_team"]["queue_when_full"] = draw(st.booleans())
    # the team's aftercare and Trygg hemgång's period, from off to their extremes
    concepts["mobile_team"]["aftercare_days"] = draw(st.sampled_from([0.0, 30.0, 365.0]))
    concepts["mobile_team"]["aftercare_prevent_share"] = draw(st.sampled_from([0.0, 0.5, 1.0]))
    concepts["mobile_team"]["aftercare_outpatient_multiplier"] = draw(st.sampled_from([0.0, 1.0]))
    concepts["safe_discharge"]["home_treat_share"] = draw(st.sampled_from([0.0, 1.0]))
    concepts["safe_discharge"]["days"] = draw(st.sampled_from([7.0, 30.0]))
    concepts["direct_admission"] = draw(st.booleans())
    concepts["team_collaboration"] = draw(st.booleans())
    return small_scenario(
        persons=persons,
        years=draw(st.sampled_from([0.25, 0.5, 1.0])),
        warmup=draw(st.sampled_from([0.0, 0.25, 0.5])),
        seed=draw(st.integers(0, 2**32 - 1)),
        capacity={"beds": beds, "short_term_places": places},
        health={
            "deterioration_rate_per_year": _scaled(h["deterioration_rate_per_year"], det),
            "death_rate_per_year": _scaled(h["death_rate_per_year"], die),
            "transition_rates_per_year": {o: _scaled(h["transition_rates_per_year"].get(o, {}), move)
                                          for o in STRATA},
        },
        hospital={
            "los_mean_days": _scaled(hosp["los_mean_days"], los),
            "short_term_care_los_mean_days": hosp["short_term_care_los_mean_days"] * los,
            # up to certain relapses, so relapse chains run deeper than their stream depth
            "relapse_probability_30d": _scaled(hosp["relapse_probability_30d"], relapse),
            "home_care_lag_mean_days": draw(st.sampled_from([0.0, hosp["home_care_lag_mean_days"], 10.0])),
        },
        concepts=concepts,
    ), draw(st.integers(0, 3))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(scenarios())
def test_invariants_hold_for_any_small_scenario(case):
    s, rep = case
    res = run_replication(s, rep, PARADIGMS, keep=True)
    seed = replication_seed(s.simulation.seed, rep)
    pop = make_population(s, seed)
    traj = draw_trajectories(s, pop, seed)
    logs = {p: ci.frame(res.tables[p]) for p in PARADIGMS}
    for p in PARADIGMS:
        df, m = logs[p], res.metrics[p]
        assert ci.all_problems(df, s, pop.entry_time, traj.death_time) == [], p
        assert m["persons_start"] + m["persons_entered"] - m["persons_died"] == m["persons_end"]
        assert ci.event_log_counts(df, s.warmup_days, s.horizon_days) == {k: m[k] for k in CENSUS}
        assert 0.0 <= m["bed_occupancy"] <= 1.0 + 1e-9, p
        for k, v in m.items():
            assert np.isfinite(v), (p, k)
    cols = ["person", "time", "stratum"]
    health = [logs[p][logs[p].kind.isin(("enter", "stratum_change", "death"))][cols]
              .sort_values(cols).reset_index(drop=True) for p in PARADIGMS]
    assert all(h.equals(health[0]) for h in health[1:])
