"""Plot functions: each takes DataFrames and returns a plotly Figure; the CLI only arranges them."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.output.timeline import cumulative_cost

# Lanes of the patient example, top to bottom, and the kinds shown in each.
LANES = {
    "ED": ("ed_visit",),
    "hospital": ("admission", "delayed_discharge"),
    "short-term care": ("short_term_care",),
    "outpatient": ("outpatient_visit",),
    "primary care": ("primary_care_visit",),
    "home health nurse": ("home_health_visit",),
    "home help": ("home_help",),
    "mobile teams": ("team_enrol", "team_visit", "palliative_enrol", "palliative_visit",
                     "physician_list", "physician_visit", "safe_discharge", "safe_discharge_visit"),
    "health": ("stratum_change", "deterioration", "death"),
}
_COLOURS = {"intervention": "#c0392b", "person": "#1f77b4"}
_TITLES = {"intervention": "Insatsstyrning (intervention-driven)", "person": "Individstyrning (person-driven)"}


def _lane(kind: str) -> str | None:
    for lane, kinds in LANES.items():
        if kind in kinds:
            return lane
    return None


def timeline_figure(rows: pd.DataFrame, person: int) -> go.Figure:
    """One person's contacts, stays and cumulative cost under both care systems.

    ``rows``: from :func:`sim.output.timeline.person_timeline` (``day``, ``duration`` in days,
    ``cost`` in SEK).
    """
    paradigms = [p for p in ("intervention", "person") if p in set(rows["paradigm"])]
    cumulative = cumulative_cost(rows)
    fig = make_subplots(rows=len(paradigms) + 1, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[_TITLES[p] for p in paradigms] + ["Cumulative cost (SEK)"],
                        row_heights=[0.38] * len(paradigms) + [0.24])
    lanes = list(LANES)[::-1]
    for i, p in enumerate(paradigms, start=1):
        d = rows[rows["paradigm"] == p].copy()
        d["lane"] = d["kind"].map(_lane)
        d = d[d["lane"].notna()]
        spans = d[d["duration"] > 0]
        points = d[d["duration"] <= 0]
        if len(spans):
            fig.add_trace(go.Bar(
                x=spans["duration"], base=spans["day"], y=spans["lane"], orientation="h",
                marker_color=_COLOURS[p], opacity=0.45, name=f"{p}: stays and periods",
                showlegend=False,
                customdata=spans[["kind", "quantity", "cost", "detail", "stratum"]],
                hovertemplate="%{customdata[0]}<br>day %{base:.0f}, %{x:.1f} days<br>"
                              "quantity %{customdata[1]:.1f}, cost %{customdata[2]:,.0f} SEK"
                              "<br>%{customdata[3]} (%{customdata[4]})<extra></extra>",
            ), row=i, col=1)
        if len(points):
            fig.add_trace(go.Scatter(
                x=points["day"], y=points["lane"], mode="markers", marker_color=_COLOURS[p],
                marker_symbol="line-ns-open", marker_size=14, marker_line_width=2, showlegend=False,
                customdata=points[["kind", "cost", "detail", "stratum"]],
                hovertemplate="%{customdata[0]} day %{x:.0f}<br>%{customdata[1]:,.0f} SEK"
                              "<br>%{customdata[2]} (%{customdata[3]})<extra></extra>",
            ), row=i, col=1)
        fig.update_yaxes(categoryorder="array", categoryarray=lanes, row=i, col=1)
        c = cumulative[cumulative["paradigm"] == p]
        fig.add_trace(go.Scatter(x=c["day"], y=c["cost"], mode="lines", line_color=_COLOURS[p],
                                 name=_TITLES[p]), row=len(paradigms) + 1, col=1)
    fig.update_xaxes(title_text="day", row=len(paradigms) + 1, col=1)
    fig.update_layout(title=f"Person {person}: the same health, two care systems",
                      barmode="overlay", height=900, template="plotly_white",
                      legend=dict(orientation="h", y=-0.08))
    return fig
