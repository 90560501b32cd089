"""Reductions of a results folder for the report: headline, series over time, costs by payer.

Functions take DataFrames (or the manifest) and return DataFrames; nothing here draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.output.costs import ENROLMENT_KIND
from sim.stats import t_interval

DAYS_PER_YEAR = 365.25
#: Metrics of the headline table (per 1,000 persons 65+ per year unless a cost).
HEADLINE = ("bed_days", "admissions", "readmissions_30d", "avoidable_admissions", "ed_visits",
            "outpatient_visits", "primary_care_visits", "home_health_visits", "home_help_hours",
            "short_term_care_days", "delayed_discharge_days", "deaths")
AREA_COSTS = {"cost_region_sek": "region", "cost_municipality_sek": "municipality", "cost_total_sek": "total"}


def area_costs_msek(replications: pd.DataFrame, years: float) -> pd.DataFrame:
    """Costs for the whole area in MSEK per year, per care system and paired difference.

    ``replications``: ``replications.csv`` (SEK per person 65+ per year and person-years per
    replication); the area's yearly cost is the per-person cost times the mean population
    (person-years / measured years). Columns ``payer, paradigm, mean, ci_low, ci_high``.
    """
    rows = []
    per = {}
    for paradigm, d in replications.groupby("paradigm"):
        d = d.sort_values("replication")
        persons = d["person_years"].to_numpy(float) / years
        for col, payer in AREA_COSTS.items():
            v = d[col].to_numpy(float) * persons / 1e6
            per[(paradigm, payer)] = v
            rows.append((payer, paradigm, *t_interval(v, drop_nan=False)))
    for payer in AREA_COSTS.values():
        if ("intervention", payer) in per and ("person", payer) in per:
            diff = per[("person", payer)] - per[("intervention", payer)]
            rows.append((payer, "difference", *t_interval(diff, drop_nan=False)))
    return pd.DataFrame(rows, columns=["payer", "paradigm", "mean", "ci_low", "ci_high"])


def relative_differences(summary: pd.DataFrame, metrics=HEADLINE) -> pd.DataFrame:
    """Paired difference as a share of today's level: ``metric, mean, ci_low, ci_high`` (%)."""
    rows = []
    for m in metrics:
        base = summary[(summary["metric"] == m) & (summary["paradigm"] == "intervention")]
        diff = summary[(summary["metric"] == m) & (summary["paradigm"] == "difference")]
        if base.empty or diff.empty or not base["mean"].iloc[0]:
            continue
        b = float(base["mean"].iloc[0])
        d = diff.iloc[0]
        rows.append((m, 100 * d["mean"] / b, 100 * d["ci_low"] / b, 100 * d["ci_high"] / b))
    return pd.DataFrame(rows, columns=["metric", "mean", "ci_low", "ci_high"])


