"""Cost concentration among persons: top-share and Lorenz curve of each payer's cost.

Costs are per person over the measured period, priced after the run (the rows carry quantities;
:mod:`sim.economics` turns them into each payer's cost). Every person present at some time in the
measured period counts, zero-cost persons included; the teams' fixed yearly costs follow the
persons enrolled with them (each team's cost over the period over its enrolled person-days, times
the person's enrolled days: :class:`sim.economics.staff.TeamAllocation`). The shares are standard
output of ``summary.csv`` (``top{1,5,10}_cost_{region,municipality,total}``) and of ``narvard validate``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.domain.columns import Chunk, as_chunk
from sim.economics.prices import PAID, Prices, payer_share

PAYER_GROUPS = ("region", "municipality", "total")
TOP_SHARES = (0.01, 0.05, 0.10)


def metric_name(share: float, payer: str) -> str:
    """Summary metric: the costliest ``share`` of persons' share of ``payer``'s cost (fits the console's 25 columns)."""
    return f"top{round(100 * share)}_cost_{payer}"


METRICS = tuple(metric_name(s, p) for p in PAYER_GROUPS for s in TOP_SHARES)


def top_shares(costs: np.ndarray, shares: tuple[float, ...]) -> list[float]:
    """Shares of the total cost used by the costliest ``shares`` of persons (rounded up to whole persons).

    NaN when there is nobody or no cost. The costs are sorted once for all the shares.
    """
    costs = np.asarray(costs, dtype=float)
    total = costs.sum()
    if len(costs) == 0 or total <= 0:
        return [float("nan")] * len(shares)
    descending = np.sort(costs)[::-1]
    return [float(descending[:max(1, math.ceil(s * len(costs) - 1e-9))].sum() / total) for s in shares]


def top_share(costs: np.ndarray, share: float) -> float:
    """Share of the total cost used by the costliest ``share`` of persons (:func:`top_shares`)."""
    return top_shares(costs, (share,))[0]


def lorenz_points(costs: np.ndarray, points: int = 101) -> pd.DataFrame:
    """Lorenz curve: the cumulative share of cost held by the least costly share of persons."""
    c = np.sort(np.asarray(costs, dtype=float))
    total = c.sum()
    pop = np.linspace(0.0, 1.0, points)
    if len(c) == 0 or total <= 0:
        return pd.DataFrame({"population_share": pop, "cost_share": np.full(points, np.nan)})
    cum = np.concatenate([[0.0], np.cumsum(c)]) / total
    x = np.arange(len(c) + 1) / len(c)
    return pd.DataFrame({"population_share": pop, "cost_share": np.interp(pop, x, cum)})


def concentration(per_person: pd.DataFrame) -> dict[str, float]:
    """Top 1, 5 and 10 % shares of each payer's cost (columns region, municipality, total)."""
    out = {}
    for p in PAYER_GROUPS:
        for s, v in zip(TOP_SHARES, top_shares(per_person[p].to_numpy(), TOP_SHARES), strict=True):
            out[metric_name(s, p)] = v
    return out


class PersonCosts:
    """Each person's cost by payer over the measured period, summed over event-log chunks."""

    def __init__(self) -> None:
        self.cost = {payer: np.zeros(0) for payer in PAID}

    def add(self, table: pa.Table | Chunk, cost: np.ndarray, prices: Prices, measured: np.ndarray) -> None:
        """Add the ``measured`` rows of one chunk, priced at ``cost`` (SEK a row)."""
        c = as_chunk(table)
        person = c.column("person").astype(np.int64, copy=False)
        rows = np.flatnonzero(measured & (person >= 0))  # selected once for every payer's columns
        if not len(rows):
            return
        person, cost = person[rows], cost[rows]
        n = int(person.max()) + 1
        for payer in PAID:
            share = payer_share(c, prices, payer)
            paid = np.bincount(person, weights=cost * share[rows], minlength=n)
            old = self.cost[payer]
            if len(old) < n:
                old = np.concatenate([old, np.zeros(n - len(old))])
            old[:n] += paid
            self.cost[payer] = old

    def shares(self, persons: int, allocated: dict[str, np.ndarray] | None = None) -> dict[str, float]:
        """Top shares of each payer's cost among ``persons`` present in the measured period.

        Persons without a row have no cost: the costs of those with rows are padded with zeros
        to ``persons``. ``allocated``: more cost per person by payer (the teams' allocated cost).
        """
        extra = allocated or {}
        n = max([len(c) for c in self.cost.values()] + [len(c) for c in extra.values()])
        by_payer = {p: np.concatenate([c, np.zeros(n - len(c))]) for p, c in self.cost.items()}
        for p, c in extra.items():
            if p in by_payer and len(c):
                by_payer[p][:len(c)] += c
        by_payer["total"] = sum(by_payer[p] for p in PAID)
        some = np.flatnonzero(np.any([by_payer[p] != 0 for p in PAID], axis=0)) if n else np.zeros(0, np.int64)
        pad = max(int(persons) - len(some), 0)
        frame = pd.DataFrame({p: np.concatenate([c[some], np.zeros(pad)]) for p, c in by_payer.items()})
        return concentration(frame)
