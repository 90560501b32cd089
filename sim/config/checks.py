"""Checks across fields that a single field's type cannot express."""

from __future__ import annotations

import functools
import math
import re

from sim.config.scenario import STRATA, Scenario


def semantic_problems(s: Scenario) -> list[str]:
    """Problems as ``field.path: what was expected`` lines; empty when the scenario is sound."""
    problems: list[str] = []
    h = s.health
    for st in STRATA:
        a = getattr(h.share_needs_bed, st)
        b = getattr(h.share_needs_assessment, st)
        if a + b > 1.0 + 1e-9:
            problems.append(
                f"health.share_needs_bed.{st} + health.share_needs_assessment.{st}:"
                f" must not exceed 1 (got {a + b:.3f})"
            )
    if h.death_rate_per_year.palliative <= 0:
        problems.append("health.death_rate_per_year.palliative: must be > 0 (expected survival weeks-months)")
    team = s.concepts.mobile_team
    if team.enabled and team.criteria_required > 6:
        problems.append("concepts.mobile_team.criteria_required: at most 6 criteria exist")
    if s.concepts.safe_discharge.enabled and not s.concepts.safe_discharge.strata:
        problems.append("concepts.safe_discharge.strata: at least one stratum when enabled")
    problems += name_problems(s)
    limits = limit_problems(s)
    # The checks below assume finite numbers within their limits.
    problems += limits or horizon_problems(s) + inclusion_problems(s)
    return problems


# ---------------------------------------------------------------------------------------
# Limits and reachability: numbers that fit their type but no model run can use.
#
# A validated scenario must run: it must neither crash the model nor ask it for more events
# or persons than a computer holds. The limits are generous (far beyond any planning
# question) and each says why it exists. Patterns are dotted field paths; ``*`` matches one
# level. The first matching pattern applies.

#: Any number in a scenario, whatever its field (SEK included).
GENERIC_MAX = 1e12
#: Persons ever present in one replication (Sweden has about 2.2 million persons aged 65+).
PERSONS_MAX = 10_000_000
#: Largest uniform the streams produce is 1 - 2**-53 (``sim.domain.streams.uniforms``).
_U_MAX = 1.0 - 2.0**-53

LIMITS: tuple[tuple[str, float, str], ...] = (
    ("simulation.seed", 2**64 - 1, "(a 64-bit seed)"),
    ("simulation.warmup_years", 50.0, "years"),
    ("simulation.years", 100.0, "years"),
    ("simulation.replications", 10_000, "replications"),
    ("population.persons_65plus", PERSONS_MAX, "persons (Sweden has about 2.2 million aged 65+)"),
    ("population.entrants_per_year", 1_000_000, "persons per year"),
    ("population.chronic_diagnoses_mean.*", 100.0, "diagnoses (a Poisson mean)"),
    ("population.medications_mean.*", 100.0, "medications (a Poisson mean)"),
    ("health.transition_rates_per_year.*.*", 365.0, "per person-year (one a day)"),
    ("health.death_rate_per_year.*", 365.0, "per person-year (one a day)"),
    ("health.deterioration_rate_per_year.*", 365.0, "per person-year (one a day)"),
    ("hospital.*_days.*", 3650.0, "days (ten years)"),
    ("hospital.*_days", 3650.0, "days (ten years)"),
    ("hospital.outpatient_followups_per_admission", 100.0, "visits per admission"),
    ("routine.*_per_year.*", 1000.0, "visits per person-year"),
    ("routine.home_health_visits_per_week.*", 168.0, "visits per week (one an hour)"),
    ("routine.*hours_per_week*", 168.0, "hours per week (a week has 168)"),
    ("routine.post_discharge_home_help_weeks", 520.0, "weeks (ten years)"),
    ("capacity.beds", 1_000_000, "beds"),
    ("capacity.short_term_places", 1_000_000, "places"),
    ("capacity.home_health_nurses_fte", 100_000, "full-time nurses"),
    ("capacity.nurse_hours_per_week", 168.0, "hours per week (a week has 168)"),
    ("capacity.nurse_minutes_per_visit", 1440.0, "minutes (a day)"),
    ("costs.*", 1e10, "SEK"),
    ("concepts.*.caseload_max", 1_000_000, "persons"),
    ("concepts.*.list_max", 1_000_000, "persons"),
    ("concepts.*.age_min", 120.0, "years"),
    ("concepts.*.*_min", 1000, "(a count threshold)"),
    ("concepts.*.*days", 3650.0, "days (ten years)"),
    ("concepts.*.visits_per_year", 1000.0, "visits per person-year"),
    ("concepts.*.visits_per_week", 168.0, "visits per week (one an hour)"),
    ("concepts.*.visits_per_day", 24.0, "visits per day (one an hour)"),
)


