"""A whole study: one-at-a-time ranges and the noise at the default, Morris, selection, Sobol'.

Each stage's points run through an executor (local processes or a Dask cluster) and are stored
as they finish (:mod:`sim.experiments.sensitivity.study`); the analyses read the stored points,
so an interrupted study, run again, gives the same tables as one that ran straight through.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.executor import Executor
from sim.experiments.sensitivity import analysis, design
from sim.experiments.sensitivity.assumptions import AssumptionFile, defaults
from sim.experiments.sensitivity.evaluate import UNMET, evaluate_point, outputs
from sim.experiments.sensitivity.study import StudyStore, digest, run_stage

STAGES = ("oat", "noise", "morris", "sobol")
#: Design fields that only shape the Sobol' stage or the analyses (not in the study's fingerprint).
SOBOL_ONLY = ("sobol_n", "sobol_max", "select_share", "resamples")
#: Progress: called with a stage and its number of points; returns what to call per finished point.
ProgressFactory = Callable[[str, int], Callable[[], None] | None]


@dataclass
class Result:
    """A study's tables and what the run cost."""

    oat: pd.DataFrame
    morris: pd.DataFrame
    sobol: pd.DataFrame
    selected: list[str]
    units: dict[str, tuple[str, str]]
    noise_sd: dict[str, float]
    evaluations: dict[str, int]  #: model runs (points × replications) per stage
    points: dict[str, int]  #: design points per stage
    cpu_seconds: float  #: median CPU of one model run (one replication, both care systems)
    planned: dict[str, int] = field(default_factory=dict)  #: design points per stage of the full design
    notes: list[str] = field(default_factory=list)
    persons: dict[int, list[str]] = field(default_factory=dict)  #: replication -> distinct persons digests


def fingerprint(scenario_hash: str, spec: AssumptionFile, evaluate: Callable) -> dict[str, str]:
    """Return what makes two studies' points comparable (compared on resume)."""
    # The Sobol' stage's size and selection are not part of it: its points are stored under a stage
    # name that holds them (:func:`sobol_stage`), so a larger N later keeps the Morris points.
    return {"scenario": scenario_hash, "assumptions": spec.digest(),
            "design": digest(spec.design.model_dump(mode="json", exclude=set(SOBOL_ONLY))),
            "evaluation": f"{evaluate.__module__}.{evaluate.__qualname__}"}


def sobol_stage(n: int, names: list[str]) -> str:
    """Return the stored stage name of a Sobol' design: its N and its assumptions (other designs kept apart)."""
    return f"sobol-N{n}-{digest(names)[:8]}"


def _per_point(rows: pd.DataFrame, outputs_fn) -> tuple[pd.DataFrame, dict]:
    """Mean of each output over a point's replications, one row per point (in point order)."""
    y, info = outputs_fn(rows)
    y = y.assign(point=rows["point"].to_numpy()).groupby("point", sort=True).mean()
    return y, info


def run_study(store: StudyStore, scenario_data: dict[str, Any], spec: AssumptionFile, executor: Executor,
              progress: ProgressFactory | None = None, evaluate: Callable = evaluate_point,
              outputs_fn: Callable = outputs, until: str = "sobol") -> Result:
    """Run (or resume) every stage up to ``until`` (``morris`` or ``sobol``) and analyse the stored points."""
    d = spec.design
    base = defaults(spec, scenario_data)
    head = (scenario_data, spec)
    reps = list(d.replications)

    def stage(name: str, points: list[dict[str, float]], replications: list[list[int]]) -> pd.DataFrame:
        tick = progress(name.split("-")[0], len(points)) if progress else None
        return run_stage(store, name, points, replications, evaluate, head, executor, tick)

    oat_pts = design.oat_points(spec, base)
    oat_rows = stage("oat", oat_pts, [reps] * len(oat_pts))
    noise_rows = stage("noise", [base] * d.noise_replications, [[r] for r in range(d.noise_replications)])
    x_morris = design.morris_points(spec, d)
    morris_rows = stage("morris", design.full(x_morris, spec.names, base), [reps] * len(x_morris))

    y_oat, units = _per_point(oat_rows, outputs_fn)
    noise_sd: dict[str, float] = {}
    if len(noise_rows) > 1:
        y_noise, _ = _per_point(noise_rows, outputs_fn)
        noise_sd = {k: float(v) for k, v in y_noise.std(ddof=1).items()}
    y_morris, _ = _per_point(morris_rows, outputs_fn)
    morris = analysis.morris_table(x_morris, y_morris, spec, d)
    oat = analysis.oat_table(y_oat, spec, base, noise_sd)

    selected = design.select(morris, d, list(y_morris.columns))
    sobol = pd.DataFrame(columns=["output", "assumption", "S1", "S1_conf", "ST", "ST_conf", "variance"])
    sobol_rows = pd.DataFrame()
    if selected and until == "sobol":
        x_sobol = design.sobol_points(spec, d, selected)
        sobol_rows = stage(sobol_stage(d.sobol_n, selected), design.full(x_sobol, selected, base),
                           [reps] * len(x_sobol))
        y_sobol, _ = _per_point(sobol_rows, outputs_fn)
        sobol = analysis.sobol_table(y_sobol, spec, d, selected)

    frames = {"oat": oat_rows, "noise": noise_rows, "morris": morris_rows, "sobol": sobol_rows}
    all_rows = pd.concat([f for f in frames.values() if not f.empty], ignore_index=True)
    notes = []
    if not any(u in k for k in units for u in UNMET):
        notes.append("unmet need: the summary has no unmet-need metric in this version (the staffed-services"
                     " metrics had not landed when this ran); left out")
    persons = {}
    if "persons_sha256" in all_rows:
        persons = {int(r): sorted(set(g)) for r, g in all_rows.groupby("replication")["persons_sha256"]}
    return Result(
        oat=oat, morris=morris, sobol=sobol, selected=selected, units=units, noise_sd=noise_sd,
        evaluations={k: len(f) for k, f in frames.items()},
        points={k: (f["point"].nunique() if not f.empty else 0) for k, f in frames.items()},
        cpu_seconds=float(np.median(all_rows["cpu_seconds"])) if "cpu_seconds" in all_rows else math.nan,
        notes=notes, persons=persons,
        planned={"oat": len(oat_pts), "noise": d.noise_replications, "morris": len(x_morris),
                 "sobol": d.sobol_n * (len(selected) + 2) if selected else 0},
    )
