"""Special housing (särskilt boende): a place of residence and a finite municipal resource.

Read top to bottom: who lives there at day 0 (:func:`initial_residents`, a population-level rule
drawn per person from the HOUSING stream, so both care systems meet the same residents); who is
assessed as needing a place (:meth:`~SpecialHousing._assessments`, weekly, and at a discharge
after repeated admissions); the wait for a place, first come first served
(:meth:`~SpecialHousing.apply_for_housing`, :meth:`~SpecialHousing._granted`); moving in; the
deteriorations of residents (sent to hospital or met by the municipality's nurse there); the
resident-days, nurse and physician visits counted between a resident's state changes
(:meth:`~SpecialHousing.accrue_housing`); and the place given back at death.

Rows: ``special_housing`` (resident-days in the place, priced per day, split at the warm-up end),
``special_housing_wait`` (from the assessment to the place, written when the wait ends: detail
``granted``, ``died`` or ``censored``) and ``special_housing_place`` (the place held, from the
grant or day 0 to death or the horizon: detail ``died`` or ``censored``). A resident keeps the
place through hospital stays.
"""

from __future__ import annotations

import numpy as np

from sim.domain.events import PR, D, K
from sim.domain.locations import DEAD, HOME, SPECIAL_HOUSING
from sim.domain.routes import U_ED
from sim.domain.streams import Stream, stream_key, stream_starts, uniforms, uniforms_from
from sim.domain.units import AGE_FLOOR_YEARS, DAYS_PER_WEEK, DAYS_PER_YEAR
from sim.engine.hospital import _ACUITY_DETAIL, _DETERIORATION, _NO_PROVIDER
from sim.engine.recorder import pack_row
from sim.engine.resources import PooledResource
from sim.engine.weekly import every_week

_ROUTINE, _IN_HOUSING, _VIA_ED = D["routine"], D["special_housing"], D["via_ed"]


def initial_residents(scenario, pop, attrs, seed: int) -> np.ndarray:
    """Persons of the start population who live in special housing at day 0 (bool per person).

    ``round(initial_share_65plus * start population)`` persons (at most the places), drawn
    without replacement with weights (Efraimidis & Spirakis 2006: the largest ``log(u) / w``):
    the stratum's ``initial_weight``
    for a person dependent at entry (``initial_weight_independent`` times it otherwise), times
    ``initial_weight_per_year_of_age`` per year above 65. One HOUSING uniform per person.
    """
    sh = scenario.special_housing
    out = np.zeros(pop.size, np.bool_)
    k = min(round(sh.initial_share_65plus * pop.n_initial), sh.places)
    if k <= 0:
        return out
    ids = np.arange(pop.n_initial)
    u = uniforms(stream_key(seed, Stream.HOUSING), ids, 0)
    st = pop.stratum_at_entry[ids].astype(np.int64)
    w = np.asarray(sh.initial_weight.as_tuple())[st]
    w = np.where(np.asarray(attrs.dep)[st, ids], w, w * sh.initial_weight_independent)
    w = w * sh.initial_weight_per_year_of_age ** (pop.age_at_entry[ids] - AGE_FLOOR_YEARS)
    with np.errstate(divide="ignore"):
        key = np.where(w > 0, np.log(u) / np.where(w > 0, w, 1.0), -np.inf)
    chosen = np.argsort(-key, kind="stable")[:k]
    out[chosen[np.isfinite(key[chosen])]] = True
    return out


