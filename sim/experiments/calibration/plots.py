"""Calibration charts: functions take DataFrames and return plotly figures."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.measure.targets import Parameter


def identifiability_figure(trials: pd.DataFrame, params: dict[str, Parameter], top_share: float = 0.1) -> go.Figure:
    """Loss against each free parameter over all completed trials; the best trials highlighted.

    A parameter the targets pin down shows a clear valley; a loose one a flat cloud.
    """
    names = list(params)
    cols = 2
    rows = max(1, math.ceil(len(names) / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names)
    k = min(len(trials), max(5, math.ceil(top_share * len(trials))))
    top = trials.nsmallest(k, "loss") if len(trials) else trials
    for i, name in enumerate(names):
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(go.Scatter(x=trials[name], y=trials["loss"], mode="markers", name="trial",
                                 marker={"color": "#999", "size": 5}, showlegend=i == 0), row=r, col=c)
        fig.add_trace(go.Scatter(x=top[name], y=top["loss"], mode="markers", name="best trials",
                                 marker={"color": "#d62728", "size": 7}, showlegend=i == 0), row=r, col=c)
        fig.update_yaxes(type="log", row=r, col=c)
    fig.update_layout(title="Identifiability: loss against each parameter", height=260 * rows)
    return fig
