"""The calibration's outputs: fitted.toml, fit.md, the CSVs and the charts, written as one set."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.experiments.calibration.fileset import write_set
from sim.experiments.calibration.objective import loss_terms
from sim.measure.report import measures_markdown
from sim.measure.targets import Calibration, Parameter, TargetFile
from sim.stats import format_sig, markdown_table

FIT, FIT_DETAIL, TRIALS, IDENTIFIABILITY, PROFILE = (
    "fit.csv", "fit_detail.csv", "trials.csv", "identifiability.csv", "profile.csv")
FIT_MD, FIT_CHART, IDENTIFIABILITY_CHART = "fit.md", "fit.html", "identifiability.html"
FIT_TITLE = "Calibration: reported vs simulated (naive and causal, 95 % CI)"


@dataclass
class CalibrationResult:
    """What a calibration produced."""

    best_params: dict[str, float]
    best_loss: float
    trials: pd.DataFrame
    fit: pd.DataFrame
    fit_detail: pd.DataFrame
    identifiability: pd.DataFrame
    seconds: float
    files: dict[str, str] = field(default_factory=dict)


def identifiability_markdown(ident: pd.DataFrame) -> str:
    """Tabulate each parameter's range, fitted value, spread among fitting trials and profile (markdown)."""
    g = format_sig
    has_profile = "profile_low" in ident.columns
    head = ["parameter", "range", "fitted", "range among trials that fit"]
    head += ["profile interval", "verdict"] if has_profile else ["verdict"]
    rows = []
    for _, r in ident.iterrows():
        cells = [f"`{r['parameter']}`", f"{g(r['range_low'])}–{g(r['range_high'])}", g(r["best"]),
                 f"{g(r['fit_min'])}–{g(r['fit_max'])}"]
        if has_profile:
            cells.append(f"{g(r['profile_low'])}–{g(r['profile_high'])}")
        cells.append(str(r["verdict"]))
        rows.append(cells)
    return markdown_table(head, rows)


def fit_markdown(result: CalibrationResult, targets: TargetFile, per_trial: int, final: int) -> str:
    """Write ``fit.md``: the fit and identifiability tables as the READMEs quote them, with the timing."""
    terms = loss_terms(result.fit, targets)
    return (
        f"# Calibration fit\n\n{len(result.trials)} completed trials × {per_trial} paired replications;"
        f" final run {final} replications; wall time of this invocation {result.seconds:,.0f} s"
        f" ({result.seconds / 60:.1f} min; a `--resume` counts only what it ran).\n"
        f"Best loss {result.best_loss:.3f} over the trials' replications, {sum(terms.values()):.3f} over the"
        " final run (the loss terms below). Naive = as the studies measured it; causal = the same persons"
        " with and without the concepts; no-concept change = the naive design without any concept.\n\n"
        + measures_markdown(result.fit, result.fit_detail, terms)
        + "\n## Identifiability\n\n" + identifiability_markdown(result.identifiability)
    )


#: First words of a ``fitted.toml`` written by ``narvard posterior``: the optuna search does not replace it.
POSTERIOR_FITTED_MARK = "Written by `narvard posterior"


def posterior_wrote(path: Path) -> bool:
    """Whether ``path`` is a ``fitted.toml`` written by ``narvard posterior --write-fitted``."""
    if not path.is_file():
        return False
    with open(path, encoding="utf-8") as fh:
        return fh.readline().startswith(f"# {POSTERIOR_FITTED_MARK}")


def fitted_text(best: dict[str, float], header: str) -> str:
    """Write a partial scenario overlay (TOML) with the fitted values, grouped by table."""
    tables: dict[str, list[tuple[str, float]]] = {}
    for dotted, v in sorted(best.items()):
        table, _, key = dotted.rpartition(".")
        tables.setdefault(table, []).append((key, v))
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for table, items in tables.items():
        lines += ["", f"[{table}]"]
        lines += [f"{key} = {round(v, 4)!r}" for key, v in items]
    return "\n".join(lines) + "\n"


def output_names(cal: Calibration) -> list[str]:
    """List every file a calibration writes into its folder (one set: replaced as a whole)."""
    return [cal.fitted, FIT, FIT_DETAIL, FIT_CHART, TRIALS, IDENTIFIABILITY, PROFILE, FIT_MD, IDENTIFIABILITY_CHART]


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def charts(fit: pd.DataFrame, trials: pd.DataFrame, params: dict[str, Parameter]) -> dict[str, str]:
    """Render ``fit.html`` and ``identifiability.html``, self-contained: plotly.js embedded, no network needed."""
    from sim.experiments.calibration.plots import identifiability_figure
    from sim.measure.report import plot_fit

    return {FIT_CHART: plot_fit(fit, FIT_TITLE).to_html(include_plotlyjs=True),
            IDENTIFIABILITY_CHART: identifiability_figure(trials, params).to_html(include_plotlyjs=True)}


def write_outputs(out_dir: Path, cal: Calibration, result: CalibrationResult, prof_grid: pd.DataFrame | None,
                  targets: TargetFile, per_trial: int, final: int) -> dict[str, str]:
    """Write the calibration's outputs as one set (:func:`sim.experiments.calibration.fileset.write_set`).

    Returns ``{key: path}`` of the files written.
    """
    header = ("Fitted by `narvard calibrate` (sim/experiments/calibration/fit.py) against calibration/targets.toml:\n"
              f"{len(result.trials)} completed trials, {per_trial} replications per trial, best loss"
              f" {result.best_loss:.3f}.\nA partial scenario overlay: scenarios take it as their"
              " `overlay` (scenarios/default.toml).\nDo not edit by hand; rerun the calibration.")
    chart = charts(result.fit, result.trials, cal.parameters)
    files = {"fitted": (cal.fitted, fitted_text(result.best_params, header)),
             "fit": (FIT, _csv(result.fit)), "fit_detail": (FIT_DETAIL, _csv(result.fit_detail)),
             "chart": (FIT_CHART, chart[FIT_CHART]), "trials": (TRIALS, _csv(result.trials)),
             "identifiability": (IDENTIFIABILITY, _csv(result.identifiability))}
    if prof_grid is not None:
        files["profile"] = (PROFILE, _csv(prof_grid))
    files["markdown"] = (FIT_MD, fit_markdown(result, targets, per_trial, final))
    files["identifiability_chart"] = (IDENTIFIABILITY_CHART, chart[IDENTIFIABILITY_CHART])
    write_set(out_dir, dict(files.values()), output_names(cal))
    return {k: str(out_dir / name) for k, (name, _) in files.items()}


def rewrite_charts(out_dir: Path, cal: Calibration) -> list[Path]:
    """Render the charts again from ``fit.csv`` and ``trials.csv`` in ``out_dir`` (no new trials).

    Replaces only the two charts (each through a temporary name and a rename).
    """
    fit = pd.read_csv(out_dir / FIT)
    trials = pd.read_csv(out_dir / TRIALS)
    return write_set(out_dir, charts(fit, trials, cal.parameters))
