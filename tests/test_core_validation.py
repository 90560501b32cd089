"""Unit: a wrong scenario fails loudly, naming the file and the field path.

Each case writes a small scenario file over ``scenarios/default.toml`` (via ``base``) with one
mistake, and checks that :class:`sim.config.ScenarioError` is raised with a message of the
form ``<file>: <field.path>: <what>``.
"""

from __future__ import annotations

import re

import pytest

from sim.config import ScenarioError, load_scenario
from tests.conftest import DEFAULT, small_scenario


def _write(tmp_path, body: str, name: str = "bad.toml"):
    path = tmp_path / name
    path.write_text(f'base = "{DEFAULT.as_posix()}"\n{body}')
    return path


def _match(path, field: str, what: str) -> str:
    """Regex: the file, then the dotted field path, then the reason (on one line)."""
    return re.escape(str(path)) + r": " + re.escape(field) + r"[^\n]*" + what


def test_base_plus_nothing_loads(tmp_path):
    # The harness itself: a file that only names its base is valid (so the failures below
    # are caused by the one mistake each adds).
    s = load_scenario(_write(tmp_path, ""))
    assert s.capacity.beds == load_scenario(DEFAULT).capacity.beds


@pytest.mark.parametrize(
    ("body", "field", "what"),
    [
        # a misspelt field
        ("[capacity]\nbedz = 3\n", "capacity.bedz", "unknown field"),
        # a misspelt section
        ("[capacities]\nbeds = 3\n", "capacities", "unknown field"),
        # a negative or zero capacity
        ("[capacity]\nbeds = -3\n", "capacity.beds", r"greater than 0 \(got -3\)"),
        ("[capacity]\nshort_term_places = 0\n", "capacity.short_term_places", r"greater than 0 \(got 0\)"),
        # an unknown stratum, as a field and as a transition target
        ("[population]\nstratum_shares = { stable = 0.7, fluctuating = 0.19, unstable = 0.06, frail = 0.05 }\n",
         "population.stratum_shares.frail", "unknown field"),
        ("[health.transition_rates_per_year]\nstable = { frail = 0.1 }\n",
         "health.transition_rates_per_year.stable.frail", "'stable', 'fluctuating', 'unstable' or 'palliative'"),
        ("[concepts.safe_discharge]\nstrata = ['frail']\n", "concepts.safe_discharge.strata.0", "'frail'"),
        # a share above 1, alone and as a sum of two shares of the same deterioration
        ("[health.share_needs_bed]\nstable = 1.5\n", "health.share_needs_bed.stable",
         r"less than or equal to 1 \(got 1.5\)"),
        ("[health.share_needs_bed]\nstable = 0.7\n",
         "health.share_needs_bed.stable + health.share_needs_assessment.stable", r"must not exceed 1 \(got 1.100\)"),
        # a negative rate
        ("[health.death_rate_per_year]\nunstable = -0.1\n", "health.death_rate_per_year.unstable",
         "greater than or equal to 0"),
        # a stratum moving to itself
        ("[health.transition_rates_per_year]\nunstable = { unstable = 0.1 }\n",
         "health.transition_rates_per_year", "unstable.unstable: a stratum cannot move to itself"),
    ],
)
def test_mistake_names_file_and_field(tmp_path, body, field, what):
    path = _write(tmp_path, body)
    with pytest.raises(ScenarioError, match=_match(path, field, what)):
        load_scenario(path)


def test_shares_not_summing_to_one(tmp_path):
    path = _write(tmp_path, "[population]\nstratum_shares = { stable = 0.9, fluctuating = 0.19, "
                            "unstable = 0.06, palliative = 0.05 }\n")
    with pytest.raises(ScenarioError, match=_match(path, "population", r"stratum_shares must sum to 1 \(got 1.2")):
        load_scenario(path)


def test_every_problem_is_reported(tmp_path):
    path = _write(tmp_path, "[capacity]\nbedz = 3\nbeds = -1\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{path}: capacity.") for line in lines)
    assert info.value.problems == [line.removeprefix(f"{path}: ") for line in lines]


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ScenarioError, match=re.escape(str(tmp_path / "none.toml")) + ": file not found"):
        load_scenario(tmp_path / "none.toml")
    path = tmp_path / "broken.toml"
    path.write_text("[capacity\nbeds = 3\n")
    with pytest.raises(ScenarioError, match=re.escape(str(path)) + ": not valid TOML"):
        load_scenario(path)


def test_circular_base(tmp_path):
    (tmp_path / "a.toml").write_text('base = "b.toml"\n')
    (tmp_path / "b.toml").write_text('base = "a.toml"\n')
    with pytest.raises(ScenarioError, match="base: circular base chain"):
        load_scenario(tmp_path / "a.toml")


def test_small_scenario_overrides_are_validated():
    # The test helper goes through the same validation as a file.
    with pytest.raises(ScenarioError, match=r"small: capacity\.beds: Input should be greater than 0"):
        small_scenario(capacity={"beds": 0})


def test_scenario_is_frozen(small):
    with pytest.raises(ValueError, match="frozen"):
        small.capacity.beds = 3  # type: ignore[misc]
