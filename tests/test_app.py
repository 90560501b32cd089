"""The workshop app: its logic, its pages headless (Streamlit AppTest), the vidigi export."""

import json

import pytest
from typer.testing import CliRunner

from sim.app import logic
from sim.config import ScenarioError
from sim.experiments.executor import Executor
from sim.experiments.pipeline import simulate_to_folder
from sim.palette import SYSTEM_LABELS
from tests.conftest import ROOT, small_scenario

APP = ROOT / "sim" / "app" / "streamlit_app.py"
SMALL = {"persons": 400, "years": 0.5, "replications": 2, "example_persons": 600, "example_years": 1.0}


def test_form_values_become_the_same_scenario_objects_as_the_cli():
    sc = logic.build_scenario(logic.WhatIf(persons=900, years=0.5, replications=2, team_caseload=7, beds=9,
                                           concepts=("mobile_team",), switches=()))
    assert sc.population.persons_65plus == 900 and sc.capacity.beds == 9
    assert sc.concepts.mobile_team.caseload_max == 7 and sc.concepts.mobile_team.enabled
    assert not sc.concepts.palliative_team.enabled and not sc.concepts.direct_admission


@pytest.mark.parametrize("form, field", [
    (dict(team_hours_start=18.0, team_hours_end=17.0), "hours_end"),
    (dict(team_criteria=9), "criteria_required"),
    (dict(scenario="../../etc/passwd"), "scenario"),
])
def test_bad_form_values_are_one_clear_message(form, field):
    with pytest.raises(ScenarioError, match=field):
        logic.build_scenario(logic.WhatIf(persons=400, **form))


def test_the_apps_comparison_splits_a_last_round_and_gives_the_serial_figures(monkeypatch):
    """3 replications on 2 worker processes: the third runs as one task per care system; the same numbers."""
    from sim.experiments.executor import ProcessExecutor
    from sim.experiments.runner import PARADIGMS, task_groups

    assert task_groups(3, PARADIGMS, ProcessExecutor(2)) == {0: [PARADIGMS], 1: [PARADIGMS],
                                                             2: [("intervention",), ("person",)]}
    assert task_groups(3, PARADIGMS, Executor()) == {r: [PARADIGMS] for r in range(3)}
    scenario = small_scenario(persons=600, years=0.5, warmup=0.25, replications=3)
    serial = logic.compare(scenario)
    monkeypatch.setattr(logic, "PARALLEL_PERSON_YEARS", 0)  # local processes even for this small run
    monkeypatch.setattr("sim.experiments.executor.os.cpu_count", lambda: 2)
    split = logic.compare(scenario)
    for key in ("summary", "replications"):
        assert split[key].equals(serial[key]), key


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("app") / "res"
    simulate_to_folder(small_scenario(persons=2000, years=1.0, replications=1), ("intervention", "person"), out,
                       False, Executor())
    return out


def test_vidigi_log_pairs_every_resource_use_and_never_shares_a_slot(compared):
    from sim.output.results import read_events

    ev = read_events(compared)
    for col in ("paradigm", "kind", "detail"):
        ev[col] = ev[col].astype(str)
    persons = ev[ev["kind"] == "team_enrol"]["person"].drop_duplicates().head(40).tolist()
    log = logic.vidigi_log(ev, persons, 182.625, 547.875)
    assert list(log.columns[:4]) == ["entity_id", "event_type", "event", "time"]
    assert set(log["event_type"]) <= {"arrival_departure", "queue", "resource_use", "resource_use_end"}
    assert log["time"].between(0, 365.25).all()
    # the same person is two entities, one per care system
    assert (log.groupby("entity_id")["paradigm"].nunique() == 1).all()
    assert set(log.groupby("person")["entity_id"].nunique()) == {2}
    for eid, g in log.groupby("entity_id"):
        assert g["event"].iloc[0] == "arrival" and g["event"].iloc[-1] == "depart", eid
    use = log[log["event_type"] == "resource_use"]
    ends = log[log["event_type"] == "resource_use_end"]
    assert len(use) == len(ends) > 0
    for (paradigm, step), g in use.groupby(["paradigm", use["event"].str.removesuffix("_begins")]):
        e = ends[(ends["paradigm"] == paradigm) & (ends["event"] == f"{step}_complete")]
        spans = []
        for r in g.itertuples():
            match = e[(e["entity_id"] == r.entity_id) & (e["resource_id"] == r.resource_id) & (e["time"] >= r.time)]
            assert len(match), (paradigm, step, r.entity_id)
            spans.append((r.resource_id, r.time, match["time"].min()))
        for slot in {s for s, _, _ in spans}:
            iv = sorted((a, b) for s, a, b in spans if s == slot)
            assert all(iv[i][1] <= iv[i + 1][0] + 1e-9 for i in range(len(iv) - 1)), (step, slot)
    loc = logic.locations(log)
    assert set(loc["location"]) <= set(logic.LOCATIONS)
    assert "team at home" in set(loc[loc["paradigm"] == "person"]["location"])
    assert "team at home" not in set(loc[loc["paradigm"] == "intervention"]["location"])


