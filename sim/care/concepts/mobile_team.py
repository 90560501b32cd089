"""Mobile närsjukvårdsteam: a geriatrician and two specialist nurses, weekdays 08-17.

About 24 persons enrolled at once (CAP-1). Inclusion when at least 4 of 6 criteria hold,
from the person's attributes and the simulated record (admissions in the last 12 months).
Intensive enrolment for a limited period, then discharge to the home physician or basal
home health care when stabilised. After that discharge the team's care plan (a complete care
plan and medication list, a named responsible physician, direct admission when a bed is
needed) keeps acting for ``aftercare_days``: the home health nurse prevents a share of
deteriorations, meets others at home with the plan, and outpatient clinic follow-ups stay
with the physician at home. How strong and how long is an assumption the calibration fits to
the 12-month designs (SKA-1, SKA-2); the sources report only the before/after figures.
"""

from __future__ import annotations

from collections import deque
from typing import Annotated

from pydantic import Field, model_validator

from sim.care.concepts.base import Enrolment
from sim.care.concepts.registry import register
from sim.config.concepts import ConceptParams
from sim.config.scenario import Capacity, NonNegDays, PositiveDays, Rate, Share
from sim.domain.health import MINOR, NEEDS_BED
from sim.domain.locations import DEAD, NOT_ENTERED
from sim.domain.metrics import Caseload, RefusedShare
from sim.domain.routes import (
    DIRECT_ADMIT,
    ED_ADMIT,
    ED_ONLY,
    NURSE,
    PLAN_NURSE,
    PREVENTED,
    U_ADMIT,
    U_HOME,
    U_PREVENT,
)
from sim.domain.strata import PALLIATIVE, UNSTABLE


class MobileTeamParams(ConceptParams):
    """Mobile närsjukvårdsteam: geriatrician + two specialist nurses, weekdays 08-17."""

    caseload_max: Capacity
    criteria_required: Annotated[int, Field(ge=1, le=6)]
    chronic_diagnoses_min: Annotated[int, Field(ge=0)]
    admissions_12m_min: Annotated[int, Field(ge=0)]
    medications_min: Annotated[int, Field(ge=0)]
    age_min: Annotated[float, Field(ge=65.0)]
    max_enrolment_days: PositiveDays
    min_enrolment_days: NonNegDays
    queue_when_full: bool = Field(description="wait for a place (true) or refuse (false)")
    hours_start: Annotated[float, Field(ge=0.0, lt=24.0)]
    hours_end: Annotated[float, Field(gt=0.0, le=24.0)]
    weekdays: Annotated[int, Field(ge=1, le=7)]
    prevent_share: Share
    home_treat_share: Share = Field(description="in hours: non-bed deteriorations met at home")
    plan_nurse_share: Share = Field(description="out of hours: share handled by the nurse with the plan")
    los_multiplier: Annotated[float, Field(gt=0.0, le=2.0)]
    outpatient_multiplier: Annotated[float, Field(ge=0.0, le=2.0)]
    relapse_multiplier: Annotated[float, Field(ge=0.0, le=2.0)]
    referral_from_nurse: bool
    visits_per_week: Rate = Field(description="team home visits per enrolled person and week")
    aftercare_days: NonNegDays = Field(
        default=0.0,
        description="days the team's care plan keeps acting after a stabilised or time-limited discharge (0 = off)",
    )
    aftercare_prevent_share: Share = Field(
        default=0.0, description="in the aftercare period: share of deteriorations prevented by the plan"
    )
    aftercare_outpatient_multiplier: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        default=1.0, description="in the aftercare period: multiplier on outpatient clinic visits"
    )

    @model_validator(mode="after")
    def _hours(self) -> MobileTeamParams:
        if self.hours_end <= self.hours_start:
            raise ValueError("hours_end must be after hours_start")
        if self.min_enrolment_days > self.max_enrolment_days:
            raise ValueError("min_enrolment_days must not exceed max_enrolment_days")
        return self


