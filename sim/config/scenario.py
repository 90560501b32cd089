"""Typed, validated scenario parameters, loaded from TOML.

Every number a planner might change lives here. The objects are frozen and refuse
unknown fields, so a typo in a scenario file fails loudly with the file and the field.
Units are in the field names or descriptions: rates per person-year, durations in days,
costs in SEK (2024 price level).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.domain.strata import STRATA, Stratum
from sim.domain.units import AGE_FLOOR_YEARS

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
PositiveDays = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegDays = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Cost = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Capacity = Annotated[int, Field(gt=0)]


# Hazard ratios per year of age: Swedish mortality rises about 1.1 a year after 65; a ratio that halves or
# doubles a hazard every year of age is outside anything observed, and a ratio near 0 overflows the survivors'
# frailty selection (ratio ** -45 over the 65-110 age range; found by the fuzz test).
AGE_RATIO_MIN = 0.5
AGE_RATIO_MAX = 2.0


class Strict(BaseModel):
    """Base of every parameter object: frozen, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class PerStratum(Strict):
    """One value per need stratum (behovsgrund)."""

    stable: float
    fluctuating: float
    unstable: float
    palliative: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Values in the order of :data:`STRATA`."""
        return (self.stable, self.fluctuating, self.unstable, self.palliative)


class SharePerStratum(PerStratum):
    """A probability per stratum, each in 0–1."""

    stable: Share
    fluctuating: Share
    unstable: Share
    palliative: Share


class RatePerStratum(PerStratum):
    """A non-negative rate (per person-year) or count per stratum."""

    stable: Rate
    fluctuating: Rate
    unstable: Rate
    palliative: Rate


class PositivePerStratum(PerStratum):
    """A strictly positive quantity per stratum (e.g. a mean length of stay, days)."""

    stable: PositiveDays
    fluctuating: PositiveDays
    unstable: PositiveDays
    palliative: PositiveDays


class Meta(Strict):
    """Name and description of a scenario."""

    name: str
    description: str = ""


class Simulation(Strict):
    """Run control: seed, warm-up and measured horizon."""

    seed: Annotated[int, Field(ge=0)]
    warmup_years: NonNegDays
    years: PositiveDays
    replications: Capacity


class Population(Strict):
    """The synthetic 65+ population of the area."""

    persons_65plus: Capacity
    entrants_per_year: Rate = Field(description="persons turning 65 or moving in, per year")
    share_entrants_moving_in: Share = Field(
        description="share of entrants older than 65 (moving in); the rest enter at 65"
    )
    age_excess_mean_years: PositiveDays = Field(
        description="mean of (age - 65), exponential, truncated at age_max"
    )
    age_max: Annotated[float, Field(gt=65.0, le=120.0)]
    age_band_lower_years: list[Annotated[float, Field(ge=65.0, le=120.0)]] | None = Field(
        default=None, description="lower edges (years) of the age bands of the start population and of the"
        " movers-in; the last band ends at age_max; None: the truncated exponential of age_excess_mean_years"
    )
    age_band_shares: list[Share] | None = Field(
        default=None, description="share of persons 65+ in each age band (uniform within a band)"
    )
    dependence_hazard_ratio_per_year_of_age: Annotated[float, Field(ge=AGE_RATIO_MIN, le=AGE_RATIO_MAX)] = Field(
        default=1.0, description="needs assessment: the odds-like weight w of personal-care dependence and"
        " home-help need is this ratio per year of age at entry above health.age_reference_years, times the"
        " frailty; P(dependent) = 1 - (1 - personal_care_dependent)^w (1.0: no age effect)"
    )
    dependence_frailty_exponent: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        default=0.0, description="the frailty's power in the dependence weight w (0: no frailty effect)"
    )
    stratum_shares: SharePerStratum
    entrant_stratum_shares: SharePerStratum
    chronic_diagnoses_mean: RatePerStratum
    medications_mean: RatePerStratum
    personal_care_dependent: SharePerStratum
    home_health_enrolled: SharePerStratum
    incurable_cancer_given_palliative: Share
    wishes_palliative_team: Share

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Population:
        for name in ("stratum_shares", "entrant_stratum_shares"):
            total = sum(getattr(self, name).as_tuple())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"{name} must sum to 1 (got {total:.6f})")
        edges, shares = self.age_band_lower_years, self.age_band_shares
        if (edges is None) != (shares is None):
            raise ValueError("age_band_lower_years and age_band_shares go together (give both or neither)")
        if edges is not None:
            if len(edges) != len(shares) or not edges:
                raise ValueError(f"age_band_shares needs one share per age band ({len(edges)} bands,"
                                 f" {len(shares)} shares)")
            if edges[0] != AGE_FLOOR_YEARS or any(b <= a for a, b in zip(edges, edges[1:], strict=False)) \
                    or edges[-1] >= self.age_max:
                raise ValueError("age_band_lower_years must start at 65 and rise, the last below age_max")
            if abs(sum(shares) - 1.0) > 1e-6:
                raise ValueError(f"age_band_shares must sum to 1 (got {sum(shares):.6f})")
        return self


class Transitions(Strict):
    """Rates (per person-year) of moving from one stratum to another."""

    stable: dict[Stratum, Rate]
    fluctuating: dict[Stratum, Rate]
    unstable: dict[Stratum, Rate]
    palliative: dict[Stratum, Rate] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _no_self_loops(self) -> Transitions:
        for origin in STRATA:
            if origin in getattr(self, origin):
                raise ValueError(f"{origin}.{origin}: a stratum cannot move to itself")
        return self


class Health(Strict):
    """The exogenous health process: identical whatever the care system does."""

    transition_rates_per_year: Transitions
    death_rate_per_year: RatePerStratum
    deterioration_rate_per_year: RatePerStratum
    share_needs_bed: SharePerStratum = Field(
        description="share of deteriorations that need a hospital bed under any care system"
    )
    share_needs_assessment: SharePerStratum = Field(
        description="share of deteriorations that need timely medical assessment but not a bed;"
        " admissions of these are the 'avoidable' class"
    )
    terminal_episode_share: SharePerStratum = Field(
        description="share of deaths preceded by a terminal deterioration (by stratum at death)"
    )
    terminal_lead_days_mean: PositiveDays = Field(
        description="mean days from the terminal deterioration to death (exponential)"
    )
    terminal_share_needs_bed: SharePerStratum | None = Field(
        default=None, description="share of terminal deteriorations that need a hospital bed (an acute illness),"
        " by stratum at death; the rest need an assessment; None: all need an assessment"
    )
    frailty_variance: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        default=0.0, description="variance of the persistent individual frailty (gamma, mean 1) that"
        " multiplies deterioration, worsening and dying rates; 0: everyone 1"
    )
    frailty_selection_hazard_per_year: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.0, description="the start population's frailty is that of survivors from 65 to their age:"
        " gamma with the rate raised by the cumulative hazard from 65 of a person of frailty 1, this many"
        " per year at age_reference_years, times dying_hazard_ratio_per_year_of_age per year of age; 0: the"
        " start population's frailty is drawn as the entrants' (per year)"
    )
    deterioration_frailty_exponent: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        default=1.0, description="acute deteriorations scale with frailty to this power, divided by its mean"
        " over the entrants' gamma (so the multiplier has mean 1); moves between strata and deaths scale with"
        " the frailty itself (1.0: deteriorations too)"
    )
    age_reference_years: Annotated[float, Field(ge=65.0, le=110.0)] = Field(
        default=75.0, description="age (years) at which the age multipliers are 1: the stratum rates are"
        " those of a person of this age and frailty 1"
    )
    deterioration_hazard_ratio_per_year_of_age: Annotated[float, Field(ge=AGE_RATIO_MIN, le=AGE_RATIO_MAX)] = Field(
        default=1.0, description="acute deteriorations: rate multiplied by this per completed year of age"
        " above age_reference_years (1.0: no age effect)"
    )
    worsening_hazard_ratio_per_year_of_age: Annotated[float, Field(ge=AGE_RATIO_MIN, le=AGE_RATIO_MAX)] = Field(
        default=1.0, description="moves to a worse stratum other than palliative, per year of age"
    )
    dying_hazard_ratio_per_year_of_age: Annotated[float, Field(ge=AGE_RATIO_MIN, le=AGE_RATIO_MAX)] = Field(
        default=1.0, description="moves to palliative and deaths outside the palliative stratum, per year"
        " of age (the palliative phase's own length does not depend on age or frailty)"
    )

    @property
    def personal_rates(self) -> bool:
        """Whether rates differ between persons (frailty or age); else one rate table per stratum."""
        return self.frailty_variance > 0.0 or any(
            r != 1.0 for r in (self.deterioration_hazard_ratio_per_year_of_age,
                               self.worsening_hazard_ratio_per_year_of_age, self.dying_hazard_ratio_per_year_of_age))


class Routing(Strict):
    """What intervention-driven care (insatsstyrning) does with a deterioration."""

    ed_share_needs_assessment: SharePerStratum
    admit_share_needs_assessment: SharePerStratum
    ed_share_minor: SharePerStratum
    nurse_share_at_home: SharePerStratum = Field(
        description="share of the deteriorations not sent to the ED that the home health"
        " nurse meets at home (for persons enrolled in home health care); the rest see primary care"
    )


class Hospital(Strict):
    """Inpatient care and what follows a discharge."""

    los_mean_days: PositivePerStratum
    los_cv: Annotated[float, Field(gt=0.0, le=5.0)]
    outpatient_followups_per_admission: Rate
    short_term_care_share: SharePerStratum
    short_term_care_los_mean_days: PositiveDays
    home_care_lag_mean_days: NonNegDays = Field(
        description="mean wait for municipal home care to be ready, for dependent persons"
    )
    relapse_probability_30d: SharePerStratum = Field(
        description="probability of a post-discharge relapse within 30 days"
    )
    relapse_time_mean_days: PositiveDays
    readmission_window_days: PositiveDays
    end_of_life_stay_days: NonNegDays = Field(
        default=0.0, description="a patient who will die within this many days of being medically ready stays"
        " on the ward until death (end-of-life care; the death time is the exogenous trajectory's); 0: none"
    )
    planned_admissions_per_year: RatePerStratum | None = Field(
        default=None, description="planned (elective) admissions per person-year at home, by stratum: direct"
        " admissions without the ED, not readmissions, not counted as admissions in the 12-month histories"
        " (inclusion criteria, housing assessments); None: none"
    )
    planned_los_mean_days: PositiveDays = Field(
        default=4.0, description="mean length of stay of a planned admission (lognormal with los_cv)"
    )
    discharge_payment_free_days: NonNegDays = Field(
        default=3.0, description="days after the notice 'ready for discharge' before the municipality pays"
        " the region for each further day in hospital (law 2017:612: three calendar days unless agreed)"
    )


class Routine(Strict):
    """Routine volume, counted (not scheduled) between a person's state changes."""

    primary_care_visits_per_year: RatePerStratum
    outpatient_visits_per_year: RatePerStratum
    home_health_visits_per_week: RatePerStratum
    home_help_hours_per_week_dependent: RatePerStratum
    home_help_hours_per_week_independent: RatePerStratum
    visits_frailty_exponent: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        default=0.0, description="a person's routine primary-care and outpatient visit rates are the stratum's"
        " times frailty to this power (the persistent frailty of [health], mean 1); 0: no frailty effect"
    )
    post_discharge_home_help_hours_per_week: Rate
    post_discharge_home_help_weeks: NonNegDays
    home_help_hours_shape: Annotated[float, Field(gt=0.0, le=100.0)] | None = Field(
        default=None, description="granted hours differ between recipients: a recipient's weekly hours are"
        " the stratum's home_help_hours_per_week_dependent times a gamma factor (mean 1, this shape) fixed"
        " per person; None: every recipient gets the stratum's hours"
    )


