"""The workshop app's Streamlit script (``narvard app`` runs it; pages in the sidebar).

Pages: the paradigm shift (one person under both systems, and the same persons moving through
both side by side), what-if (team, capacity, concepts), compare options (who pays, who gains)
and about. Every computation is in :mod:`sim.app.logic` and the package's own modules; a bad
value shows a message, never a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from sim.app import logic
from sim.config import ScenarioError
from sim.output.results import ResultsError
from sim.palette import SYSTEM_COLOURS, SYSTEM_LABELS

PAGES = ("Paradigm shift", "What-if", "Compare options", "About")
# `narvard app --persons N --years Y` sets the starting size of the runs (small in tests).
try:
    DEFAULTS = dict(json.loads(os.environ.get("NARVARD_APP_DEFAULTS", "{}")))
except (ValueError, TypeError):  # set by `narvard app`; anything else is ignored, not a traceback
    DEFAULTS = {}


@st.cache_resource
def _store() -> dict:
    """Results kept per input across reruns and sessions (going back is instant)."""
    return {}


def _run(w: logic.WhatIf, label: str) -> dict | None:
    """Return the comparison for a form, from the store or run now with a progress bar; None on a bad value."""
    store = _store()
    key = w.key()
    if key in store:
        return store[key]
    try:
        scenario = logic.build_scenario(w)
    except ScenarioError as exc:
        st.error(f"Cannot run this: {exc}")
        return None
    bar = st.progress(0.0, text=f"{label}: running {w.replications} replications of both care systems ...")
    result = logic.compare(scenario, lambda done, total: bar.progress(done / total,
                                                                     text=f"{label}: replication {done} of {total}"))
    bar.empty()
    store[key] = result
    return result


def _size_inputs(prefix: str, persons: int, years: float, reps: int) -> dict:
    c1, c2, c3 = st.columns(3)
    return {
        "persons": c1.number_input("Persons 65+ in the area", min_value=0, value=int(DEFAULTS.get("persons", persons)),
                                   step=500, key=f"{prefix}_persons"),
        "years": c2.number_input("Measured years (after a warm-up)", min_value=0.0,
                                 value=float(DEFAULTS.get("years", years)), step=0.5, key=f"{prefix}_years"),
        "replications": c3.number_input("Replications", min_value=1, max_value=20,
                                        value=int(DEFAULTS.get("replications", reps)), key=f"{prefix}_reps"),
    }


def _whatif_form(prefix: str) -> logic.WhatIf:
    scenario = st.selectbox("Scenario", logic.scenario_names(),
                            index=logic.scenario_names().index("default") if "default" in logic.scenario_names() else 0,
                            key=f"{prefix}_scenario")
    size = _size_inputs(prefix, 18000, 1.0, 3)
    st.markdown("**Närsjukvårdsteam** (mobile community team)")
    c1, c2, c3, c4 = st.columns(4)
    caseload = c1.number_input("Caseload (persons at once)", min_value=0, value=24, key=f"{prefix}_caseload")
    start = c2.number_input("Hours from (o'clock)", min_value=0.0, max_value=23.5, value=8.0, step=0.5,
                            key=f"{prefix}_start")
    end = c3.number_input("Hours to (o'clock)", min_value=0.5, max_value=24.0, value=17.0, step=0.5,
                          key=f"{prefix}_end")
    criteria = c4.number_input("Inclusion: criteria of 6 required", min_value=1, max_value=6, value=4,
                               key=f"{prefix}_criteria")
    st.markdown("**Capacity**")
    c1, c2 = st.columns(2)
    beds = c1.number_input("Hospital beds (0: scale today's to the area)", min_value=0, value=0, key=f"{prefix}_beds")
    places = c2.number_input("Short-term places (0: scale today's to the area)", min_value=0, value=0,
                             key=f"{prefix}_places")
    st.markdown("**Service concepts under individstyrning**")
    cols = st.columns(3)
    on = []
    for i, name in enumerate(logic.CONCEPTS + logic.SWITCHES):
        if cols[i % 3].checkbox(name.replace("_", " "), value=True, key=f"{prefix}_{name}"):
            on.append(name)
    return logic.WhatIf(scenario=scenario, persons=int(size["persons"]), years=float(size["years"]),
                        warmup_years=min(1.0, max(0.5, float(size["years"]))),
                        replications=int(size["replications"]), team_caseload=int(caseload),
                        team_hours_start=float(start), team_hours_end=float(end), team_criteria=int(criteria),
                        beds=int(beds) or None, short_term_places=int(places) or None,
                        concepts=tuple(c for c in logic.CONCEPTS if c in on),
                        switches=tuple(s for s in logic.SWITCHES if s in on))


def _difference_chart(summary: pd.DataFrame, metrics: tuple[str, ...], title: str) -> go.Figure:
    d = summary[(summary["paradigm"] == "difference") & summary["metric"].isin(metrics)]
    fig = go.Figure(go.Bar(x=d["mean"], y=d["metric"], orientation="h", marker_color=SYSTEM_COLOURS["difference"],
                           error_x=dict(type="data", symmetric=False, array=d["ci_high"] - d["mean"],
                                        arrayminus=d["mean"] - d["ci_low"])))
    fig.update_layout(title=title, xaxis_title="person − intervention (metric's own unit, 95 % interval)",
                      template="plotly_white", height=380)
    return fig


# -- pages --------------------------------------------------------------------------------------
def page_whatif() -> None:
    """What-if: the team, capacity and concepts; the comparison with intervals."""
    st.header("What-if: change the team, the beds or the concepts")
    st.caption("Both care systems run on the same persons with the same health; the difference is paired "
               "(95 % intervals over replications). Results are kept per input: going back is instant.")
    w = _whatif_form("wi")
    result = _run(w, "What-if")
    if result is None:
        return
    table = logic.comparison_table(result["summary"])
    st.subheader("Result")
    st.metric("Total cost, difference person − intervention (SEK per person 65+ per year)",
              table.loc[table["metric"] == "cost_total_sek", "difference"].iloc[0])
    st.dataframe(table.rename(columns={"intervention": SYSTEM_LABELS["intervention"],
                                       "person": SYSTEM_LABELS["person"]}), hide_index=True)
    st.plotly_chart(_difference_chart(result["summary"], ("bed_days", "admissions", "ed_visits",
                                                          "short_term_care_days", "delayed_discharge_days"),
                                      "Paired difference per 1,000 persons 65+ per year"))
    st.caption(f"{w.replications} replications of {w.persons:,} persons, {w.years:g} measured years: "
               f"{result['seconds']:.1f} s")
    st.download_button("Download the comparison (CSV)", result["summary"].to_csv(index=False), "whatif_summary.csv",
                       "text/csv")


def page_compare() -> None:
    """Two options side by side: who pays and who gains."""
    st.header("Compare options: who pays and who gains")
    st.caption("Two sets of choices side by side; costs by payer are the paired differences against today's care.")
    cols = st.columns(2)
    results = []
    for i, col in enumerate(cols):
        with col:
            st.subheader(f"Option {'AB'[i]}")
            w = _whatif_form(f"opt{i}")
            results.append(_run(w, f"Option {'AB'[i]}"))
    if any(r is None for r in results):
        return
    rows = []
    for name, r in zip(("A", "B"), results, strict=True):
        s = r["summary"][r["summary"]["paradigm"] == "difference"].set_index("metric")
        for metric, payer in (("cost_region_sek", "region"), ("cost_municipality_sek", "municipality"),
                              ("cost_total_sek", "total")):
            rows.append({"option": name, "payer": payer, "mean": s.loc[metric, "mean"], "low": s.loc[metric, "ci_low"],
                         "high": s.loc[metric, "ci_high"]})
    d = pd.DataFrame(rows)
    fig = px.bar(d, x="payer", y="mean", color="option", barmode="group",
                 error_y=d["high"] - d["mean"], error_y_minus=d["mean"] - d["low"],
                 color_discrete_map={"A": SYSTEM_COLOURS["person"], "B": SYSTEM_COLOURS["difference"]},
                 labels={"mean": "SEK per person 65+ per year (negative: the payer gains)", "payer": "payer"},
                 title="Who pays and who gains: change against today's care (95 % interval)")
    st.plotly_chart(fig)
    st.dataframe(d, hide_index=True)


@st.cache_resource
def _example(persons: int, years: float) -> str:
    """Run a small comparison for the paradigm-shift page, written once into a temporary folder."""
    from sim.experiments.executor import Executor
    from sim.experiments.pipeline import simulate_to_folder

    w = logic.WhatIf(persons=persons, years=years, warmup_years=0.5, replications=1)
    out = Path(tempfile.mkdtemp(prefix="narvard-app-")) / "example"
    simulate_to_folder(logic.build_scenario(w), ("intervention", "person"), out, False, Executor())
    return str(out)


def page_shift() -> None:
    """One person under both systems, and the same persons moving through both."""
    from sim.output.results import read_events
    from sim.output.timeline import person_timeline, timeline_caption
    from sim.plots import timeline_figure

    st.header("The paradigm shift: one person, two care systems")
    st.caption("The same person with the same health under insatsstyrning and individstyrning. Leave the "
               "person at 0 to let the app pick a typical person of the unstable group.")
    c1, c2, c3 = st.columns(3)
    persons = c1.number_input("Persons in the example area", min_value=200, max_value=20000,
                              value=int(DEFAULTS.get("example_persons", 3000)), step=500, key="ps_persons")
    person = c2.number_input("Person id (0: a typical one)", min_value=0, value=0, key="ps_person")
    months = c3.number_input("Months shown", min_value=1, max_value=36, value=18, key="ps_months")
    with st.spinner("Simulating the example area ..."):
        folder = _example(int(persons), float(DEFAULTS.get("example_years", 1.5)))
    try:
        rows, pid = person_timeline(folder, int(person) or None, 0, float(months))
    except ResultsError as exc:
        st.error(f"Cannot show this person: {exc}")
        return
    caption = timeline_caption(rows, pid)
    st.plotly_chart(timeline_figure(rows, pid, None, float(months)))
    st.info(caption)
    st.subheader("The same persons moving through both systems")
    ev = read_events(folder)
    for col in ("paradigm", "kind", "detail"):
        ev[col] = ev[col].astype(str)
    ev = ev[ev["replication"] == 0]
    team = ev[(ev["paradigm"] == "person") & (ev["kind"] == "team_enrol")]["person"].drop_duplicates().head(30)
    start = float(rows["time"].min() - rows["day"].min())
    log = logic.vidigi_log(ev, team.tolist() + [pid], start, start + float(months) * 30.44)
    loc = logic.locations(log, step=7.0)
    if loc.empty:
        st.warning("No persons to animate in this example.")
        return
    loc["where"] = loc["location"].map({n: i for i, n in enumerate(logic.LOCATIONS)})
    loc["system"] = loc["paradigm"].map({p: SYSTEM_LABELS[p].split(" (")[0] for p in SYSTEM_LABELS})
    loc["week"] = (loc["day"] // 7).astype(int)
    ids = sorted(loc["person"].unique())
    loc["row"] = loc["person"].map({p: i for i, p in enumerate(ids)})  # one row per person, fixed range
    fig = px.scatter(loc, x="where", y="row", animation_frame="week", color="paradigm", facet_col="system",
                     color_discrete_map=SYSTEM_COLOURS, range_x=[-0.5, len(logic.LOCATIONS) - 0.5],
                     range_y=[-1, len(ids)], hover_data={"person": True, "row": False, "where": False},
                     labels={"where": "where the person is", "row": "person id", "week": "week",
                             "system": "", "paradigm": "care system"},
                     title="Where the same persons are, week by week (press play)", height=160 + 16 * len(ids))
    fig.update_xaxes(tickvals=list(range(len(logic.LOCATIONS))), ticktext=list(logic.LOCATIONS))
    fig.update_yaxes(tickvals=list(range(len(ids))), ticktext=[str(p) for p in ids], tickfont=dict(size=9))
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    st.plotly_chart(fig)
    st.download_button("Download this event log (vidigi format, CSV)", log.to_csv(index=False), "vidigi_log.csv",
                       "text/csv")
    st.caption("`narvard export-vidigi RESULTS_DIR` writes the same format from any compare results folder.")
    if st.button("Prepare the report of this example area", key="ps_report"):
        with st.spinner("Writing the report ..."):
            html = _report(folder)
        st.download_button("Download the report (one HTML file, opens offline)", html, "report.html", "text/html",
                           key="ps_report_download")


@st.cache_resource
def _report(folder: str) -> bytes:
    """Write the leadership report of the example folder (``narvard report`` on it)."""
    from sim.report.build import write_report

    calibration = logic.SCENARIOS.parent / "calibration"
    return write_report(folder, calibration if calibration.is_dir() else None,
                        logic.SCENARIOS / "default.toml").read_bytes()


def page_about() -> None:
    """Show the sources, the assumptions and how to cite."""
    st.header("About")
    st.markdown(
        "narvard-sim is a discrete-event simulation (SimPy) of the Swedish *nära vård* reform: elderly, "
        "multimorbid persons under today's intervention-driven care (*insatsstyrning*) and under person-driven "
        "care (*individstyrning*), on the same persons with the same health trajectories.\n\n"
        "**Sources and assumptions.** Every number of a scenario carries a comment with its source or the reason "
        "for the assumption (`scenarios/*.toml`); the service concepts' effect sizes are calibrated to the "
        "pilots' reported figures (`calibration/`). `narvard report RESULTS_DIR` writes the full report with the "
        "assumptions table and the methods.\n\n"
        "**How to cite.** narvard-sim, version "
        f"{_version()}, a simulation of person-driven care for older persons (nära vård); cite the version and the "
        "scenario hash from the results folder's manifest.")
    names = logic.scenario_names()
    name = st.selectbox("Assumptions of scenario", names, index=names.index("default") if "default" in names else 0)
    from sim.report.sections import scenario_assumptions

    st.dataframe(scenario_assumptions((logic.SCENARIOS / f"{name}.toml").read_text(encoding="utf-8")),
                 hide_index=True)


def _version() -> str:
    from sim.experiments.pipeline import package_version

    return package_version()


def main() -> None:
    """Lay out the sidebar and show the chosen page."""
    st.set_page_config(page_title="narvard-sim workshop", layout="wide")
    st.sidebar.title("narvard-sim")
    page = st.sidebar.radio("Page", PAGES, key="page")
    {"Paradigm shift": page_shift, "What-if": page_whatif, "Compare options": page_compare,
     "About": page_about}[page]()


main()
