"""The posterior's outputs: ``posterior.csv``, the report ``posterior.md``, the predictive check and the charts.

Written as one set into the calibration folder (:func:`~sim.experiments.calibration.fileset.write_set`):

* ``posterior.csv``: the last generation's particles (the posterior sample): ``weight``
  (summing to 1), ``distance``, the free parameters (dotted names) and the naive and causal
  figure of every target in the particle's own evaluation;
* ``posterior_generations.csv``: per generation its epsilon, particles, evaluations, acceptance;
* ``posterior_marginals.csv``: per parameter the prior range, posterior mean, median, 90 %
  interval, shrinkage and whether it is still its prior or sits at a bound;
* ``posterior_correlations.csv``: weighted correlations of the posterior sample;
* ``posterior_check.csv``: the posterior predictive check: ``K`` fresh evaluations at parameter
  sets drawn from the posterior, each a new area (fresh replication numbers), and per target the
  reported figure, its band, the simulated naive figure's median and 90 % interval and the share
  of new areas whose figure falls in the band;
* ``posterior.md`` and the charts ``posterior_marginals.html``/``.png``,
  ``posterior_correlations.html``, ``posterior_check.html``/``.png`` (the HTML loads plotly.js
  from its CDN, so the files are small enough to commit).

With ``--write-fitted`` the same set also holds the overlay every bundled scenario loads,
``fitted.toml`` (the posterior's point estimate, :func:`~sim.experiments.calibration.abc.point_estimate`,
with its 90 % interval beside each value), and the fit at that point: ``fit.csv``,
``fit_detail.csv`` (as ``measures.csv``, over fixed replications 0...R-1) and ``fit.md``. The
optuna search's outputs (``trials.csv``, ``identifiability.*``, ``profile.csv``, ``fit.html``,
``ensemble.*``) describe another fit and are removed with the commit: one inference path makes
``fitted.toml``.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.experiments.calibration.abc import (
    AbcRun,
    correlations,
    effective_sample_size,
    fitted_targets,
    marginals,
    resample,
    weighted_quantile,
)
from sim.experiments.calibration.batch import design_figures
from sim.experiments.calibration.fileset import write_set
from sim.experiments.calibration.objective import loss_terms
from sim.experiments.calibration.output import (
    FIT,
    FIT_CHART,
    FIT_DETAIL,
    FIT_MD,
    IDENTIFIABILITY,
    IDENTIFIABILITY_CHART,
    POSTERIOR_FITTED_MARK,
    PROFILE,
    TRIALS,
)
from sim.experiments.executor import Executor
from sim.measure.report import measure_table
from sim.measure.targets import TargetFile
from sim.stats import format_sig, markdown_table

POSTERIOR, GENERATIONS, MARGINALS, CORRELATIONS, CHECK = (
    "posterior.csv", "posterior_generations.csv", "posterior_marginals.csv", "posterior_correlations.csv",
    "posterior_check.csv")
REPORT = "posterior.md"
CHARTS = ("posterior_marginals.html", "posterior_marginals.png", "posterior_correlations.html",
          "posterior_check.html", "posterior_check.png")
MEMBERS = (POSTERIOR, GENERATIONS, MARGINALS, CORRELATIONS, CHECK, REPORT, *CHARTS)
#: What ``--write-fitted`` adds to the set, and the optuna search's outputs it removes (another fit's).
FITTED_MEMBERS = (FIT, FIT_DETAIL, FIT_MD)
STALE_FIT_OUTPUTS = (TRIALS, IDENTIFIABILITY, PROFILE, FIT_CHART, IDENTIFIABILITY_CHART, "ensemble.csv", "ensemble.md")
#: Replication numbers of the predictive check's new areas: fixed (500,000,000 + i), apart from the runs' 0, 1, ...
CHECK_REPLICATIONS = 500_000_000


def read_posterior(folder: Path | str) -> pd.DataFrame:
    """Read ``posterior.csv`` (weights normalised)."""
    df = pd.read_csv(Path(folder) / POSTERIOR)
    df["weight"] = df["weight"] / df["weight"].sum()
    return df


def _check_one(scenario_data: dict[str, Any], params: dict[str, float], replication: int,
               targets: TargetFile) -> dict[str, float]:
    per_rep = design_figures(scenario_data, params, [replication], targets)
    table, _ = measure_table({tid: pd.DataFrame(r) for tid, r in per_rep.items()}, targets)
    return {r["target"]: float(r["naive_mean"]) for r in table.to_dict("records")}


def predictive_draws(scenario_data: dict[str, Any], last: pd.DataFrame, targets: TargetFile, n: int,
                     executor: Executor, seed: int, run_one=_check_one) -> pd.DataFrame:
    """``n`` new areas: a posterior parameter set each, a fresh replication: the naive figure of every target."""
    names = list(targets.calibration.parameters)
    sets = resample(last, names, n, seed)
    tasks = [(scenario_data, s, CHECK_REPLICATIONS + i, targets) for i, s in enumerate(sets)]
    rows = [{"draw": i, **res} for i, res in enumerate(executor.map(run_one, tasks))]
    return pd.DataFrame(rows)


def predictive_check(draws: pd.DataFrame, targets: TargetFile) -> pd.DataFrame:
    """Per target with a reported figure: the band, the simulated distribution, the share in the band."""
    rows = []
    fitted = set(fitted_targets(targets))
    for tid, t in targets.targets.items():
        if t.reported is None or tid not in draws:
            continue
        v = draws[tid].to_numpy(float)
        v = v[np.isfinite(v)]
        lo, hi = t.band_or_default()
        q = np.quantile(v, [0.05, 0.5, 0.95]) if len(v) else [np.nan] * 3
        rows.append({"target": tid, "fitted": tid in fitted, "reported": t.reported, "band_low": lo,
                     "band_high": hi, "draws": len(v), "sim_q05": q[0], "sim_median": q[1], "sim_q95": q[2],
                     "share_in_band": float(np.mean((v >= lo - 1e-12) & (v <= hi + 1e-12))) if len(v) else np.nan})
    return pd.DataFrame(rows, columns=["target", "fitted", "reported", "band_low", "band_high", "draws", "sim_q05",
                                       "sim_median", "sim_q95", "share_in_band"])


# --------------------------------------------------------------------------- charts
def marginals_figure(last: pd.DataFrame, marg: pd.DataFrame) -> go.Figure:
    """Weighted histogram of each parameter's posterior over its prior range (the prior is flat)."""
    names = list(marg["parameter"])
    cols = 2
    rows = max(1, math.ceil(len(names) / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names)
    w = last["weight"].to_numpy(float)
    for i, r in enumerate(marg.itertuples()):
        rr, cc = i // cols + 1, i % cols + 1
        edges = np.linspace(r.prior_low, r.prior_high, 13)
        h, _ = np.histogram(last[r.parameter].to_numpy(float), bins=edges, weights=w)
        dens = h / (edges[1] - edges[0])
        fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=dens, width=edges[1] - edges[0],
                             marker_color="#1f77b4", name="posterior", showlegend=i == 0), row=rr, col=cc)
        fig.add_trace(go.Scatter(x=[r.prior_low, r.prior_high], y=[1 / (r.prior_high - r.prior_low)] * 2,
                                 mode="lines", line={"color": "#d62728", "dash": "dash"}, name="prior",
                                 showlegend=i == 0), row=rr, col=cc)
    fig.update_layout(title="Marginal posteriors (bars) against the uniform priors (dashed)", height=230 * rows,
                      bargap=0)
    return fig


