"""Sensitivity charts: functions take the analyses' DataFrames and return plotly figures."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

LOW, HIGH, FIRST, TOTAL = "#1f77b4", "#d62728", "#1f77b4", "#ff7f0e"


def _title(output: str, units: dict[str, tuple[str, str]]) -> str:
    unit, what = units.get(output, ("", output))
    return f"{what} ({unit})" if unit else what


def tornado_figure(oat: pd.DataFrame, units: dict[str, tuple[str, str]], top: int = 10) -> go.Figure:
    """One tornado per output: the change from the default when each assumption is at its low or high.

    ``oat``: :func:`sim.experiments.sensitivity.analysis.oat_table`. The ``top`` widest swings
    per output, widest at the top; the dotted lines are ± the stochastic spread (one SD over
    replications at the default), for scale.
    """
    outs = list(dict.fromkeys(oat["output"]))
    fig = make_subplots(rows=len(outs), cols=1, subplot_titles=[_title(o, units) for o in outs],
                        vertical_spacing=0.25 / max(1, len(outs)))
    for i, out in enumerate(outs, start=1):
        d = oat[oat["output"] == out].nlargest(top, "swing").iloc[::-1]
        labels = [f"{a} [{lo:g}, {hi:g}]" for a, lo, hi in zip(d["assumption"], d["low"], d["high"], strict=True)]
        for col, name, color in (("y_low", "at low", LOW), ("y_high", "at high", HIGH)):
            fig.add_trace(go.Bar(y=labels, x=d[col] - d["y_default"], orientation="h", name=name,
                                 marker_color=color, showlegend=i == 1, legendgroup=name,
                                 hovertemplate="%{y}: %{x:.3g}<extra>" + name + "</extra>"), row=i, col=1)
        sd = d["noise_sd"].iloc[0] if len(d) else float("nan")
        if sd == sd:
            for x in (-sd, sd):
                fig.add_vline(x=x, line_dash="dot", line_color="#777", row=i, col=1)
        fig.update_xaxes(title_text="change from the default", row=i, col=1)
    fig.update_layout(barmode="overlay", title="One assumption at a time: low and high, the others at default",
                      height=max(400, 330 * len(outs)), margin={"l": 360})
    return fig


def sobol_figure(sobol: pd.DataFrame, units: dict[str, tuple[str, str]]) -> go.Figure:
    """First-order (S1) and total (ST) Sobol' indices per output, with their bootstrap 95 % intervals."""
    outs = list(dict.fromkeys(sobol["output"]))
    fig = make_subplots(rows=max(1, len(outs)), cols=1, subplot_titles=[_title(o, units) for o in outs],
                        vertical_spacing=0.25 / max(1, len(outs)))
    for i, out in enumerate(outs, start=1):
        d = sobol[sobol["output"] == out]
        for col, name, color in (("S1", "first-order S1", FIRST), ("ST", "total ST", TOTAL)):
            fig.add_trace(go.Bar(x=d["assumption"], y=d[col], name=name, marker_color=color,
                                 error_y={"type": "data", "array": d[f"{col}_conf"], "visible": True},
                                 showlegend=i == 1, legendgroup=name), row=i, col=1)
        fig.update_yaxes(title_text="share of variance", row=i, col=1)
    fig.update_layout(barmode="group", title="Sobol' indices with bootstrap 95 % intervals",
                      height=max(400, 320 * len(outs)))
    return fig


def morris_figure(morris: pd.DataFrame, units: dict[str, tuple[str, str]]) -> go.Figure:
    """Morris screening: mu* (with its 95 % interval) against sigma, one panel per output."""
    outs = list(dict.fromkeys(morris["output"]))
    fig = make_subplots(rows=max(1, len(outs)), cols=1, subplot_titles=[_title(o, units) for o in outs],
                        vertical_spacing=0.25 / max(1, len(outs)))
    for i, out in enumerate(outs, start=1):
        d = morris[morris["output"] == out]
        fig.add_trace(go.Scatter(x=d["mu_star"], y=d["sigma"], mode="markers+text", text=d["assumption"],
                                 textposition="top center", showlegend=False,
                                 error_x={"type": "data", "array": d["mu_star_conf"], "visible": True}),
                      row=i, col=1)
        fig.update_xaxes(title_text="mu* (mean |elementary effect|)", row=i, col=1)
        fig.update_yaxes(title_text="sigma", row=i, col=1)
    fig.update_layout(title="Morris screening: mu* against sigma", height=max(400, 380 * len(outs)))
    return fig
