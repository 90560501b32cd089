"""Intervention-driven care (insatsstyrning): today's care system, and the base of all care systems.

A care system decides what happens at each deterioration and around each discharge; it never
touches the health trajectory. It draws only from the CARE and RELAPSE streams, through the
pre-drawn uniforms the model hands it, so whatever it decides the trajectories stay the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.domain.health import MINOR, NEEDS_ASSESSMENT, NEEDS_BED
from sim.domain.routes import ED_ADMIT, ED_ONLY, NURSE, PRIMARY, U_ADMIT, U_ED, U_NURSE

if TYPE_CHECKING:
    from sim.care.port import CarePort


class CareSystem:
    """Insatsstyrning: each provider delivers its own intervention; coordination comes last."""

    paradigm = "intervention"
    #: Containers of persons (dicts or sets) outside all of which :meth:`routine_multipliers` is
    #: (1, 1, 1) and :meth:`accrue_concepts` books nothing, so the engine may skip both; None: always
    #: call them. Today's care changes no one's routine volume.
    routine_holders: tuple | None = ()

    def __init__(self, port: CarePort):
        self.port = port
        s = port.scenario
        r = s.routing
        self.ed_assess = r.ed_share_needs_assessment.as_tuple()
        self.admit_assess = r.admit_share_needs_assessment.as_tuple()
        self.ed_minor = r.ed_share_minor.as_tuple()
        self.nurse_home = r.nurse_share_at_home.as_tuple()
        self.hassle_share = s.capacity.nurse_hassle_share
        #: Home visits a route may name: detail -> (kind, provider) of the visit row.
        self.home_visits: dict[str, tuple[str, str]] = {"plan_nurse": ("home_health_visit", "home_health")}

    # -- decisions at a deterioration ---------------------------------------------------
    def route(self, p: int, acuity: int, s: int, t: float, u) -> tuple[int, str]:
        """Route a deterioration at home: ``(route, detail name)``."""
        return self.default_route(p, acuity, s, u)

    def default_route(self, p: int, acuity: int, s: int, u) -> tuple[int, str]:
        """Route today's way: the ED decides; the nurse or the primary-care centre meets the rest."""
        if acuity == NEEDS_BED:
            return ED_ADMIT, "via_ed"
        if acuity == NEEDS_ASSESSMENT:
            if u[U_ED] < self.ed_assess[s]:
                return (ED_ADMIT if u[U_ADMIT] < self.admit_assess[s] else ED_ONLY), "via_ed"
        elif acuity == MINOR and u[U_ED] < self.ed_minor[s]:
            return ED_ONLY, "via_ed"
        port = self.port
        if port.in_home_health(p) and u[U_NURSE] < self.nurse_home[s] * port.nurse_coverage:
            return NURSE, "acute"
        return PRIMARY, "acute"

    # -- modifiers (neutral today) -------------------------------------------------------
    def los_multiplier(self, p: int) -> float:
        """Multiplier on the medical length of stay."""
        return 1.0

    def plan_discharge(self, p: int, t: float) -> float:
        """Discharge planning when medically ready: multiplier on the short-term-care probability.

        A service concept may take the person on here (Trygg hemgång starts at discharge).
        """
        return 1.0

    def relapse_multiplier(self, p: int) -> float:
        """Multiplier on the probability of a post-discharge relapse."""
        return 1.0

    def routine_multipliers(self, p: int, t: float) -> tuple[float, float, float]:
        """Multipliers on routine primary-care visits, outpatient visits and home-help hours."""
        return 1.0, 1.0, 1.0

    def accrue_concepts(self, p: int, a: float, b: float, s: int) -> None:
        """Book the service concepts' own routine contacts over ``[a, b)``; none today."""

    def nurse_hours_per_week(self, t: float, days: float) -> float:
        """Home health nurse hours a week the concepts' follow-ups need from ``t`` for ``days`` (none today)."""
        return 0.0

    # -- notifications -------------------------------------------------------------------
    def on_start(self) -> None:
        """Start what runs from the start (concept windows, staff costs)."""

    def on_enter(self, p: int, t: float) -> None:
        """Take note: a person entered the area (or was there at the start)."""

    def on_admission(self, p: int, t: float) -> None:
        """Take note: a person was admitted to hospital."""

    def on_discharge(self, p: int, t: float, to_short_term_care: bool) -> None:
        """Take note: a person left hospital (``to_short_term_care`` if to a short-term place)."""

    def on_home(self, p: int, t: float) -> None:
        """Take note: a person is back home (after hospital, or after short-term care)."""

    def on_special_housing(self, p: int, t: float) -> None:
        """Take note: a person moved into special housing (from home, hospital or short-term care)."""

    def on_stratum_change(self, p: int, t: float, old: int, new: int) -> None:
        """Take note: a person's stratum changed."""

    def on_deterioration_at_home(self, p: int, t: float, route: int) -> None:
        """Take note: a deterioration at home was handled by ``route``."""

    def on_death(self, p: int, t: float) -> None:
        """Take note: a person died."""

    def on_end(self, t: float) -> None:
        """Take note: the horizon is reached."""
