"""The rollout's statistics, in one place: yearly metrics, the ledger, capacity freed, living teams.

Inputs are the tidy yearly rows of every (option, area, paradigm, replication); the region is the
weighted sum of its simulated areas (each stands for ``weight`` municipalities), per replication,
before any mean. Intervals are Student-t 95 % over replications; differences (reform - today)
and options are paired by replication (the same persons).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.domain.units import DAYS_PER_WEEK, DAYS_PER_YEAR, MINUTES_PER_HOUR
from sim.economics import Prices
from sim.economics.ledger import LEDGER_ITEMS, break_even_year, ledger, payer_costs, price_rows
from sim.experiments.rollout.plan import Team
from sim.stats import t_interval

REGION = "region"
#: metric -> (kind, field, details or None): sums of the yearly rows (per area, per year).
VOLUME = {
    "admissions": ("admission", "n", None),
    "ed_visits": ("ed_visit", "quantity", None),
    "delayed_discharge_days": ("delayed_discharge", "quantity", None),
    "short_term_care_days": ("short_term_care", "quantity", None),
    "home_health_visits": ("home_health_visit", "quantity", None),
    "primary_care_visits": ("primary_care_visit", "quantity", None),
    "team_referrals": ("team_referral", "n", None),
    "team_referrals_refused": ("team_referral", "n", ("full", "queued")),
}
UNITS = {
    "bed_days": "bed-days held in the year",
    "admissions": "admissions", "ed_visits": "ED visits", "delayed_discharge_days": "days",
    "delayed_discharge_sek": "SEK paid by the municipality to the region",
    "short_term_care_days": "days", "home_health_visits": "visits", "primary_care_visits": "visits",
    "team_referrals": "eligible referrals",
    "team_referrals_refused": "eligible referrals refused or queued (unmet need)",
    "bed_occupancy": "mean occupied / open beds", "ed_bed_wait_days": "mean days from the ED to a bed",
    "beds_open": "beds open (mean over the year)",
    "beds_freed": "beds at the target occupancy", "short_term_places_freed": "places at the target occupancy",
    "nurse_fte_freed": "home health nurse FTE", "cash_saving_region_sek": "SEK (whole beds closed)",
    "cash_saving_municipality_sek": "SEK (whole places closed, nurses not replaced)",
    "areas_with_living_teams": "municipalities with a team acting at the year's end",
    "teams_alive": "teams acting at the year's end", "teams_started": "teams funded by the year's end",
}
KEYS = ["option", "area", "paradigm", "replication", "year"]


def _weighted_region(df: pd.DataFrame, values: list[str], keys: list[str]) -> pd.DataFrame:
    """Return the region's rows: the weighted sum of the areas' ``values`` by ``keys`` (without ``area``)."""
    w = df[values].multiply(df["weight"], axis=0)
    by = [k for k in keys if k != "area"]
    out = w.assign(**{k: df[k] for k in by}).groupby(by, observed=True)[values].sum().reset_index()
    return out.assign(area=REGION, weight=1.0)


def yearly_metrics(rows: pd.DataFrame, beds: pd.DataFrame, prices: dict[str, Prices]) -> pd.DataFrame:
    """Extensive metrics per (option, area, paradigm, replication, year), the region added; ratios last."""
    frames = []
    for metric, (kind, fld, details) in VOLUME.items():
        sel = rows["kind"] == kind
        if details is not None:
            sel &= rows["detail"].isin(details)
        s = rows[sel].groupby(KEYS, observed=True)[fld].sum().rename(metric)
        frames.append(s)
    dd = rows[rows["kind"] == "discharge_payment"]
    dd_sek = dd["quantity"] * dd["option"].map({o: p.per_unit.get("discharge_payment", 0.0) for o, p in prices.items()})
    frames.append(dd_sek.groupby([dd[k] for k in KEYS], observed=True).sum().rename("delayed_discharge_sek"))
    b = beds.set_index(KEYS)[["bed_time", "beds_open", "ed_bed_wait_days", "ed_bed_waits"]]
    out = b.join(frames, how="left").fillna(0.0).reset_index()
    weights = beds.drop_duplicates("area").set_index("area")["weight"]
    out["weight"] = out["area"].map(weights)
    values = [c for c in out.columns if c not in (*KEYS, "weight")]
    out = pd.concat([out, _weighted_region(out, values, KEYS)], ignore_index=True)
    out["bed_days"] = out["bed_time"]
    out["bed_occupancy"] = out["bed_time"] / out["beds_open"]
    out["ed_bed_wait_days"] = out["ed_bed_wait_days"] / out["ed_bed_waits"].replace(0, np.nan)
    out["beds_open"] = out["beds_open"] / DAYS_PER_YEAR
    return out.drop(columns=["bed_time", "ed_bed_waits"])


def capacity_freed(metrics: pd.DataFrame, template, region_params: dict) -> pd.DataFrame:
    """Capacity the reform frees in the region, by option, replication and year, and its cash value.

    Beds and places at the target occupancy; nurse FTE from home health visits saved at the
    template's minutes per visit and hours per week. Cash only for whole beds and places closed
    and nurses not replaced (``[region.ledger]``); the average-cost saving is in the ledger.
    """
    reg = metrics[metrics["area"] == REGION].set_index(["option", "replication", "year", "paradigm"])
    today = reg.xs("intervention", level="paradigm")
    reform = reg.xs("person", level="paradigm")
    cap, costs = template.capacity, template.costs
    out = pd.DataFrame(index=today.index)
    opt = out.index.get_level_values("option")
    occ = opt.map(lambda o: region_params[o].ledger.target_occupancy)
    stc_occ = opt.map(lambda o: region_params[o].ledger.short_term_target_occupancy)
    out["beds_freed"] = (today["bed_days"] - reform["bed_days"]) / (DAYS_PER_YEAR * np.asarray(occ))
    out["short_term_places_freed"] = ((today["short_term_care_days"] - reform["short_term_care_days"])
                                      / (DAYS_PER_YEAR * np.asarray(stc_occ)))
    visits = today["home_health_visits"] - reform["home_health_visits"]
    hours = visits * cap.nurse_minutes_per_visit / MINUTES_PER_HOUR
    out["nurse_fte_freed"] = hours / (cap.nurse_hours_per_week * DAYS_PER_YEAR / DAYS_PER_WEEK)
    led = [region_params[o].ledger for o in opt]
    def whole(x):
        return np.floor(np.clip(x.to_numpy(), 0, None))

    out["cash_saving_region_sek"] = (whole(out["beds_freed"]) * DAYS_PER_YEAR * costs.bed_day
                                     * np.array([x.closed_bed_cash_share for x in led]))
    out["cash_saving_municipality_sek"] = (
        whole(out["short_term_places_freed"]) * DAYS_PER_YEAR * costs.short_term_care_day
        * np.array([x.closed_place_cash_share for x in led])
        + whole(out["nurse_fte_freed"]) * np.array([x.nurse_fte_year_sek for x in led]))
    return out.reset_index().assign(area=REGION, paradigm="difference")


def living_teams(team_table: pd.DataFrame, warmup: float, years: int, options: list[str],
                 replications: int) -> pd.DataFrame:
    """Teams funded and acting at each year's end, and municipalities with a team acting, by option and replication."""
    rows = []
    for option in options:
        for rep in range(replications):
            g = team_table[(team_table["option"] == option) & (team_table["replication"] == rep)]
            w = g.drop_duplicates("area").set_index("area")["weight"]
            for y in range(1, years + 1):
                day = warmup + y * DAYS_PER_YEAR - 1e-6
                alive = (g["acting_day"] <= day) & (day < g["end_day"])
                started = g["start_day"] <= day
                by_area = alive.groupby(g["area"]).any()
                rows.append({"option": option, "replication": rep, "year": y, "area": REGION, "paradigm": "person",
                             "areas_with_living_teams": float((by_area * w.reindex(by_area.index)).sum()),
                             "teams_alive": float((alive * g["weight"]).sum()),
                             "teams_started": float((started * g["weight"]).sum())})
    return pd.DataFrame(rows)