@register
class MobileTeam(Enrolment):
    """The närsjukvårdsteam's caseload, referrals, queue and routing."""

    name = "mobile_team"
    Params = MobileTeamParams
    provider = "mobile_team"
    kind = "team_enrol"
    kinds = ("team_referral", "team_enrol", "team_discharge", "team_visit")
    details = ("accepted", "full", "queued", "stabilised", "time_limit", "not_eligible", "plan_nurse", "plan_ed")
    home_visit = ("team_home", "team_visit")
    metrics = {
        "mobile_team_caseload": Caseload("team_enrol", "mean persons enrolled at once"),
        "mobile_team_full_share": RefusedShare("team_referral", ("full", "queued"),
                                               "share of eligible referrals that found the team full"),
    }
    staff_cost = "mobile_team_year"
    priority = 20  # after the palliative team; the plan after discharge before the home physician

    def __init__(self, port, params, care):
        super().__init__(port, params, care, params.caseload_max)
        self.queue: deque[int] = deque()
        self.aftercare: dict[int, float] = {}  # person -> day the team's plan stops acting


    # -- inclusion --------------------------------------------------------------------
    def criteria_met(self, p: int, t: float) -> int:
        """Count how many of the six inclusion criteria hold for ``p`` at ``t``."""
        port, a, q = self.port, self.port.attrs, self.p
        s = port.stratum[p]
        return (
            int(a.chronic[s, p] >= q.chronic_diagnoses_min)
            + int(port.admissions_last(p, t) >= q.admissions_12m_min)
            + int(a.meds[s, p] >= q.medications_min)
            + int(a.dep[s, p])
            + int(a.age(p, t) >= q.age_min)
            + int(a.hhc[s, p])
        )

    def eligible(self, p: int, t: float) -> bool:
        """Tell whether ``criteria_required`` criteria hold and ``p`` is not palliative."""
        return self.port.stratum[p] != PALLIATIVE and self.criteria_met(p, t) >= self.p.criteria_required

    def refer(self, p: int, t: float) -> None:
        """Take a referral (at discharge or from the home health nurse); recorded if eligible."""
        if p in self.members or p in self.queue or not self.eligible(p, t):
            return
        if self.full():
            if self.p.queue_when_full:
                self.queue.append(p)
                self.port.note(p, t, "team_referral", "queued", self.provider)
            else:
                self.port.note(p, t, "team_referral", "full", self.provider)
            return
        self.port.note(p, t, "team_referral", "accepted", self.provider)
        self.start(p, t)

    def start(self, p: int, t: float) -> None:
        """Enrol and schedule the review at the minimum enrolment time."""
        self.enrol(p, t)
        self.aftercare.pop(p, None)
        self.port.later(self.p.min_enrolment_days, self._review, p, t)

    def _review(self, p: int, started: float) -> None:
        if self.members.get(p) != started:
            return
        t = self.port.now
        if self.port.stratum[p] != UNSTABLE:
            self.leave(p, t, "stabilised")
            return
        self.port.later(self.p.max_enrolment_days - self.p.min_enrolment_days, self._time_limit, p, started)

    def _time_limit(self, p: int, started: float) -> None:
        if self.members.get(p) == started:
            self.leave(p, self.port.now, "time_limit")

    def leave(self, p: int, t: float, reason: str) -> None:
        """End the enrolment; a stabilised or time-limited discharge starts the aftercare."""
        if p not in self.members:
            return
        if reason in ("stabilised", "time_limit") and self.p.aftercare_days > 0:
            until = t + self.p.aftercare_days
            self.aftercare[p] = until
            # Routine volume under the plan is accrued up to its end, then at the usual rate.
            self.port.later(self.p.aftercare_days, self._aftercare_end, p, until)
        super().leave(p, t, reason)

    def _aftercare_end(self, p: int, until: float) -> None:
        if self.aftercare.get(p) == until:
            self.port.accrue(p, self.port.now)
            del self.aftercare[p]

    def in_aftercare(self, p: int, t: float) -> bool:
        """Tell whether the team's plan still acts for ``p`` at ``t``."""
        until = self.aftercare.get(p)
        return until is not None and t < until

    def acts_on(self, p: int, t: float) -> bool:
        """Decide while enrolled, or discharged with the plan still acting."""
        return p in self.members or self.in_aftercare(p, t)

    def after_leave(self, p: int, t: float) -> None:
        """Hand the patient over (the home physician may list them); take the next in the queue."""
        self.care.hand_over(self, p, t)
        while self.queue and not self.full():
            q = self.queue.popleft()
            if self.port.location[q] not in (NOT_ENTERED, DEAD) and self.eligible(q, t):
                self.port.note(q, t, "team_referral", "accepted", self.provider)
                self.start(q, t)

    # -- hooks --------------------------------------------------------------------------
    def on_discharge(self, p: int, t: float, to_short_term_care: bool) -> None:
        """Refer at discharge."""
        self.refer(p, t)

    def on_stratum_change(self, p: int, t: float, old: int, new: int) -> None:
        """Stabilised patients leave after the minimum time; palliative ones go to that team.

        A person turning unstable in home health care is referred by the nurse.
        """
        if p in self.members:
            if new == PALLIATIVE:
                self.leave(p, t, "not_eligible")
            elif new != UNSTABLE and t - self.members[p] >= self.p.min_enrolment_days:
                self.leave(p, t, "stabilised")
        if new == UNSTABLE and self.p.referral_from_nurse and self.port.in_home_health(p):
            self.refer(p, t)

    def on_deterioration_at_home(self, p: int, t: float, route: int) -> None:
        """Refer when the nurse met a deterioration at home."""
        if route == NURSE and self.p.referral_from_nurse:
            self.refer(p, t)

    def on_death(self, p: int, t: float) -> None:
        """End the enrolment; a queued person may take the place."""
        if p in self.queue:
            self.queue.remove(p)
        self.aftercare.pop(p, None)
        self.leave(p, t, "died")

    def close(self, t: float) -> None:
        """Stop: nobody waits any more, the plans stop acting, enrolments end."""
        self.queue.clear()
        self.aftercare.clear()
        super().close(t)

    def los_multiplier(self, p: int) -> float:
        """Shorter stays for enrolled patients."""
        return self.p.los_multiplier if p in self.members else 1.0

    def relapse_multiplier(self, p: int) -> float:
        """Fewer relapses for enrolled patients."""
        return self.p.relapse_multiplier if p in self.members else 1.0

    def routine_multipliers(self, p: int, t: float) -> tuple[float, float, float]:
        """Outpatient visits replaced while enrolled and in the aftercare."""
        if p in self.members:
            return 1.0, self.p.outpatient_multiplier, 1.0
        if self.in_aftercare(p, t):
            return 1.0, self.p.aftercare_outpatient_multiplier, 1.0
        return 1.0, 1.0, 1.0

    def accrue(self, p: int, a: float, b: float, s: int) -> None:
        """Book the team's routine home visits."""
        if p in self.members:
            days = b - a
            self.port.book(p, a, "team_visit", "mobile_team", days, self.p.visits_per_week * days / 7.0, "routine")

    # -- care ---------------------------------------------------------------------------
    def in_hours(self, t: float) -> bool:
        """Tell whether ``t`` is in team hours (day 0 of the run is a Monday at 00:00)."""
        hour = (t % 1.0) * 24.0
        return (t % 7.0) < self.p.weekdays and self.p.hours_start <= hour < self.p.hours_end

    def route(self, p: int, acuity: int, s: int, t: float, u) -> tuple[int, str]:
        """Prevent proactively; meet at home or admit directly in hours; the plan out of hours.

        After the team's discharge (aftercare) the plan alone: :meth:`aftercare_route`.
        """
        if p not in self.members:
            return self.aftercare_route(p, acuity, s, u)
        if self.in_hours(t):
            return self.home_route(p, acuity, s, u, "team_home")
        if u[U_PREVENT] < self.p.prevent_share:
            return PREVENTED, "team_home"
        if acuity != NEEDS_BED and u[U_HOME] < self.p.plan_nurse_share:
            return PLAN_NURSE, "plan_nurse"
        if acuity == NEEDS_BED:
            return ED_ADMIT, "plan_ed"
        # Out of hours without the nurse: the ED, which admits as it does today.
        admit = acuity != MINOR and u[U_ADMIT] < self.care.admit_assess[s]
        return (ED_ADMIT if admit else ED_ONLY), "plan_ed"

    def aftercare_route(self, p: int, acuity: int, s: int, u) -> tuple[int, str]:
        """After the team: the plan prevents a share, a bed is a direct admission, the nurse meets the rest."""
        if u[U_PREVENT] < self.p.aftercare_prevent_share:
            return PREVENTED, "plan_nurse"
        if acuity == NEEDS_BED:
            return (DIRECT_ADMIT, "direct") if self.direct else self.care.default_route(p, acuity, s, u)
        if u[U_HOME] < self.p.plan_nurse_share:
            return PLAN_NURSE, "plan_nurse"
        return self.care.default_route(p, acuity, s, u)
