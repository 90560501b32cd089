"""The running model: one replication of one care system on one population.

The health trajectory is drawn before the run (``sim.population``); a single driver process
walks it in time order and hands each event to the care system. Scarce capacity (beds,
short-term places, team caseloads, nurse time) is simulated with SimPy resources and queues;
routine volume (primary-care, outpatient and home-health visits, home-help hours) is counted
between a person's state changes, not scheduled one by one.
"""

from __future__ import annotations

import math

import numpy as np
import simpy
from scipy.special import ndtri

from sim.care import system as cs
from sim.care.system import DEAD, HOME, HOSPITAL, NOT_ENTERED, SHORT_TERM  # noqa: F401 (re-exported)
from sim.config.scenario import Scenario
from sim.output.recorder import D, K, PR, PY, Recorder
from sim.population.health import DEATH, DETERIORATION, ENTER, STRATUM_CHANGE, Trajectories
from sim.population.population import DAYS_PER_YEAR, Attributes, Population
from sim.resources import PooledResource
from sim.streams import Stream, stream_key, uniforms

_RELAPSE_DEPTH = 8  # relapse chains longer than this reuse the last depth's numbers
# Home visits of service concepts (marginal cost 0: the teams are paid as fixed yearly costs).
_HOME_VISIT = {
    D["team_home"]: ("team_visit", "mobile_team"),
    D["physician_home"]: ("physician_visit", "home_physician"),
    D["palliative_home"]: ("palliative_visit", "palliative_team"),
    D["safe_discharge_home"]: ("safe_discharge_visit", "safe_discharge"),
    D["plan_nurse"]: ("home_health_visit", "home_health"),
}