def team_frame(teams: dict[tuple[str, str, float, int], list[Team]]) -> pd.DataFrame:
    """One row per team: option, area, weight, replication, concept, start, acting and end day, died."""
    rows = [{"option": o, "area": a, "weight": w, "replication": r, "concept": t.concept, "start_day": t.start_day,
             "acting_day": t.acting_day, "end_day": t.end_day, "died": t.died}
            for (o, a, w, r), ts in teams.items() for t in ts]
    cols = ["option", "area", "weight", "replication", "concept", "start_day", "acting_day", "end_day", "died"]
    return pd.DataFrame(rows, columns=cols)


def support_costs(team_table: pd.DataFrame, regions: dict, warmup: float, years: int,
                  municipalities: int) -> pd.DataFrame:
    """Return implementation support by (option, area, replication, year, payer), per municipality of the area.

    Steering group and follow-up evaluation: region-wide from the plan's first year, split evenly
    over the municipalities; learning meetings: per municipality with a team acting in the year.
    """
    rows = []
    for (option, area, rep), g in team_table.groupby(["option", "area", "replication"], observed=True):
        s = regions[option].support
        if not s.enabled:
            continue
        first = min(regions[option].plan, key=lambda x: x.year).year if regions[option].plan else math.inf
        for y in range(1, years + 1):
            a, b = warmup + (y - 1) * DAYS_PER_YEAR, warmup + y * DAYS_PER_YEAR
            if y - 1 < math.floor(first):
                continue
            acting = bool(((g["acting_day"] < b) & (g["end_day"] > a)).any())
            sek = (s.steering_group_sek_per_year + s.follow_up_evaluation_sek_per_year) / municipalities
            sek += s.learning_meetings_sek_per_area_year if acting else 0.0
            for payer, share in (("region", s.region_share), ("municipality", 1.0 - s.region_share)):
                rows.append({"option": option, "area": area, "replication": rep, "year": y, "payer": payer,
                             "sek": sek * share})
    return pd.DataFrame(rows, columns=["option", "area", "replication", "year", "payer", "sek"])


