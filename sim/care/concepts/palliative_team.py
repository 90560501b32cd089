"""Mobile palliative team: two physicians and three nurses, around the clock.

Inclusion: palliative stratum, incurable cancer, the patient's own wish (the breakpoint
conversation and complex symptoms are taken as part of being in the palliative stratum).
Meets symptoms at home and arranges open returns (direct admissions) instead of the ED.
"""

from __future__ import annotations

from sim.care.concepts.base import Enrolment
from sim.care.concepts.registry import register
from sim.config.concepts import ConceptParams
from sim.config.scenario import Capacity, Share
from sim.domain.metrics import Caseload
from sim.domain.strata import PALLIATIVE


class PalliativeTeamParams(ConceptParams):
    """Mobile palliative team: two physicians and three nurses, around the clock."""

    caseload_max: Capacity
    home_treat_share: Share
    prevent_share: Share


@register
class PalliativeTeam(Enrolment):
    """The palliative team's caseload and routing."""

    name = "palliative_team"
    Params = PalliativeTeamParams
    provider = "palliative_team"
    kind = "palliative_enrol"
    kinds = ("palliative_enrol", "palliative_visit")
    details = ("full",)
    home_visit = ("palliative_home", "palliative_visit")
    metrics = {"palliative_team_caseload": Caseload("palliative_enrol", "mean persons enrolled at once")}
    staff_cost = "palliative_team_year"
    priority = 10  # decides first: a palliative person is the team's

    def __init__(self, port, params, care):
        super().__init__(port, params, care, params.caseload_max)


    def refer(self, p: int, t: float) -> None:
        """Take a referral when the person is palliative, has incurable cancer and wishes it."""
        port = self.port
        if p in self.members or port.stratum[p] != PALLIATIVE:
            return
        if not (port.attrs.cancer[p] and port.attrs.wish[p]):
            return
        if self.full():
            port.note(p, t, self.kind, "full", self.provider)
            return
        self.enrol(p, t)

    def on_enter(self, p: int, t: float) -> None:
        """Refer a person who enters palliative."""
        self.refer(p, t)

    def on_discharge(self, p: int, t: float, to_short_term_care: bool) -> None:
        """Refer at discharge."""
        self.refer(p, t)

    def on_stratum_change(self, p: int, t: float, old: int, new: int) -> None:
        """Refer a person who turns palliative."""
        if new == PALLIATIVE:
            self.refer(p, t)

    def route(self, p: int, acuity: int, s: int, t: float, u) -> tuple[int, str]:
        """Around the clock: prevention, symptoms met at home, open return to the ward."""
        return self.home_route(p, acuity, s, u, "palliative_home")
