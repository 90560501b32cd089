"""The batch runner: parameter sets × replications, through an executor.

Every set runs the same replication seeds with both care systems on the same persons (common
random numbers), so two sets differ by their parameters, not by their noise. The search, the
profile, the final run and the ensemble map a function over parameter sets of one scenario
mapping (:func:`map_sets`); switch-off runs whole scenarios (:func:`paired_replications`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from sim.config.loader import validate
from sim.experiments.calibration.params import apply_params
from sim.experiments.evaluate import PARADIGMS, evaluate
from sim.experiments.executor import Executor
from sim.experiments.runner import run_replication
from sim.measure.report import measure_table
from sim.measure.targets import TargetFile


def evaluate_at(scenario_data: dict[str, Any], params: dict[str, float], replications: list[int],
                targets: TargetFile) -> dict[str, Any]:
    """:func:`sim.experiments.evaluate.evaluate` (metrics only, both care systems) at ``params``."""
    scenario = validate(apply_params(scenario_data, params), "calibration run")
    return evaluate(scenario, replications, targets, PARADIGMS, metrics_only=True)


def run_and_measure(scenario_data: dict[str, Any], params: dict[str, float], replications: list[int],
                    targets: TargetFile) -> tuple[dict[str, list[dict]], pd.DataFrame]:
    """Run the paired replications at ``params``: per-replication design figures, and the metrics.

    Returns ``{target: records}`` (for intervals over replications) and each replication's
    summary metrics of both paradigms (``replication, <metric>..., paradigm``). Metrics only:
    no event log is written (:mod:`sim.experiments.evaluate`).
    """
    out = evaluate_at(scenario_data, params, replications, targets)
    return out["designs"], pd.DataFrame(out["metrics"])


def design_figures(scenario_data: dict[str, Any], params: dict[str, float], replications: list[int],
                   targets: TargetFile) -> dict[str, list[dict]]:
    """Per-replication design figures at ``params`` (for intervals over replications)."""
    return run_and_measure(scenario_data, params, replications, targets)[0]


def map_sets(fn: Callable, scenario_data: dict[str, Any], sets: Sequence[dict[str, float]], replications: list[int],
             targets: TargetFile, executor: Executor, progress: Callable[[], None] | None = None) -> list:
    """``fn(scenario_data, params, replications, targets)`` for each parameter set, in parallel, in order.

    ``progress`` is called once per finished set.
    """
    tasks = [(scenario_data, dict(params), replications, targets) for params in sets]
    if progress is None:
        return list(executor.map(fn, tasks))
    out = []
    for res in executor.map(fn, tasks):
        out.append(res)
        if progress:
            progress()
    return out


def measures_at(scenario_data: dict[str, Any], params: dict[str, float], targets: TargetFile,
                replications: list[int], executor: Executor) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measure every target at one parameter set over ``replications``, one task per replication.

    Returns the measures table and its details (as ``measures.csv``, ``measures_detail.csv``).
    """
    per_target: dict[str, list[dict]] = {}
    # One task per replication for parallelism, then the intervals over all replications together.
    results = list(executor.map(design_figures, [(scenario_data, params, [r], targets) for r in replications]))
    for res in results:
        for tid, recs in res.items():
            per_target.setdefault(tid, []).extend(recs)
    return measure_table({tid: pd.DataFrame(recs) for tid, recs in per_target.items()}, targets)


def paired_replications(scenarios: Sequence, replications: Sequence[int], executor: Executor,
                        paradigms: tuple[str, ...] = PARADIGMS,
                        progress: Callable[[], None] | None = None) -> list[list]:
    """Run every scenario × every replication, all care systems on the same persons.

    Returns, per scenario in order, its replications' results (:func:`sim.experiments.runner.run_replication`).
    ``progress`` is called once per finished replication.
    """
    tasks = [(s, r, paradigms) for s in scenarios for r in replications]
    results = []
    for res in executor.map(run_replication, tasks):
        results.append(res)
        if progress:
            progress()
    n = len(replications)
    return [results[i * n:(i + 1) * n] for i in range(len(scenarios))]
