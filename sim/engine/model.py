"""The running model: one replication of one care system on one population.

The health trajectory is drawn before the run (``sim.population``); a single driver process
walks it in time order and hands each event to the care system. Scarce capacity (beds,
short-term places, team caseloads, nurse time) is simulated with SimPy resources and queues;
routine volume (primary-care, outpatient and home-health visits, home-help hours) is counted
between a person's state changes, not scheduled one by one.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right

import numpy as np
from scipy.special import ndtri

from sim.config.scenario import Scenario
from sim.domain.events import PR, PY, D, K
from sim.domain.health import DEATH, DETERIORATION, ENTER, STRATUM_CHANGE
from sim.domain.locations import DEAD, HOME, HOSPITAL, NOT_ENTERED, SHORT_TERM, SPECIAL_HOUSING
from sim.domain.routes import ED_ADMIT, ED_ONLY, N_SLOTS, NURSE, PLAN_NURSE, PRIMARY, U_LOS
from sim.domain.streams import Stream, stream_key, uniforms
from sim.domain.units import DAYS_PER_WEEK, DAYS_PER_YEAR
from sim.engine.environment import LeanEnvironment, start_all
from sim.engine.hospital import Episode, HospitalPathway
from sim.engine.housing import SpecialHousing
from sim.engine.nurse import NurseTime
from sim.engine.port import EnginePort
from sim.engine.recorder import Recorder, fixed_bytes, pack_fixed, tail_bytes
from sim.engine.resources import PooledResource
from sim.engine.routine import RoutineVolume
from sim.engine.weekly import WeeklyHits
from sim.population.health import Trajectories
from sim.population.population import Attributes, Population

_DRIVER_CHUNK = 1 << 16  # trajectory events converted to Python lists at a time
_UNIFORM_CHUNK = 1 << 16  # deteriorations whose care uniforms are drawn at a time
_ENTER, _STRATUM_CHANGE, _NO_PROVIDER = K["enter"], K["stratum_change"], PR["none"]
# The entry and stratum-change rows' constant fields, packed once (recorder.pack_fixed).
_ENTER_FIXED, _STRATUM_CHANGE_FIXED = (fixed_bytes(k, _NO_PROVIDER, 0) for k in (_ENTER, _STRATUM_CHANGE))
_NO_DETAIL = tail_bytes(0)


def _days(n: int, value: float) -> array:
    """``n`` days (float64), all ``value``."""
    return array("d", np.full(n, value).tobytes())


def _care_uniforms(care_key, traj: Trajectories) -> tuple[array, array]:
    """Care uniforms of every deterioration (rows of ``N_SLOTS``, flat) and the LOS uniform's normal quantile.

    Drawn ``_UNIFORM_CHUNK`` deteriorations at a time: the counter-based draw's integer
    temporaries are several times the result's size, so drawing all at once set a region
    run's peak memory. The numbers are the same (each depends on its person and index only).
    """
    det = np.flatnonzero(traj.kind == DETERIORATION)
    slots = np.arange(N_SLOTS)[None, :]
    u, z = array("d"), array("d")
    for lo in range(0, len(det), _UNIFORM_CHUNK):
        d = det[lo:lo + _UNIFORM_CHUNK]
        index = traj.det_index[d][:, None].astype(np.int64) * N_SLOTS + slots
        care_u = uniforms(care_key, traj.person[d][:, None], index)
        # Standard-normal quantile of the length-of-stay uniform, once per deterioration.
        z.frombytes(np.ascontiguousarray(ndtri(care_u[:, U_LOS]), float).tobytes())
        u.frombytes(memoryview(np.ascontiguousarray(care_u, float).reshape(-1)).cast("B"))
    return u, z


class Model(HospitalPathway, RoutineVolume, NurseTime, SpecialHousing):
    """One replication: resources, person state and the driver; the pathways are its bases.

    The hospital pathway (:mod:`sim.engine.hospital`), routine volume
    (:mod:`sim.engine.routine`), nurse time (:mod:`sim.engine.nurse`) and special housing
    (:mod:`sim.engine.housing`) are mixed in, each in its own module, so that they read as
    plain methods on the running state.

    Parameters
    ----------
    scenario : validated parameters.
    pop, traj : the persons and their health trajectories (shared by both care systems).
    seed : replication seed (from :func:`sim.domain.streams.replication_seed`).
    care_factory : builds the care system from the port (:class:`sim.engine.port.EnginePort`).
    recorder : where rows go.
    shared : per-replication arrays that every care system's model would draw alike (the care
        uniforms): the first model of a replication fills it, the others read it (one copy in memory).

    """

    def __init__(self, scenario: Scenario, pop: Population, traj: Trajectories, seed: int,
                 care_factory, recorder: Recorder, attrs: Attributes | None = None, shared: dict | None = None):
        self.scenario = scenario
        self.pop = pop
        self.traj = traj
        self.rec = recorder
        self._rows, self._rows_limit = recorder.buffer, recorder.limit
        # One row, its codes resolved (K, PR, PY, D), appended to the recorder's buffer: what book,
        # note, the concepts' port and residents' rows call; the hottest rows inline its body.
        self.write = recorder.record
        self.attrs = attrs or Attributes(scenario, pop)
        self.env = LeanEnvironment()
        cap = scenario.capacity
        # A free bed or short-term place is granted without an engine event, and a release with nobody
        # waiting makes none (PooledResource(immediate=True)); a release with someone waiting goes through
        # SimPy's Release event, so the grant keeps its place among same-time rows (test_byte_identity).
        self.beds = PooledResource(self.env, capacity=cap.beds, immediate=True)
        self.short_term = PooledResource(self.env, capacity=cap.short_term_places, immediate=True)
        self.warmup = scenario.warmup_days
        self.horizon = scenario.horizon_days
        self.care_key = stream_key(seed, Stream.CARE)
        self.relapse_key = stream_key(seed, Stream.RELAPSE)
        self.concept_key = stream_key(seed, Stream.CONCEPT)
        self.planned_key = stream_key(seed, Stream.PLANNED)

        n = pop.size
        # Per-person state read in the hot path is kept in plain Python containers: indexing a
        # bytearray or a list gives a Python int or float directly, where a numpy array builds a
        # numpy scalar each time. Stratum and location share one buffer with the numpy views
        # ``self.stratum`` and ``self.location`` (the port's arrays and the weekly nurse balance).
        self._location = bytearray(np.full(n, NOT_ENTERED, np.int8).tobytes())
        self._stratum = bytearray(pop.stratum_at_entry.astype(np.int8).tobytes())
        self.location = np.frombuffer(self._location, np.int8)
        self.stratum = np.frombuffer(self._stratum, np.int8)
        # Days per person as ``array('d')``: Python floats on reading, 8 bytes a person (a list
        # would hold a float object per person, about 4 times the memory in a region).
        self.last_accrual = _days(n, 0.0)
        self.last_discharge = _days(n, -math.inf)
        self.help_extra_until = _days(n, -math.inf)
        # Home health enrolment and personal-care dependence per stratum, one byte a person.
        self._hhc = [row.tobytes() for row in np.asarray(self.attrs.hhc, np.bool_)]
        self._dep = [row.tobytes() for row in np.asarray(self.attrs.dep, np.bool_)]
        # The same at the person's current stratum, kept up at each stratum change, with the home-health visits a
        # week it means: the weekly nurse balance and housing assessments read them as whole arrays (numpy views),
        # instead of gathering them from (stratum, person) every week.
        now = np.asarray(pop.stratum_at_entry, np.intp)
        ids = np.arange(n)
        self._hhc_now = bytearray(np.asarray(self.attrs.hhc, np.bool_)[now, ids].tobytes())
        self._dep_now = bytearray(np.asarray(self.attrs.dep, np.bool_)[now, ids].tobytes())
        self.hhc_now = np.frombuffer(self._hhc_now, np.bool_)
        self.dep_now = np.frombuffer(self._dep_now, np.bool_)
        self._hh_weekly = scenario.routine.home_health_visits_per_week.as_tuple()
        self._hh_weekly_now = array("d", np.asarray(self._hh_weekly, np.float64)[now].tobytes())
        self.hh_weekly_now = np.frombuffer(self._hh_weekly_now, np.float64)
        self.episode: dict[int, Episode] = {}  # each admitted person's stay (interrupted at a death, at the end)
        self.admissions: dict[int, list[float]] = {}
        self.nurse_coverage = 1.0
        self.nurse_spare_hours = 0.0  # nurse hours a week left after the week's demand (set weekly)

        # Pre-drawn care uniforms for every potential deterioration (common random numbers),
        # row r for the r-th deterioration of the trajectory (the driver counts them). Flat
        # ``array('d')``: a row is a slice, its items Python floats, no numpy scalar per look-up.
        shared = {} if shared is None else shared
        key = ("care_uniforms", self.care_key, id(traj))
        if key not in shared:
            shared[key] = _care_uniforms(self.care_key, traj)
        self.care_u, self.care_z = shared[key]

        self._cache_parameters()
        # Per stratum, the probability of a call for a planned admission in a week, and the persons
        # whose weekly PLANNED number can be below it (pre-drawn once per replication).
        prob = -np.expm1(-self.planned_rate * DAYS_PER_WEEK)
        self.planned_prob = prob
        self.planned_hits = None
        if prob.any():
            key = ("planned_hits", self.planned_key, n, float(prob.max()))
            if key not in shared:
                shared[key] = WeeklyHits(self.planned_key, n, float(prob.max()))
            self.planned_hits = shared[key]
        self._init_housing(seed)
        # Care sees the run only through the port (no import of the engine, no event-log codes).
        self.port = EnginePort(self)
        self.care = care_factory(self.port)
        for provider, payer in getattr(self.care, "default_payers", {}).items():
            self.payer.setdefault(provider, PY[payer])

    # ------------------------------------------------------------------ parameters
    def _cache_parameters(self) -> None:
        s = self.scenario
        h, r, pay = s.hospital, s.routine, s.payers
        self.los_mean = h.los_mean_days.as_tuple()
        self.los_sigma = math.sqrt(math.log(1.0 + h.los_cv**2))
        self.stc_share = h.short_term_care_share.as_tuple()
        self.planned_rate = (np.asarray(h.planned_admissions_per_year.as_tuple()) / DAYS_PER_YEAR
                             if h.planned_admissions_per_year is not None else np.zeros(4))
        self.planned_los = h.planned_los_mean_days
        self.relapse_p = h.relapse_probability_30d.as_tuple()
        # The stay's parameters as plain floats (read at every admission).
        self.los_half_var = 0.5 * self.los_sigma**2
        self.readmission_window = h.readmission_window_days
        self.end_of_life_days = h.end_of_life_stay_days
        self.home_care_lag = h.home_care_lag_mean_days
        self.stc_los_mean = h.short_term_care_los_mean_days
        self.followups = h.outpatient_followups_per_admission
        self.help_extra_days = DAYS_PER_WEEK * r.post_discharge_home_help_weeks
        # A relapse comes within the readmission window: exponential time truncated there (mean, its mass).
        self.relapse_mean = h.relapse_time_mean_days
        self.relapse_in_window = 1.0 - math.exp(-h.readmission_window_days / h.relapse_time_mean_days)
        self.death_time = array("d", np.asarray(self.traj.death_time, np.float64).tobytes())
        self.pc_rate = [x / DAYS_PER_YEAR for x in r.primary_care_visits_per_year.as_tuple()]
        self.op_rate = [x / DAYS_PER_YEAR for x in r.outpatient_visits_per_year.as_tuple()]
        self.hh_rate = [x / DAYS_PER_WEEK for x in r.home_health_visits_per_week.as_tuple()]
        self.help_dep = [x / DAYS_PER_WEEK for x in r.home_help_hours_per_week_dependent.as_tuple()]
        self.help_indep = [x / DAYS_PER_WEEK for x in r.home_help_hours_per_week_independent.as_tuple()]
        self.help_extra = r.post_discharge_home_help_hours_per_week / DAYS_PER_WEEK
        self.payer = {name: PY[getattr(pay, name)] for name in type(pay).model_fields}
        # The visit rows the hospital pathway writes itself, per route: kind, provider, payer, no duration,
        # one visit, packed once (recorder.pack_fixed).
        self.route_rows = {route: fixed_bytes(K[kind], PR[provider], self.payer[provider], 0.0, 1.0)
                           for route, kind, provider in ((ED_ADMIT, "ed_visit", "ed"), (ED_ONLY, "ed_visit", "ed"),
                                                         (NURSE, "home_health_visit", "home_health"),
                                                         (PLAN_NURSE, "home_health_visit", "home_health"),
                                                         (PRIMARY, "primary_care_visit", "primary_care"))}
        self.admission_row = (K["admission"], PR["hospital"], self.payer["hospital"])
        self.followup_row = (K["outpatient_visit"], PR["outpatient"], self.payer["outpatient"])
        self._routine_codes()

    # ------------------------------------------------------------------ helpers
    def in_home_health(self, p: int) -> bool:
        """Enrolled in municipal home health care at the person's current stratum."""
        return bool(self._hhc[self._stratum[p]][p])

    def admissions_last(self, p: int, t: float, days: float = 365.25) -> int:
        """Admissions in the ``days`` before ``t`` (from the simulated record).

        A person's admission times are appended in time order, so the count is two bisections.
        """
        times = self.admissions.get(p)
        if not times:
            return 0
        return bisect_right(times, t) - bisect_left(times, t - days)

    def book(self, p: int, t: float, kind: str, provider: str, duration: float, quantity: float,
             detail: int = 0, readmission: bool = False, avoidable: bool = False,
             stratum: int | None = None) -> None:
        """Record a contact (its quantity; priced after the run), booked to the provider's payer.

        ``stratum``: the person's stratum at ``t``, for a stay booked when it ends (the
        stratum may have changed since ``t``); the current stratum by default.
        """
        s = self._stratum[p] if stratum is None else stratum
        self.write(p, t, K[kind], PR[provider], self.payer[provider], duration, quantity, s, detail,
                   readmission, avoidable)

    def note(self, p: int, t: float, kind: str, detail: int = 0, provider: str = "none",
             duration: float = 0.0, quantity: float = 0.0, stratum: int | None = None) -> None:
        """Record a state change or concept event that costs nothing in itself.

        ``stratum``: as in :meth:`book`, for a period recorded when it ends.
        """
        payer = self.payer[provider] if provider != "none" else 0
        s = self._stratum[p] if stratum is None else stratum
        self.write(p, t, K[kind], PR[provider], payer, duration, quantity, s, detail)

    def accrue_here(self, p: int, t: float) -> None:
        """Count what accrued since the last time where ``p`` is: routine volume at home, a resident's in housing.

        :meth:`accrue` and :meth:`accrue_housing` each do nothing elsewhere; only the one that applies is called.
        """
        if self._location[p] == SPECIAL_HOUSING:
            self.last_accrual[p] = t  # as accrue() would set it
            self.accrue_housing(p, t)
        else:
            self.accrue(p, t)

    # ------------------------------------------------------------------ the run
    def run(self) -> Model:
        """Run to the horizon."""
        self.care.on_start()
        # The driver runs as a lean process too (nobody waits for it or interrupts it): its resumptions skip
        # ``Process._resume``'s bookkeeping, and its end makes no event.
        Episode(self.env, self._driver())
        self.env.process(self._nurse_time())
        if self.sh_places is not None and self.sh_apply_rate.any():
            self.env.process(self._assessments())
        if self.planned_rate.any():
            self.env.process(self._planned_admissions())
        self.env.run(until=self.horizon + 1e-6)
        self.rec.flush()
        return self

    def _driver(self):
        env, tr = self.env, self.traj
        queue = env._queue  # SimPy's event heap: (time, priority, id, event)
        n = len(tr.time)
        # The trajectory is read as Python lists a chunk at a time (no numpy scalars per event,
        # memory bounded by the chunk).
        row = 0  # deteriorations so far: the row of the next one's care uniforms
        deterioration, stratum_change, death, wait = self._deterioration, self._stratum_change, self._death, env.wait
        horizon = self.horizon
        # Stays started by this instant's deteriorations, their first step still to take: where their start
        # events would be processed, first thing when the driver moves on in time (HospitalPathway._start_stay).
        starts: list[Episode] = []
        for lo in range(0, n, _DRIVER_CHUNK):
            hi = min(n, lo + _DRIVER_CHUNK)
            for t, p, k, s, acuity, det_index in zip(
                    tr.time[lo:hi].tolist(), tr.person[lo:hi].tolist(), tr.kind[lo:hi].tolist(),
                    tr.stratum[lo:hi].tolist(), tr.acuity[lo:hi].tolist(), tr.det_index[lo:hi].tolist(),
                    strict=True):
                now = env._now
                if t > now:
                    # The time a timeout of that delay would fire at (``now + delay``, to the bit). When no
                    # scheduled event comes at or before it, that timeout would be the very next event: the
                    # driver moves the clock itself and goes on, without the engine event. Otherwise the
                    # events due first are processed by ``env.wait`` in the queue's order, as yielding the
                    # timeout would let them go first, and the driver goes on at that time (same order,
                    # same times, same event ids; LeanEnvironment.wait).
                    at = now + (t - now)
                    if starts or (queue and queue[0][0] <= at):
                        if at <= horizon:
                            wait(t - now, starts)  # the events due first processed here: as the timeout, without it
                        else:
                            ev = env.timeout(t - now)
                            start_all(starts)
                            yield ev
                    else:
                        env._now = at
                if k == DETERIORATION:
                    deterioration(p, t, row, acuity, det_index, starts)
                    row += 1
                elif k == STRATUM_CHANGE:
                    stratum_change(p, t, s)
                elif k == DEATH:
                    death(p, t)
                elif k == ENTER:
                    if not self.enter_special_housing(p, t):
                        self._location[p] = HOME
                    self.last_accrual[p] = t
                    buf = self._rows  # ``Recorder.record``'s body, inlined: see _stratum_change
                    buf += pack_fixed(p, t, _ENTER_FIXED, self._stratum[p], _NO_DETAIL)
                    if len(buf) >= self._rows_limit:
                        self.rec.spill()
                    self.care.on_enter(p, t)
        if self.horizon > env.now:
            ev = env.timeout(self.horizon - env.now)
            start_all(starts)
            yield ev
        else:
            for stay in starts:  # their start events would come after the end: schedule them
                stay.schedule()
        self._end()

    def _end(self) -> None:
        t = self.env.now
        for p in np.flatnonzero(self.location == HOME).tolist():
            self.accrue(p, t)
        for proc in list(self.episode.values()):
            if proc.is_alive:
                proc.interrupt("end")
        self.housing_end(t)
        self.care.on_end(t)

    def _stratum_change(self, p: int, t: float, new: int) -> None:
        self.accrue_here(p, t)
        old = self._stratum[p]
        self._stratum[p] = new
        self._hhc_now[p] = self._hhc[new][p]
        self._dep_now[p] = self._dep[new][p]
        self._hh_weekly_now[p] = self._hh_weekly[new]
        # ``Recorder.record``'s body, inlined on the hot paths (here, the driver's entry row and the
        # stay's rows): as a call it cost 3 % of a replication's instructions (cachegrind, default,
        # imports subtracted, 2026-12-03)
        buf = self._rows
        buf += pack_fixed(p, t, _STRATUM_CHANGE_FIXED, new, _NO_DETAIL)
        if len(buf) >= self._rows_limit:
            self.rec.spill()
        self.care.on_stratum_change(p, t, old, new)

    def _death(self, p: int, t: float) -> None:
        loc = self._location[p]
        self.accrue(p, t)
        self.housing_death(p, t)
        where = {HOME: "home", HOSPITAL: "hospital", SHORT_TERM: "short_term_care",
                 SPECIAL_HOUSING: "special_housing"}.get(loc, "home")
        self._location[p] = DEAD
        self.note(p, t, "death", D[where])
        proc = self.episode.get(p)
        if proc is not None and proc.is_alive:
            proc.interrupt("death")
        self.care.on_death(p, t)