class Capacities(Strict):
    """Scarce capacity: simulated with queues."""

    beds: Capacity
    short_term_places: Capacity
    home_health_nurses_fte: Annotated[float, Field(gt=0.0)]
    nurse_hours_per_week: PositiveDays
    nurse_minutes_per_visit: PositiveDays
    nurse_hassle_share: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        description="share of nurse time lost to failed coordination (strulfaktorer), STR-1"
    )


class SpecialHousing(Strict):
    """Special housing (särskilt boende): a place of residence and a finite municipal resource.

    Persons move in from home after a needs assessment and wait for a place (first come, first
    served); a resident keeps the place through hospital stays until death. ``places = 0``: none.
    """

    places: Annotated[int, Field(ge=0)] = Field(default=0, description="places in the area (0: no special housing)")
    initial_share_65plus: Share = Field(
        default=0.05, description="share of the start population living in special housing at day 0 (at most"
        " the places)"
    )
    initial_weight: RatePerStratum = Field(
        default=RatePerStratum(stable=1.0, fluctuating=1.0, unstable=1.0, palliative=1.0),
        description="relative chance of a dependent person of the start population to be a resident at day 0,"
        " by stratum at entry",
    )
    initial_weight_independent: Rate = Field(
        default=0.0, description="the same for a person who can manage personal care, relative to the stratum's"
    )
    initial_weight_per_year_of_age: Annotated[float, Field(gt=0.0, le=2.0)] = Field(
        default=1.0, description="the relative chance is multiplied by this per year of age above 65"
    )
    application_rate_per_year: RatePerStratum = Field(
        default=RatePerStratum(stable=0.0, fluctuating=0.0, unstable=0.0, palliative=0.0),
        description="needs-assessed applications per person-year of dependent persons at home, by stratum"
        " (checked weekly)",
    )
    application_admissions_12m_min: Annotated[int, Field(ge=0)] = Field(
        default=0, description="a dependent person discharged home with at least this many admissions in the"
        " last 12 months is assessed for special housing at discharge (0: no such rule)"
    )
    hospital_share_needs_bed: Share = Field(
        default=1.0, description="share of residents' deteriorations that need a bed sent to hospital (via the ED)"
    )
    hospital_share_needs_assessment: Share = Field(
        default=0.0, description="share of residents' deteriorations that need an assessment (terminal episodes"
        " among them) sent to hospital; the rest are met by the special housing's nurse"
    )
    hospital_share_minor: Share = Field(default=0.0, description="the same for minor deteriorations")
    nurse_visits_per_week: Rate = Field(
        default=0.0, description="routine visits of the municipality's nurse per resident and week (home health care)"
    )
    primary_care_visits_per_year: Rate = Field(
        default=0.0, description="routine primary-care (physician) visits per resident-year"
    )


