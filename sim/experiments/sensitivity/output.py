"""A study's tables (CSV, markdown) and charts (HTML, PNG when kaleido is installed), written as one set."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from sim.experiments.calibration.fileset import write_set
from sim.experiments.sensitivity.assumptions import AssumptionFile
from sim.experiments.sensitivity.run import Result

TABLES = ("oat.csv", "morris.csv", "sobol.csv", "sensitivity.md")
CHARTS = ("tornado", "sobol", "morris")
#: Every file a study writes besides its points and record (``--fresh`` removes them).
OUTPUTS = (*TABLES, *(f"{c}.{e}" for c in CHARTS for e in ("html", "png")))


def _csv(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def _kaleido() -> bool:
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    return True


def hours(seconds: float) -> str:
    """Return a duration for a table: seconds, minutes or hours."""
    if not seconds == seconds:
        return "n/a"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def cost_table(res: Result, spec: AssumptionFile) -> pd.DataFrame:
    """Model runs per analysis and their wall time on 2 cores and on a 64-worker cluster (from the measured CPU).

    The full design's points (``planned``), also for a stage not run (``--until morris``).
    """
    reps = len(spec.design.replications)
    rows = []
    for stage, what in (("oat", "one-at-a-time (tornado)"), ("noise", "noise at the default"),
                        ("morris", "Morris screening"), ("sobol", "Sobol' indices")):
        pts = res.planned.get(stage, res.points.get(stage, 0))
        per_point = 1 if stage == "noise" else reps
        runs = pts * per_point
        rows.append({"analysis": what, "design points": pts, "model runs": runs,
                     "runs made": res.evaluations.get(stage, 0),
                     "2 cores": hours(runs * res.cpu_seconds / 2),
                     "64 workers": hours(math.ceil(pts / 64) * per_point * res.cpu_seconds) if pts else "0 s"})
    return pd.DataFrame(rows)


def _md_table(df: pd.DataFrame, digits: int = 3) -> str:
    def fmt(v):
        if isinstance(v, float):
            return "" if v != v else f"{v:.{digits}g}"
        return str(v)
    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    return head + "".join("| " + " | ".join(fmt(v) for v in r) + " |\n" for r in df.itertuples(index=False))


def markdown(res: Result, spec: AssumptionFile, scenario: str, sessions: list[dict]) -> str:
    """Write the study's tables as one markdown text: design, cost, selection, tornado, Morris, Sobol'."""
    d = spec.design
    wall = sum(s.get("wall_seconds", 0.0) for s in sessions)
    made = sum(s.get("runs_made", 0) for s in sessions)
    lines = [
        f"# Sensitivity of {scenario}: which assumption moves the answer\n",
        f"Design: {len(spec.assumptions)} assumptions; replications {list(d.replications)} for every design point"
        f" (common random numbers: the same persons and trajectories at every point); Morris r = "
        f"{d.morris_trajectories}, {d.morris_levels} levels; Sobol' N = {d.sobol_n} (first-order and total, "
        f"Saltelli/Sobol' sampling), {d.resamples} bootstrap resamples, 95 % intervals; seed {d.seed}.",
        f"CPU of one model run (one replication, both care systems): {res.cpu_seconds:.2f} s (median)."
        f" Wall time of the run{'s' if len(sessions) > 1 else ''} that made these points: {hours(wall)}"
        f" ({len(sessions)} session{'s' if len(sessions) != 1 else ''}, {made} model runs"
        + (f": {wall / made:.1f} s of wall time per run" if made else "") + ")."
        " The table's times are CPU-bound estimates from the median CPU: runs × CPU / 2 on 2 idle cores;"
        " on 64 workers, ceil(points / 64) rounds of one point each.\n",
        _md_table(cost_table(res, spec)),
        f"Sobol' stage: {', '.join(res.selected) or 'none'} (normalised Morris mu* >= {d.select_share:g} for"
        f" an output, at most {d.sobol_max}); the others at their default.\n",
    ]
    if res.persons:
        same = all(len(v) == 1 for v in res.persons.values())
        lines.append(("Common random numbers checked: every design point of a replication ran on the same persons"
                      " and trajectories (one SHA-256 digest per replication: "
                      if same else "WARNING: design points of a replication ran on different persons ("
                      ) + ", ".join(f"{r}: {len(v)}" for r, v in res.persons.items()) + " distinct).\n")
    lines += [f"Note: {n}\n" for n in res.notes]
    for out, (unit, what) in res.units.items():
        lines.append(f"## {what} ({unit})\n")
        sd = res.noise_sd.get(out, float("nan"))
        o = res.oat[res.oat["output"] == out].sort_values("swing", ascending=False)
        if len(o):
            lines.append(f"At the default: {o['y_default'].iloc[0]:.4g}; replication SD {sd:.3g}"
                         " (the stochastic spread, for scale).\n")
        m = res.morris[res.morris["output"] == out].sort_values("mu_star", ascending=False)
        t = o[["assumption", "low", "high", "y_low", "y_high", "swing"]].merge(
            m[["assumption", "mu", "mu_star", "mu_star_conf", "sigma"]], on="assumption", how="left")
        lines.append(_md_table(t) + "\n")
        s = res.sobol[res.sobol["output"] == out]
        if len(s):
            lines.append(_md_table(s[["assumption", "S1", "S1_conf", "ST", "ST_conf"]]) + "\n")
    return "\n".join(lines)


def write_outputs(folder: Path | str, res: Result, spec: AssumptionFile, scenario: str,
                  sessions: list[dict]) -> list[Path]:
    """Write the tables and charts into ``folder`` as one set (HTML charts load plotly.js from its CDN)."""
    files: dict[str, str | bytes] = {
        "oat.csv": _csv(res.oat), "morris.csv": _csv(res.morris), "sobol.csv": _csv(res.sobol),
        "sensitivity.md": markdown(res, spec, scenario, sessions),
    }
    from sim.experiments.sensitivity.plots import morris_figure, sobol_figure, tornado_figure  # plotly: only here

    figures = {"tornado": tornado_figure(res.oat, res.units), "morris": morris_figure(res.morris, res.units)}
    if len(res.sobol):
        figures["sobol"] = sobol_figure(res.sobol, res.units)
    png = _kaleido()
    for name, fig in figures.items():
        files[f"{name}.html"] = fig.to_html(include_plotlyjs="cdn", full_html=True)
        if png:
            files[f"{name}.png"] = fig.to_image(format="png", width=1100, height=int(fig.layout.height or 600))
    return write_set(folder, files, OUTPUTS)
