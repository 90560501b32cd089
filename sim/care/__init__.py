"""Care systems: what happens at each health event, and the service concepts."""

from sim.care.person import PersonCare
from sim.care.system import CareSystem

#: Care systems by paradigm name (insatsstyrning / individstyrning).
CARE_SYSTEMS = {"intervention": CareSystem, "person": PersonCare}

__all__ = ["CARE_SYSTEMS", "CareSystem", "PersonCare"]
