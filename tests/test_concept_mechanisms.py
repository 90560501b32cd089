"""Exact properties of two concept mechanisms on fixed seeds.

The närsjukvårdsteam's aftercare (its care plan keeps acting after a stabilised or
time-limited discharge) and Trygg hemgång's nurse at home (deteriorations not needing a bed
met at home in the team's period). Each is pushed to its extreme (share 1, multiplier 0) so
that the property is exact: what the mechanism covers does not happen at all.
"""

import numpy as np

from sim.experiments.runner import run_replication
from tests.conftest import small_scenario


def _events(scenario):
    r = run_replication(scenario, 0, ("person",), keep=True)
    e = r.tables["person"].to_pandas()
    for c in ("kind", "detail"):
        e[c] = e[c].astype(str)
    return e


def _aftercare_windows(e, days):
    """(person, start, end) of the aftercare periods (``aftercare`` rows) outside palliative enrolments.

    The palliative team's routes come first, so its enrolment intervals are cut out of the
    periods; a deterioration at the moment it enrols is still the plan's (the team refers after
    it). ``days``: the longest period (a check on the rows).
    """
    rows = e[(e["kind"] == "aftercare") & (e["detail"] != "full")]
    pal = e[(e["kind"] == "palliative_enrol") & (e["detail"] != "full")]  # a refusal takes nothing over
    out = []
    for row in rows.itertuples():
        assert row.duration <= days + 1e-9
        pieces = [(row.time, row.time + row.duration)]
        mine = pal[pal["person"] == row.person]
        for c, d in zip(mine["time"], mine["time"] + mine["duration"], strict=True):
            pieces = [q for a, b in pieces for q in ((a, min(b, c + 1e-9)), (max(a, d), b)) if q[1] > q[0]]
        out += [(row.person, a, b) for a, b in pieces]
    return out


def test_aftercare_prevents_everything_and_replaces_clinic_visits_at_the_extreme():
    days = 200.0
    # No special housing: the engine routes residents' deteriorations, not the team's plan (issue 14).
    s = small_scenario(persons=6000, years=2.0, warmup=0.5, concepts={"mobile_team": {
        "aftercare_days": days, "aftercare_prevent_share": 1.0, "aftercare_outpatient_multiplier": 0.0,
        "max_enrolment_days": 60.0, "target_enrolment_days": None, "aftercare_nurse_fte": 100.0}},
        special_housing={"places": 0})
    e = _events(s)
    windows = _aftercare_windows(e, days)
    assert len(windows) >= 10, "the test needs stabilised or time-limited discharges"
    by_person = {p: g for p, g in e.groupby("person")}
    checked = 0
    for p, a, b in windows:
        g = by_person[p]
        inside = g[(g["time"] > a + 1e-9) & (g["time"] < b - 1e-9)]
        # every deterioration at home is prevented by the plan: no ED visit, no admission at a deterioration
        # (issue 14's planned, elective stays come as called, not from a deterioration; one still open at
        # the horizon is recorded as censored)
        at = set(inside.loc[inside["kind"] == "deterioration", "time"])
        acute = inside[inside["kind"].isin(["ed_visit", "admission"]) & inside["time"].isin(at)]
        assert acute.empty, acute
        assert not (inside["kind"].isin(["ed_visit", "admission"]) & ~inside["detail"].isin(["planned", "censored"])
                    ).any()
        # no outpatient clinic volume is accrued under the plan
        op = inside[inside["kind"] == "outpatient_visit"]
        assert float(op["quantity"].sum()) == 0.0
        prevented = inside[(inside["kind"] == "home_health_visit") & (inside["detail"] == "prevented")]
        checked += len(prevented)
    assert checked > 0, "some deteriorations should fall in the aftercare periods"


def test_aftercare_of_zero_days_switches_the_plan_off():
    base = small_scenario(persons=2500, years=1.0, concepts={"mobile_team": {
        "aftercare_days": 0.0, "aftercare_prevent_share": 0.0, "aftercare_outpatient_multiplier": 1.0}})
    explicit = small_scenario(persons=2500, years=1.0, concepts={"mobile_team": {
        "aftercare_days": 0.0, "aftercare_prevent_share": 0.9, "aftercare_outpatient_multiplier": 0.1}})
    a = run_replication(base, 0, ("person",), keep=True).tables["person"]
    b = run_replication(explicit, 0, ("person",), keep=True).tables["person"]
    assert a.equals(b)


