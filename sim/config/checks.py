"""Checks across fields that a single field's type cannot express."""

from __future__ import annotations

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
    return problems
