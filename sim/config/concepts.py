"""Scenario sections of the service concepts: each concept registers its parameter model here.

A concept lives in one module of :mod:`sim.care.concepts` and declares its own parameter
model (a :class:`ConceptParams`). Registering it makes ``[concepts.<name>]`` a validated,
required section of every scenario, in registration order, without this layer importing the
care layer: the ``Concepts`` model of :mod:`sim.config.scenario` is rebuilt from the
registered sections and the switches that are not concepts.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, create_model, model_serializer, model_validator

from sim.config import scenario as _scenario
from sim.config.scenario import ConceptSwitches, Cost, NonNegDays, PositiveDays, Share, Strict
from sim.domain.units import DAYS_PER_WEEK, DAYS_PER_YEAR

#: Build-up fields of every concept and their neutral values (left out of the dump when neutral).
BUILD_UP = {"recruitment_days": 0.0, "ramp_days": 0.0, "learning_days": 0.0, "learning_start_effect": 1.0}

#: Registered sections, by name, in registration order (the order of the scenario dump).
SECTIONS: dict[str, type[ConceptParams]] = {}


class ConceptParams(Strict):
    """Base of a concept's parameters: on or off, and the days it is active (rollout)."""

    enabled: bool
    start_day: NonNegDays = Field(default=0.0, description="day (since the run's start) the concept starts")
    end_day: PositiveDays | None = Field(
        default=None, description="day the concept stops and its enrolments end; none = it never stops"
    )
    # Build-up of a new team (issue 18): neutral by default, so a scenario without them runs as before.
    recruitment_days: NonNegDays = Field(
        default=0.0, description="days from start_day until the staff is in place: it acts and is paid from then"
    )
    ramp_days: NonNegDays = Field(
        default=0.0, description="days over which its caseload cap grows linearly to full once acting (0 = at once)"
    )
    learning_days: NonNegDays = Field(
        default=0.0, description="days over which its effect grows from learning_start_effect to full (0 = at once)"
    )
    learning_start_effect: Share = Field(
        default=1.0, description="share of its full effect (shares prevented or met at home) on its first day"
    )

    @model_validator(mode="after")
    def _window(self) -> ConceptParams:
        if self.end_day is not None and self.end_day <= self.start_day:
            raise ValueError("end_day must be after start_day")
        if self.end_day is not None and self.end_day <= self.start_day + self.recruitment_days:
            raise ValueError("end_day must be after start_day + recruitment_days")
        return self

    @model_serializer(mode="wrap")
    def _without_default_window(self, handler):
        # A scenario without a window dumps (and hashes) as it did before windows existed.
        out = handler(self)
        if self.start_day == 0.0:
            out.pop("start_day", None)
        if self.end_day is None:
            out.pop("end_day", None)
        for name, neutral in BUILD_UP.items():
            if getattr(self, name) == neutral:
                out.pop(name, None)
        # An optional field left at none (a cap, a waiting-list limit) is absent, as TOML writes it.
        for k in [k for k, v in out.items() if v is None]:
            del out[k]
        return out

    def active_between(self) -> tuple[float, float]:
        """Return the days ``[start, end)`` the concept is active (``end`` = inf if it never stops).

        It acts (and its staff is paid) from ``start_day + recruitment_days``.
        """
        return self.start_day + self.recruitment_days, math.inf if self.end_day is None else self.end_day

    def build_up(self, t: float) -> tuple[float, float]:
        """Return (share of the caseload cap, share of the full effect) on day ``t`` (both 1 when built up)."""
        since = t - self.start_day - self.recruitment_days
        cap = 1.0 if self.ramp_days <= 0.0 else min(1.0, max(0.0, since / self.ramp_days))
        a = self.learning_start_effect
        effect = 1.0 if self.learning_days <= 0.0 else a + (1.0 - a) * min(1.0, max(0.0, since / self.learning_days))
        return cap, effect


def register_section(name: str, params: type[ConceptParams]) -> None:
    """Make ``[concepts.<name>]`` a section of every scenario, validated by ``params``."""
    if not issubclass(params, ConceptParams):
        raise TypeError(f"{params.__name__} must derive from ConceptParams")
    SECTIONS[name] = params
    _rebuild()


