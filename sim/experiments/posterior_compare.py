"""Parameter uncertainty carried to the answers: ``narvard compare SCENARIO --posterior N``.

``N`` parameter sets are drawn from the calibration's posterior (``calibration/posterior.csv``,
by the particles' weights, seeded by the scenario seed); each runs the scenario's replications
``0 ... R-1``, so every draw meets the *same persons and health trajectories* as the others and
as the plain compare (common random numbers): what differs between draws is the parameters.

Per headline figure (the paired difference person − intervention of ``summary.csv``):

* the **stochastic-only interval**: the plain compare's Student-t 95 % interval over its
  replications at the scenario's own parameters (the fit);
* the **interval with parameter uncertainty**: per draw the mean over its replications, then
  the 2.5 and 97.5 % quantiles over the draws (the expected effect, the parameters uncertain).

Decision figures: the probability (share of draws) that person-driven care lowers each payer's
net cost; the beds freed (−Δ bed occupancy × beds) with its interval; and per reported pilot
figure the probability that it would be reproduced in a new area: the share of (draw,
replication) pairs, each a posterior parameter set in an area of new persons, whose naive design
figure falls in the target's band, and for all fitted figures at once.

The **interval with both** adds the two half-widths in quadrature around the draws' mean
(``combined_low``, ``combined_high``): the draws share their persons, so the parameters-only
interval holds the replications' noise fixed.

Written as ``uncertainty.csv`` (long: ``kind, figure, unit, mean, low, high, stochastic_mean,
stochastic_low, stochastic_high, combined_low, combined_high, draws, replications``) and
``uncertainty.md`` into the results folder, atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.loader import validate
from sim.config.scenario import Scenario
from sim.experiments.calibration.abc import fitted_targets, resample
from sim.experiments.calibration.batch import run_and_measure
from sim.experiments.calibration.params import apply_params
from sim.experiments.executor import Executor
from sim.measure.designs import MeasureError, check_fits
from sim.measure.targets import TargetFile
from sim.output.results import read_summary, write_files_atomically
from sim.stats import format_sig, markdown_table

UNCERTAINTY, UNCERTAINTY_MD = "uncertainty.csv", "uncertainty.md"
COLUMNS = ["kind", "figure", "unit", "mean", "low", "high", "stochastic_mean", "stochastic_low", "stochastic_high",
           "combined_low", "combined_high", "draws", "replications"]
PAYERS = {"cost_region_sek": "region", "cost_municipality_sek": "municipality", "cost_total_sek": "total"}


class PosteriorError(ValueError):
    """No usable posterior (file missing, parameters absent from the scenario): a one-line message."""


def draw_sets(posterior: pd.DataFrame, names: list[str], n: int, seed: int) -> list[dict[str, float]]:
    """``n`` parameter sets drawn from the posterior sample by weight (seeded)."""
    missing = [k for k in names if k not in posterior.columns]
    if missing:
        raise PosteriorError(f"posterior lacks the parameters {', '.join(missing)}")
    return resample(posterior, names, n, seed)


def designs_that_fit(targets: TargetFile, scenario: Scenario) -> TargetFile:
    """Keep the targets whose design windows lie inside the scenario's run (summary targets always)."""
    keep = {}
    for tid, t in targets.targets.items():
        if t.is_design:
            try:
                check_fits(targets.cohorts[t.cohort], scenario.warmup_days, scenario.horizon_days, tid)
            except MeasureError:
                continue
        keep[tid] = t
    return targets.model_copy(update={"targets": keep})


def one_draw(scenario_data: dict[str, Any], params: dict[str, float], replication: int,
             targets: TargetFile) -> dict[str, Any]:
    """One (draw, replication): both care systems' metrics and every target's naive figure."""
    per_target, reps = run_and_measure(scenario_data, params, [replication], targets)
    naive = {tid: float(recs[0]["naive"]) if recs else float("nan") for tid, recs in per_target.items()}
    return {"metrics": reps.to_dict("records"), "naive": naive}