def ledgers(rows: pd.DataFrame, prices: dict[str, Prices], regions: dict, support: pd.DataFrame) -> pd.DataFrame:
    """Return the ledger per (option, area, replication, year, payer), areas per municipality and the region."""
    priced = pd.concat([price_rows(g, prices[o], regions[o].ledger.joint_financing)
                        for o, g in rows.groupby("option", observed=True)], ignore_index=True)
    by = ["option", "area", "replication", "year"]
    costs = payer_costs(priced, [*by, "weight"])
    per_area = ledger(costs.drop(columns="weight"), support, by)
    weights = rows.drop_duplicates("area").set_index("area")["weight"]
    w = per_area["area"].map(weights)
    reg = per_area[list(LEDGER_ITEMS)].multiply(w, axis=0).assign(**{k: per_area[k] for k in [*by, "payer"]})
    reg = reg.groupby(["option", "replication", "year", "payer"], observed=True)[list(LEDGER_ITEMS)].sum().reset_index()
    reg["area"] = REGION
    return pd.concat([per_area, reg], ignore_index=True)


#: Counts that cannot be negative: a Student-t interval over few replications of a count near 0 (say
#: one living team in three replications) reaches below 0, so their intervals are cut at 0.
COUNTS = frozenset({"areas_with_living_teams", "teams_alive", "teams_started"})


def summarise(df: pd.DataFrame, keys: list[str], values: list[str]) -> pd.DataFrame:
    """Long rows: ``keys``, metric, mean, ci_low, ci_high over the replications."""
    out = []
    for k, g in df.groupby(keys, observed=True, sort=False):
        for v in values:
            mean, lo, hi = t_interval(g[v].to_numpy(dtype=float))
            if v in COUNTS and lo == lo:
                lo = max(lo, 0.0)
            out.append((*k, v, mean, lo, hi))
    return pd.DataFrame(out, columns=[*keys, "metric", "mean", "ci_low", "ci_high"])


def differences(metrics: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    """Reform minus today, paired by replication."""
    idx = ["option", "area", "replication", "year"]
    a = metrics[metrics["paradigm"] == "intervention"].set_index(idx)[values]
    b = metrics[metrics["paradigm"] == "person"].set_index(idx)[values]
    return (b - a).reset_index().assign(paradigm="difference")


def break_even(led: pd.DataFrame) -> pd.DataFrame:
    """Break-even year per (option, area, payer): on the mean cumulative net, and the share of replications."""
    rows = []
    for (option, area, payer), g in led.groupby(["option", "area", "payer"], observed=True, sort=False):
        mean = g.groupby("year")["cumulative_net"].mean().sort_index()
        per_rep = [break_even_year(r.set_index("year")["cumulative_net"].sort_index())
                   for _, r in g.groupby("replication")]
        rows.append({"option": option, "area": area, "payer": payer, "break_even_year": break_even_year(mean),
                     "replications_broken_even": float(np.mean([not math.isnan(x) for x in per_rep]))})
    return pd.DataFrame(rows)
