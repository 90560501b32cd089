"""Mobile home-care physician (mobil hemsjukvårdsläkare): about half time, 270-350 listed.

Lists persons enrolled in municipal home health care with three or more medical
interventions (counted here as chronic diagnoses) who live where the physician works.
Home visits replace primary-care and some outpatient visits and meet deteriorations early.
A full list keeps a waiting list, first come first served; each wait is one ``waiting`` row
(time = start, duration = days waited, detail = how it ended: ``enrolled``, ``not_eligible``,
``died``, ``expired`` at ``max_wait_days``, ``censored``), as for the närsjukvårdsteam.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from sim.care.concepts.base import StaffedEnrolment, staffed_metrics
from sim.care.concepts.registry import register
from sim.config.concepts import StaffedParams
from sim.config.scenario import Capacity, PositiveDays, Rate, Share
from sim.domain.locations import DEAD, NOT_ENTERED
from sim.domain.metrics import Caseload, PerYear, Unserved, Waiting
from sim.domain.units import DAYS_PER_YEAR


class HomePhysicianParams(StaffedParams):
    """Mobile home-care physician (mobil hemsjukvårdsläkare), about half time."""

    list_max: Capacity | None = Field(default=None,
                                      description="per-physician cap on persons listed (none: the staff decide)")
    area_share: Share = Field(description="share of the area's persons living where the physician works")
    medical_interventions_min: Annotated[int, Field(ge=0)] = Field(
        description="medical interventions in home health care, counted as chronic diagnoses"
    )
    prevent_share: Share
    home_treat_share: Share
    primary_care_multiplier: Annotated[float, Field(ge=0.0, le=2.0)]
    outpatient_multiplier: Annotated[float, Field(ge=0.0, le=2.0)]
    visits_per_year: Rate
    max_wait_days: PositiveDays | None = Field(
        default=None, description="days on the waiting list after which the person stays with the primary-care "
                                  "centre and the nurse (none: waits until a place is free)")


@register
class HomePhysician(StaffedEnrolment):
    """The physician's list, a waiting list when it is full, and routing."""

    name = "home_physician"
    Params = HomePhysicianParams
    provider = "home_physician"
    kind = "physician_list"
    kinds = ("physician_list", "physician_unlist", "physician_visit", "staff_time", "staff_limit", "waiting",
             "wait_expired")
    details = ("not_eligible", "capacity", "staff_capacity", "available", "acute", "enrolled", "expired", "died",
               "censored")
    home_visit = ("physician_home", "physician_visit")
    metrics = {
        "home_physician_list": Caseload("physician_list", "mean persons listed"),
        **staffed_metrics("home_physician", "physician_visit", "physician_home"),
        "home_physician_unserved": Unserved("waiting", "physician_list", "home_physician",
                                            "eligible persons who waited and were not listed, per year in the area"),
        "home_physician_expired": PerYear("wait_expired", "home_physician", (),
                                          "waits ended at the maximum wait per year in the area"),
        "home_physician_wait_days": Waiting("home_physician", "person_days",
                                            "person-days waiting per year in the area"),
        "home_physician_wait_mean": Waiting("home_physician", "mean", "days waited (mean of waits)"),
        "home_physician_wait_p90": Waiting("home_physician", "p90", "days waited (90th percentile of waits)"),
    }
    staff_cost = "home_physician_year"
    priority = 30
    routine_holders = ("members",)

    cap_field = "list_max"

    @classmethod
    def planned_visits_per_week(cls, params) -> float:
        """Planned home visits per listed person and week (from ``visits_per_year``)."""
        return params.visits_per_year * 7.0 / DAYS_PER_YEAR

    def __init__(self, port, params, care):
        super().__init__(port, params, care)
        # Where a person lives is fixed: one CONCEPT-stream uniform per person.
        self.covered = port.concept_uniforms(np.arange(port.persons), 0) < params.area_share
        # Covered, in home health and with enough interventions, per (stratum, person): fixed, one byte each.
        a = port.attrs
        self._fixed = [row.tobytes() for row in self.covered & a.hhc & (a.chronic >= params.medical_interventions_min)]
        #: person -> (day the wait started, stratum then); insertion order is the queue (first come first served)
        self.waiting: dict[int, tuple[float, int]] = {}

    def eligible(self, p: int) -> bool:
        """Tell whether ``p`` lives in the area, is in home health care, with enough medical interventions."""
        port = self.port
        return bool(self._fixed[port.stratum_of(p)][p]) and port.location_of(p) not in (NOT_ENTERED, DEAD)

    def check(self, p: int, t: float) -> None:
        """List or unlist ``p`` after a change in their state; a full list puts an eligible person on the wait."""
        if p in self.members:
            if not self.eligible(p):
                self.leave(p, t, "not_eligible")
            return
        if not self.eligible(p):
            if p in self.waiting:
                self.end_wait(p, t, "not_eligible")
            return
        if self.waiting and not self.full():  # places appeared without a leave (the list's ramp): queue order
            self.after_leave(p, t)
            if p in self.members:
                return
        if self.full():
            if p not in self.waiting:
                self.start_wait(p, t, self.p.max_wait_days)
            return
        self.enrol(p, t)

    def after_leave(self, p: int, t: float) -> None:
        """Give the free places to the persons waiting longest (all waiting are eligible: others left the list)."""
        while self.waiting and not self.full():
            q = next(iter(self.waiting))
            if q not in self.members and self.eligible(q):
                self.end_wait(q, t, "enrolled")
                self.enrol(q, t)
            else:
                self.end_wait(q, t, "not_eligible")

    def on_death(self, p: int, t: float) -> None:
        """End a wait or the listing of a person who died."""
        if p in self.waiting:
            self.end_wait(p, t, "died")
        super().on_death(p, t)

    def on_end(self, t: float) -> None:
        """Censor the waits, then the listings, at the horizon (or when the physician stops)."""
        for p in list(self.waiting):
            self.end_wait(p, t, "censored")
        super().on_end(t)

    # -- hooks --------------------------------------------------------------------------
    def on_enter(self, p: int, t: float) -> None:
        """Check a person who enters."""
        self.check(p, t)

    def on_stratum_change(self, p: int, t: float, old: int, new: int) -> None:
        """Check again after a stratum change."""
        self.check(p, t)

    def handed_over(self, p: int, t: float) -> None:
        """Check a patient another concept (the mobile team) discharged."""
        self.check(p, t)

    def routine_multipliers(self, p: int, t: float) -> tuple[float, float, float]:
        """Primary-care and outpatient visits replaced for listed persons."""
        if p in self.members:
            return self.p.primary_care_multiplier, self.p.outpatient_multiplier, 1.0
        return 1.0, 1.0, 1.0

    def accrue(self, p: int, a: float, b: float, s: int) -> None:
        """Book the physician's routine home visits."""
        if p in self.members:
            days = b - a
            self.port.book(p, a, "physician_visit", "home_physician", days,
                           self.p.visits_per_year * days / DAYS_PER_YEAR, "routine")

    def route(self, p: int, acuity: int, s: int, t: float, u) -> tuple[int, str]:
        """Act early: some deteriorations prevented, some met at home, beds by direct admission."""
        return self.home_route(p, acuity, s, u, "physician_home")