def test_safe_discharge_nurse_meets_every_non_bed_deterioration_at_the_extreme():
    # The home physician acts first on its listed persons and sends what it does not meet at home today's
    # way (the ED for most), not to Trygg hemgång: at the extreme it meets everything it has time for.
    s = small_scenario(persons=6000, years=1.5, concepts={"safe_discharge": {
        "prevent_share": 0.0, "home_treat_share": 1.0, "days": 30.0},
        # the physician acts first on its listed persons and meets at home what its acute budget allows: a larger
        # budget (planned share 0.2, not 0.6) so that it has time at the extreme too (with the calibration of
        # 2026-12-03 one of 51 deteriorations here met a full acute week and went to the ED)
        "home_physician": {"home_treat_share": 1.0, "planned_share": 0.2},
        # the närsjukvårdsteam's plan after its discharge comes first too and sends the deteriorations its nurse
        # does not meet (1 - plan_nurse_share) today's way: at the extreme its nurse meets them all (issue 14's
        # re-tune of 2026-12-03: one of 57 here was in a plan and went to the ED)
        "mobile_team": {"plan_nurse_share": 1.0}},
        special_housing={"places": 0})  # residents' deteriorations are the engine's (issue 14)
    e = _events(s)
    periods = e[e["kind"] == "safe_discharge"][["person", "time", "duration"]]
    assert len(periods) >= 20
    det = e[(e["kind"] == "deterioration") & e["detail"].isin(["needs_assessment", "minor"])]
    m = det.merge(periods, on="person", suffixes=("", "_sd"))
    m = m[(m["time"] > m["time_sd"]) & (m["time"] < m["time_sd"] + m["duration_sd"])]
    assert len(m) >= 5, "some non-bed deteriorations should fall in the team's periods"
    key = set(zip(m["person"], m["time"], strict=True))
    ed = e[e["kind"] == "ed_visit"]
    assert not any((p, t) in key for p, t in zip(ed["person"], ed["time"], strict=True))
    nurse = e[(e["kind"] == "home_health_visit") & (e["detail"] == "plan_nurse")]
    met = set(zip(nurse["person"], nurse["time"], strict=True))
    # The home physician's route comes first for the persons on its list: it may prevent a deterioration
    # or meet it (a physician_visit row), or basal home health care may ("acute"); met at home either
    # way, nearly all by the team's nurse.
    # The närsjukvårdsteam's route comes first too for its patients (one taken from its waiting list
    # during the period prevents or meets the deterioration: a team_visit row), and so does its care
    # plan after a discharge from it (the aftercare prevents a share: a prevented row).
    # So does the palliative team for a person who became palliative in the period (a palliative_visit row).
    other = e[((e["kind"] == "home_health_visit") & e["detail"].isin(["acute", "special_housing", "prevented"]))
              | e["kind"].isin(["physician_visit", "team_visit", "palliative_visit"])]
    first = set(zip(other["person"], other["time"], strict=True))
    # Exact: the team's nurse met every deterioration that no concept ahead of it in the routing took (after
    # issue 14's re-tune 7 of 60 were taken first), and it did meet some (a hand-picked "at least 80 %" stood here).
    assert key <= met | first
    assert key & met
    assert np.isfinite(e["duration"]).all()


def test_aftercare_prevents_its_share_of_deteriorations():
    """Prevented / deteriorations at home in aftercare ~ Binomial(n, aftercare_prevent_share).

    Each deterioration's prevention is decided by its own pre-drawn uniform, so the count is
    exactly binomial; the tolerance is the exact two-sided test at the 0.1 % level.
    """
    from scipy.stats import binomtest

    q, days = 0.4, 365.0
    s = small_scenario(persons=8000, years=2.0, warmup=0.5, concepts={"mobile_team": {
        "aftercare_days": days, "aftercare_prevent_share": q, "max_enrolment_days": 60.0,
        "target_enrolment_days": None, "aftercare_nurse_fte": 100.0}},
        special_housing={"places": 0})  # residents' deteriorations are the engine's (issue 14)
    e = _events(s)
    det = e[(e["kind"] == "deterioration") & e["detail"].isin(["needs_bed", "needs_assessment", "minor", "relapse"])]
    prev = e[(e["kind"] == "home_health_visit") & (e["detail"] == "prevented")]
    n = k = 0
    for p, a, b in _aftercare_windows(e, days):
        d = det[(det["person"] == p) & (det["time"] > a) & (det["time"] < b)]
        n += len(d)
        pp = prev[prev["person"] == p]
        k += int(pp["time"].isin(d["time"]).sum())
    assert n >= 100, n
    assert binomtest(k, n, q).pvalue > 1e-3, (k, n, k / n)
    # and no prevented home-health row happens outside the aftercare windows
    assert k == len(prev)