def run_draws(scenario: Scenario, sets: list[dict[str, float]], targets: TargetFile, executor: Executor,
              progress: Callable[[], None] | None = None, run_one=one_draw) -> pd.DataFrame:
    """Every draw × every replication of the scenario (the same replication numbers for every draw).

    Returns one row per (draw, replication, paradigm) with the summary metrics, and the naive
    figures as ``naive:<target>`` columns (on the person-driven rows).
    """
    data = scenario.model_dump(mode="json")
    reps = range(scenario.simulation.replications)
    tasks = [(data, s, r, targets) for s in sets for r in reps]
    rows = []
    for i, res in enumerate(executor.map(run_one, tasks)):
        d, r = divmod(i, len(reps))
        for m in res["metrics"]:
            row = {**m, "draw": d, "replication": r}
            if m["paradigm"] == "person":
                row.update({f"naive:{k}": v for k, v in res["naive"].items()})
            rows.append(row)
        if progress:
            progress()
    return pd.DataFrame(rows)


def paired(frame: pd.DataFrame) -> pd.DataFrame:
    """Person − intervention per (draw, replication), for every numeric metric."""
    keys = ["draw", "replication"]
    p = frame[frame["paradigm"] == "person"].set_index(keys).sort_index()
    i = frame[frame["paradigm"] == "intervention"].set_index(keys).sort_index()
    cols = [c for c in i.columns if c != "paradigm" and not c.startswith("naive:")
            and pd.api.types.is_numeric_dtype(i[c])]
    return (p[cols] - i[cols]).reset_index()


def _q(v: np.ndarray) -> tuple[float, float, float]:
    v = v[np.isfinite(v)]
    if not len(v):
        return (float("nan"),) * 3
    return float(v.mean()), float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))


def uncertainty_table(frame: pd.DataFrame, summary: pd.DataFrame, targets: TargetFile, beds: int) -> pd.DataFrame:
    """Build the long table of ``uncertainty.csv`` (see the module docstring)."""
    diff = paired(frame)
    per_draw = diff.groupby("draw").mean(numeric_only=True)
    n_draws, n_reps = int(frame["draw"].nunique()), int(frame["replication"].nunique())
    stoch = summary[summary["paradigm"] == "difference"].set_index("metric")
    units = summary.drop_duplicates("metric").set_index("metric")["unit"] if "unit" in summary else pd.Series()
    rows = []
    nan2 = (np.nan, np.nan)
    for m in per_draw.columns:
        if m == "replication" or m not in stoch.index:
            continue
        s = stoch.loc[m]
        mean, lo, hi = _q(per_draw[m].to_numpy(float))
        # both: the parameters' half-width and the replications' half-width added in quadrature
        half = float(np.hypot((hi - lo) / 2, (float(s["ci_high"]) - float(s["ci_low"])) / 2))
        rows.append(["difference", m, units.get(m, ""), mean, lo, hi,
                     float(s["mean"]), float(s["ci_low"]), float(s["ci_high"]), mean - half, mean + half,
                     n_draws, n_reps])
    for col, payer in PAYERS.items():
        if col in per_draw:
            p = float(np.mean(per_draw[col].to_numpy(float) < 0))
            rows.append(["decision", f"P(person-driven care lowers the {payer}'s net cost)", "probability",
                         p, np.nan, np.nan, np.nan, np.nan, np.nan, *nan2, n_draws, n_reps])
    if "bed_occupancy" in per_draw and "bed_occupancy" in stoch.index:
        s = stoch.loc["bed_occupancy"]
        rows.append(["decision", "beds freed", "beds", *_q(-beds * per_draw["bed_occupancy"].to_numpy(float)),
                     -beds * float(s["mean"]), -beds * float(s["ci_high"]), -beds * float(s["ci_low"]),
                     *nan2, n_draws, n_reps])
    person = frame[frame["paradigm"] == "person"]
    inside_all = np.ones(len(person), bool)
    fitted = fitted_targets(targets)
    for tid in fitted:
        col = f"naive:{tid}"
        if col not in person:
            continue
        lo, hi = targets.targets[tid].band_or_default()
        v = person[col].to_numpy(float)
        inside = (v >= lo - 1e-12) & (v <= hi + 1e-12)
        inside_all &= inside
        rows.append(["pilot", f"P({tid} reproduced in a new area)", "probability", float(inside.mean()),
                     np.nan, np.nan, np.nan, np.nan, np.nan, *nan2, n_draws, n_reps])
    rows.append(["pilot", "P(every fitted pilot figure reproduced in a new area)", "probability",
                 float(inside_all.mean()), np.nan, np.nan, np.nan, np.nan, np.nan, *nan2, n_draws, n_reps])
    return pd.DataFrame(rows, columns=COLUMNS)


