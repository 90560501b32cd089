"""The hospital pathway: a deterioration at home, its route, the stay, the way home, a relapse.

Read top to bottom: :meth:`~HospitalPathway._deterioration` asks the care system for a route
(:meth:`~HospitalPathway.handle`); an admission waits for a bed, stays its length, may wait
for a short-term place or for home care, and goes home (:meth:`~HospitalPathway._admission`);
at home a relapse may follow (:meth:`~HospitalPathway._back_home`, :meth:`~HospitalPathway._relapse`).
"""

from __future__ import annotations

import math
from heapq import heappush

import numpy as np
import simpy
from scipy.special import ndtri
from simpy.events import URGENT, Event

from sim.domain.events import PR, D, K
from sim.domain.locations import HOME, HOSPITAL, SHORT_TERM, SPECIAL_HOUSING
from sim.domain.routes import (
    ADMITTED,
    DIRECT_ADMIT,
    N_SLOTS,
    PREVENTED,
    TEAM_HOME,
    U_LAG,
    U_LOS,
    U_RELAPSE,
    U_RELAPSE_TIME,
    U_STC,
)
from sim.domain.streams import uniforms, uniforms_of
from sim.domain.units import DAYS_PER_WEEK
from sim.engine.recorder import TAILS, fixed_bytes, pack_fixed, pack_row, tail_bytes
from sim.engine.weekly import every_week

_RELAPSE_DEPTH = 8  # relapse chains longer than this reuse the last depth's numbers
_PLANNED_BASE = 1 << 32  # PLANNED-stream indices of a planned stay's uniforms (below: one per week, whether)
_PLANNED_DET = 1 << 24  # relapse-stream "deterioration index" of a planned stay: week + this, far from real ones
_DETERIORATION, _NO_PROVIDER = K["deterioration"], PR["none"]
_ACUITY_DETAIL = (D["needs_bed"], D["needs_assessment"], D["minor"])  # detail of a deterioration at home, by acuity
_IN_CARE, _FOLLOWUP = D["in_care"], D["followup"]
# The deterioration row's constant fields, packed once (recorder.pack_fixed): its detail by acuity at home, or in care.
_DETERIORATION_FIXED = fixed_bytes(_DETERIORATION, _NO_PROVIDER, 0)
_ACUITY_TAIL, _IN_CARE_TAIL = tuple(tail_bytes(d) for d in _ACUITY_DETAIL), tail_bytes(_IN_CARE)
_PLANNED, _DIRECT, _VIA_ED, _CENSORED = D["planned"], D["direct"], D["via_ed"], D["censored"]


