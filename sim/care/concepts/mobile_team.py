"""Mobile närsjukvårdsteam: a geriatrician and two specialist nurses, weekdays 08-17.

About 24 persons enrolled at once (CAP-1). Inclusion when at least 4 of 6 criteria hold,
from the person's attributes and the simulated record (admissions in the last 12 months).
Intensive enrolment for a limited period, then discharge to the home physician or basal
home health care when stabilised. After that discharge the team's care plan (a complete care
plan and medication list, a named responsible physician, direct admission when a bed is
needed) keeps acting for ``aftercare_days``: the home health nurse prevents a share of
deteriorations, meets others at home with the plan, and outpatient clinic follow-ups stay
with the physician at home. The plan's follow-up visits are the area's home health nurses'
time: they join the week's nurse demand (competing with ordinary home health care), and a
plan starts only if the week's spare nurse hours hold it (else an ``aftercare`` row with
detail ``no_nurse_time``) and one of its places (``aftercare_nurse_fte``) is free.
How strong and how long is an assumption the calibration fits to the 12-month designs
(SKA-1, SKA-2); the sources report only the before/after figures.
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from sim.care.concepts.base import StaffedEnrolment, staffed_metrics
from sim.care.concepts.registry import register
from sim.config.concepts import StaffedParams
from sim.config.scenario import Capacity, NonNegDays, PositiveDays, Rate, Share
from sim.domain.health import MINOR, NEEDS_BED
from sim.domain.locations import DEAD, HOME, NOT_ENTERED
from sim.domain.metrics import Caseload, PerYear, RefusedShare, Unserved, Waiting, WeeklyHours
from sim.domain.routes import (
    ADMITTED,
    DIRECT_ADMIT,
    ED_ADMIT,
    ED_ONLY,
    NURSE,
    PLAN_NURSE,
    PREVENTED,
    TEAM_HOME,
    U_ADMIT,
    U_HOME,
    U_HOSPITAL_AT_HOME,
    U_PREVENT,
)
from sim.domain.strata import PALLIATIVE, UNSTABLE
from sim.domain.units import DAYS_PER_WEEK, MINUTES_PER_HOUR


class MobileTeamParams(StaffedParams):
    """Mobile närsjukvårdsteam: geriatrician + two specialist nurses, weekdays 08-17."""

    caseload_max: Capacity | None = Field(default=None,
                                          description="per-team cap on persons enrolled (none: the staff decide)")
    criteria_required: Annotated[int, Field(ge=1, le=6)]
    chronic_diagnoses_min: Annotated[int, Field(ge=0)]
    admissions_12m_min: Annotated[int, Field(ge=0)]
    medications_min: Annotated[int, Field(ge=0)]
    age_min: Annotated[float, Field(ge=65.0)]
    max_enrolment_days: PositiveDays
    min_enrolment_days: NonNegDays
    queue_when_full: bool = Field(description="wait for a place on the waiting list (true) or refuse (false)")
    waiting_list_max: Capacity | None = Field(
        default=None, description="places on the waiting list (none: no limit); a referral finding it full is refused"
    )
    max_wait_days: PositiveDays | None = Field(
        default=None, description="days on the list after which the person goes back to ordinary care (none: no limit)"
    )
    priority_recent_days: PositiveDays = Field(
        default=90.0, description="the recent record the need score counts admissions over (days)"
    )
    priority_admission_weight: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        default=1.0, description="need score points per admission in the recent record"
    )
    target_enrolment_days: PositiveDays | None = Field(
        default=None,
        description="target enrolment length: discharged then when someone waits, stabilised or not (none, or at "
                    "least max_enrolment_days: no target)",
    )
    serve_special_housing: bool = Field(
        default=False,
        description="the team also enrols residents of special housing (DOMAIN.md 4: it serves persons in "
                    "municipal home health care, visiting at home; residents have the special housing's nurses "
                    "and the engine routes their deteriorations there, never to the team)",
    )
    hours_start: Annotated[float, Field(ge=0.0, lt=24.0)]
    hours_end: Annotated[float, Field(gt=0.0, le=24.0)]
    weekdays: Annotated[int, Field(ge=1, le=7)]
    prevent_share: Share
    home_treat_share: Share = Field(description="in hours: non-bed deteriorations met at home")
    plan_nurse_share: Share = Field(description="out of hours: share handled by the nurse with the plan")
    hospital_at_home_share: Share = Field(
        default=0.0,
        description="in hours: share of bed-needing deteriorations (not prevented) the team treats at home "
                    "(hospital at home) instead of admitting, if its acute time holds the episode (0 = off)",
    )
    hospital_at_home_aftercare_share: Share = Field(
        default=0.0,
        description="after the team's discharge, under its plan: share of admissions the team takes back for "
                    "hospital at home (open return), if its acute time holds the episode (0 = off)",
    )
    hospital_at_home_days: PositiveDays = Field(
        default=5.0, description="days the team treats one bed-needing episode at home (days)"
    )
    hospital_at_home_visits_per_day: Rate = Field(
        default=1.0, description="team home visits per day of a home-treated bed-needing episode (visits/day)"
    )
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
    aftercare_nurse_fte: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        default=0.0,
        description="FTE of the area's home health nurses (of [capacity]'s pool) per team who follow the team's "
                    "plans (sets the aftercare places)",
    )
    aftercare_visits_per_week: Rate = Field(
        default=1.0, description="the nurse's follow-up visits per person and week under the plan"
    )

    @model_validator(mode="after")
    def _hours(self) -> MobileTeamParams:
        if self.hours_end <= self.hours_start:
            raise ValueError("hours_end must be after hours_start")
        if self.min_enrolment_days > self.max_enrolment_days:
            raise ValueError("min_enrolment_days must not exceed max_enrolment_days")
        if self.target_enrolment_days is not None and self.target_enrolment_days < self.min_enrolment_days:
            raise ValueError("target_enrolment_days must not be below min_enrolment_days")
        return self


@register
class MobileTeam(StaffedEnrolment):
    """The närsjukvårdsteam's caseload, referrals, queue and routing."""

    name = "mobile_team"
    Params = MobileTeamParams
    provider = "mobile_team"
    kind = "team_enrol"
    kinds = ("team_referral", "team_enrol", "team_discharge", "team_visit", "staff_time", "staff_limit", "waiting",
             "wait_expired", "aftercare")
    details = ("accepted", "full", "queued", "stabilised", "time_limit", "not_eligible", "plan_nurse", "plan_ed",
               "capacity", "staff_capacity", "available", "acute", "enrolled", "expired", "target_length", "died",
               "censored", "followup", "no_nurse_time", "hospital_at_home", "hospital_at_home_followup")
    home_visit = ("team_home", "team_visit")
    more_home_visits = (("hospital_at_home", "team_visit"),)  # an admission treated at home: its first visit
    metrics = {
        "mobile_team_caseload": Caseload("team_enrol", "mean persons enrolled at once"),
        "mobile_team_full_share": RefusedShare("team_referral", ("full", "queued"),
                                               "share of eligible referrals that found the team full"),
        **staffed_metrics("mobile_team", "team_visit", "team_home"),
        "mobile_team_referrals": PerYear("team_referral", "mobile_team", (), "eligible referrals per year in the area"),
        "mobile_team_enrolments": PerYear("team_enrol", "mobile_team", (), "enrolments started per year in the area"),
        "mobile_team_unserved": Unserved("team_referral", "team_enrol", "mobile_team",
                                         "eligible persons not served per year in the area"),
        "mobile_team_wait_expired": PerYear("wait_expired", "mobile_team", (),
                                            "waits ended at the maximum wait per year in the area"),
        "mobile_team_wait_days": Waiting("mobile_team", "person_days",
                                                "person-days waiting per year in the area"),
        "mobile_team_wait_mean": Waiting("mobile_team", "mean", "days waited (mean of waits)"),
        "mobile_team_wait_p90": Waiting("mobile_team", "p90", "days waited (90th percentile of waits)"),
        "mobile_team_aftercare": Caseload("aftercare", "mean persons followed under the team's plan at once"),
        "mobile_team_after_full": RefusedShare(
            "aftercare", ("full",), "share of the team's discharges (and plans ended) that found no aftercare place"),
        "mobile_team_after_nurse": RefusedShare(
            "aftercare", ("no_nurse_time",),
            "share of the team's discharges (and plans ended) refused for lack of home health nurse time"),
        "mobile_team_after_hours": WeeklyHours("staff_time", "home_health", "followup",
                                               "home health nurse hours a week the plans' visits take (mean)"),
    }
    staff_cost = "mobile_team_year"
    priority = 20  # after the palliative team; the plan after discharge before the home physician
    routine_holders = ("members", "aftercare")

    @classmethod
    def planned_visits_per_week(cls, params) -> float:
        """Planned team visits per enrolled person and week."""
        return params.visits_per_week

    def __init__(self, port, params, care):
        super().__init__(port, params, care)
        self.waiting: dict[int, tuple[float, int]] = {}  # person -> (day the wait started, stratum then)
        self.aftercare: dict[int, tuple[float, float]] = {}  # person -> (start, day the team's plan stops acting)
        self.aftercare_places = self.aftercare_capacity(port.scenario, params)
        # The four inclusion criteria that depend on the person and stratum only, counted once per
        # (stratum, person): one byte each, read as a Python int (criteria_met is asked at every referral).
        a = port.attrs
        fixed = ((a.chronic >= params.chronic_diagnoses_min).astype(np.uint8) + (a.meds >= params.medications_min)
                 + a.dep + a.hhc)
        self._fixed_criteria = [row.tobytes() for row in fixed.astype(np.uint8)]


    # -- inclusion --------------------------------------------------------------------
    def criteria_met(self, p: int, t: float) -> int:
        """Count how many of the six inclusion criteria hold for ``p`` at ``t``."""
        port, q = self.port, self.p
        return (
            self._fixed_criteria[port.stratum_of(p)][p]  # chronic diagnoses, medications, dependence, home health
            + int(port.admissions_last(p, t) >= q.admissions_12m_min)
            + int(port.attrs.age(p, t) >= q.age_min)
        )

    def reaches(self, p: int) -> bool:
        """Tell whether the team reaches ``p``: at home, or a resident of special housing if it serves them.

        A resident holds a place also while in hospital (a referral at discharge comes from there).
        """
        return self.p.serve_special_housing or not self.port.holds_place(p)

    def eligible(self, p: int, t: float) -> bool:
        """Tell whether the team reaches ``p``, ``criteria_required`` criteria hold and ``p`` is not palliative."""
        return (self.port.stratum_of(p) != PALLIATIVE and self.reaches(p)
                and self.criteria_met(p, t) >= self.p.criteria_required)

    def need_score(self, p: int, t: float) -> float:
        """Triage score: criteria met, plus admissions in the recent record, plus one if unstable (higher first)."""
        q = self.p
        return (self.criteria_met(p, t)
                + q.priority_admission_weight * self.port.admissions_last(p, t, q.priority_recent_days)
                + float(self.port.stratum[p] == UNSTABLE))

    def refer(self, p: int, t: float) -> None:
        """Take a referral (at discharge or from the home health nurse); recorded if eligible.

        A full team puts the person on the waiting list (if it keeps one and a place on it is
        free) or refuses; a free place goes to the waiting person with the highest need score.
        """
        if p in self.members or p in self.waiting or not self.eligible(p, t):
            return
        if self.full():
            q = self.p
            if q.queue_when_full and (q.waiting_list_max is None or len(self.waiting) < q.waiting_list_max):
                self.start_wait(p, t, q.max_wait_days)
                self.port.note(p, t, "team_referral", "queued", self.provider)
            else:
                self.port.note(p, t, "team_referral", "full", self.provider)
            return
        self.port.note(p, t, "team_referral", "accepted", self.provider)
        self.start(p, t)

    def after_expire(self, p: int, t: float) -> None:
        """Hand ``p`` back to ordinary care: the home-care physician may list the person."""
        self.care.hand_over(self, p, t)

    def next_waiting(self, t: float) -> int | None:
        """Return the waiting person to take next: highest need score now, the longest wait among equals."""
        best, key = None, None
        for q, (start, _s) in self.waiting.items():
            k = (self.need_score(q, t), -start, -q)
            if key is None or k > key:
                best, key = q, k
        return best

    @staticmethod
    def aftercare_capacity(scenario, params) -> int:
        """Persons the plan's nurses follow at once (persons).

        ``teams`` x ``aftercare_nurse_fte`` x the nurses' hours a week, over the hours one
        person's follow-up visits take a week (``aftercare_visits_per_week`` x the home health
        nurse's minutes per visit, travel included, as ``[capacity]`` counts them). These nurses
        are part of the area's pool: the hours the plans use are taken from it week by week.
        """
        cap = scenario.capacity
        need = params.aftercare_visits_per_week * cap.nurse_minutes_per_visit / MINUTES_PER_HOUR
        hours = params.teams * params.aftercare_nurse_fte * cap.nurse_hours_per_week
        if need <= 0:
            return 1_000_000 if hours > 0 else 0
        return math.floor(hours / need + 1e-9)

    def end_aftercare(self, p: int, t: float, reason: str) -> None:
        """End ``p``'s aftercare: one ``aftercare`` row (time = start, duration = days followed)."""
        self.port.accrue(p, t)  # the volume so far under the plan, before it stops acting
        start, _until = self.aftercare.pop(p)
        self.port.note(p, start, "aftercare", reason, "home_health", duration=t - start, quantity=1.0)

    def start(self, p: int, t: float) -> None:
        """Enrol and schedule the review at the minimum enrolment time."""
        if p in self.aftercare:
            self.end_aftercare(p, t, "enrolled")
        self.enrol(p, t)
        self.port.later(self.p.min_enrolment_days, self._review, p, t)

    def _review(self, p: int, started: float) -> None:
        if self.members.get(p) != started:
            return
        t = self.port.now
        if self.port.stratum[p] != UNSTABLE:
            self.leave(p, t, "stabilised")
            return
        target = self.p.target_enrolment_days
        if target is not None and target < self.p.max_enrolment_days:
            self.port.later(target - self.p.min_enrolment_days, self._target, p, started)
        self.port.later(self.p.max_enrolment_days - self.p.min_enrolment_days, self._time_limit, p, started)

    def _target(self, p: int, started: float) -> None:
        # At the target length a patient still enrolled gives the place up when someone waits.
        if self.members.get(p) == started and self.waiting:
            self.leave(p, self.port.now, "target_length")

    def _time_limit(self, p: int, started: float) -> None:
        if self.members.get(p) == started:
            self.leave(p, self.port.now, "time_limit")

    def leave(self, p: int, t: float, reason: str) -> None:
        """End the enrolment; a stabilised or time-limited discharge starts the aftercare."""
        if p not in self.members:
            return
        super().leave(p, t, reason)
        if reason in ("stabilised", "time_limit", "target_length") and self.p.aftercare_days > 0 and self.reaches(p):
            if len(self.aftercare) >= self.aftercare_places:
                self.port.note(p, t, "aftercare", "full", "home_health")
                return
            if not self.port.take_nurse_hours(self.aftercare_hours()):
                # The nurses' week is full: no plan, ordinary home health care goes on.
                self.port.note(p, t, "aftercare", "no_nurse_time", "home_health")
                return
            until = t + self.p.aftercare_days
            self.port.accrue(p, t)
            self.aftercare[p] = (t, until)
            # Routine volume under the plan is accrued up to its end, then at the usual rate.
            self.port.later(self.p.aftercare_days, self._aftercare_end, p, until)

    def aftercare_hours(self) -> float:
        """Home health nurse hours one person's follow-up visits take a week (h/person-week)."""
        return self.p.aftercare_visits_per_week * self.port.scenario.capacity.nurse_minutes_per_visit / MINUTES_PER_HOUR

    def nurse_hours_per_week(self, t: float, days: float) -> float:
        """Nurse hours a week the plans of the persons at home take; one ``staff_time`` row (detail ``followup``).

        The row's quantity is the hours of the ``days`` from ``t`` (a week, shorter at the horizon).
        """
        if self.p.aftercare_days <= 0:
            return 0.0
        location = self.port.location
        n = sum(1 for p, (_start, until) in self.aftercare.items() if t < until and location[p] == HOME)
        hours = n * self.aftercare_hours()
        self.port.note(-1, t, "staff_time", "followup", "home_health", duration=days,
                       quantity=hours * days / DAYS_PER_WEEK, stratum=0)
        return hours

    def _aftercare_end(self, p: int, until: float) -> None:
        a = self.aftercare.get(p)
        if a is not None and a[1] == until:
            self.end_aftercare(p, self.port.now, "time_limit")

    def in_aftercare(self, p: int, t: float) -> bool:
        """Tell whether the team's plan still acts for ``p`` at ``t``."""
        a = self.aftercare.get(p)
        return a is not None and t < a[1]

    def acts_on(self, p: int, t: float) -> bool:
        """Decide while enrolled, or discharged with the plan still acting."""
        return p in self.members or self.in_aftercare(p, t)

    def after_leave(self, p: int, t: float) -> None:
        """Hand the patient over (the home physician may list them); take the next in the queue."""
        self.care.hand_over(self, p, t)
        while self.waiting and not self.full():
            q = self.next_waiting(t)
            if self.port.location[q] not in (NOT_ENTERED, DEAD) and self.eligible(q, t):
                self.end_wait(q, t, "enrolled")
                self.start(q, t)
            else:
                self.end_wait(q, t, "not_eligible")

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

    def on_special_housing(self, p: int, t: float) -> None:
        """Take ``p`` off the team, its list and its plan on moving into special housing (unless it serves residents).

        (A referral at discharge can come just before a place granted at the same instant.)
        """
        if self.p.serve_special_housing:
            return
        if p in self.waiting:
            self.end_wait(p, t, "not_eligible")
        if p in self.aftercare:
            self.end_aftercare(p, t, "special_housing")
        self.leave(p, t, "special_housing")

    def on_death(self, p: int, t: float) -> None:
        """End the enrolment; a queued person may take the place."""
        if p in self.waiting:
            self.end_wait(p, t, "died")
        if p in self.aftercare:
            self.end_aftercare(p, t, "died")
        self.leave(p, t, "died")

    def on_end(self, t: float) -> None:
        """Censor the waits, the enrolments and the plans at the horizon (or when the team stops)."""
        for p in sorted(self.waiting):
            self.end_wait(p, t, "censored")
        super().on_end(t)
        for p in sorted(self.aftercare):
            self.end_aftercare(p, t, "censored")

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
        """Book the team's routine home visits, and the nurse's follow-up visits under the plan."""
        if p in self.members:
            days = b - a
            self.port.book(p, a, "team_visit", "mobile_team", days, self.p.visits_per_week * days / DAYS_PER_WEEK,
                           "routine")
            return
        plan = self.aftercare.get(p)
        if plan is not None:
            days = min(b, plan[1]) - max(a, plan[0])
            if days > 0:
                self.port.book(p, a, "home_health_visit", "home_health", days,
                               self.p.aftercare_visits_per_week * days / DAYS_PER_WEEK, "followup")

    # -- care ---------------------------------------------------------------------------
    def in_hours(self, t: float) -> bool:
        """Tell whether ``t`` is in team hours (day 0 of the run is a Monday at 00:00)."""
        hour = (t % 1.0) * 24.0
        return (t % DAYS_PER_WEEK) < self.p.weekdays and self.p.hours_start <= hour < self.p.hours_end

    def route(self, p: int, acuity: int, s: int, t: float, u) -> tuple[int, str]:
        """Prevent proactively; meet at home or admit directly in hours; the plan out of hours.

        An admission of an enrolled person may become hospital at home (:meth:`hospital_at_home`).
        After the team's discharge (aftercare) the plan alone: :meth:`aftercare_route`.
        """
        if p not in self.members:
            route, name = self.aftercare_route(p, acuity, s, u)
            share = self.p.hospital_at_home_aftercare_share
        else:
            route, name = self.enrolled_route(p, acuity, s, t, u)
            share = self.p.hospital_at_home_share
        if route in ADMITTED and share > 0.0:
            return self.hospital_at_home(p, t, u, route, name, share)
        return route, name

    def enrolled_route(self, p: int, acuity: int, s: int, t: float, u) -> tuple[int, str]:
        """Route of an enrolled person's deterioration before hospital at home is considered."""
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

    def hospital_at_home(self, p: int, t: float, u, route: int, name: str, share: float) -> tuple[int, str]:
        """Treat an admission at home instead (hospital at home), or keep ``route``.

        A ``share`` (``hospital_at_home_share`` of the enrolled, ``hospital_at_home_aftercare_share``
        under the plan after the team; times the learning effect) of the admissions the team's
        routing would make: a direct admission in hours is decided at home (no ED: route
        ``TEAM_HOME``, its first visit detail ``hospital_at_home``); any other admission (through
        the ED, or direct out of hours) becomes an ED visit sent home to the team (``ED_ONLY``; the
        team's first visit a ``team_visit`` row, detail ``hospital_at_home``). An episode is
        ``hospital_at_home_days`` x ``hospital_at_home_visits_per_day`` whole team visits (at least
        one), evenly over its days; each further one is a point row ``hospital_at_home_followup``
        made only if the person is at home then (not after a death or an admission). The whole
        episode's time is taken from this week's acute staff time at the start; if the week's
        time does not hold it, a ``staff_limit`` row (detail ``hospital_at_home``)
        and the admission stands. The draw is the deterioration's care uniform
        ``U_HOSPITAL_AT_HOME`` (CARE stream; unused by any admitted episode otherwise), so the
        health trajectory is untouched.
        """
        q = self.p
        effect = self.effect(t) if q.learning_days > 0.0 else 1.0
        if u[U_HOSPITAL_AT_HOME] >= share * effect:
            return route, name
        visits = max(1, math.floor(q.hospital_at_home_days * q.hospital_at_home_visits_per_day + 1e-9))
        if not self.acute_visit(p, t, float(visits), "hospital_at_home"):
            return route, name
        # The further visits, evenly over the episode's days, each made only if the person is at home then.
        step = q.hospital_at_home_days / visits
        for k in range(1, visits):
            self.port.later(k * step, self._hospital_at_home_visit, p)
        if route == DIRECT_ADMIT and self.in_hours(t):
            return TEAM_HOME, "hospital_at_home"
        self.port.book(p, t, "team_visit", self.provider, 0.0, 1.0, "hospital_at_home")
        return ED_ONLY, ("plan_ed" if route == DIRECT_ADMIT else name)

    def _hospital_at_home_visit(self, p: int) -> None:
        if self.port.location[p] == HOME:
            self.port.book(p, self.port.now, "team_visit", self.provider, 0.0, 1.0, "hospital_at_home_followup")

    def aftercare_route(self, p: int, acuity: int, s: int, u) -> tuple[int, str]:
        """After the team: the plan prevents a share, a bed is a direct admission, the nurse meets the rest."""
        if u[U_PREVENT] < self.p.aftercare_prevent_share:
            return PREVENTED, "plan_nurse"
        if acuity == NEEDS_BED:
            return (DIRECT_ADMIT, "direct") if self.direct else self.care.default_route(p, acuity, s, u)
        if u[U_HOME] < self.p.plan_nurse_share:
            return PLAN_NURSE, "plan_nurse"
        return self.care.default_route(p, acuity, s, u)
