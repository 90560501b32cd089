"""Every target of ``targets.toml`` measured on a results folder: ``measures.csv``.

Intervals are Student-t 95 % intervals over replications (NaN with one replication).
``within_band`` is true when the naive interval overlaps the target's band (the source's own
range, else reported ± 0.05). Summary targets (CAP-1, CAP-2, STR-1) take the per-replication
summary metric of the named paradigm from ``replications.csv``; they have no causal figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.measure.designs import CodedEvents, MeasureError, compute_design, normalise_events
from sim.measure.targets import TargetFile
from sim.stats import format_value, markdown_table, t_interval

DAYS_PER_YEAR = 365.25
MEASURE_COLUMNS = ["target", "reported", "band_low", "band_high", "naive_mean", "naive_ci_low",
                   "naive_ci_high", "causal_mean", "causal_ci_low", "causal_ci_high", "within_band"]
DETAIL_COLUMNS = ["target", "kind", "paradigm", "counterfactual_mean", "counterfactual_ci_low",
                  "counterfactual_ci_high", "persons_per_replication", "index_rows_per_replication",
                  "died_in_after_window_share", "replications", "note"]
MEASURES, MEASURES_DETAIL = "measures.csv", "measures_detail.csv"


def overlaps(lo: float, hi: float, band: tuple[float, float], mean: float) -> bool | None:
    """Tell whether the interval ``[lo, hi]`` (or the mean, without an interval) meets the band."""
    if band[0] != band[0] or mean != mean:
        return None
    if lo != lo or hi != hi:
        lo = hi = mean
    return bool(lo <= band[1] + 1e-12 and hi >= band[0] - 1e-12)


def needed_kinds(targets: TargetFile) -> list[str]:
    """Event kinds the designs read (to load only those rows)."""
    kinds = {"death", "admission"}
    for t in targets.targets.values():
        if not t.is_design:
            continue
        c = targets.cohorts[t.cohort]
        kinds.add(targets.metrics[t.metric].kind)
        for idx in (c.index, c.control.index if c.control else None):
            if idx and idx != "discharge":
                kinds.add(idx)
    return sorted(kinds)


def per_replication(events: pd.DataFrame | CodedEvents, targets: TargetFile, warmup: float, horizon: float,
                    replications: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """Per target, per replication: ``naive, causal, counterfactual, ...``.

    ``events``: an event frame (names or codes), or rows coded and grouped already (:class:`CodedEvents`).
    """
    # the selections every design repeats, made once
    ev = events if isinstance(events, CodedEvents) else CodedEvents(normalise_events(events))
    out: dict[str, pd.DataFrame] = {}
    cache: dict[tuple[str, str], pd.DataFrame] = {}
    for tid, t in targets.targets.items():
        if t.is_design:
            key = (t.cohort, t.metric)
            if key not in cache:
                cache[key] = compute_design(ev, targets.cohorts[t.cohort], targets.metrics[t.metric],
                                            warmup, horizon, tid)
            out[tid] = cache[key]
        else:
            rows = pd.DataFrame(columns=["replication", "naive", "causal"])
            if replications is not None and t.summary_metric in replications.columns:
                r = replications[replications["paradigm"] == t.paradigm]
                rows = pd.DataFrame({"replication": r["replication"].to_numpy(),
                                     "naive": r[t.summary_metric].to_numpy(float),
                                     "causal": np.nan})
            out[tid] = rows
    return out


def measure_table(per_rep: dict[str, pd.DataFrame], targets: TargetFile) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``measures.csv`` rows (the columns of :data:`MEASURE_COLUMNS`) and the gap details."""
    rows, details = [], []
    for tid, t in targets.targets.items():
        f = per_rep.get(tid, pd.DataFrame())
        band = t.band_or_default()
        nm, nlo, nhi = t_interval(f["naive"]) if "naive" in f else (float("nan"),) * 3
        cm, clo, chi = t_interval(f["causal"]) if "causal" in f else (float("nan"),) * 3
        rows.append({
            "target": tid, "reported": t.reported if t.reported is not None else float("nan"),
            "band_low": band[0], "band_high": band[1], "naive_mean": nm, "naive_ci_low": nlo,
            "naive_ci_high": nhi, "causal_mean": cm, "causal_ci_low": clo, "causal_ci_high": chi,
            "within_band": overlaps(nlo, nhi, band, nm),
        })
        note = ""
        if f.empty or f["naive"].isna().all():
            note = ("summary metric missing from replications.csv" if not t.is_design
                    else "no cohort (does the measured paradigm write its index rows?)")
        if t.is_design:
            km, klo, khi = t_interval(f["counterfactual"]) if "counterfactual" in f else (float("nan"),) * 3
            details.append({
                "target": tid, "kind": "design", "paradigm": targets.cohorts[t.cohort].paradigm,
                "counterfactual_mean": km, "counterfactual_ci_low": klo, "counterfactual_ci_high": khi,
                "persons_per_replication": float(f["persons"].mean()) if len(f) else float("nan"),
                "index_rows_per_replication": float(f["index_rows"].mean()) if len(f) else float("nan"),
                "died_in_after_window_share": (float(np.nanmean(f["died_share"]))
                                               if len(f) and f["died_share"].notna().any() else float("nan")),
                "replications": len(f), "note": note,
            })
        else:
            details.append({"target": tid, "kind": "summary", "paradigm": t.paradigm,
                            "counterfactual_mean": float("nan"), "counterfactual_ci_low": float("nan"),
                            "counterfactual_ci_high": float("nan"), "persons_per_replication": float("nan"),
                            "index_rows_per_replication": float("nan"),
                            "died_in_after_window_share": float("nan"), "replications": len(f), "note": note})
    return pd.DataFrame(rows, columns=MEASURE_COLUMNS), pd.DataFrame(details, columns=DETAIL_COLUMNS)


