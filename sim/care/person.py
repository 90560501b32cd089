"""Person-driven care (individstyrning): care designed around a target group's needs.

Built on today's system (basal home health care stays), with the registered service
concepts added, each switchable alone and each active over its own window of days (the
mobile närsjukvårdsteam, the mobile palliative team, the mobile home-care physician, Trygg
hemgång; see :mod:`sim.care.concepts`), plus direct admissions and team collaboration that
removes most hassle time (strulfaktorer). With every concept switched off it behaves exactly
as :class:`~sim.care.system.CareSystem`.
"""

from __future__ import annotations

from sim.care.concepts import REGISTRY
from sim.care.concepts.base import HOOKS, Concept
from sim.care.system import CareSystem


class PersonCare(CareSystem):
    """Individstyrning: the concepts decide first for the persons they act on."""

    paradigm = "person"

    def __init__(self, port):
        super().__init__(port)
        c = port.scenario.concepts
        #: Payer of each concept's provider, where the scenario's ``[payers]`` does not say.
        self.default_payers: dict[str, str] = {}
        #: The enabled concepts, in registration order.
        self.concepts: list[Concept] = []
        for name, cls in REGISTRY.items():
            params = getattr(c, name)
            if params.enabled:
                self.concepts.append(cls(port, params, self))
                self.default_payers[cls.provider] = cls.payer
                for detail, kind in (*((cls.home_visit,) if cls.home_visit is not None else ()),
                                     *cls.more_home_visits):
                    self.home_visits[detail] = (kind, cls.provider)
        if c.team_collaboration:
            self.hassle_share = c.hassle_share_with_collaboration
        self.active: list[Concept] = [x for x in self.concepts if x.p.active_between()[0] == 0.0]
        self._dispatch()

    def _dispatch(self) -> None:
        # Per hook, only the active concepts that override it: a neutral hook costs nothing.
        # ``_<hook>``: those concepts; ``_<hook>_fns``: their bound methods, what the hot hooks loop over.
        for hook in HOOKS:
            base = getattr(Concept, hook)
            acting = [x for x in self.active if getattr(type(x), hook) is not base]
            setattr(self, f"_{hook}", acting)
            setattr(self, f"_{hook}_fns", [getattr(x, hook) for x in acting])
        self._routing = sorted(self.active, key=lambda x: x.priority)
        # The persons whose routine volume a concept may change or add to (see CareSystem.routine_holders).
        routine = dict.fromkeys(self._routine_multipliers + self._accrue)
        self.routine_holders = (None if any(x.routine_holders is None for x in routine)
                                else tuple(getattr(x, name) for x in routine for name in x.routine_holders))
        self._routing_fns = [(x.acts_on, x.route) for x in self._routing]

    # -- the concepts' windows -----------------------------------------------------------
    def on_start(self):
        """Book the staffed time of every enabled concept; open and close the windows that need it."""
        port = self.port
        for x in self.concepts:
            x.record_staff(port.horizon)
            start, end = x.p.active_between()
            if start > 0.0:
                port.later(start, self._open, x)
            if end < port.horizon:
                port.later(end, self._close, x)

    def _open(self, x: Concept) -> None:
        self.active.append(x)
        self.active.sort(key=self.concepts.index)
        self._dispatch()
        x.open(self.port.now)

    def _close(self, x: Concept) -> None:
        if x in self.active:
            self.active.remove(x)
            self._dispatch()
        x.close(self.port.now)

    def hand_over(self, source: Concept, p: int, t: float) -> None:
        """``source`` discharged ``p``: the other concepts may take the person on."""
        for x in self._handed_over:
            if x is not source:
                x.handed_over(p, t)

    # -- routing --------------------------------------------------------------------------
    def route(self, p, acuity, s, t, u):
        """Route by the first concept (in priority order) that acts on ``p``, else today's way."""
        for acts_on, route in self._routing_fns:
            if acts_on(p, t):
                return route(p, acuity, s, t, u)
        return self.default_route(p, acuity, s, u)

    def route_after(self, concept, p, acuity, s, t, u):
        """Route by the concepts after ``concept`` (in priority order) that act on ``p``, else today's way."""
        seen = False
        for x in self._routing:
            if seen and x.acts_on(p, t):
                return x.route(p, acuity, s, t, u)
            seen = seen or x is concept
        return self.default_route(p, acuity, s, u)

    # -- modifiers ------------------------------------------------------------------------
    def los_multiplier(self, p):
        """Product of the concepts' length-of-stay multipliers."""
        m = 1.0
        for fn in self._los_multiplier_fns:
            m *= fn(p)
        return m

    def plan_discharge(self, p, t):
        """Product of the concepts' short-term-care multipliers (a concept may reserve a place)."""
        m = 1.0
        for fn in self._plan_discharge_fns:
            m *= fn(p, t)
        return m

    def relapse_multiplier(self, p):
        """Product of the concepts' relapse multipliers."""
        m = 1.0
        for fn in self._relapse_multiplier_fns:
            m *= fn(p)
        return m

    def routine_multipliers(self, p, t):
        """Products of the concepts' routine-volume multipliers."""
        pc = op = help_ = 1.0
        for fn in self._routine_multipliers_fns:
            a, b, c = fn(p, t)
            pc *= a
            op *= b
            help_ *= c
        return pc, op, help_

    def accrue_concepts(self, p, a, b, s):
        """Book the concepts' own routine visits over ``[a, b)``."""
        for fn in self._accrue_fns:
            fn(p, a, b, s)

    def nurse_hours_per_week(self, t, days):
        """Sum of the concepts' demands on the home health nurses this week (h/week)."""
        return sum(x.nurse_hours_per_week(t, days) for x in self._nurse_hours_per_week)

    # -- notifications --------------------------------------------------------------------
    def on_enter(self, p, t):
        """Pass on to the concepts."""
        for fn in self._on_enter_fns:
            fn(p, t)

    def on_admission(self, p, t):
        """Pass on to the concepts."""
        for fn in self._on_admission_fns:
            fn(p, t)

    def on_discharge(self, p, t, to_short_term_care):
        """Pass on to the concepts."""
        for fn in self._on_discharge_fns:
            fn(p, t, to_short_term_care)

    def on_home(self, p, t):
        """Pass on to the concepts."""
        for fn in self._on_home_fns:
            fn(p, t)

    def on_special_housing(self, p, t):
        """Pass on to the concepts."""
        for fn in self._on_special_housing_fns:
            fn(p, t)

    def on_stratum_change(self, p, t, old, new):
        """Pass on to the concepts."""
        for fn in self._on_stratum_change_fns:
            fn(p, t, old, new)

    def on_deterioration_at_home(self, p, t, route):
        """Pass on to the concepts."""
        for fn in self._on_deterioration_at_home_fns:
            fn(p, t, route)

    def on_death(self, p, t):
        """Pass on to the concepts."""
        for fn in self._on_death_fns:
            fn(p, t)

    def on_end(self, t):
        """Pass on to the concepts."""
        for fn in self._on_end_fns:
            fn(t)