class Costs(Strict):
    """Unit costs, SEK (2024 price level). Sources in the scenario file's comments."""

    bed_day: Cost
    ed_visit: Cost
    outpatient_visit: Cost
    primary_care_visit: Cost
    home_health_visit: Cost
    home_help_hour: Cost
    short_term_care_day: Cost
    delayed_discharge_day: Cost = Field(
        description="municipal payment to the region per delayed-discharge day after the free days"
        " (a transfer between payers: the bed-day itself is the region's bed_day)"
    )
    mobile_team_year: Cost = 0.0
    palliative_team_year: Cost = 0.0
    home_physician_year: Cost = 0.0
    safe_discharge_team_year: Cost = 0.0
    special_housing_day: Cost = Field(default=0.0, description="a resident-day in special housing (särskilt boende)")


Payer = Literal["region", "municipality"]


class Payers(Strict):
    """Who pays each provider (DOMAIN.md section 6)."""

    hospital: Payer
    ed: Payer
    outpatient: Payer
    primary_care: Payer
    home_health: Payer
    home_help: Payer
    short_term_care: Payer
    mobile_team: Payer
    palliative_team: Payer
    home_physician: Payer
    safe_discharge: Payer
    special_housing: Payer = "municipality"


class ConceptSwitches(Strict):
    """Switches of individstyrning that are not concepts of their own; each can be switched off alone.

    The concepts' own sections are registered by the concepts (:mod:`sim.config.concepts`);
    ``Concepts`` is this model with those sections in front, rebuilt at each registration.
    """

    direct_admission: bool
    team_collaboration: bool = Field(description="removes most hassle time (strulfaktorer)")
    hassle_share_with_collaboration: Annotated[float, Field(ge=0.0, lt=1.0)]


Concepts = ConceptSwitches


class Scenario(Strict):
    """A complete scenario: everything one run needs."""

    meta: Meta
    simulation: Simulation
    population: Population
    health: Health
    routing: Routing
    hospital: Hospital
    routine: Routine
    capacity: Capacities
    special_housing: SpecialHousing = SpecialHousing()
    costs: Costs
    payers: Payers
    concepts: Concepts

    @property
    def warmup_days(self) -> float:
        """Warm-up length (days)."""
        return self.simulation.warmup_years * 365.25

    @property
    def horizon_days(self) -> float:
        """Warm-up plus measured period (days)."""
        return (self.simulation.warmup_years + self.simulation.years) * 365.25

    def concepts_off(self) -> Scenario:
        """Return the same scenario with every service concept and switch off."""
        c = self.concepts
        # The concepts' sections are the fields that can be enabled (sim.config.concepts).
        sections = [name for name in type(c).model_fields if hasattr(getattr(c, name), "enabled")]
        update = {name: getattr(c, name).model_copy(update={"enabled": False}) for name in sections}
        off = c.model_copy(update={**update, "direct_admission": False, "team_collaboration": False})
        return self.model_copy(update={"concepts": off})
