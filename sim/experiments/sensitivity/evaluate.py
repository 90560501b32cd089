"""One design point: the scenario at the assumptions' values, both care systems, its metrics.

Every point runs the same replication numbers, so the same seeds: the same persons with the
same health trajectories (common random numbers). Each row records a SHA-256 of the persons and
their trajectories, so a study can show (and the tests check) that its points share them.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np
import pandas as pd

from sim.config.loader import validate
from sim.config.scenario import Scenario
from sim.domain.streams import replication_seed
from sim.experiments.evaluate import evaluate
from sim.experiments.sensitivity.assumptions import AssumptionFile, apply
from sim.population import draw_trajectories, make_population

PARADIGMS = ("intervention", "person")


def persons_digest(scenario: Scenario, replication: int) -> str:
    """SHA-256 of a replication's persons and health trajectories (what common random numbers keep equal)."""
    seed = replication_seed(scenario.simulation.seed, replication)
    pop = make_population(scenario, seed)
    traj = draw_trajectories(scenario, pop, seed)
    h = hashlib.sha256()
    for obj in (pop, traj):
        for name, value in sorted(vars(obj).items()):
            h.update(name.encode())
            h.update(np.ascontiguousarray(value).tobytes() if isinstance(value, np.ndarray) else repr(value).encode())
    return h.hexdigest()


def point_scenario(scenario_data: dict[str, Any], spec: AssumptionFile, values: dict[str, float]) -> Scenario:
    """Validate the scenario at one design point (numbers from numpy: no strict typing)."""
    return validate(apply(scenario_data, spec, values), "sensitivity design point", strict=False)


def evaluate_point(scenario_data: dict[str, Any], spec: AssumptionFile, values: dict[str, float],
                   replications: list[int]) -> list[dict[str, Any]]:
    """Run one design point on ``replications``: one row per replication, every metric of both care systems.

    Columns: ``replication``, ``<paradigm>:<metric>``, ``beds`` (the point's beds, for beds
    freed), ``persons_sha256``, ``cpu_seconds`` (this process's CPU time for the replication).
    """
    scenario = point_scenario(scenario_data, spec, values)
    rows = []
    for r in replications:
        c0 = time.process_time()
        res = evaluate(scenario, [r], paradigms=PARADIGMS)  # metrics only: no event log
        row: dict[str, Any] = {"replication": r}
        for m in res["metrics"]:
            row.update({f"{m['paradigm']}:{k}": float(v) for k, v in m.items() if k not in ("replication", "paradigm")})
        row["beds"] = float(scenario.capacity.beds)
        row["persons_sha256"] = persons_digest(scenario, r)
        row["cpu_seconds"] = time.process_time() - c0
        rows.append(row)
    return rows


#: Headline outputs: name -> (unit, description). Differences are person-driven − today's care.
HEADLINE = {
    "net_cost_region": ("SEK per person 65+ per year", "region's cost, person-driven − today's care"),
    "net_cost_municipality": ("SEK per person 65+ per year", "municipality's cost, person-driven − today's care"),
    "bed_days": ("per 1,000 persons 65+ per year", "bed-days, person-driven − today's care"),
    "beds_freed": ("beds (mean occupied)", "mean occupied beds, today's care − person-driven"),
}
UNMET = ("unmet", "unserved")  #: metrics whose name holds one of these are unmet need (staffed services)


def outputs(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """Return the headline outputs of stored rows (one column each) and their units and descriptions.

    Unmet-need metrics (any ``*unmet*`` or ``*unserved*`` metric of the summary) are added when
    every row holds them: person-driven − today's care, or the person-driven value where today's
    care has no such metric. Else they are absent (the caller says so).
    """
    out = pd.DataFrame(index=rows.index)

    def diff(m: str) -> pd.Series:
        return rows[f"person:{m}"] - rows[f"intervention:{m}"]

    out["net_cost_region"] = diff("cost_region_sek")
    out["net_cost_municipality"] = diff("cost_municipality_sek")
    out["bed_days"] = diff("bed_days")
    out["beds_freed"] = -diff("bed_occupancy") * rows["beds"]
    info = dict(HEADLINE)
    for col in rows.columns:
        m = col.split(":", 1)[1] if col.startswith("person:") else ""
        if not any(u in m for u in UNMET) or rows[col].isna().any():
            continue
        other = f"intervention:{m}"
        if other in rows and not rows[other].isna().any():
            out[m], what = diff(m), f"{m}, person-driven − today's care"
        else:
            out[m], what = rows[col], f"{m}, person-driven care"
        info[m] = ("as the summary's metric", what)
    return out, info
