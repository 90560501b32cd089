"""Functional and property tests of special housing (särskilt boende), from the event log alone.

Tier: functional (fixed seeds) and property (hypothesis over capacities). Every person is in
exactly one place at every moment from entry to death or the horizon (home, hospital,
short-term care, special housing); the places held never exceed the capacity; the waiting list
is first come, first served and nobody gets a place twice; the residents at day 0 are the same
persons under both care systems; a fixed seed gives the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.care import CARE_SYSTEMS
from sim.domain.streams import replication_seed
from sim.experiments.runner import run_replication
from sim.measure.validate import Persons, replication_statistics
from sim.population import draw_trajectories, make_population
from tests import core_invariants as ci
from tests.conftest import small_scenario

PARADIGMS = tuple(CARE_SYSTEMS)
EPS = ci.EPS


def scenario(places: int = 75, persons: int = 1500, seed: int = 7, years: float = 1.0, **sh):
    """The shrunk default scenario with ``places`` places of special housing."""
    return small_scenario(persons=persons, years=years, seed=seed, special_housing={"places": places, **sh})


def run(s, rep: int = 0):
    """Event logs (DataFrames) of both care systems, and the persons' entry and death times."""
    res = run_replication(s, rep, PARADIGMS, keep=True)
    seed = replication_seed(s.simulation.seed, rep)
    pop = make_population(s, seed)
    traj = draw_trajectories(s, pop, seed)
    return res, {p: ci.frame(res.tables[p]) for p in PARADIGMS}, pop.entry_time, traj.death_time


# ---------------------------------------------------------------- the checks
def location_intervals(df: pd.DataFrame) -> pd.DataFrame:
    """Where each person was, as intervals: home stretches, hospital stays, short-term stays, special housing.

    Home: the routine primary-care row booked over every stretch at home (one per stretch, also
    when its count is zero); special housing: its resident-day rows.
    """
    home = df[(df.kind == "primary_care_visit") & (df.detail == "routine")].assign(where="home")
    stays = df[df.kind.isin(("admission", "short_term_care", "special_housing"))]
    out = pd.concat([home, stays.assign(where=stays.kind)])[["person", "time", "duration", "where"]]
    return out.assign(end=out.time + out.duration).sort_values(["person", "time", "end"])


def check_one_location(df: pd.DataFrame, entry: np.ndarray, death: np.ndarray, horizon: float) -> list[str]:
    """Each person is in exactly one place at every moment of [entry, min(death, horizon)]."""
    iv = location_intervals(df)
    iv = iv[iv.duration > 0]
    out = []
    same = iv.person.to_numpy()[1:] == iv.person.to_numpy()[:-1]
    overlap = same & (iv.time.to_numpy()[1:] < iv.end.to_numpy()[:-1] - EPS)
    if overlap.any():
        i = int(np.flatnonzero(overlap)[0])
        out.append(f"{int(overlap.sum())} overlapping places, e.g. {iv.iloc[i:i + 2].to_dict('records')}")
    covered = iv.groupby("person").duration.sum()
    present = pd.Series(np.minimum(death, horizon) - entry).clip(lower=0)
    present = present[present > 0]
    gap = (present - covered.reindex(present.index, fill_value=0.0)).abs()
    if (gap > 1e-6).any():
        p = int(gap.idxmax())
        out.append(f"{int((gap > 1e-6).sum())} persons not in exactly one place all the time, e.g. person {p}: "
                   f"present {present[p]:.6f} days, placed {covered.get(p, 0.0):.6f}")
    return out


def check_places(df: pd.DataFrame, places: int) -> list[str]:
    """Places held never exceed the capacity; each stay in special housing lies inside its place."""
    out = []
    held = df[df.kind == "special_housing_place"]
    used = ci.max_concurrent(held.time.to_numpy(), (held.time + held.duration).to_numpy())
    if used > places:
        out.append(f"{used} places held at once; capacity {places}")
    stays = df[df.kind == "special_housing"]
    m = stays.merge(held[["person", "time", "duration"]], on="person", suffixes=("", "_place"), how="left")
    outside = (m.time < m.time_place - EPS) | (m.time + m.duration > m.time_place + m.duration_place + EPS)
    if m.time_place.isna().any() or outside.any():
        out.append(f"{int(outside.sum() + m.time_place.isna().sum())} stays in special housing outside a place held")
    return out


def check_queue(df: pd.DataFrame) -> list[str]:
    """First come, first served; nobody gets a place twice, nor waits while holding one."""
    out = []
    waits = df[df.kind == "special_housing_wait"]
    granted = waits[waits.detail == "granted"].assign(t1=lambda w: w.time + w.duration).sort_values(["time", "t1"])
    late = granted.t1.to_numpy()[1:] < granted.t1.to_numpy()[:-1] - EPS
    if late.any():
        out.append(f"{int(late.sum())} places granted out of turn")
    for kind in ("special_housing_place", "special_housing_wait"):
        if df[df.kind == kind].person.duplicated().any():
            out.append(f"a person with two {kind} rows")
    held = df[df.kind == "special_housing_place"]
    initial = held[held.time == 0.0].person
    if waits.person.isin(initial).any():
        out.append("a resident at day 0 waited for a place")
    return out


def problems(df, s, entry, death) -> list[str]:
    """Every special-housing invariant, plus the core ones."""
    return (check_one_location(df, entry, death, s.horizon_days) + check_places(df, s.special_housing.places)
            + check_queue(df) + ci.all_problems(df, s, entry, death))


