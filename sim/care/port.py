"""What a care system and its concepts may read and do: the port to the engine.

Care never sees the running model. The engine hands it an object with this shape
(:class:`sim.engine.port.EnginePort`): the person's stratum, location (home, hospital,
short-term care, special housing) and attributes, the admission history, the time, and four
things to do: count routine volume so far, book a contact, note an event, and call back later.
Kinds, providers and details are names (the vocabulary of :mod:`sim.domain.events`); the
engine turns them into the log's codes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np


class CarePort(Protocol):
    """The engine as the care layer sees it."""

    scenario: Any  #: the validated scenario (:class:`sim.config.scenario.Scenario`)
    stratum: np.ndarray  #: stratum index per person, now (read only)
    location: np.ndarray  #: location code per person, now (:mod:`sim.domain.locations`; read only)
    attrs: Any  #: the persons' attributes (:class:`sim.population.population.Attributes`)
    persons: int  #: number of persons (present or not yet entered)
    horizon: float  #: last day of the run

    @property
    def now(self) -> float:
        """The simulation clock (day)."""

    @property
    def nurse_coverage(self) -> float:
        """Share of the home health nurses' demanded hours available this week."""

    def stratum_of(self, p: int) -> int:
        """``p``'s stratum now, as a Python int (``stratum[p]`` without a numpy scalar)."""

    def location_of(self, p: int) -> int:
        """``p``'s location code now, as a Python int (``location[p]`` without a numpy scalar)."""

    def in_home_health(self, p: int) -> bool:
        """Enrolled in municipal home health care at the person's current stratum."""

    def in_special_housing(self, p: int) -> bool:
        """Living in special housing (särskilt boende) now; not while in hospital."""

    def holds_place(self, p: int) -> bool:
        """Return whether ``p`` holds a place in special housing (a resident, also while in hospital)."""

    def admissions_last(self, p: int, t: float, days: float = 365.25) -> int:
        """Hospital admissions of ``p`` in the ``days`` before ``t``."""

    def take_nurse_hours(self, hours: float) -> bool:
        """Take ``hours`` a week of the home health nurses' spare time this week; False if not there."""

    def concept_uniforms(self, person, index) -> np.ndarray:
        """Uniforms of the CONCEPT stream (decisions not tied to one deterioration)."""

    def accrue(self, p: int, t: float) -> None:
        """Count ``p``'s routine volume up to ``t`` under the care so far (before a change)."""

    def book(self, p: int, t: float, kind: str, provider: str, duration: float, quantity: float,
             detail: str = "") -> None:
        """Record a contact of a concept's own staff (priced as staff time, not per contact)."""

    def note(self, p: int, t: float, kind: str, detail: str = "", provider: str = "none",
             duration: float = 0.0, quantity: float = 0.0, stratum: int | None = None) -> None:
        """Record an event that costs nothing in itself (``stratum``: the person's at ``t``)."""

    def staffed(self, provider: str, t: float, days: float) -> None:
        """Record ``days`` of a concept's staffed time from day ``t`` (its fixed cost, priced after the run)."""

    def later(self, delay: float, fn: Callable[..., None], *args) -> None:
        """Call ``fn(*args)`` after ``delay`` days."""