class HospitalPathway:
    """Deteriorations at home and hospital stays (part of :class:`sim.engine.model.Model`)."""

    def _deterioration(self, p: int, t: float, row: int, acuity: int, det_index: int, starts: list) -> None:
        """Take a deterioration of the trajectory (its care uniforms: row ``row``, the ``row``-th deterioration).

        ``starts``: the driver's stays to start when it moves on in time (:meth:`_start_stay`).
        """
        loc = self._location[p]
        if loc == SPECIAL_HOUSING:
            self.housing_deterioration(p, t, acuity, self.care_u[row * N_SLOTS:(row + 1) * N_SLOTS],
                                       self.care_z[row], det_index, starts)
            return
        # The deterioration's row (``note``'s, written here: the most frequent row after routine volume).
        buf = self._rows  # ``Recorder.record``'s body, inlined on the hot path (see Model._stratum_change)
        buf += pack_fixed(p, t, _DETERIORATION_FIXED, self._stratum[p],
                          _ACUITY_TAIL[acuity] if loc == HOME else _IN_CARE_TAIL)
        if len(buf) >= self._rows_limit:
            self.rec.spill()
        if loc != HOME:
            return
        # The row's uniforms as a slice of floats: the route and the stay index them many times.
        self.handle(p, t, acuity, self.care_u[row * N_SLOTS:(row + 1) * N_SLOTS], self.care_z[row], det_index, 0,
                    starts)

    def handle(self, p: int, t: float, acuity: int, u, z: float, det_index: int, depth: int,
               starts: list | None) -> None:
        """Ask the care system for the route of a deterioration at home, and take it.

        ``starts``: the driver's list of stays to start, None in an event's callback (:meth:`_start_stay`).
        """
        s = self._stratum[p]
        route, name = self.care.route(p, acuity, s, t, u)
        detail = D[name]
        if route == PREVENTED:
            kind, provider = self.care.home_visits[name]
            self.note(p, t, kind, D["prevented"], provider)
        elif route == TEAM_HOME:
            # A concept's home visit: marginal cost 0, its staff is paid as a yearly cost.
            kind, provider = self.care.home_visits[name]
            self.book(p, t, kind, provider, 0.0, 1.0, detail)
        else:
            fixed = self.route_rows.get(route)  # the ED, nurse or primary-care visit (``book``'s row, written here)
            if fixed is not None:
                buf = self._rows  # ``Recorder.record``'s body, inlined on the hot path
                buf += pack_fixed(p, t, fixed, self._stratum[p], TAILS[detail])
                if len(buf) >= self._rows_limit:
                    self.rec.spill()
        self.care.on_deterioration_at_home(p, t, route)
        if route in ADMITTED:  # last: _start_stay may take the stay's first step at once
            self._start_stay(p, self._admission(p, acuity, u, z, det_index, depth, route == DIRECT_ADMIT), starts)

    def _start_stay(self, p: int, stay, starts: list | None) -> None:
        """Run the stay's generator as ``p``'s :class:`Episode`; its first step without a start event where it can.

        SimPy would start it with an urgent event at this instant: after the urgent events of this
        instant already queued, and after what the caller still does. With no such event queued,
        the first step can be taken without the event, in the same order. In an event's callback
        (``starts`` None: a relapse, a planned admission, each this call's last act) the start
        would be the very next event: the first step is taken here. The driver (``starts``: its
        list) may still take trajectory events of this instant first: the stay waits in the list
        until the driver moves on in time, and starts where its event would have been processed
        (:meth:`~sim.engine.model.Model._driver`). Same order, times and event ids: byte-identical
        outputs, and one engine event less per stay (the driver's own next step often needs none).
        """
        env = self.env
        queue = env._queue
        urgent_now = bool(queue) and queue[0][0] == env._now and queue[0][1] == URGENT
        ep = self.episode[p] = Episode(env, stay, scheduled=urgent_now)
        if not urgent_now:
            if starts is None:
                ep.start()
            else:
                starts.append(ep)

    def _planned_admissions(self):
        """Weekly: persons at home are called for a planned (elective) admission at their stratum's rate.

        One PLANNED uniform per person and week decides (common random numbers: the same draws under
        every care system); the admission comes at a time within the week (another uniform), if the
        person is still at home then; the stay's own uniforms are further PLANNED numbers.
        """
        yield from every_week(self.env, self.horizon, self._call_planned)

    def _call_planned(self, week: int, t: float) -> None:
        """Draw this week's planned admissions among the persons at home (see :meth:`_planned_admissions`).

        A person at home is called when the week's PLANNED uniform is below the stratum's
        probability; only the persons whose number is below the largest of them can be, and
        those are pre-drawn for all persons (:class:`~sim.engine.weekly.WeeklyHits`, shared by
        the care systems of a replication).
        """
        persons, numbers = self.planned_hits.week(week)
        # Compared as whole arrays (the same float64 numbers and probabilities): a week has thousands of candidates.
        hit = persons[(self.location[persons] == HOME) & (numbers < self.planned_prob[self.stratum[persons]])]
        if not len(hit):
            return
        base = _PLANNED_BASE + week * (N_SLOTS + 1)
        us = uniforms(self.planned_key, hit[:, None], base + np.arange(N_SLOTS + 1)[None, :])
        for p, u in zip(hit.tolist(), us.tolist(), strict=True):
            ev = self.env.timeout(DAYS_PER_WEEK * u[N_SLOTS])
            ev.callbacks.append(lambda _e, p=p, u=u[:N_SLOTS], week=week: self._planned(p, u, week))

    def _planned(self, p: int, u, week: int) -> None:
        """Admit ``p`` for a planned stay, if at home (not in hospital, short-term care, special housing or dead)."""
        if self._location[p] != HOME or p in self.episode or self.env.now >= self.horizon:
            return
        self._start_stay(p, self._admission(p, 0, u, float(ndtri(u[U_LOS])), _PLANNED_DET + week, 0, True,
                                            planned=True), None)

    def _admission(self, p: int, acuity: int, u, z: float, det_index: int, depth: int, direct: bool,
                   planned: bool = False):
        env = self.env
        t0 = env._now
        s = self._stratum[p]
        # A planned stay is not an unplanned readmission, nor one of the admissions the 12-month
        # histories count (inclusion criteria, housing assessments).
        readmit = not planned and t0 - self.last_discharge[p] <= self.readmission_window
        if not planned:
            self.admissions.setdefault(p, []).append(t0)
        self.accrue_here(p, t0)
        self._location[p] = HOSPITAL
        self.care.on_admission(p, t0)
        avoidable = acuity != 0
        bed = self.beds.request()
        stc = None
        t_bed = t_ready = None
        to_stc = False
        dying = False
        cause = None
        try:
            yield bed
            t_bed = env._now
            los = (self.planned_los if planned else self.los_mean[s]) * self.care.los_multiplier(p) * math.exp(
                self.los_sigma * z - self.los_half_var)
            yield env.timeout(los)
            t_ready = env._now
            s_ready = self._stratum[p]
            if self.death_time[p] - t_ready <= self.end_of_life_days:
                # Dying: end-of-life care on the ward until death (or the horizon), not a discharge.
                dying = True
                # Waits for the interrupt (the death, or the horizon's end): an event nobody triggers, which
                # never enters the event queue (a timeout past the horizon would sit in it and never fire).
                yield Event(env)
            elif self._resident[p]:
                pass  # back to the person's place in special housing: no short-term care, no wait
            elif u[U_STC] < self.stc_share[s] * self.care.plan_discharge(p, t_ready):
                to_stc = True
                stc = self.short_term.request()
                yield stc
            elif self.home_care_lag > 0 and self._dep[s_ready][p]:
                yield env.timeout(-self.home_care_lag * math.log(u[U_LAG]))
        except simpy.Interrupt as exc:
            cause = exc.cause
        t1 = env._now
        # A granted request is released; one still queued is withdrawn, so that no place
        # is ever handed to a person who has died.
        if bed.triggered:
            self.beds.release(bed)
        else:
            bed.cancel()
        if stc is not None and not stc.triggered:
            stc.cancel()
            stc = None
        bed_days = t1 - t_bed if t_bed is not None else 0.0
        detail = _PLANNED if planned else (_DIRECT if direct else _VIA_ED)
        if cause == "end":
            detail = _CENSORED
        k, pr, py = self.admission_row
        buf = self._rows  # ``Recorder.record``'s body, inlined on the hot path
        buf += pack_row(p, t0, k, pr, py, t1 - t0, bed_days, s, detail, bool(readmit), avoidable)
        if len(buf) >= self._rows_limit:
            self.rec.spill()
        if t_ready is not None and t1 > t_ready and not dying:
            self._delayed_discharge(p, t_ready, t1, "short_term_care" if to_stc else "home_help", s_ready)
        if cause is not None:
            if stc is not None:
                self.short_term.release(stc)
            self.episode.pop(p, None)
            return
        self.last_discharge[p] = t1
        self.care.on_discharge(p, t1, stc is not None)
        q = self.followups * self.care.routine_multipliers(p, t1)[1]
        k, pr, py = self.followup_row
        buf += pack_row(p, t1, k, pr, py, 0.0, q, self._stratum[p], _FOLLOWUP, False, False)
        if len(buf) >= self._rows_limit:
            self.rec.spill()
        if self._resident[p] and stc is None:
            self.episode.pop(p, None)
            self.move_into_housing(p, t1)
            return
        if stc is not None:
            self._location[p] = SHORT_TERM
            s_stc = self._stratum[p]
            # U_LAG is free here: the home-care lag applies only to those going straight home.
            stay = -self.stc_los_mean * math.log(u[U_LAG])
            try:
                yield env.timeout(stay)
            except simpy.Interrupt as exc:
                cause = exc.cause
            self.short_term.release(stc)
            self.book(p, t1, "short_term_care", "short_term_care", env.now - t1, env.now - t1,
                      D["censored"] if cause == "end" else 0, stratum=s_stc)
            if cause is not None:
                self.episode.pop(p, None)
                return
            if self._resident[p]:  # a place was granted during the stay
                self.episode.pop(p, None)
                self.move_into_housing(p, env.now)
                return
        self.episode.pop(p, None)
        self._back_home(p, u, det_index, depth)

    def _delayed_discharge(self, p: int, t_ready: float, t1: float, waiting_for: str, s: int) -> None:
        """Days as ready for discharge (utskrivningsklar), and the municipality's payment for them.

        The bed-days are the admission row's (the region's resource, counted once). From
        ``discharge_payment_free_days`` after the notice the municipality pays the region per
        day (law 2017:612): a transfer, booked as two rows of the same days, one priced to the
        municipality and one priced negative to the region, so that each payer's net includes
        it and the total cost does not change.
        """
        self.book(p, t_ready, "delayed_discharge", waiting_for, t1 - t_ready, t1 - t_ready, stratum=s)
        t_pay = t_ready + self.scenario.hospital.discharge_payment_free_days
        if t1 > t_pay:
            self.book(p, t_pay, "discharge_payment", waiting_for, t1 - t_pay, t1 - t_pay, stratum=s)
            self.book(p, t_pay, "discharge_payment_received", "hospital", t1 - t_pay, t1 - t_pay, stratum=s)

    def _back_home(self, p: int, u, det_index: int, depth: int) -> None:
        t = self.env._now
        self._location[p] = HOME
        self.last_accrual[p] = t
        self.help_extra_until[p] = t + self.help_extra_days
        self.care.on_home(p, t)
        self.assess_at_discharge(p, t)
        s = self._stratum[p]
        if u[U_RELAPSE] < self.relapse_p[s] * self.care.relapse_multiplier(p):
            delay = -self.relapse_mean * math.log1p(-u[U_RELAPSE_TIME] * self.relapse_in_window)
            serial = self.last_discharge[p]
            ev = self.env.timeout(delay)
            ev.callbacks.append(lambda _e: self._relapse(p, det_index, depth, serial))

    def _relapse(self, p: int, det_index: int, depth: int, serial: float) -> None:
        # Cancelled if the person has since died, left home or been admitted again.
        t = self.env.now
        if self._location[p] != HOME or self.last_discharge[p] != serial or t >= self.horizon:
            return
        d = min(depth, _RELAPSE_DEPTH - 1)
        base = (det_index * _RELAPSE_DEPTH + d) * (N_SLOTS + 1)
        u = uniforms_of(self.relapse_key, p, base, N_SLOTS + 1)
        s = self._stratum[p]
        sh = self.scenario.health
        ua = u[N_SLOTS]
        bed = sh.share_needs_bed.as_tuple()[s]
        acuity = 0 if ua < bed else (1 if ua < bed + sh.share_needs_assessment.as_tuple()[s] else 2)
        self.note(p, t, "deterioration", D["relapse"])
        self.handle(p, t, acuity, u, float(ndtri(u[U_LOS])), det_index, depth + 1, None)


