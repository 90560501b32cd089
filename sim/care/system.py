"""Intervention-driven care (insatsstyrning): today's care system, and the base of all care systems.

A care system decides what happens at each deterioration and around each discharge; it never
touches the health trajectory. It draws only from the CARE and RELAPSE streams, through the
pre-drawn uniforms the model hands it, so whatever it decides the trajectories stay the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.domain.events import D
from sim.domain.health import MINOR, NEEDS_ASSESSMENT, NEEDS_BED
from sim.domain.routes import ED_ADMIT, ED_ONLY, NURSE, PRIMARY, U_ADMIT, U_ED, U_NURSE

if TYPE_CHECKING:
    from sim.engine.model import Model


_VIA_ED, _ACUTE = D["via_ed"], D["acute"]


class CareSystem:
    """Insatsstyrning: each provider delivers its own intervention; coordination comes last."""

    paradigm = "intervention"

    def __init__(self, model: Model):
        self.model = model
        s = model.scenario
        r = s.routing
        self.ed_assess = r.ed_share_needs_assessment.as_tuple()
        self.admit_assess = r.admit_share_needs_assessment.as_tuple()
        self.ed_minor = r.ed_share_minor.as_tuple()
        self.nurse_home = r.nurse_share_at_home.as_tuple()
        self.hassle_share = s.capacity.nurse_hassle_share

    # -- decisions at a deterioration ---------------------------------------------------
    def route(self, p: int, acuity: int, s: int, t: float, u) -> tuple[int, int]:
        """Route of a deterioration at home: ``(route, detail code)``."""
        return self.default_route(p, acuity, s, u)

    def default_route(self, p: int, acuity: int, s: int, u) -> tuple[int, int]:
        """Today's pathway: the ED decides; the nurse or the primary-care centre meets the rest."""
        m = self.model
        if acuity == NEEDS_BED:
            return ED_ADMIT, _VIA_ED
        if acuity == NEEDS_ASSESSMENT:
            if u[U_ED] < self.ed_assess[s]:
                return (ED_ADMIT if u[U_ADMIT] < self.admit_assess[s] else ED_ONLY), _VIA_ED
        elif acuity == MINOR and u[U_ED] < self.ed_minor[s]:
            return ED_ONLY, _VIA_ED
        if m.in_home_health(p) and u[U_NURSE] < self.nurse_home[s] * m.nurse_coverage:
            return NURSE, _ACUTE
        return PRIMARY, _ACUTE

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
        """Record a service concept's own routine contacts over ``[a, b)``; none today."""

    # -- notifications -------------------------------------------------------------------
    def on_start(self) -> None:
        """Called once when the run starts (start concept processes)."""

    def on_enter(self, p: int, t: float) -> None:
        """A person enters the area (or is there at the start)."""

    def on_admission(self, p: int, t: float) -> None:
        """A person is admitted to hospital."""

    def on_discharge(self, p: int, t: float, to_short_term_care: bool) -> None:
        """A person leaves hospital (``to_short_term_care`` if to a short-term place)."""

    def on_home(self, p: int, t: float) -> None:
        """A person is back home (after hospital, or after short-term care)."""

    def on_stratum_change(self, p: int, t: float, old: int, new: int) -> None:
        """A person's stratum changed."""

    def on_deterioration_at_home(self, p: int, t: float, route: int) -> None:
        """A deterioration at home was handled by ``route``."""

    def on_death(self, p: int, t: float) -> None:
        """A person died."""

    def on_end(self, t: float) -> None:
        """The horizon is reached."""
