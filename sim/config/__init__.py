"""Scenario parameters: typed objects and the TOML loader."""

from sim.config.loader import ScenarioError, load_scenario, scenario_hash, validate
from sim.config.scenario import STRATA, Scenario

__all__ = ["STRATA", "Scenario", "ScenarioError", "load_scenario", "scenario_hash", "validate"]