class Episode:
    """A hospital stay's generator (and the model's driver) run as a lean SimPy process: ``env.process``'s order.

    The stay's generator (:meth:`HospitalPathway._admission`) yields the events it waits for, as
    under ``env.process``; this class resumes it from their callbacks. It starts as the next
    urgent event (as SimPy's ``Initialize``), or with no event where that event would be the very
    next one processed (:meth:`HospitalPathway._start_stay`; its id is still drawn); an interrupt
    is an urgent event that throws :class:`simpy.Interrupt` into it (as SimPy's ``Interruption``).
    There is no event at its end (nobody waits for a stay), and a resumption does not go through
    ``Process._resume``'s bookkeeping (the values of the events a stay waits for are never read).
    ``is_alive`` and ``interrupt(cause)`` are a process's.
    """

    __slots__ = ("env", "gen", "target", "resume", "is_alive", "start_id")

    def __init__(self, env: simpy.Environment, gen, scheduled: bool = True) -> None:
        """Schedule the start event; not ``scheduled``: the owner calls :meth:`start` or :meth:`schedule`."""
        self.env, self.gen, self.is_alive = env, gen, True
        self.resume = self._resume  # one bound method, appended to and removed from the events' callbacks
        self.start_id = next(env._eid)  # the start event's id, drawn now in any case: later events keep theirs
        self.target = None
        if scheduled:
            self.schedule()

    def schedule(self) -> None:
        """Schedule the start: ``Event(env)``, triggered, as ``env.schedule(start, URGENT)`` (creation's instant)."""
        env = self.env
        start = self.target = Event.__new__(Event)
        start.env = env
        start.callbacks = [self.resume]
        start._ok = True
        start._value = None
        heappush(env._queue, (env._now, URGENT, self.start_id, start))

    def start(self) -> None:
        """Take the first step now, as the start event would (only where it would be the next event)."""
        self._resume(None)

    def _resume(self, _event, throw=None) -> None:
        try:
            ev = self.gen.send(None) if throw is None else self.gen.throw(throw)
            while ev.callbacks is None:  # already processed (a place granted at once): go on
                ev = self.gen.send(None)
        except StopIteration:
            self.is_alive = False
            # The bound method held here refers back to the stay: dropping it leaves no reference cycle, so the
            # stay, its generator and its last event are freed at once instead of by the cyclic garbage collector.
            self.resume = None
            return
        ev.callbacks.append(self.resume)
        self.target = ev

    def interrupt(self, cause: str) -> None:
        """Throw ``simpy.Interrupt(cause)`` into the stay, as the next urgent event."""
        ev = Event(self.env)
        ev._ok = True
        ev._value = None
        ev.callbacks.append(lambda _e: self._interrupted(cause))
        self.env.schedule(ev, URGENT)

    def _interrupted(self, cause: str) -> None:
        if not self.is_alive:
            return
        self.target.callbacks.remove(self.resume)
        self._resume(None, simpy.Interrupt(cause))
