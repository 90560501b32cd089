"""The calibration loss of one parameter set: how far its naive figures lie outside the targets' bands.

    loss = sum over targets with weight > 0 of  weight * (distance(naive_mean, band) / scale)^2

``distance`` is zero inside the target's band (the source's own range, else reported ± 0.05)
and the distance to the nearer edge outside it, so a one-sided figure ("over 60 %", "up to
80 %") costs nothing anywhere on its side. ``scale`` is the target's documented noise scale
(its ``scale`` in targets.toml: the half-width of its naive 95 % interval at a calibrated fit,
floored at 0.05), else half the band width, so a noisy target does not dominate. It is fixed,
not the trial's own interval: with a per-trial scale the search lowers the loss by making a
figure noisier (it did: see calibration/README.md). The naive figure is fitted, because it is
what the studies measured.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from sim.experiments.calibration.batch import evaluate_at
from sim.measure.report import MEASURE_COLUMNS
from sim.measure.targets import TargetFile

NAN_PENALTY = 25.0  #: loss of a fitted target the trial cannot compute (no cohort), per weight


def band_distance(mean: float, band: tuple[float, float]) -> float:
    """How far ``mean`` lies outside ``band`` (0 inside, edges included)."""
    return float(max(band[0] - mean, 0.0, mean - band[1]))


def target_loss(mean: float, target) -> float:
    """Return one target's unweighted loss: (distance from the band / ``target.loss_scale()``)^2.

    The scale is fixed per target (documented noise scale, else half the band width); NaN mean
    (no cohort): ``NAN_PENALTY``.
    """
    if mean != mean:
        return NAN_PENALTY
    return (band_distance(mean, target.band_or_default()) / target.loss_scale()) ** 2


def loss_terms(table: pd.DataFrame, targets: TargetFile) -> dict[str, float]:
    """Return each fitted target's weighted contribution to the loss (see the module docstring)."""
    t = table.set_index("target")
    out = {}
    for tid, target in targets.targets.items():
        if target.weight <= 0 or target.reported is None:
            continue
        out[tid] = target.weight * target_loss(float(t.loc[tid, "naive_mean"]), target)
    return out


def loss_of(table: pd.DataFrame, targets: TargetFile) -> float:
    """Sum :func:`loss_terms`: the calibration loss."""
    return float(sum(loss_terms(table, targets).values()))


def evaluate(scenario_data: dict[str, Any], params: dict[str, float], replications: list[int],
             targets: TargetFile) -> dict[str, Any]:
    """Evaluate one trial: run the paired replications at ``params`` and measure every target.

    Returns ``loss``, ``measures`` (the measures table as records) and ``seconds``.
    """
    t0 = time.perf_counter()
    out = evaluate_at(scenario_data, params, replications, targets)  # metrics only: no event log
    table = pd.DataFrame(out["measures"], columns=MEASURE_COLUMNS)
    return {"loss": loss_of(table, targets), "measures": out["measures"],
            "detail": out["measures_detail"], "seconds": time.perf_counter() - t0}
