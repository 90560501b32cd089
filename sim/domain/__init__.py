"""The domain vocabulary: strata, health events, locations and routes, event-log codes, units.

Everything in the package may import from here; this package imports nothing of the package.
"""

from sim.domain.events import DETAILS, KINDS, PAYERS, PR, PROVIDERS, PY, D, K
from sim.domain.strata import STRATA, Stratum
from sim.domain.units import DAYS_PER_WEEK, DAYS_PER_YEAR

__all__ = ["D", "DAYS_PER_WEEK", "DAYS_PER_YEAR", "DETAILS", "K", "KINDS", "PAYERS", "PR", "PROVIDERS",
           "PY", "STRATA", "Stratum"]
