"""`narvard validate`: today's care against published Swedish statistics (issue 14, measurement side).

Tier: unit (every statistic on a hand-built event log, exact numbers; top shares and the Lorenz
curve; the targets file) and functional (the command on a real `narvard compare` folder; a bad
folder or targets file gives one line). Whether the default scenario's figures are in their
bands is tested by test_default_scenario_within_published_bands (slow; runs in CI): it fails when a
figure leaves its band (every figure of calibration/baseline_targets.toml, none excepted).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.measure.validate import (
    STATISTICS,
    Persons,
    ValidateError,
    load_baseline_targets,
    lorenz_points,
    replication_statistics,
    top_share,
    validation_table,
)
from sim.report.figures import lorenz_figure
from tests.conftest import ROOT, small_scenario_toml

W, H = 10.0, 10.0 + 2 * 365.25  # warm-up and horizon (days): two measured years
M = 365.25 / 12  # days per month


def _row(person, time, kind, quantity=0.0, duration=0.0, cost=0.0, payer="none", detail="", readmission=False):
    return {"replication": 0, "paradigm": "intervention", "person": person, "time": time, "kind": kind,
            "payer": payer, "duration": duration, "quantity": quantity, "cost": cost,
            "readmission": readmission, "detail": detail}


def hand_log() -> tuple[pd.DataFrame, Persons]:
    """Four persons over a warm-up of 10 days and two measured years.

    P0 enters at 84.5 and lives; P1 enters at 70 and dies in hospital on day 60; P2 moves in on
    day 50 aged 74.5; P3 enters at 66 and dies at home on day 500.
    """
    persons = Persons(entry_time=np.array([0.0, 0.0, 50.0, 0.0]), age_at_entry=np.array([84.5, 70.0, 74.5, 66.0]))
    rows = [
        _row(0, 0.0, "enter"), _row(1, 0.0, "enter"), _row(2, 50.0, "enter"), _row(3, 0.0, "enter"),
        _row(1, 5.0, "admission", 3, 3, 27000, "region", "via_ed"),  # in the warm-up: left out
        _row(0, 20.0, "ed_visit", 1, 0, 4500, "region", "via_ed"),  # P0 is 80+
        _row(0, 20.0, "admission", 4, 4, 36000, "region", "via_ed"),
        _row(0, 30.0, "admission", 6, 6, 54000, "region", "direct", readmission=True),
        _row(1, 40.0, "ed_visit", 1, 0, 4500, "region", "via_ed"),
        _row(1, 40.0, "admission", 15, 15, 135000, "region", "via_ed"),
        _row(1, 60.0, "death", detail="hospital"),
        _row(3, 500.0, "death", detail="home"),
        _row(2, 600.0, "ed_visit", 1, 0, 4500, "region", "via_ed"),  # P2 is 76
        _row(2, 730.0, "admission", 10.5, 10.5, 94500, "region", "censored"),  # still running at the horizon
        # home health care: P0 enrolled over days 0-100 and 400-500, P3 over days 300-350
        _row(0, 0.0, "home_health_visit", 10, 100, 700, "municipality", "routine"),
        _row(0, 400.0, "home_health_visit", 10, 100, 700, "municipality", "routine"),
        _row(3, 300.0, "home_health_visit", 5, 50, 350, "municipality", "routine"),
        # P2 lives in special housing over days 600-650 (the municipality's health care there: counted in a
        # year, not as enrolment at home); a visit there without duration counts for neither (cost 0 here)
        _row(2, 600.0, "home_health_visit", 50 / 7, 50, 0, "municipality", "special_housing"),
        _row(2, 620.0, "home_health_visit", 1, 0, 0, "municipality", "special_housing"),
        # home help: P0 100 h/month over days 0-100 (starts in the warm-up: no cost counted),
        # P2 20 h/month over days 100-300
        _row(0, 0.0, "home_help", 100 / M * 100, 100, 10000, "municipality", "routine"),
        _row(2, 100.0, "home_help", 20 / M * 200, 200, 20000, "municipality", "routine"),
        _row(3, 200.0, "short_term_care", 21, 21, 58800, "municipality"),
        _row(-1, 100.0, "fixed_cost", 0, 0, 1_000_000, "region"),  # a team's yearly cost: no person
    ]
    return pd.DataFrame(rows), persons


def test_every_statistic_on_a_hand_built_log():
    ev, persons = hand_log()
    s = replication_statistics(ev, persons, W, H)
    assert set(STATISTICS) <= set(s)
    days = 730.5 + 50 + 690.5 + 490  # presence inside [W, H): P0, P1 (dies 60), P2 (from 50), P3 (dies 500)
    py = days / 365.25
    assert s["person_years"] == pytest.approx(py)
    assert s["admissions_per_1000"] == pytest.approx(4 / py * 1000)  # the warm-up admission left out
    assert s["bed_days_per_1000"] == pytest.approx(35.5 / py * 1000)
    assert s["length_of_stay_days"] == pytest.approx(25 / 3)  # the censored stay left out
    assert s["readmission_30d_share"] == pytest.approx(1 / 4)
    assert s["ed_visits_per_1000"] == pytest.approx(3 / py * 1000)
    assert s["ed_admission_share"] == pytest.approx(2 / 3)  # via the ED: P0's and P1's
    assert s["ed_visits_per_1000_80plus"] == pytest.approx(1 / (730.5 / 365.25) * 1000)  # only P0 is 80+
    assert s["deaths_per_1000"] == pytest.approx(2 / py * 1000)
    assert s["death_place_hospital_share"] == pytest.approx(0.5)
    assert s["death_place_home_share"] == pytest.approx(0.5)
    assert s["death_place_short_term_care_share"] == 0.0
    assert s["home_health_enrolled_share"] == pytest.approx((90 + 100 + 50) / days)
    # year 1: P0 and P3 of four present; year 2: P0 and P2 (special housing) of P0, P2, P3
    assert s["home_health_year_share"] == pytest.approx((2 / 4 + 2 / 3) / 2)
    assert s["home_help_recipients_share"] == pytest.approx((90 + 200) / days)
    assert s["home_help_hours_per_recipient_month"] == pytest.approx((100 * 90 + 20 * 200) / 290)
    assert s["home_help_over_80h_share"] == pytest.approx(90 / 290)
    assert s["short_term_care_per_1000_on_a_day"] == pytest.approx(21 / days * 1000)
    # year ends (days 375.25, 740.5): P0 85.5/86.5, P2 75.4/76.4, P3 67.0 then dead
    assert (s["age_65_74_share"], s["age_75_84_share"], s["age_85plus_share"]) == pytest.approx((1 / 5, 2 / 5, 2 / 5))
    region = 4500 + 36000 + 54000 + 4500 + 135000 + 4500 + 94500 + 1_000_000
    municipality = 700 + 350 + 20000 + 58800  # P0's first home-health and home-help rows start in the warm-up
    assert s["cost_region_per_person"] == pytest.approx(region / py)
    assert s["cost_municipality_per_person"] == pytest.approx(municipality / py)
    assert s["cost_total_per_person"] == pytest.approx((region + municipality) / py)
    assert s["home_help_cost_per_person"] == pytest.approx(20000 / py)
    assert s["home_help_share_of_municipal_cost"] == pytest.approx(20000 / municipality)
    # per person (the team's fixed cost is nobody's): P0 95,200, P1 139,500, P2 119,000, P3 59,150;
    # the top 1, 5 and 10 % of four persons is one person
    for top in (1, 5, 10):
        assert s[f"cost_top{top}_total_share"] == pytest.approx(139500 / 412850)
        assert s[f"cost_top{top}_region_share"] == pytest.approx(139500 / 333000)
        assert s[f"cost_top{top}_municipality_share"] == pytest.approx(59150 / 79850)


def test_a_year_inside_a_longer_run_gets_its_part_of_each_span():
    """Per measured year, a row with a duration counts with the share of its span inside that year.

    Accrual rows are split at state changes, not at year ends: a resident's special-housing row may
    span the whole measured period, and counted at its start it put three years' cost into the first
    year (the per-year cost concentration of a 3-year run was then 80 % for the top 10 %, against 73 %
    for a 1-year run). Over the whole measured period nothing changes.
    """
    from sim.measure.validate import cost_per_person

    y1 = W + 365.25
    persons = Persons(entry_time=np.array([0.0, 0.0]), age_at_entry=np.array([70.0, 80.0]),
                      death_time=np.array([np.inf, np.inf]))
    ev = pd.DataFrame([
        _row(0, W, "special_housing", 700, 700, 700 * 2800, "municipality"),  # days W to W + 700
        _row(1, 100.0, "admission", 5, 5, 60000, "region", "via_ed"),
        _row(1, 5.0, "home_help", 10, 100, 5500, "municipality"),  # starts in the warm-up: never counted
    ])
    first = cost_per_person(ev, persons, W, y1, measured_from=W)
    second = cost_per_person(ev, persons, y1, H, measured_from=W)
    whole = cost_per_person(ev, persons, W, H)
    assert first.loc[0, "municipality"] == pytest.approx(365.25 * 2800)
    assert second.loc[0, "municipality"] == pytest.approx((700 - 365.25) * 2800)
    assert whole.loc[0, "municipality"] == pytest.approx(700 * 2800)
    assert (first.loc[1, "region"], second.loc[1, "region"]) == (60000, 0.0)
    assert first.loc[1, "municipality"] == second.loc[1, "municipality"] == whole.loc[1, "municipality"] == 0.0


def test_statistics_match_the_summary_on_a_real_run(compared):
    """Independent of summary.py, the shared figures agree with replications.csv to its 6 digits."""
    from sim.measure.validate import folder_statistics

    per_rep, _ = folder_statistics(compared)
    reps = pd.read_csv(compared / "replications.csv")
    reps = reps[reps["paradigm"] == "intervention"].sort_values("replication").reset_index(drop=True)
    for mine, theirs in [("admissions_per_1000", "admissions"), ("bed_days_per_1000", "bed_days"),
                         ("deaths_per_1000", "deaths"), ("cost_region_per_person", "cost_region_sek"),
                         ("cost_municipality_per_person", "cost_municipality_sek"), ("person_years", "person_years"),
                         ("death_place_home_share", "deaths_at_home_share")]:
        assert per_rep[mine].to_numpy() == pytest.approx(reps[theirs].to_numpy(), rel=1e-5), mine


def test_top_share_rounds_up_to_whole_persons():
    costs = np.arange(1.0, 101.0)
    assert top_share(costs, 0.05) == pytest.approx((96 + 97 + 98 + 99 + 100) / 5050)
    assert top_share(costs, 0.01) == pytest.approx(100 / 5050)
    assert top_share(np.arange(1.0, 11.0), 0.05) == pytest.approx(10 / 55)  # never fewer than one person
    assert np.isnan(top_share(np.zeros(3), 0.1))


def test_lorenz_points_and_figure():
    pts = lorenz_points(np.array([2.0, 1.0, 1.0]), points=4)
    assert pts["cost_share"].to_numpy() == pytest.approx([0.0, 0.25, 0.5, 1.0])
    fig = lorenz_figure(pts.assign(payer="total"))
    assert [t.name for t in fig.data] == ["equal spread", "total"]
    assert list(fig.data[1].y) == pytest.approx([0.0, 0.25, 0.5, 1.0])


def test_bundled_targets_cover_the_issue():
    tf = load_baseline_targets(ROOT / "calibration" / "baseline_targets.toml")
    stats = {f.statistic for f in tf.figures.values()}
    for needed in ("admissions_per_1000", "bed_days_per_1000", "length_of_stay_days", "readmission_30d_share",
                   "ed_visits_per_1000_80plus", "ed_admission_share", "deaths_per_1000", "death_place_hospital_share",
                   "home_health_year_share", "home_help_recipients_share", "home_help_hours_per_recipient_month",
                   "home_help_over_80h_share", "special_housing_share", "short_term_care_per_1000_on_a_day",
                   "age_65_74_share", "age_75_84_share", "age_85plus_share", "cost_region_per_person",
                   "cost_municipality_per_person", "cost_top1_region_share_year", "cost_top5_region_share_year",
                   "cost_top10_region_share_year", "cost_top5_total_share_year", "cost_top10_total_share_year"):
        assert needed in stats, needed
    assert tf.figures["special_housing"].modelled  # modelled since issue 14
    assert all(f.source and f.year for f in tf.figures.values())


def test_not_modelled_figures_are_listed_not_dropped():
    tf = load_baseline_targets(ROOT / "calibration" / "baseline_targets.toml")
    # Every bundled figure is modelled since issue 14: mark one as not modelled to test the listing.
    tf.figures["special_housing"] = tf.figures["special_housing"].model_copy(update={"modelled": False})
    per_rep = pd.DataFrame([{s: 0.5 for s in STATISTICS}, {s: 0.5 for s in STATISTICS}])
    table = validation_table(per_rep, tf).set_index("figure")
    assert list(table.index) == list(tf.figures)
    assert table.loc["special_housing", "within_band"] == "not modelled"
    assert table.loc["readmissions_30d", "within_band"] == "no"  # 0.5 is far above 5-13 %
    assert table.loc["readmissions_30d", "off_by"] == pytest.approx((0.5 - 0.13) / 0.13)
    assert table.loc["age_75_84", "within_band"] == "no"
    assert table.loc["home_help_recipients", "within_band"] == "no"


@pytest.mark.parametrize("text, field", [
    ("[figures.x]\nname = 1\n", "figures.x"),
    ('[meta]\ntitle = "t"\n[figures]\n', None),
    ("not toml [", "not valid TOML"),
])
def test_bad_targets_file_names_the_file_and_field(tmp_path, text, field):
    path = tmp_path / "t.toml"
    path.write_text(text)
    if field is None:
        assert load_baseline_targets(path).figures == {}
        return
    with pytest.raises(ValidateError) as exc:
        load_baseline_targets(path)
    assert str(path) in str(exc.value) and field in str(exc.value) and "\n" not in str(exc.value)


def test_unknown_statistic_and_reversed_band_are_refused(tmp_path):
    tf = (ROOT / "calibration" / "baseline_targets.toml").read_text()
    for old, new, word in [('statistic = "deaths_per_1000"', 'statistic = "deaths_per_month"', "deaths_per_month"),
                           ("band = [35.0, 45.0]", "band = [45.0, 35.0]", "band")]:
        path = tmp_path / "t.toml"
        path.write_text(tf.replace(old, new))
        with pytest.raises(ValidateError, match=word):
            load_baseline_targets(path)


SMALL = small_scenario_toml(seed=3, years=1.0)


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("val")
    (root / "small.toml").write_text(SMALL)
    res = CliRunner().invoke(app, ["compare", str(root / "small.toml"), "--out", str(root / "res"),
                                   "--executor", "serial"])
    assert res.exit_code == 0, res.output
    return root / "res"


def test_validate_command_writes_the_table(compared):
    targets = ROOT / "calibration" / "baseline_targets.toml"
    res = CliRunner().invoke(app, ["validate", str(compared), "--targets", str(targets)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(compared / "validation.csv")
    tf = load_baseline_targets(targets)
    assert list(table["figure"]) == list(tf.figures)
    assert set(table["within_band"]) <= {"yes", "no", "not modelled"}
    modelled = table[table["within_band"] != "not modelled"]
    assert modelled["mean"].notna().all() and modelled["ci_low"].notna().all()
    assert (modelled["ci_low"] <= modelled["mean"]).all() and (modelled["mean"] <= modelled["ci_high"]).all()
    md = (compared / "validation.md").read_text()
    assert "| special_housing |" in md
    lorenz = pd.read_csv(compared / "lorenz.csv")
    assert set(lorenz["payer"]) == {"region", "municipality", "total"}
    for _, rows in lorenz.groupby("payer"):
        assert rows["cost_share"].iloc[-1] == pytest.approx(1.0) and rows["cost_share"].is_monotonic_increasing


def test_validate_command_bad_input_is_one_line(compared, tmp_path):
    targets = ROOT / "calibration" / "baseline_targets.toml"
    for args in (["validate", str(tmp_path / "nowhere"), "--targets", str(targets)],
                 ["validate", str(compared), "--targets", str(tmp_path / "none.toml")],
                 ["validate", str(compared), "--targets", str(targets), "--paradigm", "other"]):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, res.output
        assert len(res.output.strip().splitlines()) == 1 and "error" in res.output, res.output
        assert "Traceback" not in res.output


@pytest.mark.slow
def test_default_scenario_within_published_bands(tmp_path):
    """`narvard run` on the default scenario (3 replications, one measured year: every figure is per
    year or on a day) against calibration/baseline_targets.toml: a figure is in band when its Student-t
    95 % interval over the replications meets the band (calibration/VALIDATION.md)."""
    from sim.measure.validate import folder_statistics

    scenario = tmp_path / "validation.toml"
    scenario.write_text(f"base = [{json.dumps(str(ROOT / 'scenarios' / 'default.toml'))}]\n[meta]\n"
                        'name = "validation"\n[simulation]\nyears = 1.0\nreplications = 3\n')
    res = CliRunner().invoke(app, ["run", str(scenario), "--out", str(tmp_path / "res"), "--executor", "serial"])
    assert res.exit_code == 0, res.output
    per_rep, _ = folder_statistics(tmp_path / "res")
    table = validation_table(per_rep, load_baseline_targets(ROOT / "calibration" / "baseline_targets.toml"))
    out = table[table["within_band"] != "yes"].set_index("figure")  # "no", or "not modelled"
    left = {f: f"{r['mean']:.4g} [{r['ci_low']:.4g}, {r['ci_high']:.4g}] outside {r['band_low']:g}-{r['band_high']:g}"
            for f, r in out.iterrows()}
    assert not left, left
    assert len(table) == len(load_baseline_targets(ROOT / "calibration" / "baseline_targets.toml").figures)
