"""Unit and integration: the resource guard refuses runs no machine can hold, before they start.

Tier: unit (the estimate's drivers against drawn trajectories, with tolerances from the sample's
own spread; refusals and warnings at fixed limits) and integration (the CLI's one line, nothing
written). The limits are set explicitly, so the outcomes do not depend on this machine's memory.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.config import ScenarioError, load_scenario
from sim.config.budget import ENV_HOURS_WARN, ENV_MEMORY, Limits, check, drivers, estimate
from sim.domain.units import DAYS_PER_YEAR
from sim.experiments.pipeline import load
from sim.population.health import DEATH, draw_trajectories
from sim.population.population import make_population
from tests.conftest import DEFAULT, small_scenario

#: A planner's 16 GiB laptop: refuse above 80 %, warn above 50 %; a night; a quarter of an hour.
LAPTOP = Limits(memory_gib=12.8, warn_memory_gib=8.0, hours=24.0, warn_hours=0.25)
EVERY_DAY = {"stable": 365.0, "fluctuating": 365.0, "unstable": 365.0, "palliative": 365.0}
#: rates the same for every person (no age effect, no survivors' frailty): a stratum's rate is then its
#: events per person-year
NO_AGE = {"deterioration_hazard_ratio_per_year_of_age": 1.0, "worsening_hazard_ratio_per_year_of_age": 1.0,
          "dying_hazard_ratio_per_year_of_age": 1.0, "frailty_selection_hazard_per_year": 0.0}


def test_drivers_match_drawn_trajectories():
    """Expected persons, person-years and health events against one replication's draws (4 sd)."""
    s = small_scenario(persons=4000, years=3.0, warmup=1.0)
    pop = make_population(s, 11)
    traj = draw_trajectories(s, pop, 11)
    horizon = s.horizon_days
    d = drivers(s)
    n_start = s.population.persons_65plus
    entrants = pop.size - n_start
    # entrants: a Poisson count
    assert abs(entrants - s.population.entrants_per_year * 4.0) < 4 * math.sqrt(d.persons - n_start)
    years = (np.minimum(traj.death_time, horizon) - pop.entry_time) / DAYS_PER_YEAR
    assert abs(years.sum() - d.person_years) < 4 * years.std() * math.sqrt(len(years))
    per_person = np.bincount(traj.person, minlength=pop.size)
    sd = 4 * per_person.std() * math.sqrt(pop.size)
    # The estimate counts the health process's events; the model adds at most one terminal
    # deterioration before each death, so the draws lie between the estimate and it plus the deaths.
    deaths = int((traj.kind == DEATH).sum())
    assert per_person.sum() - deaths - sd <= d.health_events <= per_person.sum() + sd

def test_drivers_grow_with_each_field():
    base = load_scenario(DEFAULT)
    d = drivers(base)
    assert d.persons == base.population.persons_65plus + base.population.entrants_per_year * 4.0
    daily = small_scenario(persons=18000, health={"deterioration_rate_per_year": EVERY_DAY, **NO_AGE})
    plain = drivers(small_scenario(persons=18000, health=NO_AGE))
    # the same occupancy; each person-year adds 365 minus its stratum's own rate (at most 5 a year)
    assert drivers(daily).person_years == pytest.approx(plain.person_years)
    extra = drivers(daily).health_events - plain.health_events
    assert 360 * plain.person_years <= extra <= 365 * plain.person_years


@pytest.mark.parametrize(("name", "sections", "what"), [
    ("10 million persons x 100 years",
     {"simulation": {"years": 99.0, "warmup_years": 1.0},
      "population": {"persons_65plus": 10_000_000, "entrants_per_year": 0.0}},
     "population.persons_65plus = 10,000,000"),
    ("a deterioration every day", {"health": {"deterioration_rate_per_year": EVERY_DAY, **NO_AGE}},
     "(365 health events per person-year)"),
    ("a million entrants a year for 9 years", {"simulation": {"years": 8.0, "warmup_years": 1.0},
                                               "population": {"entrants_per_year": 1_000_000.0}},
     "population.entrants_per_year = 1e+06"),
])
def test_runs_no_machine_holds_are_refused_naming_fields_and_estimate(name, sections, what):
    s = load_scenario(DEFAULT)
    data = s.model_dump(mode="json")
    for sec, values in sections.items():
        data[sec].update(values)
    from sim.config import validate

    big = validate(data, name)
    refuse, warn = check(big, 2, 2, LAPTOP)
    (line,) = refuse
    assert warn == []
    assert what in line
    assert "simulation.warmup_years + years" in line and "simulation.replications = 5" in line
    assert "GiB of memory" in line and "above the limit of 12.8 GiB (NARVARD_MEMORY_LIMIT_GIB)" in line


