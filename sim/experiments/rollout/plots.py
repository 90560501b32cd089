"""Charts of the rollout's headline figures over the years, one per figure, options side by side."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

#: (title, table, metric, paradigm or payer).
CHARTS = [
    ("Cumulative net, all payers (SEK)", "ledger", "cumulative_net", "total"),
    ("Net per year, region (SEK)", "ledger", "net", "region"),
    ("Net per year, municipalities (SEK)", "ledger", "net", "municipality"),
    ("Municipalities with a living team", "years", "areas_with_living_teams", "person"),
    ("Beds freed at the target occupancy", "years", "beds_freed", "difference"),
    ("Bed-days, reform - today", "years", "bed_days", "difference"),
    ("ED visits, reform - today", "years", "ed_visits", "difference"),
    ("Bed occupancy with the reform", "years", "bed_occupancy", "person"),
]


def figure(rows: pd.DataFrame, title: str) -> go.Figure:
    """One figure: ``rows`` (option, year, mean, ci_low, ci_high) as a line per option with its interval."""
    fig = go.Figure()
    for option, g in rows.groupby("option", sort=False):
        g = g.sort_values("year")
        fig.add_trace(go.Scatter(
            x=g["year"], y=g["mean"], mode="lines+markers", name=str(option),
            error_y={"type": "data", "symmetric": False, "array": (g["ci_high"] - g["mean"]).to_numpy(),
                     "arrayminus": (g["mean"] - g["ci_low"]).to_numpy()}))
    fig.update_layout(title=title, xaxis_title="year of the rollout", template="plotly_white", height=380)
    return fig


def figures(years: pd.DataFrame, ledger: pd.DataFrame, area: str = "region") -> list[go.Figure]:
    """Return the headline figures of the region (or one area) from the two long tables."""
    out = []
    for title, table, metric, who in CHARTS:
        if table == "ledger":
            sel = ledger[(ledger["area"] == area) & (ledger["metric"] == metric) & (ledger["payer"] == who)]
        else:
            sel = years[(years["area"] == area) & (years["metric"] == metric) & (years["paradigm"] == who)]
        if len(sel):
            out.append(figure(sel, title))
    return out


def write_charts(years: pd.DataFrame, ledger: pd.DataFrame, path: Path) -> None:
    """Write every headline chart into one HTML file (plotly.js once, inline: it opens offline)."""
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, fig in enumerate(figures(years, ledger))]
    path.write_text("<!doctype html><html><head><meta charset='utf-8'><title>Rollout</title></head><body>"
                    + "".join(parts) + "</body></html>", encoding="utf-8")
