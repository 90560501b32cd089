"""The shape of a service concept (plug-in), and enrolment with a caseload limit.

A concept is one module that declares, on its class, its scenario section and parameter
model, the provider and event kinds it records, its home-visit detail, its metrics and its
yearly staff cost, implements the hooks it needs, and registers itself with
:func:`sim.care.concepts.registry.register`. The person-driven care system calls only the
hooks a concept overrides, in registration order (routing: in ``priority`` order).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from sim.domain.health import NEEDS_BED
from sim.domain.metrics import StaffFigure, StaffLimitShare
from sim.domain.routes import DIRECT_ADMIT, ED_ADMIT, PREVENTED, TEAM_HOME, U_HOME, U_PREVENT
from sim.domain.units import DAYS_PER_WEEK, DAYS_PER_YEAR, MINUTES_PER_HOUR

if TYPE_CHECKING:
    from sim.care.port import CarePort
    from sim.care.system import CareSystem
    from sim.config.concepts import ConceptParams
    from sim.config.scenario import Scenario

def staffed_metrics(provider: str, visit_kind: str, home_detail: str) -> dict:
    """Return the metrics every staffed concept declares: capacity, what the staff alone allow, acute visits refused."""
    return {
        f"{provider}_capacity": StaffFigure(provider, "capacity", "persons it may hold at once (capacity)"),
        f"{provider}_by_staff": StaffFigure(provider, "staff_capacity",
                                                  "persons its staff time alone allows at once"),
        f"{provider}_no_time": StaffLimitShare(
            provider, visit_kind, home_detail, "share of acute home visits refused for lack of staff time"),
    }


#: Hooks the care system dispatches; a concept is called only for those it overrides.
HOOKS = (
    "los_multiplier", "plan_discharge", "relapse_multiplier", "routine_multipliers", "accrue",
    "nurse_hours_per_week", "on_enter", "on_admission", "on_discharge", "on_home", "on_special_housing",
    "on_stratum_change",
    "on_deterioration_at_home", "on_death", "on_end", "handed_over",
)


class Concept:
    """A service concept of individstyrning: declarations and hooks (all neutral here)."""

    name: ClassVar[str] = ""  #: scenario section ``[concepts.<name>]`` and registry key
    Params: ClassVar[type[ConceptParams]]  #: parameter model of the section
    provider: ClassVar[str] = ""  #: who delivers it (a payer is assigned per provider)
    payer: ClassVar[str] = "region"  #: payer when the scenario's ``[payers]`` does not name the provider
    kinds: ClassVar[tuple[str, ...]] = ()  #: event kinds it records
    details: ClassVar[tuple[str, ...]] = ()  #: details it records
    home_visit: ClassVar[tuple[str, str] | None] = None  #: (detail, kind) of its home visits at a deterioration
    more_home_visits: ClassVar[tuple[tuple[str, str], ...]] = ()  #: further (detail, kind) its routes may name
    metrics: ClassVar[dict] = {}  #: metric name -> :mod:`sim.domain.metrics` declaration
    staff_cost: ClassVar[str | None] = None  #: field of ``[costs]`` with the staff's yearly cost (SEK)
    priority: ClassVar[int] = 100  #: routing order: lower decides first
    #: Attributes holding persons (dicts or sets, never rebound) outside all of which the concept's
    #: ``routine_multipliers`` and ``accrue`` are neutral for a person; None: not declared (always called).
    routine_holders: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, port: CarePort, params: ConceptParams, care: CareSystem):
        self.port = port
        self.p = params
        self.care = care
        self.direct = bool(port.scenario.concepts.direct_admission)

    def effect(self, t: float) -> float:
        """Share of its full effect on day ``t``: grows over ``learning_days`` (a new team learns; 1 = full)."""
        return self.p.build_up(t)[1]

    @classmethod
    def staff_cost_per_year(cls, scenario: Scenario) -> float:
        """Return the fixed yearly cost of the concept's staff (SEK per year)."""
        return getattr(scenario.costs, cls.staff_cost) if cls.staff_cost else 0.0

    # -- lifetime -------------------------------------------------------------------------
    def open(self, t: float) -> None:
        """Start acting at ``t`` (the start of its window)."""

    def close(self, t: float) -> None:
        """Stop at ``t`` (the end of its window): end what is open, as at the horizon."""
        self.on_end(t)

    def record_staff(self, horizon: float) -> None:
        """Book the staffed days of each year of the window (priced after the run at the yearly staff cost)."""
        start, end = self.p.active_between()
        stop = min(end, horizon)
        for k in range(math.ceil(stop / DAYS_PER_YEAR - 1e-9)):
            t0 = k * DAYS_PER_YEAR
            t = max(t0, start)
            days = min(DAYS_PER_YEAR - (t - t0), stop - t)
            if days > 0:
                self.port.staffed(self.provider, t, days)

    # -- decisions at a deterioration -----------------------------------------------------
    def acts_on(self, p: int, t: float) -> bool:
        """Whether this concept decides ``p``'s deteriorations at ``t``."""
        return False

    def route(self, p: int, acuity: int, s: int, t: float, u) -> tuple[int, str]:
        """Route of a deterioration it acts on: ``(route, detail name)``."""
        return self.care.default_route(p, acuity, s, u)

    # -- modifiers (neutral) --------------------------------------------------------------
    def los_multiplier(self, p: int) -> float:
        """Multiplier on the medical length of stay."""
        return 1.0

    def plan_discharge(self, p: int, t: float) -> float:
        """Multiplier on the short-term-care probability at discharge planning."""
        return 1.0

    def relapse_multiplier(self, p: int) -> float:
        """Multiplier on the probability of a post-discharge relapse."""
        return 1.0

    def routine_multipliers(self, p: int, t: float) -> tuple[float, float, float]:
        """Multipliers on routine primary-care visits, outpatient visits and home-help hours."""
        return 1.0, 1.0, 1.0

    def accrue(self, p: int, a: float, b: float, s: int) -> None:
        """Book its own routine contacts with ``p`` over ``[a, b)`` (stratum ``s``)."""

    def nurse_hours_per_week(self, t: float, days: float) -> float:
        """Home health nurse hours a week its follow-ups need from ``t`` for ``days`` (h/week)."""
        return 0.0

    # -- notifications --------------------------------------------------------------------
    def on_enter(self, p: int, t: float) -> None:
        """Take note: ``p`` entered the area (or was there at the start)."""

    def on_admission(self, p: int, t: float) -> None:
        """Take note: ``p`` was admitted to hospital."""

    def on_discharge(self, p: int, t: float, to_short_term_care: bool) -> None:
        """Take note: ``p`` left hospital (to a short-term place if ``to_short_term_care``)."""

    def on_home(self, p: int, t: float) -> None:
        """Take note: ``p`` is back home."""

    def on_special_housing(self, p: int, t: float) -> None:
        """Take note: ``p`` moved into special housing."""

    def on_stratum_change(self, p: int, t: float, old: int, new: int) -> None:
        """Take note: ``p``'s stratum changed."""

    def on_deterioration_at_home(self, p: int, t: float, route: int) -> None:
        """Take note: a deterioration of ``p`` at home took ``route``."""

    def on_death(self, p: int, t: float) -> None:
        """Take note: ``p`` died."""

    def on_end(self, t: float) -> None:
        """Take note: the horizon is reached."""

    def handed_over(self, p: int, t: float) -> None:
        """Take note: another concept discharged ``p`` (a handover)."""