#: Smallest values of strictly positive durations: below these a run spends its time on
#: events a few seconds apart (a relapse chain of near-zero stays never reaches the horizon).
MINIMA: tuple[tuple[str, float, str], ...] = (
    ("simulation.years", 1 / 365.25, "years (a day)"),
    ("population.age_excess_mean_years", 0.1, "years"),
    ("hospital.los_mean_days.*", 0.1, "days"),
    ("hospital.short_term_care_los_mean_days", 0.1, "days"),
    ("hospital.relapse_time_mean_days", 0.1, "days"),
    ("hospital.readmission_window_days", 1.0, "day"),
    ("capacity.nurse_hours_per_week", 1.0, "hour"),
    ("capacity.nurse_minutes_per_visit", 1.0, "minute"),
    ("concepts.*.days", 1.0, "day"),
    ("concepts.*.max_enrolment_days", 1.0, "day"),
)


def _numbers(obj, prefix: str = ""):
    """``(dotted path, value)`` of every number (not bool) in a dumped scenario."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{prefix}.{i}")
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        yield prefix, obj


@functools.lru_cache(maxsize=4096)
def _bounds(path: str) -> tuple[float, str, float | None, str]:
    """Find the limit and the minimum (None: none) of a dotted path: the first matching pattern of each."""
    from fnmatch import fnmatchcase

    limit, unit = GENERIC_MAX, "(no scenario number needs more)"
    for pattern, lim, what in LIMITS:
        if fnmatchcase(path, pattern):
            limit, unit = lim, what
            break
    for pattern, lo, what in MINIMA:
        if fnmatchcase(path, pattern):
            return limit, unit, lo, what
    return limit, unit, None, ""


def limit_problems(s: Scenario) -> list[str]:
    """Find numbers that are not finite or exceed what any run can use."""
    problems: list[str] = []
    for path, value in _numbers(s.model_dump()):
        if not math.isfinite(value):
            problems.append(f"{path}: expected a finite number (got {value!r})")
            continue
        # the patterns are matched once per path (the paths are the same in every scenario)
        limit, unit, lo, what = _bounds(path)
        if abs(value) > limit:
            problems.append(f"{path}: expected at most {limit:g} {unit} (got {value!r})")
        elif lo is not None and value < lo:
            problems.append(f"{path}: expected at least {lo:g} {what} (got {value!r})")
    return problems


_NAME = re.compile(r"^\w[\w.+-]*$")


def plain_name_problem(name: str) -> str | None:
    """Say what is wrong with ``name`` as a plain file or folder name (None: nothing)."""
    if not _NAME.fullmatch(name) or len(name) > 100:
        return ("expected a plain folder name of letters, digits, '_', '-', '.', '+'"
                f" (not starting with '.', at most 100 characters) (got {name!r})")
    return None


def name_problems(s: Scenario) -> list[str]:
    """``meta.name`` titles the results; a plain name, as it once named the results folder."""
    problem = plain_name_problem(s.meta.name)
    return [f"meta.name: {problem}"] if problem else []


def horizon_problems(s: Scenario) -> list[str]:
    """Check the run's size: horizon and persons ever present."""
    problems = []
    sim, pop = s.simulation, s.population
    years = sim.warmup_years + sim.years
    if years > 100.0:
        problems.append(f"simulation.warmup_years + simulation.years: expected at most 100 years (got {years:g})")
    persons = pop.persons_65plus + pop.entrants_per_year * years
    if persons > PERSONS_MAX:
        problems.append(
            "population.persons_65plus + population.entrants_per_year * (warmup_years + years):"
            f" expected at most {PERSONS_MAX:,} persons in a replication (got {persons:,.0f})"
        )
    r = s.routine
    most = max(max(r.home_help_hours_per_week_dependent.as_tuple()),
               max(r.home_help_hours_per_week_independent.as_tuple()))
    if most + r.post_discharge_home_help_hours_per_week > 168.0:
        problems.append(
            "routine.home_help_hours_per_week_* + routine.post_discharge_home_help_hours_per_week:"
            f" expected at most 168 hours per week (got {most + r.post_discharge_home_help_hours_per_week:g})"
        )
    return problems


def _poisson_max(means) -> int:
    """Return the largest count a person can hold: the Poisson quantile at the largest uniform."""
    top = max(_poisson_ppf(_U_MAX, m) for m in means)
    return int(top) if math.isfinite(top) else 2**31


