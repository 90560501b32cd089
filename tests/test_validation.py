"""Unit: bad scenario input is refused before anything runs, one line per problem.

Tier: unit (validation errors with ``pytest.raises(match=...)``), plus the CLI's exit code
and a regression run for a validated scenario that once crashed the model.
"""

from __future__ import annotations

import copy
import math
import re
import subprocess
import sys

import pytest

from sim.config import ScenarioError, load_scenario
from sim.config.loader import _deep_merge, resolve, validate
from tests.conftest import DEFAULT, small_scenario

BASE = resolve(DEFAULT)


def with_(**sections):
    """The default scenario (as a dict) with sections deep-overridden."""
    return _deep_merge(copy.deepcopy(BASE), sections)


def problems(data) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate(data, "x.toml")
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.problems)
    assert all(line.startswith("x.toml: ") for line in lines)
    return lines


def one(data) -> str:
    lines = problems(data)
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"capacity": {"bedz": 3}}, r"x\.toml: capacity\.bedz: unknown field"),
        ({"capacity": {"beds": "120"}}, r"capacity\.beds: Input should be a valid integer \(got '120'\)"),
        ({"capacity": {"beds": True}}, r"capacity\.beds: Input should be a valid integer"),
        ({"capacity": {"beds": 120.5}}, r"capacity\.beds: Input should be a valid integer"),
        ({"capacity": {"beds": 0}}, r"capacity\.beds: Input should be greater than 0 \(got 0\)"),
        ({"capacity": {"short_term_places": -3}}, r"capacity\.short_term_places: .*greater than 0"),
        ({"population": {"wishes_palliative_team": 1.2}}, r"population\.wishes_palliative_team: .*less than or equal to 1"),
        ({"population": {"wishes_palliative_team": -0.1}}, r"population\.wishes_palliative_team: .*greater than or equal to 0"),
        ({"health": {"death_rate_per_year": {"stable": -0.01}}}, r"health\.death_rate_per_year\.stable: .*greater than or equal to 0"),
        ({"health": {"death_rate_per_year": {"stable": math.nan}}}, r"health\.death_rate_per_year\.stable: .*finite number"),
        ({"health": {"deterioration_rate_per_year": {"unstable": math.inf}}}, r"deterioration_rate_per_year\.unstable: .*finite number"),
        ({"health": {"deterioration_rate_per_year": {"unstable": 1e6}}}, r"deterioration_rate_per_year\.unstable: expected at most 365"),
        ({"capacity": {"home_health_nurses_fte": math.inf}}, r"capacity\.home_health_nurses_fte: expected a finite number \(got inf\)"),
        ({"routine": {"home_help_hours_per_week_dependent": {"stable": 200.0}}}, r"home_help_hours_per_week_dependent\.stable: expected at most 168"),
        ({"simulation": {"years": 1e-9}}, r"simulation\.years: expected at least"),
        ({"hospital": {"relapse_time_mean_days": 1e-300}}, r"hospital\.relapse_time_mean_days: expected at least 0\.1"),
        ({"population": {"persons_65plus": 10**30}}, r"population\.persons_65plus: expected at most"),
        ({"meta": {"name": ""}}, r"meta\.name: expected a plain folder name"),
        ({"meta": {"name": "../elsewhere"}}, r"meta\.name: expected a plain folder name"),
        ({"meta": {"name": ".hidden"}}, r"meta\.name: expected a plain folder name"),
        ({"health": {"transition_rates_per_year": {"stable": {"stabel": 0.1}}}}, r"health\.transition_rates_per_year\.stable\.stabel: Input should be"),
        ({"payers": {"hospital": "state"}}, r"payers\.hospital: Input should be 'region' or 'municipality' \(got 'state'\)"),
    ],
)
def test_one_bad_field_one_line(override, match):
    line = one(with_(**override))
    assert re.search(match, line), line


def test_missing_field_is_named():
    data = copy.deepcopy(BASE)
    del data["capacity"]["beds"]
    assert one(data) == "x.toml: capacity.beds: missing field"


def test_several_problems_several_lines():
    lines = problems(with_(capacity={"beds": -1, "short_term_places": "x", "extra": 1}))
    assert len(lines) == 3
    assert {line.split(": ")[1] for line in lines} == {"capacity.beds", "capacity.short_term_places",
                                                       "capacity.extra"}


def test_control_characters_in_keys_stay_on_one_line():
    line = one(with_(meta={"na\x1eme\nx": 1}))
    assert "'na\\x1eme\\nx': unknown field" in line