def test_a_million_entrants_over_the_default_horizon_is_warned():
    # 4 million persons over 4 years: about 5 GiB per replication and most of an hour on 2 cores
    s = small_scenario(persons=18000, years=3.0, warmup=1.0, replications=5,
                       population={"entrants_per_year": 1_000_000.0})
    refuse, (line,) = check(s, 2, 2, LAPTOP)
    assert refuse == []
    assert line.startswith("this run needs an estimated") and "hours (5 replications)" in line


def test_bundled_scenarios_pass_silently():
    for f in sorted(DEFAULT.parent.glob("*.toml")):
        assert check(load_scenario(f), 2, 2, LAPTOP) == ([], []), f.name


def test_fewer_workers_is_suggested_when_one_replication_fits():
    s = small_scenario(persons=18000, years=3.0, warmup=1.0, replications=4,
                       health={"deterioration_rate_per_year": {**EVERY_DAY, "stable": 40.0}})
    one = estimate(s, 2, 1)
    limits = Limits(memory_gib=one.memory_gib * 1.5, warn_memory_gib=1.0, hours=1e6, warn_hours=1e6)
    (line,) = check(s, 2, 2, limits)[0]
    assert line.endswith("or run fewer at once (--workers)")
    assert check(s, 2, 1, limits)[0] == []


def test_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv(ENV_MEMORY, "0.1")
    with pytest.raises(ScenarioError, match=r"default\.toml: population\.persons_65plus = 18,000.*above the limit"
                                            r" of 0\.1 GiB \(NARVARD_MEMORY_LIMIT_GIB\)") as info:
        load(DEFAULT)
    assert len(str(info.value).splitlines()) == 1
    monkeypatch.setenv(ENV_MEMORY, "lots")  # not a number: the default applies
    assert Limits.from_env().memory_gib > 0.1
    load(DEFAULT)


def test_cli_refuses_in_one_line_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_MEMORY, "12.8")
    f = tmp_path / "daily.toml"
    f.write_text('base = "narvard:scenarios/default.toml"\n[health]\ndeterioration_rate_per_year ='
                 " { stable = 365.0, fluctuating = 365.0, unstable = 365.0, palliative = 365.0 }\n")
    res = CliRunner().invoke(app, ["compare", str(f)])
    assert res.exit_code == 2
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith(f"error: {f}: population.persons_65plus = 18,000")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daily.toml"]


def test_cli_warns_and_runs(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_HOURS_WARN, "1e-9")
    f = tmp_path / "tiny.toml"
    f.write_text('base = "narvard:scenarios/default.toml"\n[simulation]\nyears = 0.1\nwarmup_years = 0.0\n'
                 "replications = 1\n[population]\npersons_65plus = 200\nentrants_per_year = 0.0\n"
                 "[capacity]\nbeds = 4\nshort_term_places = 2\n")
    res = CliRunner().invoke(app, ["run", str(f), "--executor", "serial"])
    assert res.exit_code == 0, res.output
    assert f"warning: {f}: this run needs an estimated" in res.stderr
    assert (tmp_path / "results" / "tiny" / "summary.csv").is_file()


def test_switch_off_counts_every_variants_two_care_systems(tmp_path, monkeypatch):
    """A time limit that one paired run fits but the switch-off's variants do not: refused."""
    from sim.config.budget import ENV_HOURS
    from sim.experiments.switch_off import variants

    s = load_scenario(DEFAULT)
    n = len(variants(s))
    assert n >= 3
    one_pair = estimate(s, 2, 1).hours
    monkeypatch.setenv(ENV_HOURS, repr(2.0 * one_pair))  # twice a paired run, fewer than the variants
    load(DEFAULT, workers=1)  # compare fits
    out = tmp_path / "so.csv"
    res = CliRunner().invoke(app, ["switch-off", str(DEFAULT), "--workers", "1", "--out", str(out)])
    assert res.exit_code == 2
    (line,) = res.stderr.strip().splitlines()
    assert "above the limit" in line and "NARVARD_TIME_LIMIT_HOURS" in line
    assert not out.exists()


def test_sizing_counts_todays_care_and_every_option(tmp_path, monkeypatch):
    """A time limit one paired run fits but 1 + 3 single-system runs per replication do not: refused."""
    from sim.config.budget import ENV_HOURS

    s = load_scenario(DEFAULT)
    monkeypatch.setenv(ENV_HOURS, repr(1.5 * estimate(s, 2, 1).hours))
    load(DEFAULT, workers=1)  # compare fits
    out = tmp_path / "sizing.csv"
    res = CliRunner().invoke(app, ["sizing", str(DEFAULT), "--teams", "1..3", "--workers", "1", "--out", str(out)])
    assert res.exit_code == 2
    (line,) = res.stderr.strip().splitlines()
    assert "above the limit" in line and "NARVARD_TIME_LIMIT_HOURS" in line
    assert not out.exists()