def test_export_vidigi_cli(compared, tmp_path):
    import pandas as pd

    out = tmp_path / "log.csv"
    res = CliRunner().invoke(__import__("sim.cli", fromlist=["app"]).app,
                             ["export-vidigi", str(compared), "--out", str(out), "--persons", "15"])
    assert res.exit_code == 0, res.output
    log = pd.read_csv(out)
    assert {"entity_id", "event_type", "event", "time"} <= set(log.columns)
    assert log["person"].nunique() == 15
    again = CliRunner().invoke(__import__("sim.cli", fromlist=["app"]).app,
                               ["export-vidigi", str(compared), "--out", str(out)])
    assert again.exit_code == 2 and "exists" in again.output


# -- the pages, headless ---------------------------------------------------------------------------
@pytest.fixture
def at(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("NARVARD_APP_DEFAULTS", json.dumps(SMALL))
    a = AppTest.from_file(str(APP), default_timeout=180)
    a.run()
    return a


def _page(at, name):
    at.sidebar.radio(key="page").set_value(name).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_every_page_renders(at):
    assert not at.exception
    assert any("Person" in m.value or "same health" in m.value for m in at.info)  # the timeline's caption
    for name in ("What-if", "Compare options", "About"):
        _page(at, name)
        assert not at.error, [e.value for e in at.error]
    assert len(at.dataframe) == 1  # the assumptions table


def test_a_changed_input_changes_the_result(at):
    _page(at, "What-if")
    table = at.dataframe[0].value
    person = SYSTEM_LABELS["person"]
    before = table.set_index("metric").loc["mobile_team_caseload", person]
    at.number_input(key="wi_caseload").set_value(3).run()
    assert not at.exception
    after = at.dataframe[0].value.set_index("metric").loc["mobile_team_caseload", person]
    assert before != after
    assert float(after.split(" ")[0]) <= 3.0 + 1e-9  # the team never holds more than its caseload


def test_a_bad_value_shows_a_message_not_a_traceback(at):
    _page(at, "What-if")
    at.number_input(key="wi_start").set_value(18.0).run()
    assert not at.exception
    assert any("hours_end must be after hours_start" in e.value for e in at.error)


def test_a_bad_person_shows_a_message(at):
    at.number_input(key="ps_person").set_value(99_999_999).run()
    assert not at.exception
    assert any("person 99999999" in e.value for e in at.error)


def test_results_are_kept_per_input(at, monkeypatch):
    calls = []
    real = logic.compare
    monkeypatch.setattr(logic, "compare", lambda *a, **k: calls.append(1) or real(*a, **k))
    _page(at, "What-if")
    at.number_input(key="wi_caseload").set_value(5).run()
    first = at.dataframe[0].value
    at.number_input(key="wi_caseload").set_value(6).run()
    n = len(calls)
    at.number_input(key="wi_caseload").set_value(5).run()  # going back: no new run
    assert len(calls) == n and at.dataframe[0].value.equals(first)


def test_the_report_can_be_downloaded_from_the_app(at):
    at.button(key="ps_report").click().run()
    assert not at.exception, [e.value for e in at.exception]
    downloads = at.get("download_button")
    assert len(downloads) == 2  # the vidigi log and the report
