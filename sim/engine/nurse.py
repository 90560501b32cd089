"""Home health nurse time: the weekly balance of demand, availability and hassle.

Routine home-health visits are counted, not scheduled (:mod:`sim.engine.routine`), so the
nurses' capacity acts through a weekly coverage share: available hours over the hours the
enrolled persons at home need. The care system's hassle share (strulfaktorer) takes its part
of the hours first. The care system's own demands on the nurses (the närsjukvårdsteam's
aftercare visits, issue 15) join the week's demand, and what is left of the available hours
(``nurse_spare_hours``) is what a concept may take for a new follow-up (:meth:`take_nurse_hours`).
"""

from __future__ import annotations

from sim.domain.events import PR, PY, K
from sim.domain.locations import HOME
from sim.domain.units import DAYS_PER_WEEK, MINUTES_PER_HOUR


class NurseTime:
    """The weekly nurse-time process (part of :class:`sim.engine.model.Model`)."""

    def _nurse_time(self):
        """Weekly balance of home health nurse time: demand, availability, hassle."""
        env = self.env
        cap = self.scenario.capacity
        hours_total = cap.home_health_nurses_fte * cap.nurse_hours_per_week
        per_visit_h = cap.nurse_minutes_per_visit / MINUTES_PER_HOUR
        rec, hh, none = self.rec, PR["home_health"], PY["none"]
        while env.now < self.horizon:
            # Enrolment and visits a week at each person's current stratum (kept up by the model): the visits
            # of the enrolled at home, in person order, summed as numpy sums them.
            enrolled = (self.location == HOME) & self.hhc_now
            demand = float(self.hh_weekly_now[enrolled].sum()) * per_visit_h
            t = env.now
            week = min(DAYS_PER_WEEK, self.horizon - t)
            extra = self.care.nurse_hours_per_week(t, week)  # the concepts' follow-ups (h/week; 0 today)
            if extra:
                demand += extra
            lost = hours_total * self.care.hassle_share
            available = hours_total - lost
            self.nurse_coverage = min(1.0, available / demand) if demand > 0 else 1.0
            self.nurse_spare_hours = max(0.0, available - demand)
            f = week / DAYS_PER_WEEK
            rec.record(-1, t, K["nurse_demand_hours"], hh, none, week, demand * f, 0, 0)
            rec.record(-1, t, K["nurse_available_hours"], hh, none, week, available * f, 0, 0)
            rec.record(-1, t, K["nurse_lost_hours"], hh, none, week, lost * f, 0, 0)
            yield env.timeout(week)

    def take_nurse_hours(self, hours: float) -> bool:
        """Take ``hours`` a week from this week's spare nurse hours if they are there (a new follow-up)."""
        if self.nurse_spare_hours + 1e-9 >= hours:
            self.nurse_spare_hours -= hours
            return True
        return False
