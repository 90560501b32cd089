"""The analyses (SALib) on stored design points: one-at-a-time ranges, Morris, Sobol' indices."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sim.experiments.sensitivity.assumptions import AssumptionFile, Design
from sim.experiments.sensitivity.design import problem


def oat_table(y: pd.DataFrame, spec: AssumptionFile, default: dict[str, float],
              noise_sd: dict[str, float] | None = None) -> pd.DataFrame:
    """One-at-a-time ranges: each assumption at its low and high, the others at default.

    ``y``: one row per OAT point (0 = default, then low/high per assumption in file order), one
    column per output. Columns: output, assumption, low, default, high, y_low, y_default,
    y_high, swing (|y_high − y_low|), noise_sd (the output's spread over replications at the default).
    """
    rows = []
    for out in y.columns:
        base = float(y[out].iloc[0])
        for i, k in enumerate(spec.names):
            a = spec.assumptions[k]
            lo, hi = float(y[out].iloc[1 + 2 * i]), float(y[out].iloc[2 + 2 * i])
            rows.append({"output": out, "assumption": k, "low": a.low, "default": default[k], "high": a.high,
                         "y_low": lo, "y_default": base, "y_high": hi, "swing": abs(hi - lo),
                         "noise_sd": (noise_sd or {}).get(out, np.nan)})
    return pd.DataFrame(rows)


def morris_table(x: np.ndarray, y: pd.DataFrame, spec: AssumptionFile, design: Design) -> pd.DataFrame:
    """Morris elementary effects per output: mu, mu* (with its bootstrap 95 % interval half-width), sigma."""
    from SALib.analyze import morris

    prob = problem(spec)
    rows = []
    for out in y.columns:
        res = morris.analyze(prob, x, y[out].to_numpy(dtype=float), num_resamples=design.resamples,
                             conf_level=0.95, num_levels=design.morris_levels, seed=design.seed)
        for i, k in enumerate(prob["names"]):
            rows.append({"output": out, "assumption": k, "mu": float(res["mu"][i]),
                         "mu_star": float(res["mu_star"][i]), "mu_star_conf": float(res["mu_star_conf"][i]),
                         "sigma": float(res["sigma"][i])})
    return pd.DataFrame(rows)


def sobol_table(y: pd.DataFrame, spec: AssumptionFile, design: Design, names: list[str]) -> pd.DataFrame:
    """Sobol' first-order (S1) and total (ST) indices per output with bootstrap 95 % half-widths."""
    from SALib.analyze import sobol

    prob = problem(spec, names)
    rows = []
    for out in y.columns:
        values = y[out].to_numpy(dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a constant output: indices are NaN, said below
            res = sobol.analyze(prob, values, calc_second_order=False, num_resamples=design.resamples,
                                conf_level=0.95, seed=design.seed)
        for i, k in enumerate(names):
            rows.append({"output": out, "assumption": k, "S1": float(res["S1"][i]),
                         "S1_conf": float(res["S1_conf"][i]), "ST": float(res["ST"][i]),
                         "ST_conf": float(res["ST_conf"][i]), "variance": float(np.var(values))})
    return pd.DataFrame(rows)
