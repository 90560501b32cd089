"""Statistics from the event log, in one place.

:func:`replication_metrics` reduces one replication's rows (streamed in chunks) to the
summary metrics; :func:`summarise` turns per-replication metrics into means with Student-t
95 % intervals; :func:`paired_differences` does the same for the paired differences
between care systems. Rates are per 1,000 person-years of persons 65+ in the measured
period (after the warm-up); contacts are counted at their start.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.domain.columns import Chunk, as_chunk
from sim.domain.events import DETAILS, KINDS
from sim.domain.units import DAYS_PER_WEEK
from sim.economics.prices import PAID, Prices, cost_by_payer, price_table
from sim.economics.staff import TeamAllocation, enrolment_kinds
from sim.output.concentration import METRICS as CONCENTRATION_METRICS
from sim.output.concentration import PersonCosts
from sim.output.concepts import UNITS as CONCEPT_UNITS
from sim.population.health import Trajectories
from sim.population.population import Population
from sim.stats import t_interval

# metric -> (kind, field) summed over rows in the measured period.
RATE_METRICS: dict[str, tuple[str, str]] = {
    "bed_days": ("admission", "quantity"),
    "admissions": ("admission", "count"),
    "readmissions_30d": ("admission", "readmission"),
    "avoidable_admissions": ("admission", "avoidable"),
    "ed_visits": ("ed_visit", "quantity"),
    "outpatient_visits": ("outpatient_visit", "quantity"),
    "primary_care_visits": ("primary_care_visit", "quantity"),
    "home_health_visits": ("home_health_visit", "quantity"),
    "home_help_hours": ("home_help", "quantity"),
    "short_term_care_days": ("short_term_care", "quantity"),
    "delayed_discharge_days": ("delayed_discharge", "quantity"),
    "discharge_payment_days": ("discharge_payment", "quantity"),
    "special_housing_days": ("special_housing", "quantity"),
    "deaths": ("death", "count"),
}
UNITS = {
    **{m: "per 1,000 persons 65+ per year" for m in RATE_METRICS},
    "cost_region_sek": "SEK per person 65+ per year",
    "cost_municipality_sek": "SEK per person 65+ per year",
    "cost_total_sek": "SEK per person 65+ per year",
    "discharge_payment_sek": "SEK per person 65+ per year (municipality to region, in both nets)",
    "persons_start": "persons",
    "persons_entered": "persons",
    "persons_died": "persons",
    "persons_end": "persons",
    "person_years": "person-years",
    "nurse_hassle_share": "share of nurse time",
    "nurse_coverage": "share of demanded nurse hours available",
    "bed_occupancy": "mean occupied beds / beds",
    "deaths_at_home_share": "share of deaths",
    "deaths_hospital_share": "share of deaths",
    "deaths_housing_share": "share of deaths (special housing)",
    "deaths_short_term_share": "share of deaths (short-term care)",
    "ed_admission_share": "admissions via the ED / ED visits",
    "housing_residents": "persons holding a place on a day per 1,000 persons 65+",
    "housing_share_65plus": "share of persons 65+ holding a place on a day",
    "housing_waiting": "persons waiting for a place on a day (mean)",
    "housing_wait_days": "mean days from assessment to a place (places granted in the period; 0 if none)",
    "housing_moves_in": "places granted per 1,000 persons 65+ per year",
    **{m: "share of the payer's cost (costliest persons, measured period)" for m in CONCENTRATION_METRICS},
    "nurse_hassle_fte": "home health nurse FTE lost to hassle (strulfaktorer)",
    "nurse_visit_fte": "home health nurse FTE spent on demanded visits (hours met)",
    **{f"{p}_day_sek": "SEK per enrolled person-day (the team's staff cost over its enrolled days)"
       for p in enrolment_kinds()},
}
UNITS.update(CONCEPT_UNITS)


def population_counts(pop: Population, traj: Trajectories, warmup: float, horizon: float) -> dict[str, float]:
    """Persons at the start and end of the measured period, entered, died, person-years."""
    entry, death = pop.entry_time, traj.death_time
    start = int(((entry <= warmup) & (death > warmup)).sum())
    entered = int(((entry > warmup) & (entry < horizon)).sum())
    died = int(((death > warmup) & (death < horizon)).sum())
    end = int(((entry < horizon) & (death >= horizon)).sum())
    lo = np.maximum(entry, warmup)
    hi = np.minimum(death, horizon)
    person_years = float(np.clip(hi - lo, 0, None).sum() / 365.25)
    return {
        "persons_start": start,
        "persons_entered": entered,
        "persons_died": died,
        "persons_end": end,
        "person_years": person_years,
    }


_ADMISSION = KINDS.index("admission")
_HOME = DETAILS.index("home")
_PLACE_OF_DEATH = {place: DETAILS.index(place) for place in ("hospital", "special_housing", "short_term_care")}
#: Place of death -> the word in its metric name (names fit the console table's 25 characters).
_SHORT = {"hospital": "hospital", "special_housing": "housing", "short_term_care": "short_term"}
_SH_PLACE, _SH_WAIT = KINDS.index("special_housing_place"), KINDS.index("special_housing_wait")
_GRANTED, _VIA_ED = DETAILS.index("granted"), DETAILS.index("via_ed")


class MetricAccumulator:
    """Sums over event-log chunks for one replication and paradigm.

    The rows carry quantities; ``prices`` (:mod:`sim.economics`) turn them into each payer's cost.
    """

    def __init__(self, warmup: float, horizon: float, beds: int, prices: Prices,
                 nurse_hours_per_week: float | None = None):
        self.warmup, self.horizon, self.beds, self.prices = warmup, horizon, beds, prices
        #: hours of a full-time home health nurse's week (``[capacity]``); None: no FTE figures
        self.nurse_hours_per_week = nurse_hours_per_week
        self.teams = TeamAllocation(warmup, horizon, prices.per_year)
        self.sums: dict[str, float] = {m: 0.0 for m in RATE_METRICS}
        self.cost = {"region": 0.0, "municipality": 0.0}
        self.transfer = 0.0  # delayed-discharge payments, municipality -> region (SEK)
        self.nurse = {"nurse_demand_hours": 0.0, "nurse_available_hours": 0.0, "nurse_lost_hours": 0.0}
        self.nurse_days = 0.0  # days the measured weekly nurse rows cover
        self.bed_time = 0.0
        self.deaths_home = 0.0
        self.deaths_at = dict.fromkeys(_PLACE_OF_DEATH, 0)
        self.via_ed = 0
        self.sh_place_time = self.sh_wait_time = self.sh_wait_days = 0.0
        self.sh_granted = 0
        self.person_costs = PersonCosts()
        self.extra: dict[str, float] = {}

    def add(self, table: pa.Table | Chunk) -> None:
        """Add one chunk of rows (an Arrow table, or a chunk read once by every accumulator: :func:`as_chunk`).

        The chunk is grouped by kind once (``rows_of``: a stable sort of the kind codes, shared with
        the other accumulators); each metric then sums a slice of one column, instead of filtering
        the whole chunk per metric.
        """
        table = as_chunk(table)
        if table.num_rows == 0:
            return
        time = table.column("time")
        kind = table.codes("kind", KINDS)
        quantity = table.column("quantity")
        w = (time >= self.warmup) & (kind >= 0)
        rows = {}
        for i, k in enumerate(KINDS):  # each kind's measured rows, ascending
            r = table.rows_of("kind", KINDS, i)
            rows[k] = r[time[r] >= self.warmup]
        for metric, (k, field) in RATE_METRICS.items():
            r = rows[k]
            if field == "count":
                self.sums[metric] += len(r)
            elif field in ("readmission", "avoidable"):
                self.sums[metric] += int(np.count_nonzero(table.column(field)[r]))
            else:
                self.sums[metric] += float(quantity[r].sum())
        cost = price_table(table, self.prices)
        for name, paid in cost_by_payer(table, cost, self.prices, w).items():
            self.cost[name] += paid
        self.transfer += float(cost[rows["discharge_payment"]].sum())
        # per person: the care each person used (a delayed-discharge payment is a transfer, not care: neither
        # the municipality's payment nor the region's receipt, which alone could make a region's person negative)
        self.person_costs.add(table, cost, self.prices, w & (kind != KINDS.index("discharge_payment"))
                              & (kind != KINDS.index("discharge_payment_received")))
        self.teams.add(table)  # the teams' staff cost, to follow the enrolled persons
        for name in self.nurse:
            self.nurse[name] += float(quantity[rows[name]].sum())
        if self.nurse_hours_per_week and len(rows["nurse_lost_hours"]):
            self.nurse_days += float(table.column("duration")[rows["nurse_lost_hours"]].sum())
        # Bed occupancy over the whole run window overlapping the measured period. A bed is
        # held from when it was granted: the stay (duration) includes any wait for a bed, the
        # bed-days (quantity) do not, so the bed interval is [t1 - quantity, t1].
        adm = table.rows_of("kind", KINDS, _ADMISSION)
        if len(adm):
            t1 = time[adm] + table.column("duration")[adm]
            t0 = t1 - quantity[adm]
            self.bed_time += float(np.clip(np.minimum(t1, self.horizon) - np.maximum(t0, self.warmup), 0, None).sum())
        deaths = rows["death"]
        detail = table.codes("detail", DETAILS)
        if len(deaths):
            self.deaths_home += int(np.count_nonzero(detail[deaths] == _HOME))
            for place, code in _PLACE_OF_DEATH.items():
                self.deaths_at[place] += int(np.count_nonzero(detail[deaths] == code))
        self.via_ed += int(np.count_nonzero(detail[rows["admission"]] == _VIA_ED))
        # Special housing: places held and waits on a day (time overlapping the period), waits
        # ended with a place in the period (counted at the grant).
        duration = table.column("duration")
        for k, attr in ((_SH_PLACE, "sh_place_time"), (_SH_WAIT, "sh_wait_time")):
            r = table.rows_of("kind", KINDS, k)
            if len(r):
                t1 = time[r] + duration[r]
                ov = np.clip(np.minimum(t1, self.horizon) - np.maximum(time[r], self.warmup), 0, None).sum()
                setattr(self, attr, getattr(self, attr) + float(ov))
        r = table.rows_of("kind", KINDS, _SH_WAIT)
        r = r[detail[r] == _GRANTED]
        if len(r):
            granted = (time[r] + duration[r] >= self.warmup) & (time[r] + duration[r] < self.horizon)
            self.sh_granted += int(np.count_nonzero(granted))
            self.sh_wait_days += float(duration[r][granted].sum())

    def result(self, counts: dict[str, float]) -> dict[str, float]:
        """Return the replication's metrics."""
        # No person-years (everyone died in the warm-up): rates are undefined, not a crash.
        py = counts["person_years"] or float("nan")
        out: dict[str, float] = {m: v / py * 1000.0 for m, v in self.sums.items()}
        out["cost_region_sek"] = self.cost["region"] / py
        out["cost_municipality_sek"] = self.cost["municipality"] / py
        out["cost_total_sek"] = (self.cost["region"] + self.cost["municipality"]) / py
        out["discharge_payment_sek"] = self.transfer / py
        demand = self.nurse["nurse_demand_hours"]
        worked = self.nurse["nurse_available_hours"] + self.nurse["nurse_lost_hours"]
        out["nurse_hassle_share"] = self.nurse["nurse_lost_hours"] / worked if worked else 0.0
        out["nurse_coverage"] = min(1.0, self.nurse["nurse_available_hours"] / demand) if demand else 1.0
        out["bed_occupancy"] = self.bed_time / ((self.horizon - self.warmup) * self.beds)
        out["deaths_at_home_share"] = self.deaths_home / self.sums["deaths"] if self.sums["deaths"] else 0.0
        for place, n in self.deaths_at.items():
            out[f"deaths_{_SHORT[place]}_share"] = n / self.sums["deaths"] if self.sums["deaths"] else 0.0
        out["ed_admission_share"] = self.via_ed / self.sums["ed_visits"] if self.sums["ed_visits"] else 0.0
        days = self.horizon - self.warmup
        person_days = counts["person_years"] * 365.25 or float("nan")
        out["housing_residents"] = self.sh_place_time / person_days * 1000.0
        out["housing_share_65plus"] = self.sh_place_time / person_days
        out["housing_waiting"] = self.sh_wait_time / days
        out["housing_wait_days"] = self.sh_wait_days / self.sh_granted if self.sh_granted else 0.0
        out["housing_moves_in"] = self.sh_granted / py * 1000.0
        # The teams' staff cost per enrolled person-day, and each enrolled person's share of it.
        for provider, rate in self.teams.rates().items():
            out[f"{provider}_day_sek"] = rate
        allocated = self.teams.person_costs(self.prices.shares, PAID)
        # Cost concentration among the persons present in the measured period (zero-cost persons included),
        # the teams' cost allocated to their enrolled persons.
        out.update(self.person_costs.shares(counts["persons_start"] + counts["persons_entered"], allocated))
        if self.nurse_hours_per_week:
            # hours over the weeks the rows cover, per full-time week
            fte_hours = self.nurse_days / DAYS_PER_WEEK * self.nurse_hours_per_week
            out["nurse_hassle_fte"] = self.nurse["nurse_lost_hours"] / fte_hours if fte_hours else 0.0
            out["nurse_visit_fte"] = min(demand, self.nurse["nurse_available_hours"]) / fte_hours if fte_hours else 0.0
        out.update(self.extra)
        out.update(counts)
        return out