class Enrolment(Concept):
    """Persons enrolled in a concept, at most ``capacity`` at once.

    An enrolment is recorded when it ends, as one row of ``kind`` with ``time`` = the start,
    ``duration`` = the days enrolled and ``detail`` = why it ended (``censored`` at the horizon
    or when the concept stops).
    """

    kind: ClassVar[str] = ""  #: event kind of an enrolment row

    def __init__(self, port: CarePort, params: ConceptParams, care: CareSystem, capacity: int):
        super().__init__(port, params, care)
        self.capacity = capacity
        self._ramped = params.ramp_days > 0.0
        self.members: dict[int, float] = {}
        self.start_stratum: dict[int, int] = {}

    def __contains__(self, p: int) -> bool:
        return p in self.members

    def acts_on(self, p: int, t: float) -> bool:
        """Decide ``p``'s deteriorations while enrolled."""
        return p in self.members

    @property
    def capacity(self) -> int:
        """Places now: the cap, growing linearly over ``ramp_days`` as the team builds up (at least one)."""
        if not self._ramped:
            return self._cap
        return max(1, math.floor(self._cap * self.p.build_up(self.port.now)[0] + 1e-9))

    @capacity.setter
    def capacity(self, cap: int) -> None:
        self._cap = cap

    def full(self) -> bool:
        """Tell whether no place is free."""
        return len(self.members) >= self.capacity

    def enrol(self, p: int, t: float) -> None:
        """Take ``p`` on; routine volume so far is counted under the old care first."""
        self.port.accrue(p, t)
        self.members[p] = t
        self.start_stratum[p] = int(self.port.stratum[p])

    def leave(self, p: int, t: float, reason: str) -> None:
        """End ``p``'s enrolment and record it."""
        if p not in self.members:
            return
        self.port.accrue(p, t)
        start = self.members.pop(p)
        # The row is dated at the start, so it carries the stratum the person had then.
        self.port.note(p, start, self.kind, reason, self.provider, duration=t - start,
                       quantity=1.0, stratum=self.start_stratum.pop(p))
        self.after_leave(p, t)

    def after_leave(self, p: int, t: float) -> None:
        """Use a place that became free (nothing by default)."""

    def home_route(self, p: int, acuity: int, s: int, u, home: str) -> tuple[int, str]:
        """Route the mobile way: prevent, admit directly when a bed is needed, else meet at home.

        Uses the concept's ``prevent_share`` and ``home_treat_share`` (times its :meth:`effect`
        while it learns) and ``self.direct``; ``home`` names the detail of its home visits; a home
        visit needs staff time (:meth:`acute_visit`). What it does not meet goes today's way.
        """
        effect = self.effect(self.port.now) if self.p.learning_days > 0.0 else 1.0
        if u[U_PREVENT] < self.p.prevent_share * effect:
            return PREVENTED, home
        if acuity == NEEDS_BED:
            return (DIRECT_ADMIT, "direct") if self.direct else (ED_ADMIT, "via_ed")
        if u[U_HOME] < self.p.home_treat_share * effect:
            if self.acute_visit(p, self.port.now):
                return TEAM_HOME, home
            # No staff time left: the next concept acting on the person decides, else today's way.
            after = getattr(self.care, "route_after", None)
            if after is not None:
                return after(self, p, acuity, s, self.port.now, u)
        return self.care.default_route(p, acuity, s, u)

    def acute_visit(self, p: int, t: float, visits: float = 1.0, detail: str = "acute") -> bool:
        """Tell whether the staff have time for ``visits`` acute home visits now (always, unless staffed)."""
        return True

    # -- a waiting list, for the concepts that keep one in ``self.waiting`` (person -> (start day, stratum))
    def start_wait(self, p: int, t: float, max_wait_days: float | None) -> None:
        """Put ``p`` on the waiting list at ``t``; the wait expires after ``max_wait_days`` (None: never)."""
        self.waiting[p] = (t, int(self.port.stratum[p]))
        if max_wait_days is not None:
            self.port.later(max_wait_days, self._expire, p, t)

    def end_wait(self, p: int, t: float, outcome: str) -> None:
        """Take ``p`` off the waiting list; one ``waiting`` row (time = start, duration = days waited)."""
        start, stratum = self.waiting.pop(p)
        self.port.note(p, start, "waiting", outcome, self.provider, duration=t - start, stratum=stratum)

    def _expire(self, p: int, started: float) -> None:
        w = self.waiting.get(p)
        if w is None or w[0] != started:  # served or gone since, or waiting again from a later day
            return
        t = self.port.now
        self.end_wait(p, t, "expired")
        self.port.note(p, t, "wait_expired", "expired", self.provider)
        self.after_expire(p, t)

    def after_expire(self, p: int, t: float) -> None:
        """Take note: ``p``'s wait expired; the person stays with ordinary care."""

    def on_death(self, p: int, t: float) -> None:
        """End the enrolment of a person who died."""
        self.leave(p, t, "died")

    def on_end(self, t: float) -> None:
        """Censor every enrolment at the horizon."""
        for p in list(self.members):
            self.leave(p, t, "censored")


