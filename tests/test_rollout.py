"""Rollout over a region (issue 18): the ledger's sums, nothing without concepts, a dead team stops."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.config import ScenarioError
from sim.config.region import load_region
from sim.experiments.executor import Executor
from sim.experiments.rollout import command as rc
from sim.experiments.rollout.plan import area_runs, areas
from sim.experiments.rollout.run import run_area
from tests.conftest import DEFAULT

REGION = """base = [{base}]
[meta]
name = "tiny"
[simulation]
seed = 11
warmup_years = 1.0
years = 2.0
replications = 2
[region]
name = "tiny"
inhabitants = 12000
hospital_beds = 16
plan = {plan}
[[region.groups]]
name = "a"
count = 3
simulate = 1
persons_65plus = 900
[[region.groups]]
name = "b"
count = 1
persons_65plus = 700
[region.build_up_without_support]
recruitment_days = 60
ramp_days = 120
learning_days = 200
learning_start_effect = 0.5
[region.support]
steering_group_sek_per_year = 400000
follow_up_evaluation_sek_per_year = 400000
learning_meetings_sek_per_area_year = 100000
[region.survival]
share_failing_without_support = {fail}
share_failing_with_support = 0.2
over_years = {over}
"""
PLAN = '[{ concept = "mobile_team", year = 0 }, { concept = "safe_discharge", year = 1, groups = ["a"] }]'


def _region(tmp_path, plan=PLAN, fail=0.7, over=5.0, name="tiny.toml"):
    path = tmp_path / name
    path.write_text(REGION.format(base=json.dumps(str(DEFAULT)), plan=plan, fail=fail, over=over), encoding="utf-8")
    return path


def _option(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rollout")
    support = _option(tmp, "support.toml", "[region.support]\nenabled = true\n")
    opts = rc.load_options(_region(tmp), [support])
    return rc.simulate(opts, Executor())


def _ledger_wide(result):
    led = result["ledger"]
    return led.pivot_table(index=["option", "area", "year", "metric"], columns="payer", values="mean")


def test_region_plus_municipality_is_total_every_year_and_over_the_horizon(result):
    wide = _ledger_wide(result)
    assert len(wide) > 0
    np.testing.assert_allclose(wide["region"] + wide["municipality"], wide["total"], rtol=1e-12, atol=1e-3)
    # Over the horizon: the cumulative net of the last year is the sum of the yearly nets, per payer.
    led = result["ledger"]
    for key, g in led[led["metric"].isin(["net", "cumulative_net"])].groupby(
            ["option", "area", "payer"]):
        net = g[g["metric"] == "net"].sort_values("year")["mean"]
        cum = g[g["metric"] == "cumulative_net"].sort_values("year")["mean"]
        assert cum.iloc[-1] == pytest.approx(net.sum(), rel=1e-9, abs=1e-3), key


def test_region_is_the_weighted_sum_of_its_areas(result):
    y = result["years"]
    sel = y[(y["metric"] == "admissions") & (y["paradigm"] == "intervention") & (y["option"] == "plan")]
    by = sel.pivot_table(index="year", columns="area", values="mean")
    # Group a: one simulated area for 3 municipalities; group b: one for one.
    np.testing.assert_allclose(by["region"], 3 * by["a"] + by["b"], rtol=1e-12)


def test_options_meet_the_same_persons_and_draws(result):
    y = result["years"]
    today = y[(y["paradigm"] == "intervention")].pivot_table(index=["area", "year", "metric"], columns="option",
                                                              values="mean")
    pd.testing.assert_series_equal(today["plan"], today["support"], check_names=False)
    t = result["teams"].set_index(["area", "replication", "concept", "option"])["end_day"].unstack("option")
    # The same draw: support (lower hazard) never shortens a team's life.
    assert (t["support"] >= t["plan"]).all()


def test_every_concept_off_changes_nothing_for_either_payer(tmp_path):
    opts = rc.load_options(_region(tmp_path, plan="[]"), [])
    res = rc.simulate(opts, Executor(), replications=1)
    led = res["ledger"]
    for metric in ("saving", "investment", "net", "cumulative_net"):
        vals = led[led["metric"] == metric]
        assert set(vals["payer"]) == {"region", "municipality", "total"}
        assert set(vals["year"]) == {1, 2}
        assert (vals["mean"] == 0.0).all(), metric
    diff = res["years"][res["years"]["paradigm"] == "difference"]
    assert len(diff) > 0 and (diff["mean"].fillna(0.0) == 0.0).all()


def test_a_team_that_dies_stops_acting_from_that_day(tmp_path):
    plan = '[{ concept = "mobile_team", year = 0 }]'
    template, region, data = load_region(_region(tmp_path, plan=plan, fail=0.9, over=0.6))
    area = areas(region, template.simulation.seed)[0]
    for rep in range(20):
        runs = area_runs({"plan": (template, region, data)}, area, rep)
        team = runs[0].teams[0]
        if team.acting_day + 60 < team.end_day < template.horizon_days - 60:
            break
    else:
        pytest.fail("no replication with a team dying mid-run")
    assert runs[0].scenario.concepts.mobile_team.end_day == team.end_day
    *_, tables = run_area(area.name, area.weight, runs, rep, keep=True)
    e = tables[("plan", "person")].to_pandas()
    for c in ("kind", "detail", "provider"):
        e[c] = e[c].astype(str)
    routed = e[(e["kind"] == "team_visit") & e["detail"].isin(["team_home", "prevented"])]
    plan_routes = e[e["detail"].isin(["plan_nurse", "plan_ed", "direct"])]
    assert (routed["time"] < team.end_day).any()  # it acted before
    assert not (routed["time"] >= team.end_day).any()
    assert not (plan_routes["time"] >= team.end_day).any()
    enrol = e[e["kind"] == "team_enrol"]
    assert (enrol["time"] + enrol["duration"] <= team.end_day + 1e-9).all()
    staff = e[(e["kind"] == "fixed_cost") & (e["provider"] == "mobile_team")]
    assert (staff["time"] + staff["duration"] <= team.end_day + 1e-9).all()
    assert staff["time"].min() == team.acting_day


def test_living_teams_and_support(result):
    y = result["years"]
    alive = y[(y["metric"] == "areas_with_living_teams")].pivot_table(index="year", columns="option", values="mean")
    assert ((alive >= 0) & (alive <= 4)).all().all()
    assert (alive["support"] >= alive["plan"]).all()
    be = result["break_even"]
    assert set(be["payer"]) == {"region", "municipality", "total"}


def test_region_file_errors_name_the_field(tmp_path):
    bad = _region(tmp_path, plan='[{ concept = "mobile_tem", year = 0 }]')
    with pytest.raises(ScenarioError, match=r"region\.plan: unknown concept 'mobile_tem'"):
        load_region(bad)
    late = _region(tmp_path, plan='[{ concept = "mobile_team", year = 2 }]', name="late.toml")
    with pytest.raises(ScenarioError, match=r"after the horizon"):
        load_region(late)
    opt = _option(tmp_path, "typo.toml", "[region.support]\nenabeld = true\n")
    with pytest.raises(ScenarioError, match=r"typo\.toml: region\.support\.enabeld"):
        load_region(_region(tmp_path), opt)


def test_cli_writes_the_folder_side_by_side(tmp_path):
    from sim.cli import app
    from sim.output.results import read_manifest

    path = _region(tmp_path, plan='[{ concept = "mobile_team", year = 0 }]')
    cut = _option(tmp_path, "cut.toml", "[region.bed_cut]\nshare = 0.25\nfrom_year = 1\n")
    out = tmp_path / "out"
    args = ["rollout", str(path), "--options", str(cut), "-n", "1", "--executor", "serial", "--out", str(out)]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    # Money on the console in MSEK with plain digits (the CSV keeps SEK).
    assert "(MSEK)" in r.output and "(SEK)" not in r.output and "e+0" not in r.output, r.output
    for name in (rc.ROLLOUT, rc.YEARS, rc.LEDGER, rc.BREAK_EVEN, rc.TEAMS, rc.CHARTS):
        assert (out / name).is_file()
    m = read_manifest(out)
    assert m["command"] == "rollout" and m["options"] == ["plan", "cut"]
    table = pd.read_csv(out / rc.ROLLOUT)
    assert {"plan mean", "cut mean"} <= set(table.columns)
    beds = table[table["figure"] == "beds open"].set_index("year")
    assert beds.loc[1, "cut mean"] == beds.loc[1, "plan mean"]
    assert beds.loc[2, "cut mean"] < beds.loc[2, "plan mean"]
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "exists" in again.output
    assert not math.isnan(table["plan mean"].iloc[0])
    # The report's rollout section is built from the folder's tables.
    from sim.report.sections import Context, Unavailable, rollout

    ctx = Context(out)
    section = rollout(ctx)
    assert "beds open" in section.body and "cut" in section.body and len(ctx.figures) >= 5
    with pytest.raises(Unavailable, match="narvard rollout"):
        rollout(Context(tmp_path))


def test_bundled_region_files_load_with_every_option():
    from pathlib import Path

    folder = Path(DEFAULT).parent / "regions"
    options = sorted((folder / "options").glob("*.toml"))
    for f in sorted(folder.glob("*.toml")):
        opts = rc.load_options(f, options)
        template, region, _ = opts["plan"]
        simulated = sum(a.weight * a.group.persons_65plus for a in areas(region, template.simulation.seed))
        assert simulated == pytest.approx(region.persons_65plus()), f.name
        assert opts["with_support"][1].support.enabled and not opts["without_support"][1].support.enabled


def test_delayed_discharge_payments_are_transfers_that_cancel():
    from sim.economics import Prices
    from sim.economics.ledger import price_rows
    from tests.conftest import small_scenario

    prices = Prices.of(small_scenario())
    rows = pd.DataFrame({"year": [1, 1], "kind": ["discharge_payment", "discharge_payment_received"],
                         "provider": ["home_help", "hospital"], "detail": ["", ""], "n": [1.0, 1.0],
                         "quantity": [4.0, 4.0], "duration": [4.0, 4.0]})
    priced = price_rows(rows, prices)
    t = priced[priced["item"] == "transfer"].groupby("payer")["sek"].sum()
    assert t["municipality"] > 0 and t["region"] == -t["municipality"]
    assert (priced.loc[priced["item"] != "transfer", "sek"] == 0).all()


def test_count_intervals_are_cut_at_zero():
    from sim.experiments.rollout.tables import summarise

    df = pd.DataFrame({"year": [1, 1, 1], "teams_alive": [0.0, 0.0, 1.0], "net": [0.0, 0.0, 1.0]})
    out = summarise(df, ["year"], ["teams_alive", "net"]).set_index("metric")
    assert out.loc["teams_alive", "ci_low"] == 0.0
    assert out.loc["net", "ci_low"] < 0.0  # a money figure keeps its symmetric interval
    assert out.loc["teams_alive", "ci_high"] == out.loc["net", "ci_high"]


def test_a_signal_just_after_the_commit_says_the_results_are_there(result, tmp_path, monkeypatch):
    """A signal handled as the with block ends (committed): InterruptedAfterCommit, not "nothing written"."""
    from sim.output import results as R

    exit_ = R.AtomicFolder.__exit__

    def exit_then_signal(self, *exc):
        exit_(self, *exc)
        raise KeyboardInterrupt  # as SIGINT handled at the next bytecode after the commit

    monkeypatch.setattr(R.AtomicFolder, "__exit__", exit_then_signal)
    out = tmp_path / "out"
    with pytest.raises(R.InterruptedAfterCommit):
        rc.write_folder(result, out, False, {"argv": []}, 0.0)
    R.verify_folder(out)  # complete: every file as its manifest says
