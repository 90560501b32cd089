"""narvard-sim: a discrete-event simulation of the Swedish "nära vård" reform.

The same elderly, multimorbid persons, with the same health trajectories, under
intervention-driven care (insatsstyrning) and person-driven care (individstyrning).
"""

# Registers the service concepts, and with them their scenario sections, before any scenario is read.
import sim.care.concepts  # noqa: F401
from sim.config import Scenario, ScenarioError, load_scenario
from sim.engine import Model
from sim.experiments.runner import PARADIGMS, run_replication

__all__ = ["PARADIGMS", "Model", "Scenario", "ScenarioError", "load_scenario", "run_replication"]
__version__ = "0.1.0"
