"""The ensemble: every parameter set that fits as well as the best, run again.

The targets leave most effect sizes loose (``identifiability.csv``): many parameter sets
reproduce the reported figures equally well, and they need not give the same causal effects
or area-level results. ``narvard ensemble`` takes the calibration's trials whose loss is
within ``[calibration] identifiability_delta`` of the best (at most ``--top``, lowest loss
first), runs each on the calibration scenario with the same paired replications (common random
numbers: the sets differ by their parameters, not by their noise) and reports, per figure, the
value at the best set and the range over the ensemble. A figure whose range is narrow is
robust to what the targets leave open; a wide one is not, whatever its interval at the best
point says.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.calibration.batch import map_sets, run_and_measure
from sim.experiments.executor import Executor
from sim.experiments.switch_off import SHOWN
from sim.measure.report import measure_table
from sim.measure.targets import Parameter, TargetFile
from sim.output.summary import paired_differences
from sim.stats import format_value, markdown_table

#: area-level paired differences (person − intervention) shown for each set: as switch-off
AREA = SHOWN
ENSEMBLE, ENSEMBLE_MD = "ensemble.csv", "ensemble.md"


class EnsembleError(ValueError):
    """The trials file is missing or does not match the calibration's parameters."""


def load_trials(path: Path, params: dict[str, Parameter]) -> pd.DataFrame:
    """``trials.csv`` of a calibration, checked for the columns the ensemble needs."""
    if not path.is_file():
        raise EnsembleError(f"{path}: no such file; run `narvard calibrate` first")
    try:
        trials = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise EnsembleError(f"{path}: not a trials table ({exc})") from None
    missing = [c for c in ("trial", "loss", *params) if c not in trials.columns]
    if missing:
        raise EnsembleError(f"{path}: column '{missing[0]}' missing (the trials of another calibration?)")
    bad = trials[list(params) + ["loss"]].apply(pd.to_numeric, errors="coerce").isna().any()
    if bad.any():
        raise EnsembleError(f"{path}: column '{bad[bad].index[0]}' has a non-numeric or empty value")
    return trials


def fitting_sets(trials: pd.DataFrame, params: dict[str, Parameter], delta: float, top: int) -> pd.DataFrame:
    """Trials within ``delta`` of the best loss, at most ``top``, lowest loss first."""
    best = float(trials["loss"].min())
    good = trials[trials["loss"] <= best + delta].sort_values(["loss", "trial"], kind="stable").head(top)
    return good[["trial", "loss", *params]].reset_index(drop=True)


def ensemble_member(scenario_data: dict[str, Any], params: dict[str, float], replications: list[int],
                    targets: TargetFile) -> dict[str, float]:
    """One set: each target's naive and causal mean, and the area-level paired differences."""
    per_rep, reps = run_and_measure(scenario_data, params, replications, targets)
    table, _ = measure_table({tid: pd.DataFrame(r) for tid, r in per_rep.items()}, targets)
    row: dict[str, float] = {}
    for r in table.itertuples():
        row[f"{r.target} naive"] = float(r.naive_mean)
        row[f"{r.target} causal"] = float(r.causal_mean)
    diff = paired_differences(reps[reps["paradigm"] == "intervention"], reps[reps["paradigm"] == "person"])
    means = diff.set_index("metric")["mean"]
    for m in AREA:
        row[f"{m} difference"] = float(means.get(m, float("nan")))
    return row


def run_ensemble(scenario_data: dict[str, Any], sets: pd.DataFrame, params: dict[str, Parameter],
                 replications: list[int], targets: TargetFile, executor: Executor,
                 progress: Callable[[], None] | None = None) -> pd.DataFrame:
    """Every set of ``sets`` run with the same replications: one row per set (``progress`` after each)."""
    param_sets = [{k: float(row[k]) for k in params} for _, row in sets.iterrows()]
    rows = map_sets(ensemble_member, scenario_data, param_sets, replications, targets, executor, progress)
    return pd.concat([sets.reset_index(drop=True), pd.DataFrame(rows)], axis=1)


def ensemble_summary(ens: pd.DataFrame, params: dict[str, Parameter], targets: TargetFile) -> pd.DataFrame:
    """Per figure: the value at the best set (lowest loss), the ensemble's min and max.

    ``relative``: the figure is a design's relative change (shown in %), not a level.
    """
    figures = [c for c in ens.columns if c not in ("trial", "loss", *params) and ens[c].notna().any()]
    best = ens.loc[ens["loss"].idxmin()]

    def relative(figure: str) -> bool:
        t = targets.targets.get(figure.rsplit(" ", 1)[0])
        return t is not None and t.cohort is not None

    return pd.DataFrame([{"figure": f, "at_best": float(best[f]), "min": float(ens[f].min()),
                          "max": float(ens[f].max()), "relative": relative(f)} for f in figures])


def ensemble_markdown(summary: pd.DataFrame, sets: int, replications: int, delta: float) -> str:
    """Render the summary as a markdown table, with what it is."""
    lines = [f"{sets} parameter sets within {delta:g} of the best loss, each {replications} paired"
             " replications (the same seeds). Design figures as relative changes in %; area-level"
             " differences person − intervention per 1,000 persons 65+ per year (costs SEK per person"
             " 65+ per year).", ""]
    rows = ([r.figure, *(format_value(x, r.relative) for x in (r.at_best, r.min, r.max))]
            for r in summary.itertuples())
    return "\n".join(lines) + "\n" + markdown_table(
        ["figure", "at the best set", "ensemble min", "ensemble max"], rows)


def write_ensemble(out: Path, ens: pd.DataFrame, markdown: str) -> list[Path]:
    """``ensemble.csv`` and ``ensemble.md`` as one set: a kill leaves both old or both new."""
    from sim.experiments.calibration.fileset import write_set

    csv = ens.to_csv(index=False, float_format="%.6g", lineterminator="\n")
    return write_set(out, {ENSEMBLE: csv, ENSEMBLE_MD: markdown}, (ENSEMBLE, ENSEMBLE_MD))
