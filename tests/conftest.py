"""Shared fixtures: small scenarios that run in a fraction of a second."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

from sim.config import load_scenario
from sim.config.loader import resolve, validate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "default.toml"


def small_scenario(persons: int = 1500, years: float = 1.0, warmup: float = 0.5, seed: int = 7,
                   replications: int = 2, **sections):
    """The default scenario, shrunk; ``sections`` deep-override parts of it (dicts)."""
    from sim.config.loader import _deep_merge

    data = resolve(DEFAULT)
    data = _deep_merge(data, {
        "simulation": {"seed": seed, "years": years, "warmup_years": warmup, "replications": replications},
        "population": {"persons_65plus": persons, "entrants_per_year": persons * 1167 / 18000},
        "capacity": {"beds": max(4, persons * data["capacity"]["beds"] // 18000),
                     "short_term_places": max(2, persons * data["capacity"]["short_term_places"] // 18000)},
        "special_housing": {"places": persons * data["special_housing"]["places"] // 18000},
    })
    data = _deep_merge(data, sections)
    return validate(data, "small")


@pytest.fixture
def default_scenario():
    return load_scenario(DEFAULT)


@pytest.fixture
def small():
    return small_scenario()


def small_scenario_toml(seed: int, years: float) -> str:
    """A small what-if file on the default scenario (1,200 persons, 8 beds, 62 special-housing places, 2 reps)."""
    return f"""base = [{json.dumps(str(DEFAULT))}]
[meta]
name = "small"
[simulation]
seed = {seed}
years = {years}
warmup_years = 0.25
replications = 2
[population]
persons_65plus = 1200
entrants_per_year = 56
[capacity]
beds = 8
short_term_places = 4
[special_housing]
places = 62
"""


#: A section of the dummy concept of ``tests/dummy_concept.py`` (the plug-in tests and the build-up tests).
DUMMY_SECTION = {"enabled": True, "caseload_max": 40, "prevent_share": 0.5, "visits_per_week": 1.0,
                 "cost_per_year": 1_000_000.0}


@pytest.fixture
def dummy():
    """Register the dummy concept for one test and remove it after."""
    from sim.care.concepts import unregister

    sys.modules.pop("tests.dummy_concept", None)
    module = importlib.import_module("tests.dummy_concept")
    yield module
    unregister("dummy_team")
    sys.modules.pop("tests.dummy_concept", None)
