"""The payer ledger by year (issue 18): costs, investment, savings, net, and what moves between payers.

Each payer's cost under both care systems, the investment, the savings, the net and the
cumulative net, and the transfers between the payers.

Prices are applied here, after the run, to rows summed by year (``kind``, ``provider``,
``quantity``, ``duration``). Three items per payer and year:

- ``care``: what the care itself costs (contacts, stays, visits, hours), booked to the payer of
  its provider (``Prices.shares``);
- ``teams``: the concepts' staff (``fixed_cost`` rows): the investment, with implementation support;
- ``transfer``: money that only moves between the payers, paid (+) by one and received (-) by
  the other, so that it cancels in the total: the municipality's payment for delayed discharges
  (``discharge_payment`` rows and their ``discharge_payment_received`` side, priced by
  :mod:`sim.economics.prices`; the bed-days themselves are the region's care cost) and joint
  financing (a share of a provider's cost the municipalities pay the region, ``joint``).

Region + municipality = total, every year and over the horizon, by construction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.domain.units import DAYS_PER_YEAR
from sim.economics.prices import Prices

PAYERS = ("region", "municipality")
#: Kinds that are payments between the payers (law 2017:612's delayed-discharge payment): the paying
#: side priced positive to its payer, the receiving side negative to the other (sim.economics.prices).
TRANSFER_KINDS = ("discharge_payment", "discharge_payment_received")
LEDGER_ITEMS = ("cost_today", "cost_reform", "investment", "saving", "net", "cumulative_net")


def price_rows(rows: pd.DataFrame, prices: Prices, joint: dict[str, float] | None = None) -> pd.DataFrame:
    """Cost by payer and item of each summed row: the rows' keys plus ``payer``, ``item``, ``sek``."""
    per_unit = rows["kind"].map(prices.per_unit).fillna(0.0).to_numpy()
    cost = rows["quantity"].to_numpy() * per_unit
    fixed = (rows["kind"] == "fixed_cost").to_numpy()
    per_year = rows["provider"].map(prices.per_year).fillna(0.0).to_numpy()
    cost = np.where(fixed, per_year * rows["duration"].to_numpy() / DAYS_PER_YEAR, cost)
    transfer = rows["kind"].isin(TRANSFER_KINDS).to_numpy()
    item = np.where(fixed, "teams", np.where(transfer, "transfer", "care"))
    keys = rows.drop(columns=["kind", "provider", "detail", "n", "quantity", "duration"], errors="ignore")
    parts = []
    for payer in PAYERS:
        share = rows["provider"].map(lambda p, y=payer: prices.shares.get(p, {}).get(y, 0.0)).to_numpy()
        parts.append(keys.assign(payer=payer, item=item, sek=cost * share))
    for provider, share in (joint or {}).items():
        w = ((rows["provider"] == provider) & ~transfer).to_numpy()
        parts.append(keys.assign(payer="municipality", item="transfer", sek=np.where(w, share * cost, 0.0)))
        parts.append(keys.assign(payer="region", item="transfer", sek=np.where(w, -share * cost, 0.0)))
    return pd.concat(parts, ignore_index=True)


def payer_costs(priced: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum priced rows by ``by`` + paradigm, payer and item into columns care, teams, transfer (SEK)."""
    out = priced.groupby([*by, "paradigm", "payer", "item"], observed=True)["sek"].sum().unstack("item", fill_value=0.0)
    for item in ("care", "teams", "transfer"):
        if item not in out:
            out[item] = 0.0
    return out[["care", "teams", "transfer"]].reset_index()


def ledger(costs: pd.DataFrame, support: pd.DataFrame | None, by: list[str]) -> pd.DataFrame:
    """Return the ledger per ``by`` (which must end in ``year``) and payer, the payer ``total`` added.

    ``costs``: from :func:`payer_costs`. ``support``: implementation support by ``by`` and payer
    (column ``sek``), or None. Columns: :data:`LEDGER_ITEMS` (SEK); ``cumulative_net`` runs over
    the years within each group of ``by`` less ``year``.
    """
    cols = ["care", "teams", "transfer"]
    wide = costs.pivot_table(index=[*by, "payer"], columns="paradigm", values=cols, aggfunc="sum", fill_value=0.0)
    out = pd.DataFrame(index=wide.index)
    def get(c, p):
        return wide[(c, p)] if (c, p) in wide.columns else 0.0

    out["cost_today"] = get("care", "intervention") + get("transfer", "intervention") + get("teams", "intervention")
    out["cost_reform"] = get("care", "person") + get("transfer", "person")
    out["investment"] = get("teams", "person")
    out = out.reset_index()
    if support is not None and len(support):
        sup = support.groupby([*by, "payer"], observed=True)["sek"].sum().rename("support").reset_index()
        out = out.merge(sup, on=[*by, "payer"], how="left").fillna({"support": 0.0})
        out["investment"] = out["investment"] + out["support"]
        out = out.drop(columns="support")
    total = out.groupby(by, observed=True)[["cost_today", "cost_reform", "investment"]].sum().reset_index()
    out = pd.concat([out, total.assign(payer="total")], ignore_index=True)
    out["saving"] = out["cost_today"] - out["cost_reform"]
    out["net"] = out["saving"] - out["investment"]
    groups = [c for c in by if c != "year"] + ["payer"]
    out = out.sort_values([*groups, "year"]).reset_index(drop=True)
    out["cumulative_net"] = out.groupby(groups, observed=True)["net"].cumsum()
    return out


def break_even_year(cumulative: pd.Series) -> float:
    """First year (1-based) from which the cumulative net stays at or above zero; NaN if it does not.

    ``cumulative``: indexed by year, in order.
    """
    ok = (cumulative >= 0).to_numpy()
    years = cumulative.index.to_numpy()
    for i in range(len(ok)):
        if ok[i:].all():
            return float(years[i])
    return float("nan")
