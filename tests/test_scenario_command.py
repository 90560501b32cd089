"""Integration: ``narvard scenario new|show`` and the planner's own folder, on real files outside the repository.

Tier: integration (the CLI in-process through typer's runner, and a real process for a run
from a foreign folder).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from sim.cli import app
from sim.config import load_scenario, scenario_hash, validate
from tests.conftest import DEFAULT, ROOT

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_new_writes_a_short_what_if_that_holds_only_what_differs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = invoke("scenario", "new", "beds")
    assert res.exit_code == 0, res.output
    text = (tmp_path / "beds.toml").read_text()
    data = tomllib.loads(text)
    assert data == {"base": ["narvard:scenarios/default.toml"],
                    "meta": {"name": "beds", "description": "What-if on default: (describe the change)"}}
    assert len(text.splitlines()) < 40
    assert "# capacity.beds = 135" in text
    new, default = load_scenario(tmp_path / "beds.toml"), load_scenario(DEFAULT)
    assert new.model_copy(update={"meta": default.meta}) == default


def test_new_hints_work_when_uncommented(tmp_path):
    assert invoke("scenario", "new", "cut", "--dir", tmp_path).exit_code == 0
    f = tmp_path / "cut.toml"
    f.write_text(f.read_text().replace("# capacity.beds = 135", "capacity.beds = 96")
                 .replace("# concepts.mobile_team.teams = 1", "concepts.mobile_team.teams = 2"))
    s = load_scenario(f)
    assert (s.capacity.beds, s.concepts.mobile_team.teams) == (96, 2)


def test_new_never_overwrites_and_refuses_bad_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.toml").write_text("# my own notes\n")
    res = invoke("scenario", "new", "mine")
    assert res.exit_code == 2
    assert "mine.toml: exists" in res.stderr
    assert (tmp_path / "mine.toml").read_text() == "# my own notes\n"
    res = invoke("scenario", "new", "../up")
    assert res.exit_code == 2 and "NAME: expected a plain folder name" in res.stderr
    res = invoke("scenario", "new", "x", "--from", "nonesuch")
    assert res.exit_code == 2 and "--from: expected one of default" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml"]


def test_new_from_a_bundled_scenario_and_from_a_file(tmp_path):
    assert invoke("scenario", "new", "sk", "--from", "skaraborg", "--dir", tmp_path).exit_code == 0
    assert tomllib.loads((tmp_path / "sk.toml").read_text())["base"] == ["narvard:scenarios/skaraborg.toml"]
    assert not load_scenario(tmp_path / "sk.toml").concepts.safe_discharge.enabled
    # from the planner's own file: named relative to the new file, so the folder can move
    (tmp_path / "area").mkdir()
    (tmp_path / "plans").mkdir()
    (tmp_path / "area" / "ours.toml").write_text(
        'base = "narvard:scenarios/default.toml"\n[capacity]\nbeds = 150\n')
    res = invoke("scenario", "new", "more", "--from", tmp_path / "area" / "ours.toml", "--dir", tmp_path / "plans")
    assert res.exit_code == 0, res.output
    assert tomllib.loads((tmp_path / "plans" / "more.toml").read_text())["base"] == ["../area/ours.toml"]
    elsewhere = tmp_path.parent / f"{tmp_path.name}-moved"
    shutil.copytree(tmp_path / "area", elsewhere / "area")
    shutil.copytree(tmp_path / "plans", elsewhere / "plans")
    assert load_scenario(elsewhere / "plans" / "more.toml").capacity.beds == 150


def test_show_prints_every_value_with_its_source_and_is_valid_toml(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('base = ["narvard:scenarios/default.toml"]\n[meta]\nname = "mine"\n'
                 "[capacity]\nbeds = 96\n[concepts.mobile_team]\nprevent_share = 0.10\n")
    res = invoke("scenario", "show", f)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()

    def line(table: str, key: str) -> str:
        start = lines.index(f"[{table}]")
        return next(x for x in lines[start + 1:] if x.startswith(f"{key} = "))

    assert line("capacity", "beds").endswith("# this file")
    assert line("capacity", "short_term_places").endswith("# base narvard:scenarios/default.toml")
    assert line("concepts.mobile_team", "los_multiplier").endswith("# overlay narvard:calibration/fitted.toml")
    fitted = tomllib.loads((ROOT / "calibration" / "fitted.toml").read_text())["concepts"]["mobile_team"]
    assert f"# this file (instead of {fitted['prevent_share']!r} from overlay narvard:calibration/fitted.toml)" in line(
        "concepts.mobile_team", "prevent_share")
    assert line("costs", "mobile_team_year").endswith("# base narvard:scenarios/default.toml")
    # the printout is itself a complete scenario: it validates to the same parameters
    printed = validate(tomllib.loads(res.stdout), "show")
    assert scenario_hash(printed) == scenario_hash(load_scenario(f))
    assert res.stderr == ""


def test_show_warns_where_an_overlay_replaced_a_users_value(tmp_path):
    (tmp_path / "mybase.toml").write_text("[concepts.mobile_team]\nmax_enrolment_days = 60.0\n")
    f = tmp_path / "s.toml"
    f.write_text('base = ["mybase.toml", "narvard:scenarios/default.toml"]\n')
    res = invoke("scenario", "show", f)
    assert res.exit_code == 0
    (warning,) = res.stderr.strip().splitlines()
    assert warning.startswith("warning: concepts.mobile_team.max_enrolment_days: the overlay"
                              " narvard:calibration/fitted.toml replaced 60.0")
    assert "WARNING: replaced 60.0 set in" in res.stdout


def test_show_refuses_an_invalid_file_in_one_line_per_problem(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('base = ["narvard:scenarios/default.toml"]\n[capacity]\nbedz = 3\n')
    res = invoke("scenario", "show", f)
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [f"error: {f}: capacity.bedz: unknown field (did you mean 'beds'?)"]
    res = invoke("scenario", "show", tmp_path / "none.toml")
    assert res.exit_code == 2 and res.stderr.strip() == f"error: {tmp_path / 'none.toml'}: file not found"


def test_run_from_a_foreign_folder_writes_beside_the_scenario(tmp_path):
    plans, cwd = tmp_path / "plans", tmp_path / "cwd"
    plans.mkdir()
    cwd.mkdir()
    (plans / "tiny.toml").write_text(
        'base = "narvard:scenarios/default.toml"\n[meta]\nname = "default"\n'
        "[simulation]\nyears = 0.2\nwarmup_years = 0.1\nreplications = 1\n"
        "[population]\npersons_65plus = 300\nentrants_per_year = 10.0\n"
        "[capacity]\nbeds = 4\nshort_term_places = 2\n")
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(plans / "tiny.toml"), "--executor", "serial"],
                          capture_output=True, text=True, cwd=cwd, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = plans / "results" / "tiny"
    assert (out / "summary.csv").is_file() and (out / "manifest.json").is_file()
    assert list(cwd.iterdir()) == []  # nothing in the current folder, nothing under results/<meta name>
    assert sorted(p.name for p in plans.iterdir()) == ["results", "tiny.toml"]


def test_override_refused_by_the_cli_in_one_line_before_any_work(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('base = "narvard:scenarios/default.toml"\n')
    for args in (["-n", "1000000"], ["--seed", "-5"], ["--seed", str(2**70)]):
        res = invoke("run", f, *args, "--out", tmp_path / "out")
        assert res.exit_code == 2, args
        (line,) = res.stderr.strip().splitlines()
        assert line.startswith("error: command line: --"), line
        assert not (tmp_path / "out").exists()
    assert Path(f).read_text() == 'base = "narvard:scenarios/default.toml"\n'