def _integral(t0: np.ndarray, t1: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Time covered by intervals ``[t0, t1)`` within each bin of ``edges`` (summed over intervals)."""
    def covered(x):  # sum of clip(x - t0, 0, t1 - t0) for every edge x, in O(n log n)
        a, b = np.sort(t0), np.sort(t1)
        ca = np.concatenate([[0.0], np.cumsum(a)])
        cb = np.concatenate([[0.0], np.cumsum(b)])
        ia, ib = np.searchsorted(a, x), np.searchsorted(b, x)
        return (x * ia - ca[ia]) - (x * ib - cb[ib])
    return np.diff(covered(edges))


SERIES = {
    "occupied_beds": ("Occupied beds", "beds (mean)"),
    "delayed_discharges": ("Patients ready for discharge still in a bed (delayed discharge)", "patients (mean)"),
    "bed_wait_hours": ("Wait for a bed after the decision to admit", "hours per admission"),
    "mobile_team_caseload": ("Närsjukvårdsteam caseload", "persons enrolled (mean)"),
    "palliative_team_caseload": ("Palliative team caseload", "persons enrolled (mean)"),
    "home_physician_list": ("Home-care physician's list", "persons listed (mean)"),
    "safe_discharge_caseload": ("Trygg hemgång caseload", "persons (mean)"),
    "team_refusals": ("Unmet need: referrals the närsjukvårdsteam refused (full)", "referrals per week"),
}


BIN_DAYS = 28.0  # four weeks: weekly bins of one area are mostly noise


def weekly_series(ev: pd.DataFrame, warmup: float, horizon: float, bin_days: float = BIN_DAYS) -> pd.DataFrame:
    """Series of the measured period in bins of ``bin_days`` per replication and care system (long format).

    Columns ``replication, paradigm, series, week, year, value`` (``week``: the bin's number);
    ``year`` is the bin's middle in years since the measured period began. Levels are means
    over the bin; refusals are per week. ``ev``: event rows with string ``kind``/``detail``.
    """
    edges = np.arange(warmup, horizon + 1e-9, bin_days)
    if edges[-1] < horizon - 1e-9:
        edges = np.append(edges, horizon)
    width = np.diff(edges)
    mid_year = ((edges[:-1] + edges[1:]) / 2 - warmup) / DAYS_PER_YEAR
    out = []
    enrol_kind = {"mobile_team_caseload": ENROLMENT_KIND["mobile_team"],
                  "palliative_team_caseload": ENROLMENT_KIND["palliative_team"],
                  "home_physician_list": ENROLMENT_KIND["home_physician"],
                  "safe_discharge_caseload": ENROLMENT_KIND["safe_discharge"]}
    for (rep, paradigm), d in ev.groupby(["replication", "paradigm"], observed=True):
        series = {}
        adm = d[d["kind"] == "admission"]
        t1 = (adm["time"] + adm["duration"]).to_numpy()
        series["occupied_beds"] = _integral(t1 - adm["quantity"].to_numpy(), t1, edges) / width
        dd = d[d["kind"] == "delayed_discharge"]
        series["delayed_discharges"] = _integral(dd["time"].to_numpy(), (dd["time"] + dd["duration"]).to_numpy(),
                                                 edges) / width
        wait = (adm["duration"] - adm["quantity"]).clip(lower=0).to_numpy() * 24
        idx = np.searchsorted(edges, adm["time"].to_numpy(), side="right") - 1
        ok = (idx >= 0) & (idx < len(width))
        n = np.bincount(idx[ok], minlength=len(width))
        s = np.bincount(idx[ok], weights=wait[ok], minlength=len(width))
        series["bed_wait_hours"] = np.divide(s, n, out=np.full(len(width), np.nan), where=n > 0)
        for name, kind in enrol_kind.items():
            e = d[(d["kind"] == kind) & (d["detail"] != "full")]
            if paradigm == "intervention" and e.empty:
                continue
            series[name] = _integral(e["time"].to_numpy(), (e["time"] + e["duration"]).to_numpy(), edges) / width
        if paradigm == "person":
            ref = d[(d["kind"] == "team_referral") & d["detail"].isin(["full", "queued"])]
            i = np.searchsorted(edges, ref["time"].to_numpy(), side="right") - 1
            i = i[(i >= 0) & (i < len(width))]
            series["team_refusals"] = np.bincount(i, minlength=len(width)) * 7.0 / width  # per week
        for name, v in series.items():
            out.append(pd.DataFrame({"replication": rep, "paradigm": paradigm, "series": name,
                                     "week": np.arange(len(width)), "year": mid_year, "value": v}))
    return pd.concat(out, ignore_index=True)


def band(series: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % interval over replications per series, care system and bin (the band cut at 0)."""
    def summ(v):
        m, lo, hi = t_interval(v.dropna())
        return pd.Series({"mean": m, "ci_low": max(lo, 0.0), "ci_high": hi})
    g = series.groupby(["series", "paradigm", "week", "year"], observed=True)["value"]
    return g.apply(summ).unstack().reset_index()


#: Cost categories of the waterfall: (payer, label) from (kind, provider).
def cost_category(kind: str, provider: str, payer: str) -> tuple[str, str]:
    """Return the waterfall category of a cost row: ``(payer, label)``."""
    if kind == "discharge_payment":
        return "transfer", "delayed-discharge payments (municipality → region)"
    if kind == "discharge_payment_received":
        return payer, "delayed-discharge payments received (from the municipality)"
    if kind == "fixed_cost":
        return payer, f"{provider.replace('_', ' ')} (fixed yearly cost)"
    labels = {"admission": "hospital bed-days", "ed_visit": "ED visits", "outpatient_visit": "outpatient clinic",
              "primary_care_visit": "primary care", "home_health_visit": "home health nurse",
              "home_help": "home help (hemtjänst)", "short_term_care": "short-term care (korttidsboende)"}
    return payer, labels.get(kind, kind.replace("_", " "))


def costs_by_payer(ev: pd.DataFrame, warmup: float, years: float) -> pd.DataFrame:
    """Area costs in the measured period in MSEK per year: ``paradigm, payer, category, msek``.

    Averaged over replications. Teams are their fixed yearly cost (no allocation needed at
    area level); the delayed-discharge payment is booked to the municipality but is a transfer
    to the region, so it is its own category, and the region's side of it is a negative category of
    the region (the pair sums to zero: the bed-days are counted once, as the region's).
    """
    m = ev[(ev["time"] >= warmup) & (ev["cost"] != 0)]
    reps = ev["replication"].nunique()
    g = m.groupby(["paradigm", "kind", "provider", "payer"], observed=True)["cost"].sum().reset_index()
    cats = [cost_category(k, p, y) for k, p, y in g[["kind", "provider", "payer"]].itertuples(index=False)]
    g["payer"] = [c[0] for c in cats]
    g["category"] = [c[1] for c in cats]
    out = g.groupby(["paradigm", "payer", "category"], observed=True)["cost"].sum().reset_index()
    out["msek"] = out["cost"] / reps / years / 1e6
    return out.drop(columns="cost")
