"""Charts of the validation: the Lorenz curve of cost per person."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


def lorenz_figure(lorenz: pd.DataFrame, title: str = "Cost concentration among persons 65+") -> go.Figure:
    """Lorenz curves, one per payer, from ``lorenz.csv`` (payer, population_share, cost_share).

    The diagonal is an equal spread; the further below it a curve lies, the more of that payer's
    cost the costliest persons use.
    """
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="equal spread",
                             line={"dash": "dot", "color": "grey"}))
    for payer, rows in lorenz.groupby("payer", sort=False):
        rows = rows.sort_values("population_share")
        fig.add_trace(go.Scatter(x=rows["population_share"], y=rows["cost_share"], mode="lines", name=str(payer)))
    fig.update_layout(title=title, xaxis_title="share of persons, least costly first",
                      yaxis_title="cumulative share of cost", xaxis_tickformat=".0%", yaxis_tickformat=".0%",
                      template="plotly_white")
    return fig
