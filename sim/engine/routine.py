"""Routine volume: visits and home-help hours counted between a person's state changes.

Primary-care, outpatient and home-health visits and home-help hours are too many to
schedule one by one; their expected number over each stretch at home is booked when the
stretch ends (a state change, an enrolment, the horizon), split at the warm-up end.
"""

from __future__ import annotations

from array import array

import numpy as np

from sim.domain.events import PR, D, K
from sim.domain.locations import HOME

_ROUTINE = D["routine"]


class RoutineVolume:
    """Accrual of routine volume (part of :class:`sim.engine.model.Model`)."""

    def accrue(self, p: int, t: float) -> None:
        """Count routine volume at home since the last accrual, split at the warm-up end."""
        a = self.last_accrual[p]
        self.last_accrual[p] = t
        if self._location[p] != HOME or t <= a:
            return
        if a < self.warmup < t:
            self._accrue(p, a, self.warmup)
            self._accrue(p, self.warmup, t)
        else:
            self._accrue(p, a, t)

    def _routine_codes(self) -> None:
        # Each recipient's factor on the granted home-help hours (mean 1, fixed per person), read as
        # Python floats in the hot path.
        self._help_factor = array("d", np.asarray(self.attrs.help_hours_factor, np.float64).tobytes())
        # Each person's factor on the routine primary-care and outpatient visit rates: frailty ** exponent.
        power = self.scenario.routine.visits_frailty_exponent
        self._visit_factor = (array("d", np.asarray(self.pop.frailty_or_ones() ** power, np.float64).tobytes())
                              if power else None)
        # Event-log codes of the four routine rows, looked up once (this is the engine's hottest path).
        self._rt_rows = tuple(
            (K[kind], PR[provider], self.payer[provider])
            for kind, provider in (
                ("primary_care_visit", "primary_care"),
                ("outpatient_visit", "outpatient"),
                ("home_health_visit", "home_health"),
                ("home_help", "home_help"),
            )
        )
        self._write_routine = self.rec.routine_writer(self._rt_rows, _ROUTINE)
        # Per stratum: primary-care, outpatient and home-health visits a day, home-help hours a day (dependent,
        # independent), read with one look-up per interval.
        self._rt_rates = tuple(zip(self.pc_rate, self.op_rate, self.hh_rate, self.help_dep, self.help_indep,
                                   strict=True))

    def _accrue(self, p: int, a: float, b: float) -> None:
        s = self._stratum[p]
        dt = b - a
        care = self.care
        # Only a person some concept holds can have other multipliers than 1 or concept visits
        # (CareSystem.routine_holders): most intervals skip both calls into the care system.
        holders = care.routine_holders
        held = holders is None
        if not held:
            for persons in holders:
                if p in persons:
                    held = True
                    break
        if held:
            pc_m, op_m, help_m = care.routine_multipliers(p, a)
        else:
            pc_m = op_m = help_m = 1.0
        vf = self._visit_factor
        vdt = dt if vf is None else dt * vf[p]
        pc_rate, op_rate, hh_rate, help_dep, help_indep = self._rt_rates[s]
        q_pc = pc_rate * pc_m * vdt
        q_op = op_rate * op_m * vdt
        q_hh = hh_rate * dt if self._hhc[s][p] else None
        rate = help_dep * self._help_factor[p] if self._dep[s][p] else help_indep
        extra_end = self.help_extra_until[p]
        if a < extra_end < b:
            # The post-discharge hours end inside the stretch: two rows, so that each row's rate is the
            # granted rate (who has home help, and how much a month, is read from the rows).
            self._write_routine(p, a, dt, s, q_pc, q_op, q_hh, None)
            help_k, help_pr, help_py = self._rt_rows[3]
            hours = (rate + self.help_extra) * (extra_end - a)
            if hours > 0:
                self.rec.record(p, a, help_k, help_pr, help_py, extra_end - a, hours * help_m, s, _ROUTINE)
            hours = rate * (b - extra_end)
            if hours > 0:
                self.rec.record(p, extra_end, help_k, help_pr, help_py, b - extra_end, hours * help_m, s, _ROUTINE)
        else:
            # The common case: the interval's two to four rows packed in one call (Recorder.routine_writer).
            hours = rate * dt
            if extra_end > a:
                hours += self.help_extra * (min(b, extra_end) - a)
            self._write_routine(p, a, dt, s, q_pc, q_op, q_hh, hours * help_m if hours > 0 else None)
        if held:
            care.accrue_concepts(p, a, b, s)
