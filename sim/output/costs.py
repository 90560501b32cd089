"""What a row of the event log costs: the one place the timeline, the report and validation read costs.

The event log's rows carry quantities; :func:`read_priced_events` adds a ``cost`` column (SEK)
at the run's own prices (:mod:`sim.economics`). The service concepts' teams are
booked as fixed yearly costs (``fixed_cost`` rows, person -1), so their home visits cost 0 SEK
per row; to show what one person's care cost, :func:`team_cost_per_enrolled_day` ALLOCATES each
team's cost over the person-days enrolled with it in that replication and paradigm. This is an
allocation, not a price: a person enrolled for a month carries a month's share of the team.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.economics import Prices, price_table
from sim.economics.staff import REFUSED, enrolment_kinds
from sim.output.results import manifest_scenario, read_events, read_manifest

#: The columns a row's price depends on.
PRICED_BY = ["kind", "provider", "quantity", "duration"]


def price_events(ev: pd.DataFrame, prices: Prices) -> pd.DataFrame:
    """Return ``ev`` with a ``cost`` column (SEK) at ``prices``; it needs the :data:`PRICED_BY` columns."""
    table = pa.Table.from_pandas(ev[PRICED_BY], preserve_index=False)
    return ev.assign(cost=price_table(table, prices))


def read_priced_events(folder: Path | str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read the event log of a results folder with a ``cost`` column priced at the run's own prices.

    ``columns``: as for :func:`~sim.output.results.read_events`, and ``cost`` may be one of them.
    Raises :class:`~sim.output.results.ResultsError` as the readers do.
    """
    scenario = manifest_scenario(read_manifest(folder), folder)
    wanted = None if columns is None else [c for c in columns if c != "cost"]
    read = None if wanted is None else list(dict.fromkeys([*wanted, *PRICED_BY]))
    ev = price_events(read_events(folder, read), Prices.of(scenario))
    return ev if columns is None else ev[[*wanted, "cost"] if "cost" in columns else wanted]

#: The enrolment kind whose person-days carry each team's yearly cost (from the registered concepts).
ENROLMENT_KIND = enrolment_kinds()
_REFUSED = REFUSED


def team_cost_per_enrolled_day(ev: pd.DataFrame) -> pd.DataFrame:
    """SEK per enrolled person-day of each team, one replication and paradigm at a time.

    ``ev``: event rows (strings, not categories, in ``kind``/``provider``/``detail``) of any
    replications and paradigms, including the ``fixed_cost`` rows. Returns columns
    ``replication, paradigm, provider, payer, team_cost, enrolled_days, sek_per_day``: the
    team's fixed cost over the run divided by the person-days enrolled with it over the run.
    """
    cols = ["replication", "paradigm", "provider", "payer", "team_cost", "enrolled_days", "sek_per_day"]
    fixed = ev[ev["kind"] == "fixed_cost"]
    if fixed.empty:
        return pd.DataFrame(columns=cols)
    cost = fixed.groupby(["replication", "paradigm", "provider", "payer"], observed=True).agg(
        team_cost=("cost", "sum"), horizon=("duration", "sum")).reset_index()
    kind_to_provider = {k: p for p, k in ENROLMENT_KIND.items()}
    enrol = ev[ev["kind"].isin(list(kind_to_provider)) & ~ev["detail"].isin(_REFUSED)]
    days = (enrol.assign(provider=enrol["kind"].map(kind_to_provider))
            .groupby(["replication", "paradigm", "provider"], observed=True)["duration"].sum()
            .rename("enrolled_days").reset_index())
    out = cost.merge(days, on=["replication", "paradigm", "provider"], how="left").fillna({"enrolled_days": 0.0})
    out["sek_per_day"] = (out["team_cost"] / out["enrolled_days"]).where(out["enrolled_days"] > 0, 0.0)
    return out[cols]


