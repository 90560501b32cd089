"""Report charts: each takes DataFrames and returns a plotly figure (titles, axis units, one palette)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.palette import BAND_OPACITY, OKABE_ITO, PAYER_COLOURS, SYSTEM_COLOURS, SYSTEM_LABELS, rgba
from sim.report.data import SERIES

METRIC_LABELS = {
    "bed_days": "Bed-days", "admissions": "Admissions", "readmissions_30d": "30-day readmissions",
    "avoidable_admissions": "Avoidable admissions", "ed_visits": "ED visits",
    "outpatient_visits": "Outpatient clinic visits", "primary_care_visits": "Primary-care visits",
    "home_health_visits": "Home health nurse visits", "home_help_hours": "Home-help hours (hemtjänst)",
    "short_term_care_days": "Short-term care days (korttidsboende)",
    "delayed_discharge_days": "Delayed-discharge days (utskrivningsklar)", "deaths": "Deaths",
}
_LAYOUT = dict(template="plotly_white", font=dict(size=13))


def relative_difference_figure(rel: pd.DataFrame) -> go.Figure:
    """Paired difference person − intervention as % of today's level, with 95 % intervals."""
    rel = rel.iloc[::-1]
    fig = go.Figure(go.Bar(
        x=rel["mean"], y=[METRIC_LABELS.get(m, m) for m in rel["metric"]], orientation="h",
        marker_color=SYSTEM_COLOURS["difference"], name=SYSTEM_LABELS["difference"],
        error_x=dict(type="data", symmetric=False, array=rel["ci_high"] - rel["mean"],
                     arrayminus=rel["mean"] - rel["ci_low"], color="black"),
        hovertemplate="%{y}: %{x:.1f} %<extra></extra>"))
    fig.update_layout(title="Individstyrning against insatsstyrning: paired difference (95 % interval)",
                      xaxis_title="change against today's care (% of the rate per 1,000 persons 65+ per year)",
                      height=480, margin=dict(l=260), **_LAYOUT)
    fig.add_vline(x=0, line_color="black", line_width=1)
    return fig


def area_cost_figure(costs: pd.DataFrame) -> go.Figure:
    """Area costs by payer (MSEK per year) for both care systems, with 95 % intervals."""
    fig = go.Figure()
    for paradigm in ("intervention", "person"):
        d = costs[costs["paradigm"] == paradigm]
        fig.add_trace(go.Bar(x=d["payer"], y=d["mean"], name=SYSTEM_LABELS[paradigm],
                             marker_color=SYSTEM_COLOURS[paradigm],
                             error_y=dict(type="data", symmetric=False, array=d["ci_high"] - d["mean"],
                                          arrayminus=d["mean"] - d["ci_low"], color="black")))
    fig.update_layout(title="Cost for the area by payer", barmode="group", yaxis_title="MSEK per year (2024 prices)",
                      xaxis_title="payer", height=420, **_LAYOUT)
    return fig


def series_figure(bands: pd.DataFrame) -> go.Figure:
    """Each weekly series over the measured period: mean and 95 % band over replications."""
    names = [s for s in SERIES if s in set(bands["series"])]
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.035,
                        subplot_titles=[SERIES[s][0] for s in names])
    for i, s in enumerate(names, start=1):
        for paradigm in ("intervention", "person"):
            d = bands[(bands["series"] == s) & (bands["paradigm"] == paradigm)].sort_values("week")
            if d.empty:
                continue
            colour = SYSTEM_COLOURS[paradigm]
            fig.add_trace(go.Scatter(x=pd.concat([d["year"], d["year"][::-1]]),
                                     y=pd.concat([d["ci_high"], d["ci_low"][::-1]]), fill="toself",
                                     fillcolor=rgba(colour, BAND_OPACITY), line=dict(width=0), hoverinfo="skip",
                                     showlegend=False), row=i, col=1)
            fig.add_trace(go.Scatter(x=d["year"], y=d["mean"], mode="lines", line=dict(color=colour, width=1.8),
                                     name=SYSTEM_LABELS[paradigm], legendgroup=paradigm, showlegend=i == 1,
                                     hovertemplate="year %{x:.2f}: %{y:.1f}<extra></extra>"), row=i, col=1)
        fig.update_yaxes(title_text=SERIES[s][1], title_font=dict(size=10), row=i, col=1)
    fig.update_xaxes(title_text="years since the measured period began (after the warm-up)", row=len(names), col=1)
    fig.update_layout(title="Over time, in four-week bins: mean over replications, band = 95 % interval",
                      height=250 * len(names) + 80, margin=dict(t=130),
                      legend=dict(orientation="h", x=0, y=1.015, yanchor="bottom"), **_LAYOUT)
    return fig


