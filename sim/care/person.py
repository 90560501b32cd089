"""Person-driven care (individstyrning): care designed around a target group's needs.

Built on today's system (basal home health care stays), with the service concepts of Närvård
västra Skaraborg and Ronneby added, each switchable alone: the mobile närsjukvårdsteam, the
mobile palliative team, the mobile home-care physician, Trygg hemgång, direct admissions and
team collaboration that removes most hassle time (strulfaktorer). With every concept switched
off it behaves exactly as :class:`~sim.care.system.CareSystem`.
"""

from __future__ import annotations

import math

from sim.care.concepts import HomePhysician, MobileTeam, PalliativeTeam, SafeDischarge
from sim.care.system import CareSystem
from sim.domain.events import PR, D, K
from sim.domain.routes import NURSE
from sim.domain.strata import STRATA

UNSTABLE = STRATA.index("unstable")
PALLIATIVE = STRATA.index("palliative")


class PersonCare(CareSystem):
    """Individstyrning: the concepts decide first for their enrolled persons."""

    paradigm = "person"

    def __init__(self, model):
        super().__init__(model)
        c = model.scenario.concepts
        direct = c.direct_admission
        self.team = MobileTeam(model, c.mobile_team, direct) if c.mobile_team.enabled else None
        self.palliative = PalliativeTeam(model, c.palliative_team, direct) if c.palliative_team.enabled else None
        self.physician = HomePhysician(model, c.home_physician, direct) if c.home_physician.enabled else None
        self.safe = SafeDischarge(model, c.safe_discharge) if c.safe_discharge.enabled else None
        if c.team_collaboration:
            self.hassle_share = c.hassle_share_with_collaboration
        if self.team is not None and self.physician is not None:
            self.team.on_leave = self.physician.check
        self.concepts = [x for x in (self.team, self.palliative, self.physician, self.safe) if x is not None]

    # -- routing --------------------------------------------------------------------------
    def route(self, p, acuity, s, t, u):
        # In this order: the team's plan after its discharge still comes before the home physician.
        for concept in (self.palliative, self.team, self.physician, self.safe):
            if concept is not None and concept.acts_on(p, t):
                return concept.route(self, p, acuity, s, t, u)
        return self.default_route(p, acuity, s, u)

    # -- modifiers ------------------------------------------------------------------------
    def los_multiplier(self, p):
        if self.team is not None and p in self.team:
            return self.team.p.los_multiplier
        return 1.0

    def plan_discharge(self, p, t):
        return self.safe.plan(p, t) if self.safe is not None else 1.0

    def relapse_multiplier(self, p):
        m = 1.0
        if self.team is not None and p in self.team:
            m *= self.team.p.relapse_multiplier
        if self.safe is not None and self.safe.active(p):
            m *= self.safe.p.relapse_multiplier
        return m

    def routine_multipliers(self, p, t):
        pc = op = help_ = 1.0
        if self.team is not None:
            if p in self.team:
                op *= self.team.p.outpatient_multiplier
            elif self.team.in_aftercare(p, t):
                op *= self.team.p.aftercare_outpatient_multiplier
        if self.physician is not None and p in self.physician:
            pc *= self.physician.p.primary_care_multiplier
            op *= self.physician.p.outpatient_multiplier
        if self.safe is not None:
            help_ *= self.safe.help_multiplier(p, t)
        return pc, op, help_

    def accrue_concepts(self, p, a, b, s):
        m = self.model
        days = b - a
        rt = D["routine"]
        if self.team is not None and p in self.team:
            m.book(p, a, "team_visit", "mobile_team", days, self.team.p.visits_per_week * days / 7.0, 0.0, rt)
        if self.physician is not None and p in self.physician:
            m.book(p, a, "physician_visit", "home_physician", days,
                   self.physician.p.visits_per_year * days / 365.25, 0.0, rt)
        if self.safe is not None and self.safe.active(p):
            start = self.safe.members[p]
            overlap = min(b, start + self.safe.p.days) - a
            if overlap > 0:
                m.book(p, a, "safe_discharge_visit", "safe_discharge", overlap,
                       self.safe.p.visits_per_day * overlap, 0.0, rt)

    # -- notifications --------------------------------------------------------------------
    def on_start(self):
        m = self.model
        costs = m.scenario.costs
        fixed = (
            (self.team, "mobile_team", costs.mobile_team_year),
            (self.palliative, "palliative_team", costs.palliative_team_year),
            (self.physician, "home_physician", costs.home_physician_year),
            (self.safe, "safe_discharge", costs.safe_discharge_team_year),
        )
        years = math.ceil(m.horizon / 365.25 - 1e-9)
        for concept, provider, per_year in fixed:
            if concept is None:
                continue
            for k in range(years):
                t = k * 365.25
                days = min(365.25, m.horizon - t)
                m.rec.record(-1, t, K["fixed_cost"], PR[provider], m.payer[provider], days,
                             days / 365.25, per_year * days / 365.25, 0, 0)

    def on_enter(self, p, t):
        if self.palliative is not None:
            self.palliative.refer(p, t)
        if self.physician is not None:
            self.physician.check(p, t)

    def on_discharge(self, p, t, to_short_term_care):
        if self.safe is not None:
            self.safe.discharged(p, t, to_short_term_care)
        if self.palliative is not None:
            self.palliative.refer(p, t)
        if self.team is not None:
            self.team.refer(p, t)

    def on_home(self, p, t):
        if self.safe is not None:
            self.safe.home(p, t)

    def on_admission(self, p, t):
        if self.safe is not None and self.safe.active(p):
            self.safe.dropped(p, t)

    def on_stratum_change(self, p, t, old, new):
        if self.team is not None:
            self.team.stratum_changed(p, t, new)
            if new == UNSTABLE and self.team.p.referral_from_nurse and self.model.in_home_health(p):
                self.team.refer(p, t)
        if self.palliative is not None and new == PALLIATIVE:
            self.palliative.refer(p, t)
        if self.physician is not None:
            self.physician.check(p, t)

    def on_deterioration_at_home(self, p, t, route):
        if (self.team is not None and route == NURSE and self.team.p.referral_from_nurse):
            self.team.refer(p, t)

    def on_death(self, p, t):
        for concept in self.concepts:
            concept.dropped(p, t)

    def on_end(self, t):
        for concept in self.concepts:
            concept.end(t)

