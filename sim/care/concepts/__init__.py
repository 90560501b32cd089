"""Service concepts of individstyrning, one module each, registered as they are imported here.

The order of registration is the order of their scenario sections, of their staff-cost rows
and of their hooks: append a new concept at the end.
"""

# isort: off
from sim.care.concepts import mobile_team  # noqa: F401
from sim.care.concepts import palliative_team  # noqa: F401
from sim.care.concepts import home_physician  # noqa: F401
from sim.care.concepts import safe_discharge  # noqa: F401

# isort: on
from sim.care.concepts.base import Concept, Enrolment
from sim.care.concepts.registry import REGISTRY, metrics, register, unregister

__all__ = ["REGISTRY", "Concept", "Enrolment", "metrics", "register", "unregister"]
