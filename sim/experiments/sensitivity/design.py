"""The designs (SALib): one-at-a-time ranges, Morris trajectories, Sobol' samples; and the selection between them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.experiments.sensitivity.assumptions import AssumptionFile, Design


def problem(spec: AssumptionFile, names: list[str] | None = None) -> dict:
    """SALib's problem mapping for ``names`` (default: every assumption)."""
    names = names if names is not None else spec.names
    return {"num_vars": len(names), "names": list(names),
            "bounds": [[spec.assumptions[k].low, spec.assumptions[k].high] for k in names]}


def oat_points(spec: AssumptionFile, default: dict[str, float]) -> list[dict[str, float]]:
    """Return the default point, then each assumption at its low and at its high, the others at default."""
    points = [dict(default)]
    for k, a in spec.assumptions.items():
        points += [{**default, k: a.low}, {**default, k: a.high}]
    return points


def morris_points(spec: AssumptionFile, design: Design) -> np.ndarray:
    """Morris trajectories over every assumption: ``r (k + 1)`` rows of ``k`` values."""
    from SALib.sample import morris

    return morris.sample(problem(spec), N=design.morris_trajectories, num_levels=design.morris_levels,
                         seed=design.seed)


def sobol_points(spec: AssumptionFile, design: Design, names: list[str]) -> np.ndarray:
    """Saltelli/Sobol' sample over ``names``: ``N (k + 2)`` rows (first-order and total indices only)."""
    from SALib.sample import sobol

    return sobol.sample(problem(spec, names), design.sobol_n, calc_second_order=False, seed=design.seed)


def full(matrix: np.ndarray, names: list[str], default: dict[str, float]) -> list[dict[str, float]]:
    """Design rows over ``names`` as full points: the other assumptions at their default."""
    return [{**default, **{k: float(v) for k, v in zip(names, row, strict=True)}} for row in matrix]


def select(morris: pd.DataFrame, design: Design, outputs: list[str]) -> list[str]:
    """Choose the assumptions of the Sobol' stage from the Morris screening.

    Normalised mu* (mu* / the largest mu* of that output) at least ``select_share`` for any of
    ``outputs``, the largest first, at most ``sobol_max``.

    ``morris``: long table with ``output``, ``assumption``, ``mu_star``.
    """
    m = morris[morris["output"].isin(outputs)].copy()
    top = m.groupby("output")["mu_star"].transform("max")
    m["share"] = np.where(top > 0, m["mu_star"] / top.where(top > 0, 1.0), 0.0)
    score = m.groupby("assumption", sort=False)["share"].max()
    score = score[score >= design.select_share].sort_values(ascending=False, kind="stable")
    return list(score.index[: design.sobol_max])
