"""Functional: the patient example (timeline) from a compare results folder."""

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.executor import Executor
from sim.output.results import ResultsError
from sim.output.timeline import person_timeline
from sim.pipeline import simulate_to_folder
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


def test_unknown_person_is_a_clear_error(compared):
    with pytest.raises(ResultsError, match="person 99999999"):
        person_timeline(compared, person=99999999)


def test_run_folder_without_both_systems_is_refused(tmp_path):
    out = tmp_path / "run"
    simulate_to_folder(small_scenario(persons=300, years=0.5, replications=1), ("intervention",), out, False, Executor())
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
