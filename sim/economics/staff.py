"""Staff pricing of the service concepts (issue 15): who pays a concept, and the nurse time freed.

A concept's staff are paid by the year (``fixed_cost`` rows, priced at its staff table's
cost, :meth:`sim.care.concepts.base.StaffedEnrolment.staff_cost_per_year`); what one
enrolled person-day costs is the team's cost over the person-days enrolled with it
(:func:`sim.output.costs.team_cost_per_enrolled_day`). This module adds the concepts' joint
financing (``payer_shares`` in a concept's section: the home-care physician is paid by primary
care and the municipality together) and the home health nurse time team collaboration frees,
in full-time equivalents.
"""

from __future__ import annotations

from sim.care.concepts import REGISTRY
from sim.domain.units import DAYS_PER_WEEK, DAYS_PER_YEAR


def concept_payer_shares(scenario) -> dict[str, dict[str, float]]:
    """Return provider -> payer -> share for the concepts whose section names ``payer_shares`` (joint financing)."""
    out = {}
    for name, cls in REGISTRY.items():
        shares = getattr(getattr(scenario.concepts, name), "payer_shares", None)
        if shares:
            out[cls.provider] = {payer: float(v) for payer, v in shares.items()}
    return out


def staff_cost_per_enrolled_day(scenario, name: str, capacity: int) -> float:
    """SEK per person-day of a concept whose places are all used: its yearly cost over capacity x 365.25 days."""
    cls = REGISTRY[name]
    return cls.staff_cost_per_year(scenario) / (capacity * DAYS_PER_YEAR) if capacity else 0.0


def nurse_fte(hours_per_year: float, scenario) -> float:
    """Full-time home health nurses that ``hours_per_year`` hours a year make (FTE; ``[capacity]`` week)."""
    week = scenario.capacity.nurse_hours_per_week
    return hours_per_year / (week * DAYS_PER_YEAR / DAYS_PER_WEEK) if week else 0.0