class Model:
    """One replication: resources, person state and pathways.

    Parameters
    ----------
    scenario : validated parameters.
    pop, traj : the persons and their health trajectories (shared by both care systems).
    seed : replication seed (from :func:`sim.streams.replication_seed`).
    care_factory : builds the care system from the model.
    recorder : where rows go.
    """

    def __init__(self, scenario: Scenario, pop: Population, traj: Trajectories, seed: int,
                 care_factory, recorder: Recorder, attrs: Attributes | None = None):
        self.scenario = scenario
        self.pop = pop
        self.traj = traj
        self.rec = recorder
        self.attrs = attrs or Attributes(scenario, pop)
        self.env = simpy.Environment()
        cap = scenario.capacity
        self.beds = PooledResource(self.env, capacity=cap.beds)
        self.short_term = PooledResource(self.env, capacity=cap.short_term_places)
        self.warmup = scenario.warmup_days
        self.horizon = scenario.horizon_days
        self.care_key = stream_key(seed, Stream.CARE)
        self.relapse_key = stream_key(seed, Stream.RELAPSE)
        self.concept_key = stream_key(seed, Stream.CONCEPT)

        n = pop.size
        self.location = np.full(n, NOT_ENTERED, np.int8)
        self.stratum = pop.stratum_at_entry.astype(np.int8).copy()
        self.last_accrual = np.zeros(n)
        self.last_discharge = np.full(n, -np.inf)
        self.help_extra_until = np.full(n, -np.inf)
        self.episode: dict[int, simpy.Process] = {}
        self.admissions: dict[int, list[float]] = {}
        self.nurse_coverage = 1.0

        # Pre-drawn care uniforms for every potential deterioration (common random numbers).
        det = np.flatnonzero(traj.kind == DETERIORATION)
        self.det_row = np.full(len(traj), -1, np.int64)
        self.det_row[det] = np.arange(len(det))
        self.care_u = uniforms(
            self.care_key,
            traj.person[det][:, None],
            traj.det_index[det][:, None].astype(np.int64) * cs.N_SLOTS + np.arange(cs.N_SLOTS)[None, :],
        )
        # Standard-normal quantile of the length-of-stay uniform, once for all.
        self.care_z = ndtri(self.care_u[:, cs.U_LOS]) if len(det) else np.empty(0)

        self._cache_parameters()
        self.D_VIA_ED, self.D_ACUTE = D["via_ed"], D["acute"]
        self.care = care_factory(self)

    # ------------------------------------------------------------------ parameters
    def _cache_parameters(self) -> None:
        s = self.scenario
        h, r, c, pay = s.hospital, s.routine, s.costs, s.payers
        self.los_mean = h.los_mean_days.as_tuple()
        self.los_sigma = math.sqrt(math.log(1.0 + h.los_cv**2))
        self.stc_share = h.short_term_care_share.as_tuple()
        self.relapse_p = h.relapse_probability_30d.as_tuple()
        self.pc_rate = [x / DAYS_PER_YEAR for x in r.primary_care_visits_per_year.as_tuple()]
        self.op_rate = [x / DAYS_PER_YEAR for x in r.outpatient_visits_per_year.as_tuple()]
        self.hh_rate = [x / 7.0 for x in r.home_health_visits_per_week.as_tuple()]
        self.help_dep = [x / 7.0 for x in r.home_help_hours_per_week_dependent.as_tuple()]
        self.help_indep = [x / 7.0 for x in r.home_help_hours_per_week_independent.as_tuple()]
        self.help_extra = r.post_discharge_home_help_hours_per_week / 7.0
        self.payer = {name: PY[getattr(pay, name)] for name in type(pay).model_fields}
        self.costs = c

    # ------------------------------------------------------------------ helpers
    def in_home_health(self, p: int) -> bool:
        """Enrolled in municipal home health care at the person's current stratum."""
        return bool(self.attrs.hhc[self.stratum[p], p])

    def dependent(self, p: int) -> bool:
        """Cannot manage personal care at the current stratum."""
        return bool(self.attrs.dep[self.stratum[p], p])

    def admissions_last(self, p: int, t: float, days: float = 365.25) -> int:
        """Admissions in the ``days`` before ``t`` (from the simulated record)."""
        return sum(1 for a in self.admissions.get(p, ()) if t - days <= a <= t)

    def book(self, p: int, t: float, kind: str, provider: str, duration: float, quantity: float,
             unit_cost: float, detail: int = 0, readmission: bool = False, avoidable: bool = False,
             stratum: int | None = None) -> None:
        """Record a contact, booked to the provider's payer.

        ``stratum``: the person's stratum at ``t``, for a stay booked when it ends (the
        stratum may have changed since ``t``); the current stratum by default.
        """
        s = int(self.stratum[p]) if stratum is None else stratum
        self.rec.record(p, t, K[kind], PR[provider], self.payer[provider], duration, quantity,
                        quantity * unit_cost, s, detail, readmission, avoidable)

    def note(self, p: int, t: float, kind: str, detail: int = 0, provider: str = "none",
             duration: float = 0.0, quantity: float = 0.0, stratum: int | None = None) -> None:
        """Record a state change or concept event that costs nothing in itself.

        ``stratum``: as in :meth:`book`, for a period recorded when it ends.
        """
        payer = self.payer[provider] if provider != "none" else 0
        s = int(self.stratum[p]) if stratum is None else stratum
        self.rec.record(p, t, K[kind], PR[provider], payer, duration, quantity, 0.0, s, detail)

    # ------------------------------------------------------------------ routine volume
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

    # ------------------------------------------------------------------ the run
    def run(self) -> Model:
        """Run to the horizon."""
        self.care.on_start()
        self.env.process(self._driver())
        self.env.process(self._nurse_time())
        self.env.run(until=self.horizon + 1e-6)
        self.rec.flush()
        return self

    def _driver(self):
        env, tr = self.env, self.traj
        times, persons, kinds, strata = tr.time, tr.person, tr.kind, tr.stratum
        for i in range(len(times)):
            t = float(times[i])
            if t > env.now:
                yield env.timeout(t - env.now)
            p = int(persons[i])
            k = kinds[i]
            if k == DETERIORATION:
                self._deterioration(p, t, i)
            elif k == STRATUM_CHANGE:
                self._stratum_change(p, t, int(strata[i]))
            elif k == DEATH:
                self._death(p, t)
            elif k == ENTER:
                self.location[p] = HOME
                self.last_accrual[p] = t
                self.note(p, t, "enter")
                self.care.on_enter(p, t)
        if self.horizon > env.now:
            yield env.timeout(self.horizon - env.now)
        self._end()

    def _end(self) -> None:
        t = self.env.now
        for p in np.flatnonzero(self.location == HOME):
            self.accrue(int(p), t)
        for proc in list(self.episode.values()):
            if proc.is_alive:
                proc.interrupt("end")
        self.care.on_end(t)

    def _stratum_change(self, p: int, t: float, new: int) -> None:
        self.accrue(p, t)
        old = int(self.stratum[p])
        self.stratum[p] = new
        self.note(p, t, "stratum_change")
        self.care.on_stratum_change(p, t, old, new)

    def _death(self, p: int, t: float) -> None:
        loc = self.location[p]
        self.accrue(p, t)
        where = {HOME: "home", HOSPITAL: "hospital", SHORT_TERM: "short_term_care"}.get(int(loc), "home")
        self.location[p] = DEAD
        self.note(p, t, "death", D[where])
        proc = self.episode.get(p)
        if proc is not None and proc.is_alive:
            proc.interrupt("death")
        self.care.on_death(p, t)

    # ------------------------------------------------------------------ deteriorations
    def _deterioration(self, p: int, t: float, i: int) -> None:
        row = self.det_row[i]
        acuity = int(self.traj.acuity[i])
        if self.location[p] != HOME:
            self.note(p, t, "deterioration", D["in_care"])
            return
        self.note(p, t, "deterioration", (D["needs_bed"], D["needs_assessment"], D["minor"])[acuity])
        self.handle(p, t, acuity, self.care_u[row], float(self.care_z[row]),
                    int(self.traj.det_index[i]), 0)

    def handle(self, p: int, t: float, acuity: int, u, z: float, det_index: int, depth: int) -> None:
        """What the care system does with a deterioration at home."""
        s = int(self.stratum[p])
        route, detail = self.care.route(p, acuity, s, t, u)
        c = self.costs
        if route == cs.PREVENTED:
            self.note(p, t, _HOME_VISIT[detail][0], D["prevented"], _HOME_VISIT[detail][1])
        elif route == cs.TEAM_HOME:
            kind, provider = _HOME_VISIT[detail]
            self.book(p, t, kind, provider, 0.0, 1.0, 0.0, detail)
        elif route in (cs.ED_ADMIT, cs.ED_ONLY):
            self.book(p, t, "ed_visit", "ed", 0.0, 1.0, c.ed_visit, detail)
        elif route == cs.NURSE or route == cs.PLAN_NURSE:
            self.book(p, t, "home_health_visit", "home_health", 0.0, 1.0, c.home_health_visit, detail)
        elif route == cs.PRIMARY:
            self.book(p, t, "primary_care_visit", "primary_care", 0.0, 1.0, c.primary_care_visit, detail)
        if route in cs.ADMITTED:
            proc = self.env.process(
                self._admission(p, acuity, u, z, det_index, depth, route == cs.DIRECT_ADMIT)
            )
            self.episode[p] = proc
        self.care.on_deterioration_at_home(p, t, route)

    def _relapse(self, p: int, det_index: int, depth: int, serial: float) -> None:
        # Cancelled if the person has since died, left home or been admitted again.
        t = self.env.now
        if self.location[p] != HOME or self.last_discharge[p] != serial or t >= self.horizon:
            return
        d = min(depth, _RELAPSE_DEPTH - 1)
        base = (det_index * _RELAPSE_DEPTH + d) * (cs.N_SLOTS + 1)
        u = uniforms(self.relapse_key, p, np.arange(base, base + cs.N_SLOTS + 1))
        s = int(self.stratum[p])
        sh = self.scenario.health
        ua = u[cs.N_SLOTS]
        bed = sh.share_needs_bed.as_tuple()[s]
        acuity = 0 if ua < bed else (1 if ua < bed + sh.share_needs_assessment.as_tuple()[s] else 2)
        self.note(p, t, "deterioration", D["relapse"])
        self.handle(p, t, acuity, u, float(ndtri(u[cs.U_LOS])), det_index, depth + 1)

    # ------------------------------------------------------------------ hospital stay
    def _admission(self, p: int, acuity: int, u, z: float, det_index: int, depth: int, direct: bool):
        env = self.env
        t0 = env.now
        s = int(self.stratum[p])
        readmit = t0 - self.last_discharge[p] <= self.scenario.hospital.readmission_window_days
        self.admissions.setdefault(p, []).append(t0)
        self.accrue(p, t0)
        self.location[p] = HOSPITAL
        self.care.on_admission(p, t0)
        avoidable = acuity != 0
        bed = self.beds.request()
        stc = None
        t_bed = t_ready = None
        to_stc = False
        cause = None
        try:
            yield bed
            t_bed = env.now
            los = self.los_mean[s] * self.care.los_multiplier(p) * math.exp(
                self.los_sigma * z - 0.5 * self.los_sigma**2)
            yield env.timeout(los)
            t_ready = env.now
            s_ready = int(self.stratum[p])
            if u[cs.U_STC] < self.stc_share[s] * self.care.plan_discharge(p, t_ready):
                to_stc = True
                stc = self.short_term.request()
                yield stc
            elif self.dependent(p) and self.scenario.hospital.home_care_lag_mean_days > 0:
                yield env.timeout(-self.scenario.hospital.home_care_lag_mean_days * math.log(u[cs.U_LAG]))
        except simpy.Interrupt as exc:
            cause = exc.cause
        t1 = env.now
        # A granted request is released; one still queued is withdrawn, so that no place
        # is ever handed to a person who has died.
        if bed.triggered:
            self.beds.release(bed)
        else:
            bed.cancel()
        if stc is not None and not stc.triggered:
            stc.cancel()
            stc = None
        c = self.costs
        bed_days = t1 - t_bed if t_bed is not None else 0.0
        detail = D["direct"] if direct else D["via_ed"]
        if cause == "end":
            detail = D["censored"]
        self.book(p, t0, "admission", "hospital", t1 - t0, bed_days, c.bed_day, detail,
                  readmission=bool(readmit), avoidable=avoidable, stratum=s)
        if t_ready is not None and t1 > t_ready:
            self.book(p, t_ready, "delayed_discharge", "short_term_care" if to_stc else "home_help",
                      t1 - t_ready, t1 - t_ready, c.delayed_discharge_day, stratum=s_ready)
        if cause is not None:
            if stc is not None:
                self.short_term.release(stc)
            self.episode.pop(p, None)
            return
        self.last_discharge[p] = t1
        self.care.on_discharge(p, t1, stc is not None)
        self.book(p, t1, "outpatient_visit", "outpatient", 0.0,
                  self.scenario.hospital.outpatient_followups_per_admission
                  * self.care.routine_multipliers(p, t1)[1], c.outpatient_visit, D["followup"])
        if stc is not None:
            self.location[p] = SHORT_TERM
            s_stc = int(self.stratum[p])
            # U_LAG is free here: the home-care lag applies only to those going straight home.
            stay = -self.scenario.hospital.short_term_care_los_mean_days * math.log(u[cs.U_LAG])
            try:
                yield env.timeout(stay)
            except simpy.Interrupt as exc:
                cause = exc.cause
            self.short_term.release(stc)
            self.book(p, t1, "short_term_care", "short_term_care", env.now - t1, env.now - t1,
                      c.short_term_care_day, D["censored"] if cause == "end" else 0, stratum=s_stc)
            if cause is not None:
                self.episode.pop(p, None)
                return
        self.episode.pop(p, None)
        self._back_home(p, u, det_index, depth)

    def _back_home(self, p: int, u, det_index: int, depth: int) -> None:
        t = self.env.now
        self.location[p] = HOME
        self.last_accrual[p] = t
        self.help_extra_until[p] = t + 7.0 * self.scenario.routine.post_discharge_home_help_weeks
        self.care.on_home(p, t)
        s = int(self.stratum[p])
        if u[cs.U_RELAPSE] < self.relapse_p[s] * self.care.relapse_multiplier(p):
            m = self.scenario.hospital.relapse_time_mean_days
            w = self.scenario.hospital.readmission_window_days
            delay = -m * math.log1p(-u[cs.U_RELAPSE_TIME] * (1.0 - math.exp(-w / m)))
            serial = self.last_discharge[p]
            ev = self.env.timeout(delay)
            ev.callbacks.append(lambda _e: self._relapse(p, det_index, depth, serial))

    # ------------------------------------------------------------------ nurse time
    def _nurse_time(self):
        """Weekly balance of home health nurse time: demand, availability, hassle."""
        env = self.env
        cap = self.scenario.capacity
        hours_total = cap.home_health_nurses_fte * cap.nurse_hours_per_week
        per_visit_h = cap.nurse_minutes_per_visit / 60.0
        weekly = np.array(self.scenario.routine.home_health_visits_per_week.as_tuple())
        idx = np.arange(self.pop.size)
        while env.now < self.horizon:
            at_home = self.location == HOME
            st = self.stratum
            enrolled = at_home & self.attrs.hhc[st, idx]
            demand = float(weekly[st[enrolled]].sum()) * per_visit_h
            lost = hours_total * self.care.hassle_share
            available = hours_total - lost
            self.nurse_coverage = min(1.0, available / demand) if demand > 0 else 1.0
            t = env.now
            week = min(7.0, self.horizon - t)
            f = week / 7.0
            self.rec.record(-1, t, K["nurse_demand_hours"], PR["home_health"], PY["none"], week, demand * f, 0.0, 0, 0)
            self.rec.record(-1, t, K["nurse_available_hours"], PR["home_health"], PY["none"], week, available * f, 0.0, 0, 0)
            self.rec.record(-1, t, K["nurse_lost_hours"], PR["home_health"], PY["none"], week, lost * f, 0.0, 0, 0)
            yield env.timeout(week)
