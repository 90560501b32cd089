"""Routine volume: visits and home-help hours counted between a person's state changes.

Primary-care, outpatient and home-health visits and home-help hours are too many to
schedule one by one; their expected number over each stretch at home is booked when the
stretch ends (a state change, an enrolment, the horizon), split at the warm-up end.
"""

from __future__ import annotations

from sim.domain.events import D
from sim.domain.locations import HOME


class RoutineVolume:
    """Accrual of routine volume (part of :class:`sim.engine.model.Model`)."""

    def accrue(self, p: int, t: float) -> None:
        """Count routine volume at home since the last accrual, split at the warm-up end."""
        a = self.last_accrual[p]
        self.last_accrual[p] = t
        if self.location[p] != HOME or t <= a:
            return
        if a < self.warmup < t:
            self._accrue(p, a, self.warmup)
            self._accrue(p, self.warmup, t)
        else:
            self._accrue(p, a, t)

    def _accrue(self, p: int, a: float, b: float) -> None:
        s = int(self.stratum[p])
        dt = b - a
        pc_m, op_m, help_m = self.care.routine_multipliers(p, a)
        c = self.costs
        rt = D["routine"]
        self.book(p, a, "primary_care_visit", "primary_care", dt, self.pc_rate[s] * pc_m * dt,
                  c.primary_care_visit, rt)
        self.book(p, a, "outpatient_visit", "outpatient", dt, self.op_rate[s] * op_m * dt,
                  c.outpatient_visit, rt)
        if self.attrs.hhc[s, p]:
            self.book(p, a, "home_health_visit", "home_health", dt, self.hh_rate[s] * dt,
                      c.home_health_visit, rt)
        rate = self.help_dep[s] if self.attrs.dep[s, p] else self.help_indep[s]
        hours = rate * dt
        extra_end = self.help_extra_until[p]
        if extra_end > a:
            hours += self.help_extra * (min(b, extra_end) - a)
        if hours > 0:
            self.book(p, a, "home_help", "home_help", dt, hours * help_m, c.home_help_hour, rt)
        self.care.accrue_concepts(p, a, b, s)
