"""Trygg hemgång (Ronneby): four assistant nurses securing the first days at home.

Starts at hospital discharge for the strata it targets (the fluctuating group, "the heavier
newcomers to care"), for a limited period. It replaces most short-term care, lowers the risk
of a relapse in the first weeks and, through reablement, the home help granted afterwards.
"""

from __future__ import annotations

from sim.care.concepts.base import Enrolment
from sim.domain.events import D
from sim.domain.health import NEEDS_BED
from sim.domain.locations import DEAD
from sim.domain.routes import PLAN_NURSE, PREVENTED, U_HOME, U_PREVENT
from sim.domain.strata import STRATA


class SafeDischarge(Enrolment):
    """The safe-discharge team's caseload; a place is reserved at discharge planning."""

    kind = "safe_discharge"
    provider = "safe_discharge"

    def __init__(self, model, params):
        super().__init__(model, params.caseload_max)
        self.p = params
        self.strata = {STRATA.index(s) for s in params.strata}
        self.pending: set[int] = set()
        self.reablement_until: dict[int, float] = {}

    def full(self) -> bool:
        return len(self.members) + len(self.pending) >= self.capacity

    def plan(self, p: int, t: float) -> float:
        """At discharge planning: take the person on if targeted and a place is free."""
        if self.model.stratum[p] in self.strata and not self.full():
            self.pending.add(p)
            return self.p.short_term_care_multiplier
        return 1.0

    def discharged(self, p: int, t: float, to_short_term_care: bool) -> None:
        """Going to a short-term place after all: the team does not start."""
        if to_short_term_care:
            self.pending.discard(p)

    def home(self, p: int, t: float) -> None:
        """Back home: the team's period and the reablement period start."""
        if p not in self.pending:
            return
        self.pending.discard(p)
        self.enrol(p, t)
        self.reablement_until[p] = t + self.p.reablement_days
        env = self.model.env
        env.timeout(self.p.days).callbacks.append(lambda _e: self._done(p, t))
        # Cut the home-help accrual where the reablement effect ends.
        env.timeout(self.p.reablement_days).callbacks.append(lambda _e: self.model.accrue(p, env.now))

    def _done(self, p: int, started: float) -> None:
        if self.members.get(p) == started:
            self.leave(p, self.model.env.now, "home")

    def dropped(self, p: int, t: float) -> None:
        """Death or a new admission ends the period."""
        self.pending.discard(p)
        self.leave(p, t, "died" if self.model.location[p] == DEAD else "hospital")

    def active(self, p: int) -> bool:
        """In the team's period now."""
        return p in self.members

    def route(self, care, p: int, acuity: int, s: int, t: float, u) -> tuple[int, int]:
        """In the team's period: a share caught early; others not needing a bed met by the nurse it alerts."""
        if u[U_PREVENT] < self.p.prevent_share:
            return PREVENTED, D["safe_discharge_home"]
        if acuity != NEEDS_BED and u[U_HOME] < self.p.home_treat_share:
            return PLAN_NURSE, D["plan_nurse"]
        return care.default_route(p, acuity, s, u)

    def help_multiplier(self, p: int, t: float) -> float:
        """Home-help multiplier from reablement."""
        end = self.reablement_until.get(p)
        return self.p.home_help_multiplier if end is not None and t < end else 1.0