def person_costs(rows: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with ``cost`` (SEK) including each team's allocated share; ``allocated`` marks it.

    Enrolment rows get ``duration`` (days enrolled, already cut to the window) times the team's
    SEK per enrolled day and the team's payer; every other row keeps its contact price.
    """
    out = rows.copy()
    out["allocated"] = False
    if rates.empty:
        return out
    for r in rates.itertuples(index=False):
        kind = ENROLMENT_KIND.get(r.provider)
        hit = (out["paradigm"] == r.paradigm) & (out["kind"] == kind) & ~out["detail"].isin(_REFUSED)
        if "replication" in out.columns:
            hit &= out["replication"] == r.replication
        out.loc[hit, "cost"] = out.loc[hit, "duration"] * r.sek_per_day
        out.loc[hit, "payer"] = r.payer
        out.loc[hit, "allocated"] = True
    return out


#: Rows that are payments between the payers, not care (left out of a group's care cost).
_TRANSFERS = ("discharge_payment", "discharge_payment_received")


def enrolled_group_costs(ev: pd.DataFrame, warmup: float, horizon: float) -> pd.DataFrame:
    """Return what the persons enrolled with each team cost, team included, against today's care.

    ``ev``: the priced event log of a ``compare`` run (both care systems). For each team and
    replication, the enrolments of person-driven care cut to the measured period ``[warmup,
    horizon)`` are the group's windows; the cost of each care system's rows of the same persons
    inside the same windows (contacts on their day, stays and routine volume pro rata; payments
    between payers left out) is its care cost, and the team's staff cost in the period is
    allocated over the enrolled days (:mod:`sim.economics.staff`). Returns one row per
    replication and team: ``replication, provider, enrolled_days, today_sek, care_sek, team_sek``
    (SEK over the period; per day: divide by ``enrolled_days``).
    """
    cols = ["replication", "provider", "enrolled_days", "today_sek", "care_sek", "team_sek"]
    kind, paradigm = ev["kind"].astype(str), ev["paradigm"].astype(str)
    detail, provider = ev["detail"].astype(str), ev["provider"].astype(str)
    person_run = (paradigm == "person").to_numpy()
    care = ev[(ev["person"] >= 0).to_numpy() & ~kind.isin(_TRANSFERS).to_numpy() & (ev["cost"] != 0).to_numpy()]
    care = care.assign(paradigm=paradigm[care.index])
    rows = []
    for prov, k in ENROLMENT_KIND.items():
        enr = ev[person_run & (kind == k).to_numpy() & ~detail.isin(_REFUSED).to_numpy()]
        s = enr["time"].clip(lower=warmup)
        e = (enr["time"] + enr["duration"]).clip(upper=horizon)
        win = pd.DataFrame({"replication": enr["replication"].to_numpy(), "person": enr["person"].to_numpy(),
                            "s": s.to_numpy(), "e": e.to_numpy()})
        win = win[win["e"] > win["s"]]
        fixed = ev[person_run & (kind == "fixed_cost").to_numpy() & (provider == prov).to_numpy()]
        inside = (fixed["time"] + fixed["duration"]).clip(upper=horizon) - fixed["time"].clip(lower=warmup)
        share = (inside.clip(lower=0) / fixed["duration"]).where(fixed["duration"] > 0, 0.0)
        team = (fixed["cost"] * share).groupby(fixed["replication"].to_numpy()).sum()
        for rep, w in win.groupby("replication"):
            days = float((w["e"] - w["s"]).sum())
            out = {"replication": int(rep), "provider": prov, "enrolled_days": days,
                   "team_sek": float(team.get(rep, 0.0))}
            mine = care[(care["replication"] == rep).to_numpy() & care["person"].isin(w["person"]).to_numpy()]
            m = mine[["paradigm", "person", "time", "duration", "cost"]].merge(w[["person", "s", "e"]], on="person")
            t0, dur = m["time"].to_numpy(), m["duration"].to_numpy()
            span = dur > 0
            over = np.clip(np.minimum(t0 + dur, m["e"].to_numpy()) - np.maximum(t0, m["s"].to_numpy()), 0, None)
            frac = np.where(span, over / np.where(span, dur, 1.0),
                            ((t0 >= m["s"].to_numpy()) & (t0 < m["e"].to_numpy())).astype(float))
            got = (m["cost"].to_numpy() * frac)
            out["today_sek"] = float(got[(m["paradigm"] == "intervention").to_numpy()].sum())
            out["care_sek"] = float(got[(m["paradigm"] == "person").to_numpy()].sum())
            rows.append(out)
    return pd.DataFrame(rows, columns=cols)