def replication_metrics(chunks: Iterable[pa.Table], counts: dict[str, float], warmup: float,
                        horizon: float, beds: int, prices: Prices,
                        nurse_hours_per_week: float | None = None) -> dict[str, float]:
    """Metrics of one replication from its event-log chunks, costed at ``prices``."""
    acc = MetricAccumulator(warmup, horizon, beds, prices, nurse_hours_per_week)
    for chunk in chunks:
        acc.add(chunk)
    return acc.result(counts)


def summarise(per_rep: pd.DataFrame, paradigm: str) -> pd.DataFrame:
    """Long summary rows (paradigm, metric, mean, ci_low, ci_high, unit) from per-replication metrics."""
    rows = []
    for metric in per_rep.columns:
        if metric in ("replication", "paradigm"):
            continue
        mean, lo, hi = t_interval(per_rep[metric].to_numpy(dtype=float), drop_nan=False)
        rows.append((paradigm, metric, mean, lo, hi, UNITS.get(metric, "")))
    return pd.DataFrame(rows, columns=["paradigm", "metric", "mean", "ci_low", "ci_high", "unit"])


def paired_differences(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Person-driven minus intervention-driven, paired by replication (common random numbers)."""
    a = a.sort_values("replication").reset_index(drop=True)
    b = b.sort_values("replication").reset_index(drop=True)
    diff = b.drop(columns=["paradigm"], errors="ignore") - a.drop(columns=["paradigm"], errors="ignore")
    diff["replication"] = a["replication"]
    return summarise(diff, "difference")


def format_number(x: float) -> str:
    """Compact number for tables: CSV bytes must not depend on the platform's float repr."""
    if x != x:  # NaN
        return ""
    return f"{x:.6g}" if abs(x) < 1e6 else f"{x:.1f}"


def write_summary(df: pd.DataFrame, path) -> None:
    """Write ``summary.csv`` with fixed number formatting (byte-stable)."""
    out = df.copy()
    for col in ("mean", "ci_low", "ci_high"):
        out[col] = out[col].map(format_number)
    out.to_csv(path, index=False, lineterminator="\n")
