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

from sim.care.concepts.base import Enrolment
from sim.domain.events import D
from sim.domain.health import MINOR, NEEDS_BED
from sim.domain.locations import DEAD, NOT_ENTERED
from sim.domain.routes import DIRECT_ADMIT, ED_ADMIT, ED_ONLY, PLAN_NURSE, PREVENTED, U_ADMIT, U_HOME, U_PREVENT
from sim.domain.strata import STRATA

UNSTABLE = STRATA.index("unstable")
PALLIATIVE = STRATA.index("palliative")


class MobileTeam(Enrolment):
    """The närsjukvårdsteam's caseload, referrals, queue and routing."""

    kind = "team_enrol"
    provider = "mobile_team"

    def __init__(self, model, params, direct_admission: bool):
        super().__init__(model, params.caseload_max)
        self.p = params
        self.direct = direct_admission
        self.queue: deque[int] = deque()
        self.on_leave = None  # set by the care system: where a discharged patient goes next
        self.aftercare: dict[int, float] = {}  # person -> day the team's plan stops acting

    # -- inclusion --------------------------------------------------------------------
    def criteria_met(self, p: int, t: float) -> int:
        """How many of the six inclusion criteria hold for ``p`` at ``t``."""
        m, a, q = self.model, self.model.attrs, self.p
        s = m.stratum[p]
        return (
            int(a.chronic[s, p] >= q.chronic_diagnoses_min)
            + int(m.admissions_last(p, t) >= q.admissions_12m_min)
            + int(a.meds[s, p] >= q.medications_min)
            + int(a.dep[s, p])
            + int(a.age(p, t) >= q.age_min)
            + int(a.hhc[s, p])
        )

    def eligible(self, p: int, t: float) -> bool:
        """At least ``criteria_required`` criteria, and not in the palliative stratum."""
        return self.model.stratum[p] != PALLIATIVE and self.criteria_met(p, t) >= self.p.criteria_required

    def refer(self, p: int, t: float) -> None:
        """A referral (at discharge or from the home health nurse); recorded if eligible."""
        if p in self.members or p in self.queue or not self.eligible(p, t):
            return
        if self.full():
            if self.p.queue_when_full:
                self.queue.append(p)
                self.model.note(p, t, "team_referral", D["queued"], self.provider)
            else:
                self.model.note(p, t, "team_referral", D["full"], self.provider)
            return
        self.model.note(p, t, "team_referral", D["accepted"], self.provider)
        self.start(p, t)

    def start(self, p: int, t: float) -> None:
        """Enrol and schedule the review at the minimum enrolment time."""
        self.enrol(p, t)
        self.aftercare.pop(p, None)
        ev = self.model.env.timeout(self.p.min_enrolment_days)
        ev.callbacks.append(lambda _e: self._review(p, t))

    def _review(self, p: int, started: float) -> None:
        if self.members.get(p) != started:
            return
        t = self.model.env.now
        if self.model.stratum[p] != UNSTABLE:
            self.leave(p, t, "stabilised")
            return
        ev = self.model.env.timeout(self.p.max_enrolment_days - self.p.min_enrolment_days)
        ev.callbacks.append(lambda _e: self._time_limit(p, started))

    def _time_limit(self, p: int, started: float) -> None:
        if self.members.get(p) == started:
            self.leave(p, self.model.env.now, "time_limit")

    def leave(self, p: int, t: float, reason: str) -> None:
        """End the enrolment; a stabilised or time-limited discharge starts the aftercare."""
        if p not in self.members:
            return
        if reason in ("stabilised", "time_limit") and self.p.aftercare_days > 0:
            until = t + self.p.aftercare_days
            self.aftercare[p] = until
            # Routine volume under the plan is accrued up to its end, then at the usual rate.
            self.model.env.timeout(self.p.aftercare_days).callbacks.append(
                lambda _e: self._aftercare_end(p, until))
        super().leave(p, t, reason)

    def _aftercare_end(self, p: int, until: float) -> None:
        if self.aftercare.get(p) == until:
            self.model.accrue(p, self.model.env.now)
            del self.aftercare[p]

    def in_aftercare(self, p: int, t: float) -> bool:
        """The team's plan still acts for ``p`` at ``t``."""
        until = self.aftercare.get(p)
        return until is not None and t < until

    def acts_on(self, p: int, t: float) -> bool:
        """Enrolled, or discharged with the plan still acting."""
        return p in self.members or self.in_aftercare(p, t)

    def after_leave(self, p: int, t: float) -> None:
        if self.on_leave is not None:
            self.on_leave(p, t)
        while self.queue and not self.full():
            q = self.queue.popleft()
            if self.model.location[q] not in (NOT_ENTERED, DEAD) and self.eligible(q, t):
                self.model.note(q, t, "team_referral", D["accepted"], self.provider)
                self.start(q, t)

    def stratum_changed(self, p: int, t: float, new: int) -> None:
        """Stabilised patients leave after the minimum time; palliative ones go to that team."""
        if p not in self.members:
            return
        if new == PALLIATIVE:
            self.leave(p, t, "not_eligible")
        elif new != UNSTABLE and t - self.members[p] >= self.p.min_enrolment_days:
            self.leave(p, t, "stabilised")

    def dropped(self, p: int, t: float) -> None:
        """Death: the enrolment ends and a queued person may take the place."""
        if p in self.queue:
            self.queue.remove(p)
        self.aftercare.pop(p, None)
        self.leave(p, t, "died")

    # -- care ---------------------------------------------------------------------------
    def in_hours(self, t: float) -> bool:
        """Team hours: day 0 of the run is a Monday at 00:00."""
        hour = (t % 1.0) * 24.0
        return (t % 7.0) < self.p.weekdays and self.p.hours_start <= hour < self.p.hours_end

    def route(self, care, p: int, acuity: int, s: int, t: float, u) -> tuple[int, int]:
        """Proactive prevention; at home or a direct admission in hours; the plan out of hours.

        After the team's discharge (aftercare) the plan alone: :meth:`aftercare_route`.
        """
        if p not in self.members:
            return self.aftercare_route(care, p, acuity, s, u)
        if self.in_hours(t):
            return self.home_route(care, p, acuity, s, u, "team_home")
        if u[U_PREVENT] < self.p.prevent_share:
            return PREVENTED, D["team_home"]
        if acuity != NEEDS_BED and u[U_HOME] < self.p.plan_nurse_share:
            return PLAN_NURSE, D["plan_nurse"]
        if acuity == NEEDS_BED:
            return ED_ADMIT, D["plan_ed"]
        # Out of hours without the nurse: the ED, which admits as it does today.
        admit = acuity != MINOR and u[U_ADMIT] < care.admit_assess[s]
        return (ED_ADMIT if admit else ED_ONLY), D["plan_ed"]

    def aftercare_route(self, care, p: int, acuity: int, s: int, u) -> tuple[int, int]:
        """After the team: the plan prevents a share, a bed is a direct admission, the nurse meets the rest."""
        if u[U_PREVENT] < self.p.aftercare_prevent_share:
            return PREVENTED, D["plan_nurse"]
        if acuity == NEEDS_BED:
            return (DIRECT_ADMIT, D["direct"]) if self.direct else care.default_route(p, acuity, s, u)
        if u[U_HOME] < self.p.plan_nurse_share:
            return PLAN_NURSE, D["plan_nurse"]
        return care.default_route(p, acuity, s, u)