@pytest.mark.parametrize(
    ("team", "match"),
    [
        ({"criteria_required": 6, "age_min": 110.0}, r"mobile_team\.age_min: expected at most population\.age_max = 105"),
        ({"criteria_required": 6, "age_min": 110.0}, r"mobile_team\.criteria_required: only 5 criteria can be met \(not: age\)"),
        ({"chronic_diagnoses_min": 200}, r"mobile_team\.chronic_diagnoses_min: no person can have more than \d+"),
        ({"medications_min": 500}, r"mobile_team\.medications_min: no person can have more than \d+"),
    ],
)
def test_mobile_team_thresholds_no_person_can_meet(team, match):
    lines = problems(with_(concepts={"mobile_team": {"enabled": True, **team}}))
    assert any(re.search(match, line) for line in lines), lines


def test_criteria_required_counts_only_reachable_criteria():
    nobody = {"stable": 0.0, "fluctuating": 0.0, "unstable": 0.0, "palliative": 0.0}
    data = with_(population={"personal_care_dependent": nobody, "home_health_enrolled": nobody},
                 concepts={"mobile_team": {"enabled": True, "criteria_required": 5},
                           "home_physician": {"enabled": False}})
    line = one(data)
    assert re.search(r"criteria_required: only 4 criteria can be met \(not: personal care dependency,"
                     r" home health care\); expected at most 4 \(got 5\)", line), line
    # The same thresholds with four required are fine.
    data["concepts"]["mobile_team"]["criteria_required"] = 4
    validate(data, "x.toml")


def test_palliative_team_nobody_can_enrol():
    line = one(with_(population={"wishes_palliative_team": 0.0},
                     concepts={"palliative_team": {"enabled": True}}))
    assert "concepts.palliative_team.enabled: no person can be enrolled" in line


def test_default_scenarios_are_valid():
    for f in sorted((DEFAULT.parent).glob("*.toml")):
        load_scenario(f)


def test_base_chain_circular_or_missing(tmp_path):
    (tmp_path / "a.toml").write_text('base = "b.toml"\n')
    (tmp_path / "b.toml").write_text('base = ["a.toml"]\n')
    (tmp_path / "c.toml").write_text('base = "nope.toml"\n')
    (tmp_path / "d.toml").write_text("base = 3\n")
    (tmp_path / "e.toml").write_text("[meta\nname=")
    with pytest.raises(ScenarioError, match=r"b\.toml: base: circular base chain \(a\.toml -> b\.toml -> a\.toml\)"):
        load_scenario(tmp_path / "a.toml")
    with pytest.raises(ScenarioError, match=r"c\.toml: base: file 'nope\.toml' not found"):
        load_scenario(tmp_path / "c.toml")
    with pytest.raises(ScenarioError, match=r"d\.toml: base: expected a file name or a list of file names \(got 3\)"):
        load_scenario(tmp_path / "d.toml")
    with pytest.raises(ScenarioError, match=r"e\.toml: not valid TOML"):
        load_scenario(tmp_path / "e.toml")
    with pytest.raises(ScenarioError, match=r"f\.toml: file not found"):
        load_scenario(tmp_path / "f.toml")


def test_cli_refuses_bad_scenario_without_writing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'base = "{DEFAULT.as_posix()}"\n[capacity]\nbeds = -1\n[meta]\nname = "bad"\n'
                   "[health.death_rate_per_year]\nstable = nan\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(bad), "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 2, proc.stderr
    assert "bad.toml: capacity.beds:" in lines[0] or "bad.toml: capacity.beds:" in lines[1]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_everyone_dead_in_warmup_runs():
    """Regression: a valid scenario with no person-years after the warm-up crashed the summary."""
    from sim.experiments.runner import run_replication

    rate = {"stable": 365.0, "fluctuating": 365.0, "unstable": 365.0, "palliative": 365.0}
    s = small_scenario(persons=200, years=0.1, warmup=0.3, replications=1,
                       population={"entrants_per_year": 0.0},
                       health={"death_rate_per_year": rate, "frailty_variance": 0.0})  # no one frail enough to live
    m = run_replication(s, 0, ("intervention",)).metrics["intervention"]
    assert m["person_years"] == 0.0
    assert math.isnan(m["admissions"])


def test_manifest_round_trip_validates(default_scenario):
    """What the manifest stores (``model_dump(mode="json")``) validates strictly to the same scenario."""
    from sim.config import scenario_hash

    again = validate(default_scenario.model_dump(mode="json"), "manifest")
    assert scenario_hash(again) == scenario_hash(default_scenario)


def test_strict_false_accepts_numpy_numbers():
    np = pytest.importorskip("numpy")
    data = with_(capacity={"beds": np.int64(120)})
    with pytest.raises(ScenarioError):
        validate(data, "x.toml")
    assert validate(data, "x.toml", strict=False).capacity.beds == 120