def correlations_figure(corr: pd.DataFrame) -> go.Figure:
    """Heat map of the posterior's pairwise correlations."""
    short = [c.split(".", 1)[1] for c in corr.columns]
    fig = go.Figure(go.Heatmap(z=corr.to_numpy(), x=short, y=short, zmin=-1, zmax=1, colorscale="RdBu",
                               text=np.round(corr.to_numpy(), 2), texttemplate="%{text}"))
    fig.update_layout(title="Posterior correlations (what trades against what)", height=700, width=900)
    return fig


def check_figure(draws: pd.DataFrame, check: pd.DataFrame) -> go.Figure:
    """Per target: the simulated naive figures of new areas (points and box), the band and the reported figure."""
    fig = go.Figure()
    for r in check.itertuples():
        fig.add_trace(go.Box(y=draws[r.target], name=r.target, boxpoints="all", jitter=0.4, marker_size=4,
                             line_color="#1f77b4", showlegend=False))
        fig.add_shape(type="rect", x0=r.Index - 0.45, x1=r.Index + 0.45, y0=r.band_low, y1=r.band_high,
                      fillcolor="rgba(44,160,44,0.2)", line_width=0, xref="x", yref="y")
        fig.add_trace(go.Scatter(x=[r.target], y=[r.reported], mode="markers", marker_symbol="x", marker_size=12,
                                 marker_color="#d62728", name="reported", showlegend=r.Index == 0))
    fig.update_layout(title="Posterior predictive check: the naive figure in new areas (box), band (green),"
                            " reported (x)", yaxis_title="relative change / figure")
    return fig