class SpecialHousing:
    """Special housing: places, the waiting list and residents (part of :class:`sim.engine.model.Model`)."""

    def _init_housing(self, seed: int) -> None:
        sh = self.scenario.special_housing
        n = self.pop.size
        self.housing_key = stream_key(seed, Stream.HOUSING)
        self.sh_initial = initial_residents(self.scenario, self.pop, self.attrs, seed)
        self.sh_places = PooledResource(self.env, capacity=sh.places) if sh.places > 0 else None
        self._resident = bytearray(n)  #: 1 while the person holds a place (also in hospital)
        self.resident = np.frombuffer(self._resident, np.uint8)
        self._sh_waiting = bytearray(n)  #: 1 while the person waits for a place
        self.sh_wait: dict[int, tuple[float, object]] = {}  # person -> (assessed at, request)
        self.sh_held: dict[int, tuple[float, object]] = {}  # person -> (held from, request)
        self.sh_since = np.zeros(n).tolist()  # start of the current stretch in the place (days)
        self.sh_hosp = (sh.hospital_share_needs_bed, sh.hospital_share_needs_assessment, sh.hospital_share_minor)
        self.sh_nurse_rate = sh.nurse_visits_per_week / DAYS_PER_WEEK
        self.sh_pc_rate = sh.primary_care_visits_per_year / DAYS_PER_YEAR
        self.sh_apply_rate = np.asarray(sh.application_rate_per_year.as_tuple()) / DAYS_PER_YEAR
        self.sh_admissions_min = sh.application_admissions_12m_min
        self.sh_rows = tuple((K[kind], PR[provider], self.payer[provider]) for kind, provider in (
            ("special_housing", "special_housing"), ("home_health_visit", "home_health"),
            ("primary_care_visit", "primary_care"), ("ed_visit", "ed")))

    def in_special_housing(self, p: int) -> bool:
        """Living in special housing now (not while in hospital)."""
        return self._location[p] == SPECIAL_HOUSING

    def holds_place(self, p: int) -> bool:
        """Return whether ``p`` holds a place in special housing (also while in hospital)."""
        return bool(self._resident[p])

    # ------------------------------------------------------------------ day 0 and moving in
    def enter_special_housing(self, p: int, t: float) -> bool:
        """At entry: a resident of the start population takes a place; True if so."""
        if self.sh_places is None or not self.sh_initial[p]:
            return False
        req = self.sh_places.request()  # granted at once: fewer initial residents than places
        self._resident[p] = 1
        self.sh_held[p] = (t, req)
        self._location[p] = SPECIAL_HOUSING
        self.sh_since[p] = t
        return True

    def apply_for_housing(self, p: int, t: float) -> None:
        """Queue ``p``, granted special housing by a needs assessment, for a place (first come, first served)."""
        if self.sh_places is None or self._resident[p] or self._sh_waiting[p]:
            return
        req = self.sh_places.request()
        self._sh_waiting[p] = 1
        self.sh_wait[p] = (t, req)
        req.callbacks.append(lambda _e, p=p, req=req: self._granted(p, req))

    def _granted(self, p: int, req) -> None:
        t = self.env.now
        if self.sh_wait.get(p, (None, None))[1] is not req:  # died this instant: the place was given on
            return
        t0, _ = self.sh_wait.pop(p)
        self._sh_waiting[p] = 0
        self.note(p, t0, "special_housing_wait", D["granted"], "special_housing", t - t0, 1.0)
        self._resident[p] = 1
        self.sh_held[p] = (t, req)
        if self._location[p] == HOME:
            self.move_into_housing(p, t)
        # In hospital or short-term care: moves in when that stay ends (the hospital pathway).

    def move_into_housing(self, p: int, t: float) -> None:
        """Move from home, or back from hospital or short-term care, into the person's place."""
        self.accrue(p, t)  # closes the stretch at home (nothing if coming from a stay)
        self._location[p] = SPECIAL_HOUSING
        self.last_accrual[p] = t
        self.sh_since[p] = t
        self.care.on_special_housing(p, t)

    # ------------------------------------------------------------------ needs assessments
    def _assessments(self):
        """Weekly: dependent persons at home are assessed at the stratum's application rate."""
        waiting = np.frombuffer(self._sh_waiting, np.uint8)
        starts = stream_starts(self.housing_key, np.arange(self.pop.size))  # HOUSING streams: one mix a draw

        def assess(week: int, t: float) -> None:
            # Dependence at the current stratum (kept up by the model); then not a resident, not waiting.
            cand = np.flatnonzero(self.dep_now & (self.location == HOME))
            cand = cand[(self.resident[cand] == 0) & (waiting[cand] == 0)]
            if not len(cand):
                return
            prob = -np.expm1(-self.sh_apply_rate[self.stratum[cand]] * DAYS_PER_WEEK)
            hit = cand[uniforms_from(starts[cand], week) < prob]
            for p in hit.tolist():
                self.apply_for_housing(p, t)

        yield from every_week(self.env, self.horizon, assess)

    def assess_at_discharge(self, p: int, t: float) -> None:
        """Assess a dependent person back home after repeated admissions for special housing."""
        k = self.sh_admissions_min
        if k and self.sh_places is not None and self._dep[self._stratum[p]][p] and self.admissions_last(p, t) >= k:
            self.apply_for_housing(p, t)

    # ------------------------------------------------------------------ residents' deteriorations
    def housing_deterioration(self, p: int, t: float, acuity: int, u, z: float, det_index: int, starts: list) -> None:
        """Send a resident's deterioration to hospital (via the ED) by acuity, or let the nurse there meet it.

        ``starts``: the driver's stays to start when it moves on in time (HospitalPathway._start_stay).
        """
        # The rows ``note`` and ``book`` would write, their codes resolved once (a third of all deteriorations).
        s = self._stratum[p]
        self.write(p, t, _DETERIORATION, _NO_PROVIDER, 0, 0.0, 0.0, s, _ACUITY_DETAIL[acuity])
        if u[U_ED] < self.sh_hosp[acuity]:
            k, pr, py = self.sh_rows[3]  # the ED visit
            self.write(p, t, k, pr, py, 0.0, 1.0, s, _VIA_ED)
            self._start_stay(p, self._admission(p, acuity, u, z, det_index, 0, False), starts)
        else:
            k, pr, py = self.sh_rows[1]  # the nurse's visit in the place
            self.write(p, t, k, pr, py, 0.0, 1.0, s, _IN_HOUSING)

    # ------------------------------------------------------------------ counted volume
    def accrue_housing(self, p: int, t: float) -> None:
        """Book the resident-days and routine visits in the place since the last time, split at the warm-up end."""
        if self._location[p] != SPECIAL_HOUSING:
            return
        a = self.sh_since[p]
        self.sh_since[p] = t
        if t <= a:
            return
        if a < self.warmup < t:
            self._accrue_housing(p, a, self.warmup)
            self._accrue_housing(p, self.warmup, t)
        else:
            self._accrue_housing(p, a, t)

    def _accrue_housing(self, p: int, a: float, b: float) -> None:
        # The rows ``book`` would write (resident-days, the nurse's and the primary-care visits), packed here
        # with their codes resolved once (the chunks are the same: the recorder spills exact chunks).
        dt = b - a
        s = self._stratum[p]
        buf = self._rows
        k, pr, py = self.sh_rows[0]
        buf += pack_row(p, a, k, pr, py, dt, dt, s, _ROUTINE, False, False)
        if self.sh_nurse_rate > 0:
            k, pr, py = self.sh_rows[1]
            buf += pack_row(p, a, k, pr, py, dt, self.sh_nurse_rate * dt, s, _IN_HOUSING, False, False)
        if self.sh_pc_rate > 0:
            k, pr, py = self.sh_rows[2]
            buf += pack_row(p, a, k, pr, py, dt, self.sh_pc_rate * dt, s, _IN_HOUSING, False, False)
        if len(buf) >= self._rows_limit:
            self.rec.spill()

    # ------------------------------------------------------------------ leaving
    def housing_death(self, p: int, t: float) -> None:
        """At a death: withdraw the wait, or give the place back (to the first in the queue)."""
        self.accrue_housing(p, t)
        self._leave_housing(p, t, D["died"])

    def _leave_housing(self, p: int, t: float, detail: int) -> None:
        if p in self.sh_wait:
            t0, req = self.sh_wait.pop(p)
            self._sh_waiting[p] = 0
            if req.triggered:
                self.sh_places.release(req)  # granted this instant, not yet seen: give it on
            else:
                req.cancel()
            self.note(p, t0, "special_housing_wait", detail, "special_housing", t - t0, 1.0)
        held = self.sh_held.pop(p, None)
        if held is not None:
            t0, req = held
            self._resident[p] = 0
            if detail != D["censored"]:
                self.sh_places.release(req)
            self.note(p, t0, "special_housing_place", detail, "special_housing", t - t0, 1.0)

    def housing_end(self, t: float) -> None:
        """At the horizon: book residents' last stretches, close the places and waits still open (censored)."""
        for p in np.flatnonzero(self.location == SPECIAL_HOUSING).tolist():
            self.accrue_housing(p, t)
        for p in sorted(set(self.sh_wait) | set(self.sh_held)):
            if self._location[p] != DEAD:
                self._leave_housing(p, t, D["censored"])