def unregister_section(name: str) -> None:
    """Remove a section again (a test's concept)."""
    SECTIONS.pop(name, None)
    _rebuild()


def _rebuild() -> None:
    fields = {name: (model, ...) for name, model in SECTIONS.items()}
    fields.update({k: (f.annotation, f) for k, f in ConceptSwitches.model_fields.items()})
    concepts = create_model(
        "Concepts", __base__=Strict, __module__=_scenario.__name__,
        __doc__="Service concepts of individstyrning (registered sections) and the switches.", **fields,
    )
    # Pickling finds the class by module and name; workers rebuild it the same way on import.
    _scenario.Concepts = concepts
    _scenario.Scenario.__pydantic_fields__["concepts"].annotation = concepts
    _scenario.Scenario.model_rebuild(force=True)


class StaffRow(Strict):
    """One profession in a concept's team: how much of it, its hours and what it costs."""

    profession: str = Field(min_length=1)
    fte: Annotated[float, Field(ge=0.0, le=100.0)] = Field(description="full-time equivalents per team")
    hours_per_week: Annotated[float, Field(gt=0.0, le=80.0)] = Field(description="hours of a full-time week")
    working_days_per_year: Annotated[float, Field(gt=0.0, le=261.0)] = Field(
        description="days worked per FTE-year after holidays, leave and training (of about 251 weekdays)"
    )
    cost_per_fte_year: Cost = Field(description="SEK per FTE-year: salary, employer's fees and pension")
    working_days_per_week: Annotated[float, Field(gt=0.0, le=7.0)] = Field(
        default=5.0, description="days of a full-time week: hours_per_week over them is a working day's hours"
    )

    def hours_per_year(self) -> float:
        """Hours worked per year by this row's FTE (h/year)."""
        return self.fte * self.hours_per_week / self.working_days_per_week * self.working_days_per_year


class StaffedParams(ConceptParams):
    """A concept whose capacity and cost follow from its staff (issue 15).

    ``teams`` identical teams, each with the ``staff`` table; ``patient_time_share`` of the
    worked hours goes to patients (home visits and their travel; the rest is documentation,
    conferences, training); of that, ``planned_share`` is held for planned visits of the
    enrolled persons, the rest for acute home visits. A visit takes ``visit_minutes``
    including travel. An optional per-team cap (``caseload_max`` or ``list_max`` where the
    concept has one) may bind before the staff time does.
    """

    teams: Annotated[int, Field(ge=1, le=1000)] = Field(default=1,
                                                        description="identical teams (each with the staff table)")
    staff: Annotated[list[StaffRow], Field(min_length=1)]
    patient_time_share: Share = Field(description="share of worked hours with patients (visits incl. travel)")
    planned_share: Share = Field(
        description="share of the patient time held for planned visits; the rest meets acute needs")
    visit_minutes: Annotated[float, Field(gt=0.0, le=600.0)] = Field(description="minutes per home visit incl. travel")
    payer_shares: dict[Literal["region", "municipality"], Share] | None = Field(
        default=None, description="joint financing: share of the concept's cost each payer carries (none: [payers])"
    )

    @model_validator(mode="after")
    def _shares(self) -> StaffedParams:
        if self.payer_shares is not None and abs(sum(self.payer_shares.values()) - 1.0) > 1e-9:
            raise ValueError("payer_shares must add up to 1")
        return self

    def hours_per_year(self) -> float:
        """Worked hours per year of all teams (h/year)."""
        return self.teams * sum(r.hours_per_year() for r in self.staff)

    def patient_hours_per_week(self) -> float:
        """Patient hours (visits incl. travel) per calendar week, all teams (h/week)."""
        return self.hours_per_year() * self.patient_time_share / (DAYS_PER_YEAR / DAYS_PER_WEEK)

    def staff_cost_per_year(self) -> float:
        """Staff cost of all teams (SEK/year)."""
        return self.teams * sum(r.fte * r.cost_per_fte_year for r in self.staff)

    def fte(self) -> float:
        """Full-time equivalents of all teams."""
        return self.teams * sum(r.fte for r in self.staff)