def _png(draw) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw(plt)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def marginals_png(last: pd.DataFrame, marg: pd.DataFrame) -> bytes:
    """Draw the marginal posteriors as a PNG (matplotlib; for viewers without a browser)."""
    def draw(plt):
        n = len(marg)
        fig, axes = plt.subplots(math.ceil(n / 2), 2, figsize=(10, 1.9 * math.ceil(n / 2)))
        for ax, r in zip(axes.ravel(), marg.itertuples(), strict=False):
            ax.hist(last[r.parameter], bins=np.linspace(r.prior_low, r.prior_high, 13), weights=last["weight"],
                    density=True, color="#1f77b4")
            ax.axhline(1 / (r.prior_high - r.prior_low), color="#d62728", ls="--")
            ax.set_title(r.parameter, fontsize=8)
            ax.tick_params(labelsize=7)
        for ax in axes.ravel()[n:]:
            ax.axis("off")
        fig.tight_layout()
        return fig
    return _png(draw)


def check_png(draws: pd.DataFrame, check: pd.DataFrame) -> bytes:
    """Draw the predictive check as a PNG."""
    def draw(plt):
        fig, ax = plt.subplots(figsize=(11, 4))
        for i, r in enumerate(check.itertuples()):
            ax.add_patch(plt.Rectangle((i - 0.4, r.band_low), 0.8, r.band_high - r.band_low, color="#2ca02c",
                                       alpha=0.2))
            v = draws[r.target].dropna().to_numpy(float)
            ax.scatter(np.full(len(v), i) + np.linspace(-0.25, 0.25, len(v)), v, s=8, color="#1f77b4")
            ax.scatter([i], [r.reported], marker="x", s=60, color="#d62728")
        ax.set_xticks(range(len(check)), check["target"], fontsize=7, rotation=45)
        ax.set_title("Posterior predictive check: naive figure in new areas (dots), band (green), reported (x)",
                     fontsize=9)
        return fig
    return _png(draw)


# --------------------------------------------------------------------------- the report
@dataclass
class PosteriorSettings:
    """How the run was made (for the report)."""

    population: int
    generations: int
    replications: int
    check: int
    workers: int
    executor: str


