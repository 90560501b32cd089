"""Service concepts of individstyrning, each switchable alone in a scenario."""

from sim.care.concepts.home_physician import HomePhysician
from sim.care.concepts.mobile_team import MobileTeam
from sim.care.concepts.palliative_team import PalliativeTeam
from sim.care.concepts.safe_discharge import SafeDischarge

__all__ = ["HomePhysician", "MobileTeam", "PalliativeTeam", "SafeDischarge"]
