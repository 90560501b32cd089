"""Plot functions: each takes DataFrames and returns a plotly Figure; the CLI only arranges them.

Colours and labels come from :mod:`sim.palette`, so a care system looks the same everywhere.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.output.timeline import DAYS_PER_MONTH, cumulative_cost, health_label, is_volume, weekly_volume
from sim.palette import SYSTEM_LABELS, system_colour

# Lanes of the patient example, top to bottom, and the kinds shown in each.
LANES = {
    "health": ("stratum_change", "deterioration", "death", "enter"),
    "ED": ("ed_visit",),
    "hospital": ("admission", "delayed_discharge"),
    "short-term care": ("short_term_care",),
    "outpatient clinic": ("outpatient_visit",),
    "primary care": ("primary_care_visit",),
    "home health nurse": ("home_health_visit",),
    "home help (hours)": ("home_help",),
    "närsjukvårdsteam": ("team_enrol", "team_visit"),
    "palliative team": ("palliative_enrol", "palliative_visit"),
    "home-care physician": ("physician_list", "physician_visit"),
    "Trygg hemgång": ("safe_discharge", "safe_discharge_visit"),
}
_TITLES = SYSTEM_LABELS  # kept for callers of the old name
_KIND_LABEL = {"admission": "hospital stay", "delayed_discharge": "delayed discharge (utskrivningsklar)",
               "team_enrol": "enrolled", "palliative_enrol": "enrolled", "physician_list": "listed",
               "safe_discharge": "Trygg hemgång period", "short_term_care": "short-term care stay"}
_SKIP = ("team_referral", "team_discharge", "physician_unlist")


def _lane(kind: str) -> str | None:
    for lane, kinds in LANES.items():
        if kind in kinds:
            return lane
    return None


def _wrap(text: str, width: int = 150) -> str:
    return "<br>".join(textwrap.wrap(text, width))


def _count_text(c: float) -> str:
    if c < 0.05:
        return "·"
    return f"{c:.0f}" if c >= 0.95 else f"{c:.1f}".lstrip("0")


def timeline_figure(rows: pd.DataFrame, person: int, caption: str | None = None,
                    months: float | None = None) -> go.Figure:
    """One person's contacts, stays and cumulative cost under both care systems.

    ``rows``: from :func:`sim.output.timeline.person_timeline` (``day``, ``duration`` in days,
    ``cost`` in SEK, team cost allocated). Every contact is one mark; accrued routine volume
    is shown as weekly counts (the number printed on the mark); health events are labelled.
    The x-axis is exactly the window (``months``; default: the rows' extent rounded up).
    """
    span = (months * DAYS_PER_MONTH) if months else float(np.ceil(max(rows["day"].max(), 1.0) / DAYS_PER_MONTH)
                                                               * DAYS_PER_MONTH)
    paradigms = [p for p in ("intervention", "person") if p in set(rows["paradigm"])]
    cumulative = cumulative_cost(rows)
    cumulative = cumulative[cumulative["day"] <= span]
    fig = make_subplots(rows=len(paradigms) + 1, cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=[SYSTEM_LABELS[p] for p in paradigms]
                        + ["Cumulative cost in the window (SEK, teams' cost allocated per enrolled day)"],
                        row_heights=[0.4] * len(paradigms) + [0.2])
    lanes = [lane for lane in LANES if any(rows["kind"].isin(LANES[lane]))][::-1]
    volume = weekly_volume(rows, span)
    for i, p in enumerate(paradigms, start=1):
        colour = system_colour(p)
        d = rows[(rows["paradigm"] == p) & ~rows["kind"].isin(_SKIP)].copy()
        d["lane"] = d["kind"].map(_lane)
        d = d[d["lane"].notna()]
        vol = is_volume(d)
        spans = d[(d["duration"] > 0) & ~vol]
        health = d[d["lane"] == "health"]
        contacts = d[(d["duration"] <= 0) & ~vol & (d["lane"] != "health") & (d["quantity"] > 0)]
        if len(spans):
            fig.add_trace(go.Bar(
                x=spans["duration"], base=spans["day"], y=spans["lane"], orientation="h",
                marker_color=colour, opacity=0.45, showlegend=False, width=0.6,
                customdata=np.column_stack([spans["kind"].map(lambda k: _KIND_LABEL.get(k, k)), spans["cost"],
                                            spans["detail"]]),
                hovertemplate="%{customdata[0]}: day %{base:.0f}, %{x:.1f} days<br>"
                              "%{customdata[1]:,.0f} SEK<br>%{customdata[2]}<extra></extra>",
            ), row=i, col=1)
        if len(contacts):
            fig.add_trace(go.Scatter(
                x=contacts["day"], y=contacts["lane"], mode="markers", showlegend=False,
                marker=dict(color=colour, symbol="line-ns-open", size=16, line_width=2),
                customdata=np.column_stack([contacts["kind"], contacts["cost"], contacts["detail"]]),
                hovertemplate="%{customdata[0]} (%{customdata[2]}), day %{x:.0f}<br>"
                              "%{customdata[1]:,.0f} SEK<extra></extra>",
            ), row=i, col=1)
        v = volume[volume["paradigm"] == p].copy()
        if len(v):
            v["lane"] = v["kind"].map(_lane)
            fig.add_trace(go.Scatter(
                x=v["day"], y=v["lane"], mode="markers+text", showlegend=False,
                text=v["count"].map(_count_text), textfont=dict(size=8, color="black"),
                marker=dict(color=colour, symbol="square", size=11, opacity=0.3),
                customdata=v[["kind", "week", "count"]],
                hovertemplate="%{customdata[0]}: week %{customdata[1]}, %{customdata[2]:.2f}"
                              " (expected count)<extra></extra>",
            ), row=i, col=1)
        if len(health):
            triples = list(health[["kind", "stratum", "detail"]].itertuples(index=False))
            labels = [health_label(k, s, x, short=True) for k, s, x in triples]
            full = [health_label(k, s, x) for k, s, x in triples]
            fig.add_trace(go.Scatter(
                x=health["day"], y=health["lane"], mode="markers+text", showlegend=False,
                text=labels, textfont=dict(size=9),
                textposition=["top center" if j % 2 == 0 else "bottom center" for j in range(len(labels))],
                marker=dict(color="black", size=8, symbol=[
                    {"death": "x", "stratum_change": "triangle-up"}.get(k, "diamond") for k in health["kind"]]),
                customdata=full, hovertemplate="%{customdata}, day %{x:.0f}<extra></extra>",
            ), row=i, col=1)
        fig.update_yaxes(categoryorder="array", categoryarray=lanes, row=i, col=1, tickfont=dict(size=11))
        c = cumulative[cumulative["paradigm"] == p]
        fig.add_trace(go.Scatter(x=c["day"], y=c["cost"], mode="lines", line=dict(color=colour, width=2.5),
                                 name=SYSTEM_LABELS[p]), row=len(paradigms) + 1, col=1)
    step = 3 if span > 9 * DAYS_PER_MONTH else 1
    ticks = np.arange(0, span / DAYS_PER_MONTH + 1e-9, step)
    for i in range(1, len(paradigms) + 2):
        fig.update_xaxes(range=[0, span], tickvals=ticks * DAYS_PER_MONTH, ticktext=[f"{t:.0f}" for t in ticks],
                         showticklabels=True, row=i, col=1)
    fig.update_xaxes(title_text="months since the window's start (1 month = 30.44 days)",
                     row=len(paradigms) + 1, col=1)
    fig.update_yaxes(title_text="SEK", tickformat=",.0f", row=len(paradigms) + 1, col=1)
    fig.update_layout(title=dict(text=f"Person {person}: the same health, two care systems "
                                      f"({span / DAYS_PER_MONTH:.0f} months)<br><sup>◆ deterioration (its need), "
                                      "▲ stratum change, ✕ death; | one contact; bars: stays and enrolments; "
                                      "numbers on squares: weekly counts (home help: hours)</sup>"),
                      barmode="overlay", height=1000 + (60 if caption else 0), template="plotly_white",
                      legend=dict(orientation="h", y=-0.06), margin=dict(b=200 if caption else 80))
    if caption:
        fig.add_annotation(text=_wrap(caption), xref="paper", yref="paper", x=0, y=-0.1, showarrow=False,
                           align="left", xanchor="left", yanchor="top", font=dict(size=12))
    return fig
