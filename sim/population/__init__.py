"""The persons: population attributes and their exogenous health trajectories."""

from sim.population.health import Trajectories, draw_trajectories
from sim.population.population import Attributes, Population, make_population

__all__ = ["Attributes", "Population", "Trajectories", "draw_trajectories", "make_population"]
