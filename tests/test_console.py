"""Functional: what the planner reads on the console (summary, limits, switch-off, measure).

Tier: functional. The console summary shows every metric in its own unit within 80 columns,
marks the limits that bound, and `--all`/`--metrics` choose the rows; switch-off writes its
table; measure refuses a one-system folder in one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.console_summary import DEFAULT_METRICS, UnknownMetricError, limits, render, select
from tests.conftest import small_scenario_toml

SMALL = small_scenario_toml(seed=5, years=0.5)


def invoke(*args):
    return CliRunner().invoke(app, [*map(str, args)])


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sc") / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def compared(scenario_file) -> tuple[Path, str]:
    out = scenario_file.parent / "res"
    res = invoke("compare", scenario_file, "--out", out, "--executor", "serial")
    assert res.exit_code == 0, res.output
    return out, res.output


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_compare_summary_fits_80_columns_and_has_every_unit(compared):
    out, text = compared
    assert max(len(line) for line in _lines(text) if not line.startswith("results written to")) <= 80
    summary = pd.read_csv(out / "summary.csv")
    shown = [m for m in DEFAULT_METRICS if m in set(summary["metric"])]
    for m in shown:  # one line each: never wrapped, never cut
        assert sum(line.lstrip().startswith(m + " ") for line in _lines(text)) >= 1, m
    for group in ("per 1,000 persons 65+ per year", "SEK per person 65+ per year", "MSEK per year", "Shares, %",
                  "persons at once"):
        assert group in text
    assert "bed_occupancy" in text and "avoidable_admissions" in text
    # shares in %, not 0.68
    occ = summary[(summary.metric == "bed_occupancy") & (summary.paradigm == "intervention")]["mean"].iloc[0]
    assert f"{100 * occ:.1f} %" in text
    assert "Limits" in text and "beds" in text


def test_area_msek_is_sek_per_person_times_mean_persons(compared):
    out, text = compared
    s = pd.read_csv(out / "summary.csv")
    m = json.loads((out / "manifest.json").read_text())
    py = s[(s.metric == "person_years") & (s.paradigm == "intervention")]["mean"].iloc[0]
    sek = s[(s.metric == "cost_total_sek") & (s.paradigm == "intervention")]["mean"].iloc[0]
    msek = sek * py / m["scenario"]["simulation"]["years"] / 1e6
    area = [line for line in _lines(text) if line.lstrip().startswith("cost_total_sek")][1]
    assert area.split()[1] == (f"{msek:,.0f}" if msek >= 100 else f"{msek:.3g}")


def test_summary_all_and_metrics(compared):
    out, _ = compared
    every = invoke("summary", out, "--all")
    assert every.exit_code == 0, every.output
    for m in set(pd.read_csv(out / "summary.csv")["metric"]):
        assert m in every.output
    some = invoke("summary", out, "--metrics", "bed_days,bed_occupancy")
    assert some.exit_code == 0
    rows = [line.split()[0] for line in _lines(some.output) if line.startswith(" ")]
    assert {"bed_days", "bed_occupancy"} <= set(rows) and "admissions" not in rows
    bad = invoke("summary", out, "--metrics", "bed_dayz")
    assert bad.exit_code == 2 and len(_lines(bad.output)) == 1 and "bed_dayz" in bad.output


def test_select_keeps_summary_order_and_refuses_unknown():
    s = pd.DataFrame({"metric": ["b", "bed_days", "a"], "paradigm": "x"})
    assert select(s, show_all=True) == ["b", "bed_days", "a"]
    assert select(s) == ["bed_days"]
    assert select(s, metrics=["a", "b"]) == ["b", "a"]
    with pytest.raises(UnknownMetricError, match="zz"):
        select(s, metrics=["zz"])


def _summary(values: dict[str, tuple[float, float]]) -> pd.DataFrame:
    rows = []
    for metric, (a, b) in values.items():
        rows += [dict(paradigm="intervention", metric=metric, mean=a, ci_low=a, ci_high=a, unit="u"),
                 dict(paradigm="person", metric=metric, mean=b, ci_low=b, ci_high=b, unit="u")]
    return pd.DataFrame(rows)


SCENARIO = {
    "simulation": {"years": 2.0},
    "capacity": {"beds": 100, "short_term_places": 10, "home_health_nurses_fte": 20},
    "concepts": {"mobile_team": {"enabled": True, "caseload_max": 24},
                 "home_physician": {"enabled": True, "list_max": 500, "area_share": 0.3},
                 "palliative_team": {"enabled": False, "caseload_max": 30}},
}


def test_limits_mark_what_bound():
    s = _summary({
        "bed_occupancy": (0.97, 0.60),
        "nurse_coverage": (0.8, 1.0),
        "mobile_team_caseload": (0.0, 20.0),
        "mobile_team_full_share": (0.0, 0.1),
        "home_physician_list": (0.0, 150.0),
        # 10 places × 2 years × 365.25 days = 7,305 place-days; 1,000 persons: 7,305 days = 7,305 per 1,000 py
        "short_term_care_days": (7305.0 / 2, 7305.0 * 0.9 / 2),
        "person_years": (2000.0, 2000.0),
    })
    by = {lim.name: lim for lim in limits(s, SCENARIO)}
    assert by["beds"].bound == {"intervention": True, "person": False}
    assert by["beds"].cell("intervention") == "97 % BOUND" and by["beds"].cell("person") == "60 %"
    assert by["nurse time (demand)"].cell("intervention") == "125 % BOUND"
    assert by["nurse time (demand)"].cell("person") == "covered"
    assert by["mobile team"].bound["person"]  # 83 % of places, but referrals were refused
    assert any("10 % of eligible referrals" in n for n in by["mobile team"].notes)
    assert by["home physician list"].use["person"] == pytest.approx(0.3)
    assert not by["home physician list"].bound["person"]
    assert any("area share" in n for n in by["home physician list"].notes)
    assert by["short-term places"].use["intervention"] == pytest.approx(1.0)
    assert by["short-term places"].cell("person") == "90 % near"
    assert "palliative team" not in by  # switched off: no limit to show


def test_render_of_a_single_care_system_shows_intervals():
    s = pd.DataFrame([dict(paradigm="intervention", metric="bed_days", mean=1660.0, ci_low=1449.0,
                           ci_high=1871.0, unit="per 1,000 persons 65+ per year")])
    from rich.console import Console

    c = Console(width=80, record=True)
    c.print(render(s, SCENARIO, "t"))
    assert "1,660 [1,449, 1,871]" in c.export_text()


def test_measure_refuses_a_one_system_folder_in_one_line(scenario_file, tmp_path):
    out = tmp_path / "one"
    assert invoke("run", scenario_file, "--out", out, "--executor", "serial", "-n", "1").exit_code == 0
    res = invoke("measure", out)
    assert res.exit_code == 2
    assert len(_lines(res.output)) == 1 and "one care system" in res.output and "compare" in res.output


def test_switch_off_writes_its_table(scenario_file, tmp_path):
    csv = tmp_path / "so" / "switch_off.csv"
    res = invoke("switch-off", scenario_file, "-n", "2", "--executor", "serial", "--out", csv)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(csv)
    assert list(table.columns) == ["variant", "metric", "mean", "ci_low", "ci_high", "unit"]
    assert "all on" in set(table["variant"]) and "without mobile_team" in set(table["variant"])
    assert max(len(line) for line in _lines(res.output) if not line.startswith("written")) <= 80
    assert "without team_collaboration" in res.output  # variant names whole, not cut
    again = invoke("switch-off", scenario_file, "-n", "2", "--executor", "serial", "--out", csv)
    assert again.exit_code == 2 and "--force" in again.output
    assert pd.read_csv(csv).equals(table)
