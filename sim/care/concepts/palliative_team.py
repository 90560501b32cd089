"""Mobile palliative team: two physicians and three nurses, around the clock.

Inclusion: palliative stratum, incurable cancer, the patient's own wish (the breakpoint
conversation and complex symptoms are taken as part of being in the palliative stratum).
Meets symptoms at home and arranges open returns (direct admissions) instead of the ED.
"""

from __future__ import annotations

from pydantic import Field

from sim.care.concepts.base import StaffedEnrolment, staffed_metrics
from sim.care.concepts.registry import register
from sim.config.concepts import StaffedParams
from sim.config.scenario import Capacity, PositiveDays, Rate, Share
from sim.domain.metrics import Caseload, RefusedShare
from sim.domain.strata import PALLIATIVE


class PalliativeTeamParams(StaffedParams):
    """Mobile palliative team: two physicians and three nurses, around the clock."""

    caseload_max: Capacity | None = Field(default=None,
                                          description="per-team cap on persons enrolled (none: the staff decide)")
    visits_per_week: Rate = Field(default=0.0,
                                  description="planned visits per enrolled person and week when the team has room")
    episode_days: PositiveDays | None = Field(
        default=None, description="an enrolment ends after this many days (symptoms controlled; the next "
                                  "deterioration or discharge refers again; none: until death)")
    serve_special_housing: bool = Field(
        default=True, description="the team also serves residents of special housing (DOMAIN.md 4: "
                                  "'eget boende och särskilt boende')")
    min_visits_per_week: Rate = Field(
        default=0.0,
        description="planned visits per person and week the team flexes down to when busy (sets its capacity)",
    )
    home_treat_share: Share
    prevent_share: Share


@register
class PalliativeTeam(StaffedEnrolment):
    """The palliative team's caseload and routing."""

    name = "palliative_team"
    Params = PalliativeTeamParams
    provider = "palliative_team"
    kind = "palliative_enrol"
    kinds = ("palliative_enrol", "palliative_visit", "staff_time", "staff_limit")
    details = ("full", "capacity", "staff_capacity", "available", "acute", "stabilised")
    home_visit = ("palliative_home", "palliative_visit")
    metrics = {
        "palliative_team_caseload": Caseload("palliative_enrol", "mean persons enrolled at once"),
        "palliative_team_refused": RefusedShare(
            "palliative_enrol", ("full",), "share of eligible referrals and enrolments that found the team full"),
        **staffed_metrics("palliative_team", "palliative_visit", "palliative_home"),
    }
    staff_cost = "palliative_team_year"
    priority = 10  # decides first: a palliative person is the team's
    routine_holders = ("members",)

    @classmethod
    def planned_visits_per_week(cls, params) -> float:
        """Planned visits per person-week the capacity is sized at: the flexed-down minimum."""
        return params.min_visits_per_week

    def visit_rate(self) -> float:
        """Planned visits per enrolled person and week now: the target, fewer when the planned time is shared by more.

        ``visits_per_week`` while the planned hours allow it, else the planned hours spread
        over the persons enrolled (never below ``min_visits_per_week``: the capacity is sized at it).
        """
        n = len(self.members)
        if n == 0 or self.visit_hours <= 0:
            return self.p.visits_per_week
        room = self.capacity * self.planned_hours_per_person_week(self.p) / (n * self.visit_hours)
        return min(self.p.visits_per_week, max(self.p.min_visits_per_week, room))

    def accrue(self, p: int, a: float, b: float, s: int) -> None:
        """Book the team's planned home visits (at the rate of the caseload now)."""
        if p in self.members:
            days = b - a
            self.port.book(p, a, "palliative_visit", "palliative_team", days, self.visit_rate() * days / 7.0,
                           "routine")


    def reaches(self, p: int) -> bool:
        """Tell whether the team reaches where ``p`` lives: at home, or in special housing if it serves it.

        Special housing is read through the port's ``in_special_housing`` once the engine has
        it (the baseline issue's special housing); until then every person lives at home.
        """
        in_special_housing = getattr(self.port, "in_special_housing", None)
        if in_special_housing is not None and in_special_housing(p):
            return self.p.serve_special_housing
        return True

    def refer(self, p: int, t: float) -> None:
        """Take a referral when the person is palliative, has incurable cancer and wishes it."""
        port = self.port
        if p in self.members or port.stratum_of(p) != PALLIATIVE:
            return
        if not (port.attrs.cancer[p] and port.attrs.wish[p]) or not self.reaches(p):
            return
        if self.full():
            port.note(p, t, self.kind, "full", self.provider)
            return
        self.enrol(p, t)
        if self.p.episode_days is not None:
            port.later(self.p.episode_days, self._episode_end, p, t)

    def _episode_end(self, p: int, started: float) -> None:
        if self.members.get(p) == started:
            self.leave(p, self.port.now, "stabilised")

    def after_leave(self, p: int, t: float) -> None:
        """Hand a discharged patient over (the home-care physician may list them)."""
        self.care.hand_over(self, p, t)

    def on_deterioration_at_home(self, p: int, t: float, route: int) -> None:
        """Refer again at a deterioration at home (after an episode ended, or a refusal)."""
        self.refer(p, t)

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