class StaffedEnrolment(Enrolment):
    """An enrolment whose capacity and reach follow from its staff (issue 15).

    Parameters are a :class:`sim.config.concepts.StaffedParams`. Capacity (persons at once):
    the planned patient hours of all teams per week over the planned hours one person needs
    per week (:meth:`staff_capacity`), or the per-team cap times ``teams`` where the concept
    has one and it is lower (:meth:`capacity_of`). Acute home visits draw on a weekly budget:
    the patient hours of the week less the planned hours of a full caseload; when it is spent
    the deterioration goes today's way and a ``staff_limit`` row records it. Each week a
    ``staff_time`` row with detail ``available`` (patient hours of the week) and one with
    detail ``acute`` (the acute budget) are written; at the start, detail ``capacity`` (the
    persons it may hold) and ``staff_capacity`` (what the staff time alone allows).
    """

    cap_field: ClassVar[str | None] = "caseload_max"  #: the per-team cap field of the params (None: none)

    @classmethod
    def planned_visits_per_week(cls, params) -> float:
        """Planned home visits one enrolled person gets per week (visits/person-week)."""
        raise NotImplementedError

    @classmethod
    def planned_hours_per_person_week(cls, params) -> float:
        """Staff hours one enrolled person's planned visits take per week (h/person-week)."""
        return cls.planned_visits_per_week(params) * params.visit_minutes / MINUTES_PER_HOUR

    @classmethod
    def staff_capacity(cls, params) -> int:
        """Persons the staff's planned time holds at once: planned hours / hours per person-week (persons)."""
        need = cls.planned_hours_per_person_week(params)
        if need <= 0:
            return 1_000_000
        return max(0, math.floor(params.patient_hours_per_week() * params.planned_share / need + 1e-9))

    @classmethod
    def capacity_of(cls, params) -> tuple[int, str]:
        """Persons held at once and what limits it: ``staff`` (staff time) or ``cap`` (the per-team cap)."""
        staff = cls.staff_capacity(params)
        cap = getattr(params, cls.cap_field, None) if cls.cap_field else None
        if cap is not None and cap * params.teams < staff:
            return cap * params.teams, "cap"
        return staff, "staff"

    @classmethod
    def staff_cost_per_year(cls, scenario: Scenario) -> float:
        """Staff table of all teams plus the ``[costs]`` field's non-staff cost per team (SEK per year)."""
        p = getattr(scenario.concepts, cls.name)
        other = getattr(scenario.costs, cls.staff_cost) if cls.staff_cost else 0.0
        return p.staff_cost_per_year() + p.teams * other

    def __init__(self, port: CarePort, params, care: CareSystem):
        capacity, self.limit = self.capacity_of(params)
        super().__init__(port, params, care, capacity)
        self.visit_hours = params.visit_minutes / MINUTES_PER_HOUR
        self.acute_left = 0.0

    def record_staff(self, horizon: float) -> None:
        """Book the staffed days, the capacity rows, and start the weekly staff-time budget."""
        super().record_staff(horizon)
        start, end = self.p.active_between()
        if start >= horizon:
            return
        self.port.note(-1, start, "staff_time", "capacity", self.provider, quantity=float(self.capacity), stratum=0)
        self.port.note(-1, start, "staff_time", "staff_capacity", self.provider,
                       quantity=float(self.staff_capacity(self.p)), stratum=0)
        self.port.later(start, self._week, min(end, horizon))

    def _week(self, stop: float) -> None:
        t = self.port.now
        if t >= stop - 1e-9:
            self.acute_left = 0.0
            return
        days = min(DAYS_PER_WEEK, stop - t)
        available = self.p.patient_hours_per_week() * days / DAYS_PER_WEEK
        planned = self.capacity * self.planned_hours_per_person_week(self.p) * days / DAYS_PER_WEEK
        self.acute_left = max(0.0, available - planned)
        self.port.note(-1, t, "staff_time", "available", self.provider, duration=days, quantity=available, stratum=0)
        self.port.note(-1, t, "staff_time", "acute", self.provider, duration=days, quantity=self.acute_left,
                       stratum=0)
        self.port.later(days, self._week, stop)

    def acute_visit(self, p: int, t: float, visits: float = 1.0, detail: str = "acute") -> bool:
        """Take ``visits`` acute home visits' time from this week's budget; record a refusal when it is short.

        A refusal is a ``staff_limit`` row with ``detail`` (``acute``: one visit at a deterioration).
        """
        hours = visits * self.visit_hours
        if self.acute_left + 1e-9 >= hours:
            self.acute_left -= hours
            return True
        self.port.note(p, t, "staff_limit", detail, self.provider)
        return False

