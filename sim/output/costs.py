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
