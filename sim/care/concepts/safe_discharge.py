"""Trygg hemgång (Ronneby): four assistant nurses securing the first days at home.

Starts at hospital discharge for the strata it targets (the fluctuating group, "the heavier
newcomers to care"), for a limited period. It replaces most short-term care, lowers the risk
of a relapse in the first weeks and, through reablement, the home help granted afterwards.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sim.care.concepts.base import StaffedEnrolment, staffed_metrics
from sim.care.concepts.registry import register
from sim.config.concepts import StaffedParams
from sim.config.scenario import Capacity, NonNegDays, PositiveDays, Rate, Share
from sim.domain.health import NEEDS_BED
from sim.domain.locations import DEAD
from sim.domain.metrics import Caseload
from sim.domain.routes import PLAN_NURSE, PREVENTED, U_HOME, U_PREVENT
from sim.domain.strata import STRATA, Stratum


class SafeDischargeParams(StaffedParams):
    """Trygg hemgång: four assistant nurses securing the first days at home."""

    caseload_max: Capacity | None = Field(default=None,
                                          description="per-team cap on persons at once (none: the staff decide)")
    days: PositiveDays
    strata: list[Stratum]
    relapse_multiplier: Annotated[float, Field(ge=0.0, le=2.0)]
    short_term_care_multiplier: Annotated[float, Field(ge=0.0, le=2.0)]
    home_help_multiplier: Annotated[float, Field(ge=0.0, le=2.0)]
    reablement_days: NonNegDays = Field(description="how long the lower home-help grant lasts after the start")
    prevent_share: Share = Field(
        description="share of deteriorations in the team's period met before they need the ED"
    )
    home_treat_share: Share = Field(
        default=0.0,
        description="in the team's period: deteriorations not needing a bed met at home by the nurse it alerts",
    )
    visits_per_day: Rate


@register
class SafeDischarge(StaffedEnrolment):
    """The safe-discharge team's caseload; a place is reserved at discharge planning."""

    name = "safe_discharge"
    Params = SafeDischargeParams
    provider = "safe_discharge"
    kind = "safe_discharge"
    kinds = ("safe_discharge", "safe_discharge_visit", "staff_time")
    details = ("home", "hospital", "plan_nurse", "capacity", "staff_capacity", "available", "acute", "short_term_care")
    home_visit = ("safe_discharge_home", "safe_discharge_visit")
    metrics = {
        "safe_discharge_caseload": Caseload("safe_discharge", "mean persons in the team's period at once"),
        **{k: v for k, v in staffed_metrics("safe_discharge", "safe_discharge_visit", "safe_discharge_home").items()
           if not k.endswith("_no_time")},  # its acute needs go to the nurse it alerts
    }
    staff_cost = "safe_discharge_team_year"
    priority = 40
    routine_holders = ("members", "reablement_until")

    @classmethod
    def planned_visits_per_week(cls, params) -> float:
        """Planned visits per person and week in the team's period."""
        return params.visits_per_day * 7.0

    def __init__(self, port, params, care):
        super().__init__(port, params, care)
        self.strata = {STRATA.index(s) for s in params.strata}
        self.pending: set[int] = set()
        self.reablement_until: dict[int, float] = {}


    def full(self) -> bool:
        """Tell whether no place is free (places reserved at planning count)."""
        return len(self.members) + len(self.pending) >= self.capacity

    def plan_discharge(self, p: int, t: float) -> float:
        """At discharge planning: take the person on if targeted and a place is free."""
        if self.port.stratum_of(p) in self.strata and not self.full():
            self.pending.add(p)
            return self.p.short_term_care_multiplier
        return 1.0

    def on_discharge(self, p: int, t: float, to_short_term_care: bool) -> None:
        """Release the reserved place of a person going to a short-term place after all.

        The grant is recorded as a period of 0 days ended by ``short_term_care``, so that the
        team's discharges (RON-1...3) count everyone discharged with it, whatever happened next.
        """
        if to_short_term_care and p in self.pending:
            self.pending.discard(p)
            self.port.note(p, t, self.kind, "short_term_care", self.provider, duration=0.0, quantity=1.0)

    def on_home(self, p: int, t: float) -> None:
        """Back home: the team's period and the reablement period start."""
        if p not in self.pending:
            return
        self.pending.discard(p)
        self.enrol(p, t)
        self.reablement_until[p] = t + self.p.reablement_days
        self.port.later(self.p.days, self._done, p, t)
        # Cut the home-help accrual where the reablement effect ends.
        self.port.later(self.p.reablement_days, self._reablement_end, p)

    def _reablement_end(self, p: int) -> None:
        self.port.accrue(p, self.port.now)

    def _done(self, p: int, started: float) -> None:
        if self.members.get(p) == started:
            self.leave(p, self.port.now, "home")

    def _drop(self, p: int, t: float) -> None:
        self.pending.discard(p)
        self.leave(p, t, "died" if self.port.location[p] == DEAD else "hospital")

    def on_admission(self, p: int, t: float) -> None:
        """End the period at a new admission."""
        if p in self.members:
            self._drop(p, t)

    def on_death(self, p: int, t: float) -> None:
        """End the period at death."""
        self._drop(p, t)

    def close(self, t: float) -> None:
        """Stop: reserved places lapse, periods end."""
        self.pending.clear()
        super().close(t)

    def relapse_multiplier(self, p: int) -> float:
        """Fewer relapses in the team's period."""
        return self.p.relapse_multiplier if p in self.members else 1.0

    def routine_multipliers(self, p: int, t: float) -> tuple[float, float, float]:
        """Home-help multiplier from reablement."""
        end = self.reablement_until.get(p)
        return 1.0, 1.0, (self.p.home_help_multiplier if end is not None and t < end else 1.0)

    def accrue(self, p: int, a: float, b: float, s: int) -> None:
        """Book the team's visits in its period."""
        if p in self.members:
            start = self.members[p]
            overlap = min(b, start + self.p.days) - a
            if overlap > 0:
                self.port.book(p, a, "safe_discharge_visit", "safe_discharge", overlap,
                               self.p.visits_per_day * overlap, "routine")

    def route(self, p: int, acuity: int, s: int, t: float, u) -> tuple[int, str]:
        """In the team's period: a share caught early; others not needing a bed met by the nurse it alerts."""
        if u[U_PREVENT] < self.p.prevent_share:
            return PREVENTED, "safe_discharge_home"
        if acuity != NEEDS_BED and u[U_HOME] < self.p.home_treat_share:
            return PLAN_NURSE, "plan_nurse"
        return self.care.default_route(p, acuity, s, u)