def waterfall_figure(costs: pd.DataFrame) -> go.Figure:
    """From today's total to the person-driven total: the change in each payer's categories (MSEK/yr)."""
    wide = costs.pivot_table(index=["payer", "category"], columns="paradigm", values="msek", aggfunc="sum",
                             fill_value=0.0)
    for p in ("intervention", "person"):
        if p not in wide:
            wide[p] = 0.0
    wide["change"] = wide["person"] - wide["intervention"]
    wide = wide.reset_index()
    order = {"region": 0, "municipality": 1, "transfer": 2}
    wide = wide.assign(o=wide["payer"].map(order)).sort_values(["o", "change"])
    labels = ["Insatsstyrning total"] + [f"{p}: {c}" for p, c in wide[["payer", "category"]].itertuples(index=False)]
    labels += ["Individstyrning total"]
    values = [wide["intervention"].sum()] + list(wide["change"]) + [0.0]
    measure = ["absolute"] + ["relative"] * len(wide) + ["total"]
    fig = go.Figure(go.Waterfall(
        x=labels, y=values, measure=measure, textposition="outside",
        text=[f"{v:,.1f}" if m != "relative" else f"{v:+,.1f}" for v, m in zip(values, measure, strict=True)][:-1]
        + [f"{wide['person'].sum():,.1f}"],
        increasing=dict(marker_color=SYSTEM_COLOURS["intervention"]),
        decreasing=dict(marker_color=SYSTEM_COLOURS["difference"]),
        totals=dict(marker_color=PAYER_COLOURS["total"]), connector=dict(line_color=OKABE_ITO["grey"])))
    fig.update_layout(title="Costs by payer: from today's care to person-driven care (area, MSEK per year; "
                            "green = saving, red = more cost)",
                      yaxis_title="MSEK per year (2024 prices)", xaxis_title="payer: cost category",
                      xaxis_tickangle=-35, height=620, margin=dict(b=230), **_LAYOUT)
    return fig


def calibration_figure(fit: pd.DataFrame) -> go.Figure:
    """Plot the pilots' reported figures against the simulated naive and causal estimates (relative changes, %)."""
    # the pilots' before/after designs: targets with a causal estimate (not caseloads or time shares)
    f = fit[fit["causal_mean"].notna() & fit["reported"].notna()].iloc[::-1]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=100 * f["reported"], y=f["target"], mode="markers", name="reported (pilot)",
                             marker=dict(symbol="diamond", size=11, color="black"),
                             error_x=dict(type="data", symmetric=False, array=100 * (f["band_high"] - f["reported"]),
                                          arrayminus=100 * (f["reported"] - f["band_low"]), color="black")))
    for col, name, colour, sym in (("naive", "simulated, naive before/after", OKABE_ITO["orange"], "circle"),
                                   ("causal", "simulated, causal (same persons, today's care)",
                                    SYSTEM_COLOURS["person"], "square")):
        fig.add_trace(go.Scatter(
            x=100 * f[f"{col}_mean"], y=f["target"], mode="markers", name=name, marker=dict(symbol=sym, size=9,
                                                                                              color=colour),
            error_x=dict(type="data", symmetric=False, array=100 * (f[f"{col}_ci_high"] - f[f"{col}_mean"]),
                         arrayminus=100 * (f[f"{col}_mean"] - f[f"{col}_ci_low"]), color=colour)))
    fig.update_layout(title="Calibration: the pilots' reported changes against the simulated ones",
                      xaxis_title="relative change (%; band = the target's accepted range, bars = 95 % interval)",
                      yaxis_title="target", height=120 + 32 * len(f), **_LAYOUT)
    return fig


def lorenz_figure(lorenz: pd.DataFrame, title: str = "Cost concentration among persons 65+") -> go.Figure:
    """Lorenz curves of cost per person, one per payer, from ``lorenz.csv`` (payer, population_share, cost_share).

    The diagonal is an equal spread; the further below it a curve lies, the more of that payer's
    cost the costliest persons use (the top 5 % use one minus the curve's value at 95 %).
    """
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="equal spread",
                             line={"dash": "dot", "color": "grey"}))
    for payer, rows in lorenz.groupby("payer", sort=False):
        rows = rows.sort_values("population_share")
        line = {"color": PAYER_COLOURS[payer]} if payer in PAYER_COLOURS else {}
        fig.add_trace(go.Scatter(x=rows["population_share"], y=rows["cost_share"], mode="lines", name=str(payer),
                                 line=line))
    fig.update_layout(title=title, xaxis_title="share of persons, least costly first",
                      yaxis_title="cumulative share of cost", xaxis_tickformat=".0%", yaxis_tickformat=".0%",
                      **_LAYOUT)
    return fig