def posterior_markdown(run: AbcRun, marg: pd.DataFrame, corr: pd.DataFrame, check: pd.DataFrame,
                       settings: PosteriorSettings, check_seconds: float) -> str:
    """Write the report: the run, the marginals, the strongest correlations, the predictive check."""
    g = format_sig
    pops = run.populations
    lines = ["# Posterior of the free parameters (ABC-SMC, pyabc)", "",
             f"Population {settings.population} particles, {len(pops)} generations stored "
             f"(asked: {settings.generations}), {settings.replications} paired replication(s) per evaluation "
             f"(a fresh area each), executor {settings.executor} with {settings.workers} worker(s). "
             f"{run.evaluations} evaluations; CPU per evaluation {run.cpu_per_evaluation:.1f} s (mean over the "
             f"stored particles); this call's wall time {run.seconds:.0f} s, the predictive check "
             f"({settings.check} new areas) {check_seconds:.0f} s."
             + "".join(f" {n[0].upper()}{n[1:]}." for n in run.notes), "",
             "## Generations", "",
             "ESS = effective sample size of the generation's weights, (Σw)² / Σw².", "",
             markdown_table(["generation", "epsilon", "particles", "evaluations", "acceptance", "ESS"],
                            [[int(r.generation), g(r.epsilon), int(r.particles), int(r.samples), g(r.acceptance),
                              f"{getattr(r, 'ess', float('nan')):.1f}"] for r in pops.itertuples()]), "",
             "## Marginal posteriors", "",
             "Shrinkage = 1 − posterior variance / prior variance. *still the prior*: shrinkage below 0.2 and "
             "the mean within a tenth of the range of the prior's (the targets do not inform it). *at bound*: "
             "the median within 10 % of the range of a prior edge.", "",
             markdown_table(["parameter", "prior", "mean", "median", "90 % interval", "shrinkage", "still the prior",
                             "at bound"],
                            [[f"`{r.parameter}`", f"{g(r.prior_low)}–{g(r.prior_high)}", g(r.mean), g(r.median),
                              f"{g(r.q05)}–{g(r.q95)}", f"{r.shrinkage:.2f}", "yes" if r.still_prior else "",
                              r.at_bound] for r in marg.itertuples()]), "",
             "## Strongest pairwise correlations", ""]
    pairs = []
    names = list(corr.columns)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            pairs.append((abs(corr.iloc[i, j]), names[i], names[j], corr.iloc[i, j]))
    pairs.sort(reverse=True)
    lines.append(markdown_table(["parameter", "parameter", "correlation"],
                                [[f"`{a}`", f"`{b}`", f"{c:+.2f}"] for _, a, b, c in pairs[:8]]))
    lines += ["", "## Posterior predictive check", "",
              "Each of the new areas draws a parameter set from the posterior and runs one paired replication "
              "with new persons; the naive figure is the design as the studies measured it.", "",
              markdown_table(["target", "fitted", "reported", "band", "simulated median", "90 % of new areas",
                              "share in band"],
                             [[r.target, "yes" if r.fitted else "", g(r.reported),
                               f"{g(r.band_low)} … {g(r.band_high)}",
                               g(r.sim_median), f"{g(r.sim_q05)} … {g(r.sim_q95)}", f"{r.share_in_band:.2f}"]
                              for r in check.itertuples()]), ""]
    return "\n".join(lines) + "\n"


@dataclass
class FittedPoint:
    """The posterior's point estimate for ``fitted.toml`` and its fit (``fit``/``detail`` empty: not run)."""

    rule: str  #: :data:`~sim.experiments.calibration.abc.POINT_RULES`
    params: dict[str, float]
    fit: pd.DataFrame  #: measures table at the point (as measures.csv)
    detail: pd.DataFrame
    replications: int  #: replications of the fit (0: not run)
    seconds: float = 0.0


RULE_TEXT = {"median": "the weighted median of each parameter's marginal posterior",
             "best": "the particle with the smallest distance (largest weight among ties)"}


def fitted_header(run: AbcRun, settings: PosteriorSettings, point: FittedPoint, fitted_name: str) -> str:
    """Write the comment block of ``fitted.toml``: study, population, generations, evaluations, ESS, point."""
    pops = run.populations
    last = pops.iloc[-1]
    ess = effective_sample_size(run.last["weight"].to_numpy(float))
    return (f"{POSTERIOR_FITTED_MARK} --write-fitted` (sim/experiments/calibration/posterior.py) from the\n"
            f"ABC-SMC posterior of calibration/targets.toml (history abc.sqlite3, sample posterior.csv):\n"
            f"population {settings.population}, {len(pops)} generations, {run.evaluations} evaluations of"
            f" {settings.replications} paired replication(s),\n"
            f"last epsilon {format_sig(float(last['epsilon']))}, ESS {ess:.1f} of {len(run.last)} particles.\n"
            f"Point: {RULE_TEXT[point.rule]};\n"
            "beside each value its 90 % posterior interval (posterior_marginals.csv). The fit at this point:"
            " fit.md.\n"
            f"A partial scenario overlay: scenarios take it as their `overlay` (scenarios/default.toml).\n"
            f"Do not edit {fitted_name} by hand; rerun `narvard posterior --resume --write-fitted`.")


def fitted_overlay(point: dict[str, float], marg: pd.DataFrame, header: str) -> str:
    """Write a partial scenario overlay (TOML): the point's values grouped by table, each with its 90 % interval."""
    g = format_sig
    ranges = marg.set_index("parameter")
    tables: dict[str, list[tuple[str, str]]] = {}
    for dotted, v in sorted(point.items()):
        table, _, name = dotted.rpartition(".")
        r = ranges.loc[dotted]
        note = f"  # 90 % {g(r.q05)}-{g(r.q95)}, prior {g(r.prior_low)}-{g(r.prior_high)}"
        tables.setdefault(table, []).append((name, f"{name} = {round(v, 4)!r}{note}"))
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for table, items in tables.items():
        lines += ["", f"[{table}]"] + [text for _, text in items]
    return "\n".join(lines) + "\n"