def _poisson_ppf(q: float, mean: float) -> float:
    """``scipy.stats.poisson.ppf(q, mean)`` for 0 < q < 1, to the bit, from its own formula in ``scipy.special``.

    scipy.stats costs about 3e9 instructions (0.5 s) to import, and validating a scenario is
    the only thing a run needed it for (checked against it for 24,000 means from 0 to 1e300, inf, NaN).
    """
    import numpy as np
    from scipy.special import pdtr, pdtrik

    if not mean >= 0:  # outside the distribution's parameters: scipy's NaN
        return float("nan")
    vals = np.ceil(pdtrik(q, mean))
    vals1 = np.maximum(vals - 1, 0)
    return float(vals1 if pdtr(vals1, mean) >= q else vals)


def _can_be_admitted(s: Scenario) -> bool:
    h, r = s.health, s.routing
    for st in STRATA:
        if getattr(h.deterioration_rate_per_year, st) <= 0:
            continue
        if getattr(h.share_needs_bed, st) > 0:
            return True
        if getattr(h.share_needs_assessment, st) > 0 and (
            s.concepts.direct_admission
            or getattr(r.ed_share_needs_assessment, st) * getattr(r.admit_share_needs_assessment, st) > 0
        ):
            return True
    return False


def _can_be_palliative(s: Scenario) -> bool:
    p, h = s.population, s.health
    if p.stratum_shares.palliative > 0 or (p.entrants_per_year > 0 and p.entrant_stratum_shares.palliative > 0):
        return True
    return any(getattr(h.transition_rates_per_year, st).get("palliative", 0.0) > 0 for st in STRATA)


def inclusion_problems(s: Scenario) -> list[str]:
    """Inclusion thresholds of enabled service concepts that no person can meet."""
    problems: list[str] = []
    pop = s.population
    team = s.concepts.mobile_team
    if team.enabled:
        # The team takes no palliative person (sim/care/concepts/mobile_team.py).
        live = [st for st in STRATA if st != "palliative"]
        chronic = _poisson_max(getattr(pop.chronic_diagnoses_mean, st) for st in live)
        meds = _poisson_max(getattr(pop.medications_mean, st) for st in live)
        q = "concepts.mobile_team"
        possible = {
            "chronic diagnoses": team.chronic_diagnoses_min <= chronic,
            "admissions in 12 months": team.admissions_12m_min == 0 or _can_be_admitted(s),
            "medications": team.medications_min <= meds,
            "personal care dependency": any(getattr(pop.personal_care_dependent, st) > 0 for st in live),
            "age": team.age_min <= pop.age_max,
            "home health care": any(getattr(pop.home_health_enrolled, st) > 0 for st in live),
        }
        if not possible["chronic diagnoses"]:
            problems.append(f"{q}.chronic_diagnoses_min: no person can have more than {chronic}"
                            f" (population.chronic_diagnoses_mean) (got {team.chronic_diagnoses_min})")
        if not possible["medications"]:
            problems.append(f"{q}.medications_min: no person can have more than {meds}"
                            f" (population.medications_mean) (got {team.medications_min})")
        if not possible["age"]:
            problems.append(f"{q}.age_min: expected at most population.age_max = {pop.age_max:g}"
                            f" (got {team.age_min:g})")
        if not possible["admissions in 12 months"]:
            problems.append(f"{q}.admissions_12m_min: no person can be admitted (health and routing"
                            f" shares), expected 0 (got {team.admissions_12m_min})")
        n = sum(possible.values())
        if team.criteria_required > n:
            cannot = ", ".join(k for k, ok in possible.items() if not ok)
            problems.append(f"{q}.criteria_required: only {n} criteria can be met (not: {cannot});"
                            f" expected at most {n} (got {team.criteria_required})")
    phys = s.concepts.home_physician
    if phys.enabled:
        chronic = _poisson_max(pop.chronic_diagnoses_mean.as_tuple())
        if phys.medical_interventions_min > chronic:
            problems.append(f"concepts.home_physician.medical_interventions_min: no person can have more"
                            f" than {chronic} (population.chronic_diagnoses_mean)"
                            f" (got {phys.medical_interventions_min})")
        if not any(pop.home_health_enrolled.as_tuple()):
            problems.append("concepts.home_physician.enabled: no person can be listed, since"
                            " population.home_health_enrolled is 0 in every stratum")
        if getattr(phys, "area_share", 1.0) <= 0:
            problems.append("concepts.home_physician.area_share: no person lives in the physician's"
                            " area; expected > 0 when enabled (got 0)")
    if s.concepts.palliative_team.enabled:
        why = []
        if not _can_be_palliative(s):
            why.append("nobody is or becomes palliative (population and health.transition_rates_per_year)")
        if pop.wishes_palliative_team <= 0:
            why.append("population.wishes_palliative_team is 0")
        if pop.incurable_cancer_given_palliative <= 0:
            why.append("population.incurable_cancer_given_palliative is 0")
        if why:
            problems.append("concepts.palliative_team.enabled: no person can be enrolled: " + "; ".join(why))
    return problems
