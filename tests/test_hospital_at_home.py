"""Exact properties of the närsjukvårdsteam's hospital at home, and of whom it enrols, on fixed seeds.

Hospital at home (``hospital_at_home_share`` while enrolled, ``hospital_at_home_aftercare_share``
under the plan after the team): an admission the team's routing would make is treated at home
instead, if the week's acute staff time holds the whole episode. Properties: the acute visits
and the home-treated episodes' visits of a week never exceed the week's acute time; a
home-treated episode is no admission and has no bed-days; the decision draws on care streams
only, so health trajectories stay identical across the two care systems; with the shares at 0
nothing changes. And the team does not enrol residents of special housing unless it serves them.
"""

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sim.experiments.runner import run_replication
from tests.conftest import small_scenario

HAH = {"hospital_at_home_share": 1.0, "hospital_at_home_aftercare_share": 1.0, "home_treat_share": 1.0}


def _events(table):
    e = table.to_pandas()
    for c in ("kind", "detail", "provider"):
        e[c] = e[c].astype(str)
    return e


@pytest.fixture(scope="module")
def hah():
    """Every admission the team routes is treated at home if time allows; a small acute budget, so it binds."""
    s = small_scenario(persons=5000, years=1.0, warmup=0.5, seed=5,
                       concepts={"mobile_team": {**HAH, "planned_share": 0.85}})
    r = run_replication(s, 0, ("intervention", "person"), keep=True)
    return s, r


def test_home_treated_episodes_never_exceed_the_teams_acute_time(hah):
    s, r = hah
    e = _events(r.tables["person"])
    p = s.concepts.mobile_team
    hours = p.visit_minutes / 60.0
    team = e[(e["provider"] == "mobile_team") & (e["kind"] == "team_visit")]
    acute = team[team["detail"].isin(["team_home", "hospital_at_home", "hospital_at_home_followup"])]
    weeks = e[(e["kind"] == "staff_time") & (e["provider"] == "mobile_team") & (e["detail"] == "acute")]
    assert len(weeks) >= 50
    per_episode = int(p.hospital_at_home_days * p.hospital_at_home_visits_per_day + 1e-9)
    # the staff time of a week: its acute visits, and every visit of the episodes starting in it (charged at the start)
    home = acute[acute["detail"] == "team_home"]
    episodes = team[team["detail"] == "hospital_at_home"]
    th, te = home["time"].to_numpy(), episodes["time"].to_numpy()
    for w in weeks.itertuples():
        n = ((th >= w.time) & (th < w.time + w.duration)).sum() + per_episode * (
            (te >= w.time) & (te < w.time + w.duration)).sum()
        assert n * hours <= w.quantity + 1e-6, (w.time, n, w.quantity)
    assert len(episodes) >= 10, "the test needs home-treated episodes"
    refused = e[(e["kind"] == "staff_limit") & (e["detail"] == "hospital_at_home")]
    assert len(refused) > 0, "the test needs a week whose acute time did not hold an episode"
    # an episode's further visits: at most per_episode - 1, within its days, each at home (point rows)
    follow = team[team["detail"] == "hospital_at_home_followup"]
    assert (follow["duration"] == 0.0).all() and len(follow) > 0
    starts = episodes.groupby("person")["time"].apply(sorted).to_dict()
    for person, t in zip(follow["person"], follow["time"], strict=True):
        assert any(0.0 < t - t0 < p.hospital_at_home_days + 1e-9 for t0 in starts[person])
    made = follow.groupby("person").size()
    assert (made <= episodes.groupby("person").size().reindex(made.index) * (per_episode - 1)).all()


def test_a_home_treated_episode_is_no_admission(hah):
    _s, r = hah
    e = _events(r.tables["person"])
    episodes = e[(e["kind"] == "team_visit") & (e["detail"] == "hospital_at_home")]
    adm = e[e["kind"] == "admission"]
    starts = set(zip(adm["person"], adm["time"], strict=True))
    assert not any((p, t) in starts for p, t in zip(episodes["person"], episodes["time"], strict=True))
    # in hours the team decides at home (no ED visit at that moment); else the ED sent the person home to it
    visits = e[e["kind"] == "ed_visit"]
    ed = set(zip(visits["person"], visits["time"], strict=True))
    followup = e[(e["kind"] == "team_visit") & (e["detail"] == "hospital_at_home_followup")]
    assert not any((p, t) in ed for p, t in zip(followup["person"], followup["time"], strict=True))


def test_health_trajectories_identical_with_hospital_at_home(hah):
    _s, r = hah
    cols = ["person", "time", "kind", "stratum"]

    def health(table):
        t = table.filter(pc.is_in(pc.cast(table["kind"], "string"),
                                  value_set=pa.array(["enter", "stratum_change", "death"])))
        return t.select(cols).sort_by([("person", "ascending"), ("time", "ascending")])

    a, b = health(r.tables["intervention"]), health(r.tables["person"])
    assert a.num_rows > 5000
    assert a.equals(b)


def test_hospital_at_home_off_changes_nothing():
    base = small_scenario(persons=2000, years=1.0, seed=3, concepts={"mobile_team": {
        "hospital_at_home_share": 0.0, "hospital_at_home_aftercare_share": 0.0}})
    off = small_scenario(persons=2000, years=1.0, seed=3, concepts={"mobile_team": {
        "hospital_at_home_share": 0.0, "hospital_at_home_aftercare_share": 0.0,
        "hospital_at_home_days": 9.0, "hospital_at_home_visits_per_day": 3.0}})
    a = run_replication(base, 0, ("person",), keep=True).tables["person"]
    b = run_replication(off, 0, ("person",), keep=True).tables["person"]
    assert a.equals(b)


@pytest.mark.parametrize("serve", [False, True])
def test_the_team_enrols_residents_of_special_housing_only_if_it_serves_them(serve):
    s = small_scenario(persons=4000, years=1.0, seed=9, concepts={"mobile_team": {"serve_special_housing": serve}})
    e = _events(run_replication(s, 0, ("person",), keep=True).tables["person"])
    places = e[e["kind"] == "special_housing_place"]
    held = {}
    for p, a, d in zip(places["person"], places["time"], places["duration"], strict=True):
        held.setdefault(p, []).append((a, a + d))
    enrol = e[(e["kind"] == "team_enrol")]
    # days enrolled while holding a place (a place granted at the instant of a referral ends the enrolment then)
    overlap = sum(max(0.0, min(t + d, b) - max(t, a)) for p, t, d in
                  zip(enrol["person"], enrol["time"], enrol["duration"], strict=True) for a, b in held.get(p, []))
    residents = overlap > 0.0
    assert len(enrol) >= 30
    if serve:
        assert residents, "the test needs residents referred to the team"
    else:
        assert overlap == 0.0
        assert (e.loc[e["kind"] == "team_enrol", "detail"] == "special_housing").any(), "the test needs a move-in"
