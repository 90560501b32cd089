"""Which free parameters the targets pin down: spread among the trials that fit, and a profile of the loss."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.calibration.batch import map_sets
from sim.experiments.calibration.objective import evaluate
from sim.experiments.executor import Executor
from sim.measure.targets import Parameter, TargetFile


def identifiability(trials: pd.DataFrame, params: dict[str, Parameter], delta: float,
                    top_share: float = 0.1, min_top: int = 5,
                    importances: dict[str, float] | None = None) -> pd.DataFrame:
    """Tell which parameters the targets pin down: their spread among the trials that fit well.

    The trials that fit are those whose loss is within ``delta`` of the best
    (``[calibration] identifiability_delta``, default 1: one target one noise scale, its 95 %
    half-width, further outside its band than at the best), together with the top ``top_share``
    of trials (at least ``min_top``). For each parameter: the best value, the range among the trials that fit, and
    that range as a share of the search range. Under a quarter of the range: ``pinned``; half
    or more: ``loose`` (the targets hardly constrain it); ``partly`` in between. With a profile (see
    :func:`profile`) the verdict uses the profile interval instead.
    ``importance`` is optuna's fANOVA importance of the parameter for the loss, if computed.
    """
    n = len(trials)
    k = min(n, max(min_top, int(math.ceil(top_share * n))))
    best_loss = float(trials["loss"].min()) if n else float("nan")
    good = trials[(trials["loss"] <= best_loss + delta) | trials.index.isin(trials.nsmallest(k, "loss").index)]
    rows = []
    for name, p in params.items():
        v = good[name].to_numpy(float)
        spread = (v.max() - v.min()) / (p.high - p.low) if len(v) else float("nan")
        verdict = "pinned" if spread < 0.25 else ("loose" if spread >= 0.5 else "partly")
        rows.append({"parameter": name,
                     "best": float(trials.loc[trials["loss"].idxmin(), name]) if n else float("nan"),
                     "fit_min": float(v.min()) if len(v) else float("nan"),
                     "fit_max": float(v.max()) if len(v) else float("nan"),
                     "range_low": p.low, "range_high": p.high, "fit_spread_share": spread,
                     "importance": (importances or {}).get(name, float("nan")),
                     "verdict": verdict, "trials_that_fit": len(good), "loss_delta": delta})
    return pd.DataFrame(rows)


def profile(scenario_data: dict[str, Any], best: dict[str, float], targets: TargetFile,
            params: dict[str, Parameter], points: int, replications: list[int], executor: Executor,
            delta: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Profile the loss through the best point, one parameter at a time.

    Each parameter is set to ``points`` evenly spaced values of its range (the others at the
    best), with the same replications as the search (common random numbers). The interval is
    where the loss stays within ``delta`` of the loss at the best, with the edges interpolated
    linearly between grid points. Returns the grid (``parameter, value, loss, loss_at_best``) and
    the intervals (``parameter, low, high``).
    """
    sets, keys = [dict(best)], [("", float("nan"))]
    for name, p in params.items():
        for v in np.linspace(p.low, p.high, points):
            sets.append({**best, name: float(v)})
            keys.append((name, float(v)))
    losses = [r["loss"] for r in map_sets(evaluate, scenario_data, sets, replications, targets, executor)]
    at_best = losses[0]
    limit = at_best + delta
    rows = [{"parameter": k, "value": v, "loss": loss} for (k, v), loss in zip(keys[1:], losses[1:], strict=True)]
    grid = pd.DataFrame(rows)
    out = []
    for name in params:
        g = pd.concat([grid[grid["parameter"] == name],
                       pd.DataFrame([{"parameter": name, "value": best[name], "loss": at_best}])])
        g = g.sort_values("value").reset_index(drop=True)
        x, y = g["value"].to_numpy(float), g["loss"].to_numpy(float)
        i = int(np.flatnonzero(np.isclose(x, best[name]) & np.isclose(y, at_best))[0])
        out.append({"parameter": name, "low": float(_edge(x, y, i, limit, -1)),
                    "high": float(_edge(x, y, i, limit, 1))})
    return grid.assign(loss_at_best=at_best), pd.DataFrame(out)


def _edge(x: np.ndarray, y: np.ndarray, i: int, limit: float, step: int) -> float:
    """Walk from grid point ``i`` in direction ``step`` while the loss stays within ``limit``.

    Returns the last grid point within it, moved linearly towards the next one to where the
    loss crosses ``limit``; the grid's end if the loss never crosses it.
    """
    j = i
    while 0 <= j + step < len(x) and y[j + step] <= limit:
        j += step
    if not 0 <= j + step < len(x):
        return x[j]
    k = j + step
    return x[j] + (x[k] - x[j]) * (limit - y[j]) / max(y[k] - y[j], 1e-12)


def with_profile(ident: pd.DataFrame, prof: pd.DataFrame) -> pd.DataFrame:
    """Add the profile intervals to :func:`identifiability`'s table; the verdict then follows the profile."""
    ident = ident.merge(prof.rename(columns={"low": "profile_low", "high": "profile_high"}), on="parameter")
    width = (ident["profile_high"] - ident["profile_low"]) / (ident["range_high"] - ident["range_low"])
    ident["profile_share"] = width
    ident["verdict"] = np.where(width < 0.25, "pinned", np.where(width >= 0.5, "loose", "partly"))
    return ident