def fit_markdown_at(point: FittedPoint, targets: TargetFile, header: str) -> str:
    """``fit.md``: the targets at the posterior's point estimate (naive, causal, in band, loss terms)."""
    from sim.measure.report import measures_markdown

    terms = loss_terms(point.fit, targets)
    return (f"# Fit at the posterior's point estimate\n\n{header}\n\n"
            f"{point.replications} paired replications (0...{point.replications - 1}) at the point,"
            f" {point.seconds:,.0f} s wall; loss {sum(terms.values()):.3f} (0: every fitted target's naive mean in its"
            " band). Naive = as the studies measured it; causal = the same persons with and without the concepts;"
            " no-concept change = the naive design without any concept.\n\n"
            + measures_markdown(point.fit, point.detail, terms))


def fitted_files(run: AbcRun, targets: TargetFile, settings: PosteriorSettings, point: FittedPoint,
                 marg: pd.DataFrame) -> dict[str, str]:
    """``fitted.toml`` and, if the point was run, ``fit.csv``, ``fit_detail.csv``, ``fit.md``."""
    name = targets.calibration.fitted
    header = fitted_header(run, settings, point, name)
    files = {name: fitted_overlay(point.params, marg, header)}
    if point.replications > 0:
        files[FIT] = point.fit.to_csv(index=False, float_format="%.6g", lineterminator="\n")
        files[FIT_DETAIL] = point.detail.to_csv(index=False, float_format="%.6g", lineterminator="\n")
        files[FIT_MD] = fit_markdown_at(point, targets, header)
    return files


def write_posterior(out_dir: Path, run: AbcRun, targets: TargetFile, draws: pd.DataFrame, check: pd.DataFrame,
                    settings: PosteriorSettings, check_seconds: float,
                    point: FittedPoint | None = None) -> tuple[list[Path], pd.DataFrame]:
    """Write the posterior's outputs as one set (with ``point``: ``fitted.toml`` and its fit too).

    Returns the paths and the marginals.
    """
    params = targets.calibration.parameters
    last = run.last
    marg = marginals(last, params)
    corr = correlations(last, list(params))
    files: dict[str, str | bytes] = {
        POSTERIOR: last.to_csv(index=False, float_format="%.6g"),
        GENERATIONS: run.populations.to_csv(index=False, float_format="%.6g"),
        MARGINALS: marg.to_csv(index=False, float_format="%.6g"),
        CORRELATIONS: corr.to_csv(float_format="%.4f"),
        CHECK: check.to_csv(index=False, float_format="%.6g"),
        REPORT: posterior_markdown(run, marg, corr, check, settings, check_seconds),
        "posterior_marginals.html": marginals_figure(last, marg).to_html(include_plotlyjs="cdn", full_html=True),
        "posterior_marginals.png": marginals_png(last, marg),
        "posterior_correlations.html": correlations_figure(corr).to_html(include_plotlyjs="cdn", full_html=True),
        "posterior_check.html": check_figure(draws, check).to_html(include_plotlyjs="cdn", full_html=True),
        "posterior_check.png": check_png(draws, check),
    }
    members: tuple[str, ...] = MEMBERS
    if point is not None:
        files.update(fitted_files(run, targets, settings, point, marg))
        members = (*MEMBERS, targets.calibration.fitted, *FITTED_MEMBERS, *STALE_FIT_OUTPUTS)
    return write_set(out_dir, files, members), marg


def posterior_interval(values: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float, float]:
    """Mean and 95 % interval (2.5 and 97.5 % quantiles) of a (weighted) sample."""
    v = np.asarray(values, float)
    w = np.ones(len(v)) if weights is None else np.asarray(weights, float)
    ok = np.isfinite(v)
    if not ok.any():
        return (float("nan"),) * 3
    lo, hi = weighted_quantile(v[ok], w[ok], [0.025, 0.975])
    return float(np.average(v[ok], weights=w[ok])), float(lo), float(hi)
