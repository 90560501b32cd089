"""Mobile palliative team: two physicians and three nurses, around the clock.

Inclusion: palliative stratum, incurable cancer, the patient's own wish (the breakpoint
conversation and complex symptoms are taken as part of being in the palliative stratum).
Meets symptoms at home and arranges open returns (direct admissions) instead of the ED.
"""

from __future__ import annotations

from sim.care.concepts.base import Enrolment
from sim.domain.events import D
from sim.domain.strata import STRATA

PALLIATIVE = STRATA.index("palliative")


class PalliativeTeam(Enrolment):
    """The palliative team's caseload and routing."""

    kind = "palliative_enrol"
    provider = "palliative_team"

    def __init__(self, model, params, direct_admission: bool):
        super().__init__(model, params.caseload_max)
        self.p = params
        self.direct = direct_admission

    def refer(self, p: int, t: float) -> None:
        """Referral when the person is palliative, has incurable cancer and wishes it."""
        m = self.model
        if p in self.members or m.stratum[p] != PALLIATIVE:
            return
        if not (m.attrs.cancer[p] and m.attrs.wish[p]):
            return
        if self.full():
            m.note(p, t, self.kind, D["full"], self.provider)
            return
        self.enrol(p, t)

    def route(self, care, p: int, acuity: int, s: int, t: float, u) -> tuple[int, int]:
        """Around the clock: prevention, symptoms met at home, open return to the ward."""
        return self.home_route(care, p, acuity, s, u, "palliative_home")
