"""Statistics over replications and the formatting of figures: one place for both.

Used by measurement (``measures.csv``), calibration (fit, identifiability, ensemble) and the
console and markdown tables. Imports nothing of the package.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.special import stdtrit

NAN3 = (float("nan"),) * 3


def t_interval(values, level: float = 0.95, drop_nan: bool = True) -> tuple[float, float, float]:
    """Mean and Student-t interval (default 95 %) over replications: ``(mean, low, high)``.

    The replications are independent draws, so the half-width is t(level, n-1) * sd / sqrt(n).
    ``drop_nan``: leave out replications without a value (a design with no cohort in one
    replication); else a NaN makes the mean NaN. No values: all NaN; one value: the mean and
    a NaN interval.
    """
    v = np.asarray(values, dtype=float)
    if drop_nan:
        v = v[~np.isnan(v)]
    if len(v) == 0:
        return NAN3
    mean = float(v.mean())
    if len(v) < 2:
        return mean, float("nan"), float("nan")
    # scipy.stats.t.ppf(q, df) is stdtrit(df, q) to the bit; scipy.stats itself costs about 0.3 s to import.
    half = float(stdtrit(len(v) - 1, 0.5 + level / 2) * v.std(ddof=1) / np.sqrt(len(v)))
    return mean, mean - half, mean + half


def format_value(x: float, relative: bool) -> str:
    """Relative changes in % (signed); levels with thousands separators (never 1.02e+03)."""
    if x != x:
        return ""
    if relative:
        return f"{100 * x:+.0f} %"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def format_sig(x: float) -> str:
    """Three significant digits (parameter values); empty for NaN."""
    return "" if x != x else f"{x:.3g}"


def markdown_table(header: list[str], rows: Iterable[Iterable]) -> str:
    """Render a GitHub markdown table from a header and rows of cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def survivor_frailty_scale(hazard: float, variance: float, ratio: float, reference_age: float,
                           age: np.ndarray, floor_age: float) -> np.ndarray:
    """Factor (0-1] taking the gamma frailty (mean 1) at ``floor_age`` (65) to a survivor's at ``age`` (years).

    Shared-frailty selection (Vaupel, Manton & Stallard 1979): with hazard ``Z * mu(a)`` and ``Z`` gamma
    of shape ``k`` and rate ``k`` at 65, the survivors at ``a`` have ``Z`` gamma of shape ``k`` and rate
    ``k + M(a)``, ``M`` the cumulative hazard from 65: the same quantile scaled by ``k / (k + M(a))``.
    ``mu(a) = hazard * ratio ** (a - reference_age)`` (per year), so
    ``M(a) = hazard * (ratio ** (a - reference_age) - ratio ** (65 - reference_age)) / ln ratio``.
    """
    age = np.asarray(age, dtype=float)
    if hazard <= 0.0 or variance <= 0.0:
        return np.ones(len(age))
    k = 1.0 / variance
    x = np.maximum(age - floor_age, 0.0)
    cum = (hazard * x if ratio == 1.0 else
           hazard * (ratio ** (age - reference_age) - ratio ** (floor_age - reference_age)) / np.log(ratio))
    return k / (k + np.maximum(cum, 0.0))
