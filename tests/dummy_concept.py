"""A dummy service concept, the whole of it in this one module: what a new concept needs.

The "dummy team" enrols unstable persons when they enter or turn unstable (up to its
caseload), visits them weekly, and at a deterioration prevents ``prevent_share`` of them with
a home visit. Its staff cost is in its own section. Importing this module registers it;
``unregister("dummy_team")`` removes it again.
"""

from __future__ import annotations

from sim.care.concepts import Enrolment, register
from sim.config.concepts import ConceptParams
from sim.config.scenario import Capacity, Cost, Rate, Share
from sim.domain.metrics import Caseload
from sim.domain.routes import PREVENTED, U_PREVENT
from sim.domain.strata import UNSTABLE


class DummyTeamParams(ConceptParams):
    """The dummy team's section ``[concepts.dummy_team]``."""

    caseload_max: Capacity
    prevent_share: Share
    visits_per_week: Rate
    cost_per_year: Cost


@register
class DummyTeam(Enrolment):
    """Enrols unstable persons; prevents a share of their deteriorations."""

    name = "dummy_team"
    Params = DummyTeamParams
    provider = "dummy_team"
    payer = "municipality"
    kind = "dummy_enrol"
    kinds = ("dummy_enrol", "dummy_visit")
    details = ("dummy_home",)
    home_visit = ("dummy_home", "dummy_visit")
    metrics = {"dummy_team_caseload": Caseload("dummy_enrol", "mean persons enrolled at once")}
    priority = 5

    def __init__(self, port, params, care):
        super().__init__(port, params, care, params.caseload_max)

    @classmethod
    def staff_cost_per_year(cls, scenario) -> float:
        """Return the team's yearly cost, from its own section."""
        return scenario.concepts.dummy_team.cost_per_year

    def _take(self, p: int, t: float) -> None:
        if p not in self.members and self.port.stratum[p] == UNSTABLE and not self.full():
            self.enrol(p, t)

    def on_enter(self, p, t):
        """Enrol an unstable person entering."""
        self._take(p, t)

    def on_stratum_change(self, p, t, old, new):
        """Enrol on turning unstable; leave when no longer unstable."""
        if new == UNSTABLE:
            self._take(p, t)
        elif p in self.members:
            self.leave(p, t, "stabilised")

    def accrue(self, p, a, b, s):
        """Book the weekly visits."""
        if p in self.members:
            self.port.book(p, a, "dummy_visit", self.provider, b - a, self.p.visits_per_week * (b - a) / 7.0,
                           "routine")

    def route(self, p, acuity, s, t, u):
        """Prevent a share; the rest today's way."""
        if u[U_PREVENT] < self.p.prevent_share:
            return PREVENTED, "dummy_home"
        return self.care.default_route(p, acuity, s, u)
