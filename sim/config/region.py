"""A region of areas rolled out over time (issue 18): the ``[region]`` table of a scenario file.

A region file is a scenario file (its ``base``, ``[meta]``, ``[simulation]`` and every care
section are the template each area runs with) plus a ``[region]`` table: the areas (groups of
municipalities of one size, each with its 65+ population, beds or a share of a shared hospital,
short-term places and home health nurses), the demography (growth of the 65+ population), the
rollout plan (which concepts start where and when), how a new team builds up, implementation
support and its cost, team survival, an optional bed cut, and the ledger's assumptions.

Each area runs as its own replication of the model: areas share nothing but the seed they are
derived from (a person lives in one area; a shared hospital is split into fixed shares of its
beds by 65+ population). A group of ``count`` municipalities may be simulated as fewer areas
(``simulate``), each standing for ``count / simulate`` of them; that is the scale-down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from sim.config.loader import ScenarioError, _deep_merge, format_validation_error, resolve, validate
from sim.config.scenario import Capacity, Cost, NonNegDays, Scenario, Share, Strict

Years = Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)]


class AreaGroup(Strict):
    """Municipalities (or hospital catchments) of one size; each runs as its own area."""

    name: str
    count: Capacity = Field(description="municipalities in the group")
    simulate: Capacity | None = Field(
        default=None, description="areas simulated for the group (default: count); each stands for count/simulate"
    )
    persons_65plus: Capacity = Field(description="persons 65+ in one municipality of the group at the start")
    beds: Capacity | None = Field(default=None, description="beds for its 65+ (default: its share of hospital_beds)")
    short_term_places: Capacity | None = Field(default=None, description="default: the template's places per person")
    home_health_nurses_fte: Annotated[float, Field(gt=0.0)] | None = Field(
        default=None, description="default: the template's nurses per person"
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="scenario values of this group's areas (e.g. a larger team caseload)"
    )

    @model_validator(mode="after")
    def _simulated(self) -> AreaGroup:
        if self.simulate is not None and self.simulate > self.count:
            raise ValueError("simulate must not exceed count")
        return self

    @property
    def simulated(self) -> int:
        """Areas simulated for this group."""
        return self.simulate or self.count

    @property
    def weight(self) -> float:
        """Municipalities each simulated area stands for."""
        return self.count / self.simulated


class Demography(Strict):
    """Growth of the 65+ population over the horizon (a published projection)."""

    growth_65plus_per_year: Annotated[float, Field(ge=-0.1, le=0.1)] = Field(
        default=0.0, description="yearly growth of the 65+ population (share), added as entrants"
    )
    growth_80plus_per_year: Annotated[float, Field(ge=-0.1, le=0.2)] = Field(
        default=0.0, description="yearly growth of the 80+ population (share); reported, not simulated"
    )


class Step(Strict):
    """One step of the rollout plan: a concept starts in some areas at a year."""

    concept: str
    year: Years = Field(description="measured year the concept is funded from (0 = the first)")
    groups: list[str] | None = Field(default=None, description="area groups it starts in (default: all)")


class BuildUp(Strict):
    """How a new team builds up (the concepts' generic build-up fields)."""

    recruitment_days: NonNegDays = 0.0
    ramp_days: NonNegDays = 0.0
    learning_days: NonNegDays = 0.0
    learning_start_effect: Share = 1.0


class Support(Strict):
    """Implementation support: a switch with a cost (DOMAIN.md 6: VGR's conditions)."""

    enabled: bool = False
    follow_up_evaluation_sek_per_year: Cost = Field(default=0.0, description="region-wide, while the plan runs")
    learning_meetings_sek_per_area_year: Cost = Field(default=0.0, description="per municipality with a plan")
    steering_group_sek_per_year: Cost = Field(default=0.0, description="region-wide, while the plan runs")
    region_share: Share = Field(default=0.5, description="share of the support cost the region pays")


class Survival(Strict):
    """A new team's survival: a constant hazard from the share that does not survive a period."""

    share_failing_without_support: Share = 0.7
    share_failing_with_support: Share = 0.2
    over_years: Annotated[float, Field(gt=0.0, le=20.0)] = 5.0

    def hazard_per_day(self, support: bool) -> float:
        """Daily hazard of a team's death (0 if no team fails; inf if every team fails at once)."""
        import math

        share = self.share_failing_with_support if support else self.share_failing_without_support
        if share >= 1.0:
            return math.inf
        return -math.log1p(-share) / (self.over_years * 365.25)


class BedCut(Strict):
    """Hospital beds closed from a given year (as one region planned, DOMAIN.md 6)."""

    share: Share = Field(default=0.0, description="share of each area's beds closed")
    from_year: Years = Field(default=0.0, description="measured year the beds close")


class Ledger(Strict):
    """Assumptions that turn saved volume into capacity and cash."""

    target_occupancy: Annotated[float, Field(gt=0.0, le=1.0)] = 0.85
    short_term_target_occupancy: Annotated[float, Field(gt=0.0, le=1.0)] = 0.9
    closed_bed_cash_share: Share = Field(default=0.6, description="share of a bed-day's price saved when a bed closes")
    closed_place_cash_share: Share = Field(default=0.6, description="same for a short-term place")
    nurse_fte_year_sek: Cost = Field(default=650_000.0, description="a home health nurse's yearly cost")
    joint_financing: dict[str, Share] = Field(
        default_factory=dict, description="provider -> share of its cost the municipalities pay the region"
    )


class Region(Strict):
    """The ``[region]`` table."""

    name: str
    inhabitants: Capacity
    hospital_beds: Capacity | None = Field(default=None, description="beds of a shared hospital for the 65+")
    groups: list[AreaGroup] = Field(min_length=1)
    demography: Demography = Demography()
    plan: list[Step] = Field(default_factory=list)
    team_collaboration: bool = Field(
        default=False, description="the switch has no window: on from the start in areas with a plan"
    )
    build_up_without_support: BuildUp = BuildUp()
    build_up_with_support: BuildUp = BuildUp()
    support: Support = Support()
    survival: Survival = Survival()
    bed_cut: BedCut = BedCut()
    ledger: Ledger = Ledger()

    @model_validator(mode="after")
    def _names(self) -> Region:
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError("area group names must be unique")
        for step in self.plan:
            unknown = sorted(set(step.groups or ()) - set(names))
            if unknown:
                raise ValueError(f"plan: unknown area group {unknown[0]!r}")
        if self.hospital_beds is None and any(g.beds is None for g in self.groups):
            raise ValueError("give beds for every area group or hospital_beds for the region")
        return self

    @property
    def build_up(self) -> BuildUp:
        """The build-up that applies (with or without support)."""
        return self.build_up_with_support if self.support.enabled else self.build_up_without_support

    def persons_65plus(self) -> int:
        """Persons 65+ in the region at the start (every municipality)."""
        return sum(g.count * g.persons_65plus for g in self.groups)


def load_region(path: Path | str, option: Path | str | None = None,
                full_scale: bool = False) -> tuple[Scenario, Region, dict[str, Any]]:
    """Load a region file, with an option file deep-merged over it: (template, region, raw template data).

    The template is the scenario each area runs with (validated without ``[region]``).
    ``full_scale``: simulate every municipality (each group's ``simulate`` ignored).
    """
    data = resolve(path)
    if option is not None:
        over = resolve(option)
        over.pop("base", None)
        data = _deep_merge(data, over)
    where = option if option is not None else path
    raw = data.pop("region", None)
    if not isinstance(raw, dict):
        raise ScenarioError(where, ["region: missing table (a region file has a [region] table)"])
    template = validate(data, where)
    try:
        region = Region.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(where, [f"region.{p}" for p in format_validation_error(exc, Region)]) from None
    if full_scale:
        region = region.model_copy(update={"groups": [g.model_copy(update={"simulate": None}) for g in region.groups]})
    for g in region.groups:
        try:
            validate(area_data(data, template, region, g), where)
        except ScenarioError as exc:
            raise ScenarioError(where, [f"region.groups.{g.name}: {p}" for p in exc.problems]) from None
    concepts = {n for n in type(template.concepts).model_fields if hasattr(getattr(template.concepts, n), "enabled")}
    for step in region.plan:
        if step.concept not in concepts:
            known = ", ".join(sorted(concepts))
            raise ScenarioError(where, [f"region.plan: unknown concept {step.concept!r} (known: {known})"])
    if template.simulation.warmup_years != int(template.simulation.warmup_years):
        raise ScenarioError(where, ["simulation.warmup_years: a region needs whole years (years are reported)"])
    for step in region.plan:
        if step.year >= template.simulation.years:
            raise ScenarioError(where, [f"region.plan: {step.concept} starts in year {step.year:g}, after the horizon"])
    return template, region, data


def area_data(data: dict[str, Any], template: Scenario, region: Region, group: AreaGroup) -> dict[str, Any]:
    """Return the scenario mapping of one area of ``group`` (before the plan): its size, entrants and capacity."""
    t = template
    ratio = group.persons_65plus / t.population.persons_65plus
    stable = t.population.entrants_per_year / t.population.persons_65plus
    growth = region.demography.growth_65plus_per_year
    if group.beds is not None:
        beds = group.beds
    else:
        # Its share of the shared hospital, by 65+ population (a fixed share: areas do not pool beds).
        beds = max(1, round(region.hospital_beds * group.persons_65plus / region.persons_65plus()))
    over = {
        "meta": {"name": f"{t.meta.name}.{group.name}"},
        "population": {
            "persons_65plus": group.persons_65plus,
            # Growth adds g x N entrants a year (linear) on top of the template's (assumed to hold it stable).
            "entrants_per_year": group.persons_65plus * (stable + growth),
        },
        "capacity": {
            "beds": beds,
            "short_term_places": group.short_term_places or max(1, round(t.capacity.short_term_places * ratio)),
            "home_health_nurses_fte": group.home_health_nurses_fte or t.capacity.home_health_nurses_fte * ratio,
        },
    }
    return _deep_merge(_deep_merge(data, group.overrides), over)
