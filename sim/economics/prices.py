"""Unit prices and payer shares, applied to rows that carry quantities.

A row's cost is its quantity times the unit price of its kind (SEK per visit, per bed-day, per
hour; minus the paying side's price for the receiving side of a transfer between payers), except
a concept's staffed time (``fixed_cost`` rows), which costs its provider's yearly price times the
days staffed over 365.25. A concept's home visits cost nothing per row: its
staff is paid by the year. With the scenario's own prices :func:`price_table` gives the
engine's ``cost`` column bit for bit (same operations in the same order).

Payer shares split a provider's cost between the region and the municipality (shared
financing); by default each provider is paid wholly by the payer ``[payers]`` names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sim.care.concepts import REGISTRY
from sim.domain.columns import Chunk, as_chunk
from sim.domain.events import KINDS, PAYERS
from sim.domain.units import DAYS_PER_YEAR
from sim.economics.staff import concept_payer_shares

#: The ``[costs]`` field that prices each kind of row (SEK per unit of its quantity).
PRICE_OF_KIND = {
    "ed_visit": "ed_visit",
    "admission": "bed_day",
    "discharge_payment": "delayed_discharge_day",
    "short_term_care": "short_term_care_day",
    "outpatient_visit": "outpatient_visit",
    "primary_care_visit": "primary_care_visit",
    "home_health_visit": "home_health_visit",
    "home_help": "home_help_hour",
    "special_housing": "special_housing_day",
}
#: Transfers between payers: the receiving side's kind, priced at minus the paying side's price, so
#: that the pair sums to zero in the total and each payer's net includes it.
RECEIVED_OF_KIND = {
    "discharge_payment_received": "delayed_discharge_day",
}
PAID = tuple(p for p in PAYERS if p != "none")
_FIXED_COST = KINDS.index("fixed_cost")


@dataclass(frozen=True)
class Prices:
    """What each row costs and who pays it."""

    per_unit: dict[str, float]  #: kind -> SEK per unit of quantity (kinds not named cost 0)
    per_year: dict[str, float]  #: concept provider -> SEK per staffed year
    shares: dict[str, dict[str, float]] = field(default_factory=dict)  #: provider -> payer -> share

    @classmethod
    def of(cls, scenario, shares: dict[str, dict[str, float]] | None = None) -> Prices:
        """Return the scenario's prices; payer shares from ``[payers]`` unless ``shares`` says otherwise."""
        costs = scenario.costs
        per_unit = {kind: float(getattr(costs, f)) for kind, f in PRICE_OF_KIND.items()}
        per_unit.update({kind: -float(getattr(costs, f)) for kind, f in RECEIVED_OF_KIND.items()})
        per_year = {cls_.provider: float(cls_.staff_cost_per_year(scenario)) for cls_ in REGISTRY.values()}
        payers = scenario.payers
        base = {name: {getattr(payers, name): 1.0} for name in type(payers).model_fields}
        for cls_ in REGISTRY.values():
            base.setdefault(cls_.provider, {cls_.payer: 1.0})
        base.update(concept_payer_shares(scenario))  # joint financing named in a concept's section
        base.update(shares or {})
        return cls(per_unit, per_year, base)


def price_table(table: pa.Table | Chunk, prices: Prices) -> np.ndarray:
    """Return the cost (SEK) of each row of an event-log table (or chunk) at ``prices``."""
    c = as_chunk(table)
    cost = c.column("quantity") * c.lookup("kind", prices.per_unit)
    rows = c.rows_of("kind", KINDS, _FIXED_COST)
    if len(rows):
        per_year = c.lookup("provider", prices.per_year)[rows]
        cost[rows] = per_year * c.column("duration")[rows] / DAYS_PER_YEAR
    return cost


def payer_share(chunk: Chunk, prices: Prices, payer: str) -> np.ndarray:
    """Per row, the share of the row's cost that ``payer`` pays (by provider)."""
    return chunk.lookup("provider", {p: s.get(payer, 0.0) for p, s in prices.shares.items()})


def cost_by_payer(table: pa.Table | Chunk, cost: np.ndarray, prices: Prices, measured: np.ndarray) -> dict[str, float]:
    """Sum ``cost`` over the ``measured`` rows, split between the payers by provider share."""
    c = as_chunk(table)
    out = {}
    for payer in PAID:
        share = payer_share(c, prices, payer)
        w = measured & (share > 0)
        paid, share = cost[w], share[w]  # each selected once
        # A whole share leaves the cost as it is, so the sums match the run's to the bit.
        out[payer] = float((paid * share).sum()) if (share != 1.0).any() else float(paid.sum())
    return out
