"""Sizing what-if: the same persons with 1, 2, ... K teams of one staffed concept.

Every option runs the same replication seeds, so the same persons with the same health
trajectories (common random numbers): options differ by their teams, not by their noise.
Today's care (intervention-driven) runs once per replication; each option runs person-driven
care. Per option the table holds the concept's own figures (capacity, caseload, unmet need,
waits), the change against today (area bed-days, cost per payer) and the change against one
team fewer (the marginal team), each with a Student-t 95 % interval over replications, so a
planner sees where another team stops paying.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from sim.care.concepts import REGISTRY
from sim.config.scenario import Scenario
from sim.experiments.executor import Executor
from sim.experiments.runner import run_replication
from sim.output.summary import UNITS
from sim.stats import t_interval

#: Area figures derived per replication: name -> (summary metric, scale kind, unit).
AREA = {
    "area_bed_days": ("bed_days", "per_1000", "bed-days per year in the area"),
    "area_cost_region_msek": ("cost_region_sek", "msek", "MSEK per year in the area"),
    "area_cost_municipality_msek": ("cost_municipality_sek", "msek", "MSEK per year in the area"),
    "area_cost_total_msek": ("cost_total_sek", "msek", "MSEK per year in the area"),
}
#: The concept's own figures, by suffix of ``<concept>_...`` (those it declares are shown).
OWN = ("capacity", "caseload", "list", "full_share", "refused", "referrals", "enrolments", "unserved", "wait_days",
       "wait_mean", "wait_p90", "wait_expired", "no_time", "aftercare", "after_full")


class SizingError(ValueError):
    """A sizing request that cannot run (a concept without teams, a bad range): one line."""


def parse_teams(text: str) -> list[int]:
    """``"1..4"`` -> [1, 2, 3, 4]; ``"1,2,5"`` -> [1, 2, 5] (ascending, at least 1)."""
    try:
        if ".." in text:
            lo, hi = (int(x) for x in text.split("..", 1))
            out = list(range(lo, hi + 1))
        else:
            out = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise SizingError(f"--teams: expected a range like 1..4 or a list like 1,2,4 (got {text!r})") from None
    if not out or out[0] < 1 or out[-1] > 50:
        raise SizingError(f"--teams: expected 1 to 50 teams (got {text!r})")
    return out


def with_teams(scenario: Scenario, concept: str, teams: int) -> Scenario:
    """Return the scenario with ``teams`` teams of ``concept`` (switched on)."""
    c = scenario.concepts
    params = getattr(c, concept)
    new = type(params).model_validate({**params.model_dump(), "enabled": True, "teams": teams})
    return scenario.model_copy(update={"concepts": c.model_copy(update={concept: new})})


def check_concept(scenario: Scenario, concept: str) -> None:
    """Fail with one line unless ``concept`` is a registered concept with a ``teams`` field."""
    if concept not in REGISTRY:
        raise SizingError(f"--concept: no such concept {concept!r} (one of: {', '.join(REGISTRY)})")
    if "teams" not in type(getattr(scenario.concepts, concept)).model_fields:
        raise SizingError(f"--concept {concept}: it has no staff table (no teams to vary)")


def sizing_tasks(scenario: Scenario, teams: Sequence[int]) -> int:
    """Count the single-care-system runs a sweep makes: (1 + options) × replications."""
    return (1 + len(teams)) * scenario.simulation.replications


def _area(metrics: dict[str, float], years: float) -> dict[str, float]:
    persons = metrics["person_years"] / years  # mean persons 65+ in the measured period
    out = {}
    for name, (metric, kind, _unit) in AREA.items():
        rate = metrics[metric]
        out[name] = rate * persons / 1000.0 if kind == "per_1000" else rate * persons / 1e6
    return out


def sizing_runs(scenario: Scenario, concept: str, teams: Sequence[int], executor: Executor,
                progress: Callable[[], None] | None = None) -> tuple[list[dict], dict[int, list[dict]]]:
    """Run today's care once per replication and each option on the same persons.

    Returns today's metrics per replication and, per number of teams, the options' metrics.
    """
    reps = list(range(scenario.simulation.replications))
    variants = {k: with_teams(scenario, concept, k) for k in teams}
    tasks = [(scenario, r, ("intervention",)) for r in reps]
    tasks += [(variants[k], r, ("person",)) for k in teams for r in reps]
    results = []
    for res in executor.map(run_replication, tasks):
        results.append(res)
        if progress:
            progress()
    years = scenario.simulation.years
    n = len(reps)
    today = [{**res.metrics["intervention"], **_area(res.metrics["intervention"], years)} for res in results[:n]]
    options = {}
    for i, k in enumerate(teams):
        chunk = results[n * (i + 1):n * (i + 2)]
        options[k] = [{**res.metrics["person"], **_area(res.metrics["person"], years)} for res in chunk]
    return today, options


def sizing_table(scenario: Scenario, concept: str, teams: Sequence[int], executor: Executor,
                 progress: Callable[[], None] | None = None) -> pd.DataFrame:
    """Long table: teams, metric, comparison (``option``, ``vs today``, ``vs one team fewer``), mean, CI, unit."""
    check_concept(scenario, concept)
    today, options = sizing_runs(scenario, concept, teams, executor, progress)
    units = {**UNITS, **{k: v[2] for k, v in AREA.items()}}
    own = [f"{concept}_{s}" for s in OWN if f"{concept}_{s}" in today[0]]
    rows = []

    def add(k: int, metric: str, comparison: str, values: np.ndarray) -> None:
        mean, lo, hi = t_interval(values, drop_nan=False)
        rows.append((k, metric, comparison, mean, lo, hi, units.get(metric, "")))

    previous = None
    for k in teams:
        opt = options[k]
        for m in own:
            add(k, m, "option", np.array([r[m] for r in opt], dtype=float))
        for m in AREA:
            add(k, m, "option", np.array([r[m] for r in opt], dtype=float))
            add(k, m, "vs today", np.array([o[m] - t[m] for o, t in zip(opt, today, strict=True)], dtype=float))
            if previous is not None:
                add(k, m, "vs one team fewer",
                    np.array([o[m] - p[m] for o, p in zip(opt, previous, strict=True)], dtype=float))
        if previous is not None:
            m = f"{concept}_unserved"
            if m in own:
                add(k, m, "vs one team fewer",
                    np.array([o[m] - p[m] for o, p in zip(opt, previous, strict=True)], dtype=float))
        previous = opt
    return pd.DataFrame(rows, columns=["teams", "metric", "comparison", "mean", "ci_low", "ci_high", "unit"])
