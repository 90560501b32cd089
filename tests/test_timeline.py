"""Functional: the patient example (timeline) from a compare results folder."""

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiments.executor import Executor
from sim.experiments.pipeline import simulate_to_folder
from sim.output.results import ResultsError
from sim.output.timeline import person_timeline
from tests.conftest import small_scenario


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "res"
    s = small_scenario(persons=3000, years=1.5, replications=1)
    simulate_to_folder(s, ("intervention", "person"), out, False, Executor())
    return out


def test_typical_person_has_both_systems_and_same_health(compared):
    rows, pid = person_timeline(compared)
    assert set(rows["paradigm"]) == {"intervention", "person"}
    assert rows["day"].between(0, 18 * 30.44).all()
    health = rows[rows["kind"].isin(["stratum_change", "death", "enter"])]
    a = health[health["paradigm"] == "intervention"][["time", "kind", "stratum"]].reset_index(drop=True)
    b = health[health["paradigm"] == "person"][["time", "kind", "stratum"]].reset_index(drop=True)
    assert a.equals(b)
    # The typical person is one the närsjukvårdsteam enrolled under person-driven care.
    assert (rows[rows["paradigm"] == "person"]["kind"] == "team_enrol").any()


def test_cli_writes_csv_and_html(compared, tmp_path):
    res = CliRunner().invoke(app, ["timeline", str(compared), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert len(list(tmp_path.glob("timeline_person_*.csv"))) == 1
    html = next(tmp_path.glob("timeline_person_*.html")).read_text()
    assert "Insatsstyrning" in html and "Individstyrning" in html


def test_cli_keeps_a_users_file_in_another_folder_unless_forced(compared, tmp_path):
    first = CliRunner().invoke(app, ["timeline", str(compared), "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    csv = next(tmp_path.glob("timeline_person_*.csv"))
    csv.write_text("my own notes\n")
    again = CliRunner().invoke(app, ["timeline", str(compared), "--out", str(tmp_path)])
    assert again.exit_code == 2 and "--force" in again.output
    assert csv.read_text() == "my own notes\n"
    forced = CliRunner().invoke(app, ["timeline", str(compared), "--out", str(tmp_path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "paradigm" in csv.read_text().splitlines()[0].split(",")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([csv.name, csv.with_suffix(".html").name])


def test_an_interrupted_write_leaves_the_earlier_files_whole(tmp_path):
    from sim.output.results import write_files_atomically

    a, b = tmp_path / "a.csv", tmp_path / "b.html"
    a.write_text("old a")
    b.write_text("old b")

    def interrupted(path):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_files_atomically({a: lambda p: p.write_text("new a"), b: interrupted})
    assert (a.read_text(), b.read_text()) == ("old a", "old b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.html"]  # no temporary file left
    write_files_atomically({a: lambda p: p.write_text("new a"), b: lambda p: p.write_text("new b")})
    assert (a.read_text(), b.read_text()) == ("new a", "new b")


def test_unknown_person_is_a_clear_error(compared):
    with pytest.raises(ResultsError, match="person 99999999"):
        person_timeline(compared, person=99999999)


def test_run_folder_without_both_systems_is_refused(tmp_path):
    out = tmp_path / "run"
    sc = small_scenario(persons=300, years=0.5, replications=1)
    simulate_to_folder(sc, ("intervention",), out, False, Executor())
    with pytest.raises(ResultsError, match="narvard compare"):
        person_timeline(out)


def test_cumulative_cost_ends_at_total_and_never_falls(compared):
    from sim.output.timeline import cumulative_cost

    rows, _ = person_timeline(compared)
    cum = cumulative_cost(rows)
    for paradigm, d in cum.groupby("paradigm"):
        total = rows.loc[rows["paradigm"] == paradigm, "cost"].sum()
        assert d["cost"].iloc[-1] == pytest.approx(total, rel=1e-9)
        assert (d["cost"].diff().dropna() >= -1e-9).all()


def test_routine_rows_are_cut_at_the_window_end(compared):
    rows, _ = person_timeline(compared, months=6)
    routine = rows[rows["detail"] == "routine"]
    assert (routine["day"] + routine["duration"] <= 6 * 30.44 + 1e-9).all()


# -- the workshop timeline (issue 19) --------------------------------------------------------
def _raw(folder, replication=0):
    from sim.output.costs import read_priced_events

    ev = read_priced_events(folder)
    ev = ev[ev["replication"] == replication].copy()
    for col in ("paradigm", "kind", "provider", "payer", "stratum", "detail"):
        ev[col] = ev[col].astype(str)
    return ev


def test_routine_care_that_started_before_the_window_is_counted_in_it(compared):
    import numpy as np

    ev = _raw(compared)
    span = 18 * 30.44
    # a person whose window starts while a stretch of home help runs (the window starts a third of
    # its span before the person's first enrolment under person-driven care)
    index = ev[ev["kind"].isin(["team_enrol", "palliative_enrol", "safe_discharge", "physician_list"])
               & (ev["paradigm"] == "person")].groupby("person")["time"].min()
    hh = ev[ev["kind"] == "home_help"]
    pid = next(int(p) for p, t in index.items() if t > span / 3 and (
        (hh["person"] == p) & (hh["time"] < t - span / 3) & (hh["time"] + hh["duration"] > t - span / 3)).any())
    rows, _ = person_timeline(compared, person=pid)
    # the window's start in run time, from a row that began inside it
    start = float((rows["time"] - rows["day"]).iloc[0])
    raw = ev[(ev["person"] == pid) & (ev["kind"] == "home_help")]
    t0, dur, q = raw["time"].to_numpy(), raw["duration"].to_numpy(), raw["quantity"].to_numpy()
    overlap = np.clip(np.minimum(t0 + dur, start + span) - np.maximum(t0, start), 0, None)
    for paradigm in ("intervention", "person"):
        m = (raw["paradigm"] == paradigm).to_numpy()
        expected = float((q[m] * overlap[m] / np.where(dur[m] > 0, dur[m], 1)).sum())
        got = rows[(rows["paradigm"] == paradigm) & (rows["kind"] == "home_help")]["quantity"].sum()
        assert got == pytest.approx(expected, rel=1e-9)
    # some routine volume began before the window and now starts at its first day
    assert (raw["time"] < start).any() and (rows[rows["kind"] == "home_help"]["day"] == 0).any()


def test_team_cost_is_allocated_over_enrolled_days_and_sums_to_the_teams_cost(compared):
    from sim.output.costs import ENROLMENT_KIND, person_costs, team_cost_per_enrolled_day

    ev = _raw(compared)
    rates = team_cost_per_enrolled_day(ev)
    assert set(rates["provider"]) == set(ENROLMENT_KIND)
    priced = person_costs(ev[ev["person"] >= 0], rates)
    for r in rates.itertuples():
        allocated = priced[(priced["kind"] == ENROLMENT_KIND[r.provider]) & priced["allocated"]]
        assert allocated["cost"].sum() == pytest.approx(r.team_cost, rel=1e-9)
        assert set(allocated["payer"]) == {r.payer}
    # the typical person's team months now cost something, and the caption says it is an allocation
    from sim.output.timeline import timeline_caption

    rows, pid = person_timeline(compared)
    team = rows[(rows["paradigm"] == "person") & (rows["kind"] == "team_enrol")]
    assert (team["cost"] > 0).all() and team["allocated"].all()
    assert "allocat" in timeline_caption(rows, pid)


def test_weekly_counts_keep_the_volume_and_the_axis_is_the_window(compared):
    from sim.output.timeline import is_volume, weekly_volume
    from sim.plots import timeline_figure

    rows, pid = person_timeline(compared)
    span = 18 * 30.44
    weekly = weekly_volume(rows, span)
    assert weekly["count"].sum() == pytest.approx(rows.loc[is_volume(rows), "quantity"].sum(), rel=1e-9)
    assert weekly["week"].max() < 79
    fig = timeline_figure(rows, pid, "caption", months=18)
    for axis in ("xaxis", "xaxis2", "xaxis3"):
        assert list(fig.layout[axis].range) == [0, pytest.approx(span)]
    texts = [t for tr in fig.data if tr.text is not None and tr.mode == "markers+text" for t in tr.text]
    # stratum names where the person changes stratum in the window (the typical person of issue 14's
    # re-tune has no change in it)
    assert any(t.startswith("→ ") for t in texts) == (rows["kind"] == "stratum_change").any()
    assert any(t in ("needs a bed", "needs assessment", "minor") for t in texts)  # the deterioration's need


def test_health_labels_name_strata_needs_and_place_of_death():
    from sim.output.timeline import health_label

    assert health_label("stratum_change", "palliative", "") == "→ palliative"
    assert health_label("deterioration", "unstable", "needs_bed") == "deterioration: needs a bed"
    assert health_label("death", "palliative", "home") == "died at home"
    assert health_label("death", "unstable", "hospital") == "died in hospital"