def measure_events(events: pd.DataFrame, targets: TargetFile, warmup: float, horizon: float,
                   replications: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measures and gap details from an event log and per-replication summary metrics."""
    return measure_table(per_replication(events, targets, warmup, horizon, replications), targets)


def run_window(manifest: dict) -> tuple[float, float]:
    """Warm-up end and horizon (days) of a results folder, from its manifest."""
    sim = manifest["scenario"]["simulation"]
    warmup = float(sim["warmup_years"]) * DAYS_PER_YEAR
    return warmup, warmup + float(sim["years"]) * DAYS_PER_YEAR


def read_needed_events(folder: Path, kinds: list[str]) -> pd.DataFrame:
    """Read the rows of the given kinds from ``events.parquet`` (only the design columns)."""
    import pyarrow.parquet as pq

    from sim.measure.designs import EVENT_COLUMNS
    from sim.output.results import EVENTS, ResultsError

    path = Path(folder) / EVENTS
    if not path.is_file():
        raise ResultsError(f"{path}: missing")
    try:
        table = pq.read_table(str(path), columns=EVENT_COLUMNS, filters=[("kind", "in", kinds)])
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise ResultsError(f"{path}: cannot read the event log ({exc})") from None
    return table.to_pandas()


def measure_folder(folder: Path | str, targets: TargetFile) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measure every target on a results folder (``narvard compare`` output)."""
    from sim.output.results import read_manifest

    folder = Path(folder)
    manifest = read_manifest(folder)
    warmup, horizon = run_window(manifest)
    events = read_needed_events(folder, needed_kinds(targets))
    from sim.output.results import REPLICATIONS, read_replications

    reps = read_replications(folder) if (folder / REPLICATIONS).is_file() else None
    return measure_events(events, targets, warmup, horizon, reps)


def write_measures(table: pd.DataFrame, path: Path | str) -> None:
    """Write a measures table with stable number formatting."""
    table.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")


def plot_fit(table: pd.DataFrame, title: str = "Reported vs simulated") -> go.Figure:
    """Plot the reported figures (with bands) against the naive and causal simulated figures (95 % CI).

    ``table``: rows as in ``measures.csv``. Relative-change targets and summary targets have
    different scales, so the chart is split into one subplot row per target.
    """
    from plotly.subplots import make_subplots

    t = table.reset_index(drop=True)
    fig = make_subplots(rows=len(t), cols=1, shared_xaxes=False, vertical_spacing=0.02 if len(t) > 8 else 0.06,
                        subplot_titles=list(t["target"]))
    for i, r in t.iterrows():
        row = i + 1
        if r["band_low"] == r["band_low"]:
            fig.add_trace(go.Scatter(x=[r["band_low"], r["band_high"]], y=["reported", "reported"],
                                     mode="lines", line={"width": 10, "color": "rgba(0,128,0,0.3)"},
                                     name="band", showlegend=i == 0, legendgroup="band"), row=row, col=1)
            fig.add_trace(go.Scatter(x=[r["reported"]], y=["reported"], mode="markers",
                                     marker={"color": "green", "symbol": "diamond", "size": 10},
                                     name="reported", showlegend=i == 0, legendgroup="rep"), row=row, col=1)
        for col, label, color in (("naive", "naive (as measured)", "#1f77b4"), ("causal", "causal", "#d62728")):
            m = r[f"{col}_mean"]
            if m != m:
                continue
            lo, hi = r[f"{col}_ci_low"], r[f"{col}_ci_high"]
            err = None if lo != lo else {"type": "data", "symmetric": False, "array": [hi - m],
                                          "arrayminus": [m - lo]}
            fig.add_trace(go.Scatter(x=[m], y=[col], mode="markers", error_x=err,
                                     marker={"color": color, "size": 9}, name=label,
                                     showlegend=i == 0, legendgroup=col), row=row, col=1)
    fig.update_layout(title=title, height=max(300, 110 * len(t)), margin={"l": 90, "r": 20, "t": 60, "b": 30})
    return fig


__all__ = ["MEASURES", "MEASURES_DETAIL", "MEASURE_COLUMNS", "MeasureError", "format_value", "markdown_table",
           "measure_events", "measure_folder", "measure_table", "plot_fit", "t_interval", "write_measures"]


# -- formatted tables (terminal and markdown share the cells; numbers as sim.stats formats them)
FORMATTED_COLUMNS = ["target", "reported", "band", "naive (95 % CI)", "causal (95 % CI)",
                     "no-concept change", "in band"]


def format_measures(table: pd.DataFrame, detail: pd.DataFrame) -> pd.DataFrame:
    """``measures.csv`` as display strings: relative changes in %, intervals in brackets.

    "no-concept change" is the counterfactual change (the naive design with no service concept).
    """
    d = detail.set_index("target")
    rows = []
    for _, r in table.iterrows():
        rel = d.loc[r["target"], "kind"] == "design"
        band = ("" if r["band_low"] != r["band_low"]
                else f"{format_value(r['band_low'], rel)} … {format_value(r['band_high'], rel)}")

        def cell(prefix: str, r=r, rel=rel) -> str:
            m = r[f"{prefix}_mean"]
            if m != m:
                return ""
            lo, hi = r[f"{prefix}_ci_low"], r[f"{prefix}_ci_high"]
            ci = "" if lo != lo else f" [{format_value(lo, rel)}, {format_value(hi, rel)}]"
            return f"{format_value(m, rel)}{ci}"

        wb = r["within_band"]
        rows.append([r["target"], format_value(r["reported"], rel), band, cell("naive"), cell("causal"),
                     format_value(d.loc[r["target"], "counterfactual_mean"], rel),
                     "" if wb is None or wb != wb else ("yes" if wb else "**no**")])
    return pd.DataFrame(rows, columns=FORMATTED_COLUMNS)


def measures_markdown(table: pd.DataFrame, detail: pd.DataFrame,
                      loss_terms: dict[str, float] | None = None) -> str:
    """Render a markdown table of :func:`format_measures`, with each fitted target's loss term if given."""
    f = format_measures(table, detail)
    if loss_terms is not None:
        f["loss term"] = [f"{loss_terms[t]:.2f}" if t in loss_terms else "" for t in f["target"]]
    return markdown_table(list(f.columns), f.itertuples(index=False))
