"""Enrolment with a caseload limit: the shape every service concept shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.domain.events import D
from sim.domain.health import NEEDS_BED
from sim.domain.routes import DIRECT_ADMIT, ED_ADMIT, PREVENTED, TEAM_HOME, U_HOME, U_PREVENT

if TYPE_CHECKING:
    from sim.engine.model import Model


class Enrolment:
    """Persons enrolled in a concept, at most ``capacity`` at once.

    An enrolment is recorded when it ends, as one row of ``kind`` with ``time`` = the start,
    ``duration`` = the days enrolled and ``detail`` = why it ended (``censored`` at the horizon).
    """

    kind = ""
    provider = ""

    def __init__(self, model: Model, capacity: int):
        self.model = model
        self.capacity = capacity
        self.members: dict[int, float] = {}
        self.start_stratum: dict[int, int] = {}

    def __contains__(self, p: int) -> bool:
        return p in self.members

    def acts_on(self, p: int, t: float) -> bool:
        """The concept decides ``p``'s deteriorations at ``t`` (default: while enrolled)."""
        return p in self.members

    def full(self) -> bool:
        """No free place."""
        return len(self.members) >= self.capacity

    def enrol(self, p: int, t: float) -> None:
        """Take ``p`` on; routine volume so far is counted under the old care first."""
        self.model.accrue(p, t)
        self.members[p] = t
        self.start_stratum[p] = int(self.model.stratum[p])

    def leave(self, p: int, t: float, reason: str) -> None:
        """End ``p``'s enrolment and record it."""
        if p not in self.members:
            return
        self.model.accrue(p, t)
        start = self.members.pop(p)
        # The row is dated at the start, so it carries the stratum the person had then.
        self.model.note(p, start, self.kind, D[reason], self.provider, duration=t - start,
                        quantity=1.0, stratum=self.start_stratum.pop(p))
        self.after_leave(p, t)

    def after_leave(self, p: int, t: float) -> None:
        """Hook: a place became free."""

    def home_route(self, care, p: int, acuity: int, s: int, u, home: str) -> tuple[int, int]:
        """The mobile logic: prevent, admit directly when a bed is needed, else meet at home.

        Uses the concept's ``prevent_share`` and ``home_treat_share`` and ``self.direct``;
        ``home`` names the detail of its home visits. What it does not meet goes today's way.
        """
        if u[U_PREVENT] < self.p.prevent_share:
            return PREVENTED, D[home]
        if acuity == NEEDS_BED:
            return (DIRECT_ADMIT, D["direct"]) if self.direct else (ED_ADMIT, D["via_ed"])
        if u[U_HOME] < self.p.home_treat_share:
            return TEAM_HOME, D[home]
        return care.default_route(p, acuity, s, u)

    def dropped(self, p: int, t: float) -> None:
        """The person died."""
        self.leave(p, t, "died")

    def end(self, t: float) -> None:
        """Censor every enrolment at the horizon."""
        for p in list(self.members):
            self.leave(p, t, "censored")
