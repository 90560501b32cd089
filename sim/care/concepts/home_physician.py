"""Mobile home-care physician (mobil hemsjukvårdsläkare): about half time, 270-350 listed.

Lists persons enrolled in municipal home health care with three or more medical
interventions (counted here as chronic diagnoses) who live where the physician works.
Home visits replace primary-care and some outpatient visits and meet deteriorations early.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from sim.care.concepts.base import Enrolment
from sim.domain.locations import DEAD, NOT_ENTERED
from sim.domain.streams import uniforms


class HomePhysician(Enrolment):
    """The physician's list, a waiting list when it is full, and routing."""

    kind = "physician_list"
    provider = "home_physician"

    def __init__(self, model, params, direct_admission: bool):
        super().__init__(model, params.list_max)
        self.p = params
        self.direct = direct_admission
        # Where a person lives is fixed: one CONCEPT-stream uniform per person.
        self.covered = uniforms(model.concept_key, np.arange(model.pop.size), 0) < params.area_share
        self.waiting: deque[int] = deque()

    def eligible(self, p: int) -> bool:
        """In the physician's area, in home health care, enough medical interventions."""
        m = self.model
        s = m.stratum[p]
        return bool(self.covered[p] and m.attrs.hhc[s, p]
                    and m.attrs.chronic[s, p] >= self.p.medical_interventions_min
                    and m.location[p] not in (NOT_ENTERED, DEAD))

    def check(self, p: int, t: float) -> None:
        """List or unlist ``p`` after a change in their state."""
        if p in self.members:
            if not self.eligible(p):
                self.leave(p, t, "not_eligible")
            return
        if not self.eligible(p):
            return
        if self.full():
            if p not in self.waiting:
                self.waiting.append(p)
            return
        self.enrol(p, t)

    def dropped(self, p: int, t: float) -> None:
        """Death."""
        self.leave(p, t, "died")

    def after_leave(self, p: int, t: float) -> None:
        while self.waiting and not self.full():
            q = self.waiting.popleft()
            if q not in self.members and self.eligible(q):
                self.enrol(q, t)

    def route(self, care, p: int, acuity: int, s: int, t: float, u) -> tuple[int, int]:
        """Early: some deteriorations prevented, some met at home, beds by direct admission."""
        return self.home_route(care, p, acuity, s, u, "physician_home")