def uncertainty_markdown(table: pd.DataFrame, posterior_file: str) -> str:
    """``uncertainty.md``: the same table, readable."""
    g = format_sig
    d = table[table["kind"] == "difference"]
    n, r = (int(table["draws"].iloc[0]), int(table["replications"].iloc[0])) if len(table) else (0, 0)
    lines = [f"# Uncertainty: {n} posterior draws × {r} replications (the same persons)", "",
             f"Posterior: `{posterior_file}`. Paired difference person − intervention.", "",
             markdown_table(["figure", "unit", "stochastic only (fit, 95 % CI)", "parameters only (mean, 95 % of "
                             "draws)", "both"],
                            [[x.figure, x.unit,
                              f"{g(x.stochastic_mean)} [{g(x.stochastic_low)}, {g(x.stochastic_high)}]",
                              f"{g(x.mean)} [{g(x.low)}, {g(x.high)}]",
                              f"[{g(x.combined_low)}, {g(x.combined_high)}]"] for x in d.itertuples()]), "",
             "## Decision figures", ""]
    rest = table[table["kind"] != "difference"]
    lines.append(markdown_table(["figure", "value", "interval"],
                                [[x.figure, g(x.mean), "" if x.low != x.low else f"[{g(x.low)}, {g(x.high)}]"]
                                 for x in rest.itertuples()]))
    return "\n".join(lines) + "\n"


def posterior_compare(folder: Path, scenario: Scenario, posterior: pd.DataFrame, targets: TargetFile, draws: int,
                      executor: Executor, posterior_file: str = "",
                      progress: Callable[[], None] | None = None, run_one=one_draw) -> pd.DataFrame:
    """Run the draws on the scenario's replications and write ``uncertainty.csv``/``.md`` into ``folder``.

    ``folder`` is the plain compare's results folder (its ``summary.csv`` gives the
    stochastic-only intervals). Returns the table.
    """
    names = list(targets.calibration.parameters)
    sets = draw_sets(posterior, names, draws, scenario.simulation.seed)
    targets = designs_that_fit(targets, scenario)
    try:  # every free parameter must exist in the scenario (a what-if file may lack a concept's section)
        validate(apply_params(scenario.model_dump(mode="json"), sets[0]), "posterior draw")
    except KeyError as exc:
        raise PosteriorError(f"the scenario cannot take the posterior's parameters: {exc.args[0]}") from None
    frame = run_draws(scenario, sets, targets, executor, progress, run_one)
    table = uncertainty_table(frame, read_summary(folder), targets, scenario.capacity.beds)
    md = uncertainty_markdown(table, posterior_file)
    write_files_atomically({
        folder / UNCERTAINTY: lambda p: table.to_csv(p, index=False, float_format="%.6g"),
        folder / UNCERTAINTY_MD: lambda p: Path(p).write_text(md, encoding="utf-8"),
    })
    return table