# ---------------------------------------------------------------- the checks can fail
def test_checks_catch_broken_logs():
    s = scenario(places=20, persons=800, seed=5)
    _, logs, entry, death = run(s)
    df = logs["intervention"]
    assert problems(df, s, entry, death) == []
    assert check_places(df, 19)  # the places are full: one fewer is too few
    stay = df.index[df.kind == "special_housing"][0]
    longer = df.copy()
    longer.loc[stay, "duration"] += 5.0
    assert check_one_location(longer, entry, death, s.horizon_days)
    dropped = df.drop(index=stay)
    assert check_one_location(dropped, entry, death, s.horizon_days)
    waits = df[(df.kind == "special_housing_wait") & (df.detail == "granted")].sort_values("time")
    assert len(waits) >= 2
    swapped = df.copy()
    a, b = waits.index[0], waits.index[-1]
    swapped.loc[a, "duration"] = waits.loc[b, "time"] + waits.loc[b, "duration"] - waits.loc[a, "time"] + 1.0
    assert check_queue(swapped)


# ---------------------------------------------------------------- fixed seeds
@pytest.fixture(scope="module")
def logged():
    s = scenario(places=75, persons=1500, seed=7, years=1.5)
    return (s, *run(s))


def test_invariants_hold_under_both_care_systems(logged):
    s, _, logs, entry, death = logged
    for paradigm, df in logs.items():
        assert problems(df, s, entry, death) == [], paradigm
        assert (df.kind == "special_housing").any() and (df.detail == "granted").any(), paradigm


def test_residents_at_day_0_are_the_same_persons_under_both_care_systems(logged):
    s, _, logs, _, _ = logged
    first = [set(df[(df.kind == "special_housing_place") & (df.time == 0.0)].person) for df in logs.values()]
    assert first[0] == first[1]
    n0 = s.population.persons_65plus
    assert len(first[0]) == min(round(s.special_housing.initial_share_65plus * n0), s.special_housing.places)


def test_residents_die_there_and_the_statistics_see_them(logged):
    s, res, logs, entry, death = logged
    df = logs["intervention"]
    assert (df[df.kind == "death"].detail == "special_housing").any()
    m = res.metrics["intervention"]
    stats = replication_statistics(df.assign(cost=0.0), Persons(entry, np.full(len(entry), 70.0), death),
                                   s.warmup_days, s.horizon_days)
    # Nearly full: the occupancy at day 0 less what deaths free before the queue refills them.
    assert 0.8 * s.special_housing.places <= m["housing_residents"] * m["persons_start"] / 1000
    assert m["housing_share_65plus"] == pytest.approx(stats["special_housing_share"], rel=1e-9)
    assert m["deaths_housing_share"] == pytest.approx(stats["death_place_special_housing_share"])
    assert m["ed_admission_share"] == pytest.approx(stats["ed_admission_share"])


def test_same_seed_same_rows():
    s = scenario(places=30, persons=700, seed=11)
    a, b = run_replication(s, 0, PARADIGMS, keep=True), run_replication(s, 0, PARADIGMS, keep=True)
    for p in PARADIGMS:
        assert a.tables[p].equals(b.tables[p])


def test_no_places_no_rows():
    s = scenario(places=0, persons=600, seed=3)
    _, logs, entry, death = run(s)
    for df in logs.values():
        assert not df.kind.isin(("special_housing", "special_housing_wait", "special_housing_place")).any()
        assert check_one_location(df, entry, death, s.horizon_days) == []


# ---------------------------------------------------------------- any capacity
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(places=st.integers(1, 40), share=st.floats(0.0, 0.2), seed=st.integers(0, 2**16))
def test_invariants_hold_for_any_capacity(places, share, seed):
    s = scenario(places=places, persons=400, seed=seed, years=0.75, initial_share_65plus=share)
    res = run_replication(s, 0, ("intervention",), keep=True)
    pop = make_population(s, replication_seed(s.simulation.seed, 0))
    death = draw_trajectories(s, pop, replication_seed(s.simulation.seed, 0)).death_time
    df = ci.frame(res.tables["intervention"])
    assert problems(df, s, pop.entry_time, death) == []


# ---------------------------------------------------------------- place of death
def test_end_of_life_stay_keeps_the_dying_in_hospital():
    # Same persons and trajectories; only the end-of-life stay differs. Nobody dies in hospital
    # less often with it, and no stay that ends in a discharge is followed by a death within
    # the end-of-life days of it.
    runs = {}
    for days in (0.0, 14.0):
        s = small_scenario(persons=1200, seed=9, special_housing={"places": 40},
                           hospital={"end_of_life_stay_days": days})
        _, logs, entry, death = run(s)
        runs[days] = (logs["intervention"], death)
    after, death = runs[14.0]
    died_in = {k: set(df[(df.kind == "death") & (df.detail == "hospital")].person) for k, (df, _) in runs.items()}
    assert len(died_in[14.0]) > len(died_in[0.0])
    adm = after[after.kind == "admission"].assign(end=lambda a: a.time + a.duration)
    waited = after[after.kind == "delayed_discharge"].assign(end=lambda a: a.time + a.duration)
    # Discharged when medically ready (no delayed-discharge wait ending then), alive at the discharge.
    ready = pd.merge_asof(adm.sort_values("end"), waited[["person", "end"]].assign(w=1).sort_values("end"),
                          on="end", by="person", tolerance=1e-6, direction="nearest")
    ready = ready[ready.w.isna() & (ready.detail != "censored") & (ready.end < death[ready.person.to_numpy()] - EPS)]
    assert len(ready) > 50
    gap = death[ready.person.to_numpy()] - ready.end.to_numpy()
    assert (gap > 14.0).all()
