"""Staff pricing of the service concepts (issue 15): who pays a concept, what an enrolled day costs, nurse FTE.

A concept's staff are paid by the year (``fixed_cost`` rows, priced at its staff table's
cost, :meth:`sim.care.concepts.base.StaffedEnrolment.staff_cost_per_year`). This module adds,
after the run:

- the concepts' joint financing (``payer_shares`` in a concept's section: the home-care
  physician is paid by primary care and the municipality together);
- the cost that follows the person: each team's staff cost over a period divided by the
  person-days enrolled with it in that period (SEK per enrolled day), and each person's share
  of it (their enrolled days times that rate), so that per-person costs (cost concentration,
  the timeline) include the teams (:class:`TeamAllocation`). This is an allocation of fixed
  yearly costs, not a price: the team costs the same whether its places are used or not;
- home health nurse time in full-time equivalents (the time freed by team collaboration).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sim.care.concepts import REGISTRY
from sim.domain.columns import Chunk, as_chunk
from sim.domain.events import DETAILS, KINDS, PR, PROVIDERS, D, K
from sim.domain.units import DAYS_PER_WEEK, DAYS_PER_YEAR

#: Rows of an enrolment kind that are refusals, not enrolments (no days, no cost).
REFUSED = ("full",)


def concept_payer_shares(scenario) -> dict[str, dict[str, float]]:
    """Return provider -> payer -> share for the concepts whose section names ``payer_shares`` (joint financing)."""
    out = {}
    for name, cls in REGISTRY.items():
        shares = getattr(getattr(scenario.concepts, name), "payer_shares", None)
        if shares:
            out[cls.provider] = {payer: float(v) for payer, v in shares.items()}
    return out


def enrolment_kinds() -> dict[str, str]:
    """Return provider -> the enrolment kind whose person-days carry its staff cost (registered concepts)."""
    return {cls.provider: cls.kind for cls in REGISTRY.values() if getattr(cls, "kind", "")}


def staff_cost_per_enrolled_day(scenario, name: str, capacity: int) -> float:
    """SEK per person-day of a concept whose places are all used: its yearly cost over capacity x 365.25 days."""
    cls = REGISTRY[name]
    return cls.staff_cost_per_year(scenario) / (capacity * DAYS_PER_YEAR) if capacity else 0.0


def nurse_fte(hours_per_year: float, scenario) -> float:
    """Full-time home health nurses that ``hours_per_year`` hours a year make (FTE; ``[capacity]`` week)."""
    week = scenario.capacity.nurse_hours_per_week
    return hours_per_year / (week * DAYS_PER_YEAR / DAYS_PER_WEEK) if week else 0.0


class TeamAllocation:
    """Each team's staff cost and enrolled person-days over ``[warmup, horizon)``, summed over event-log chunks.

    ``per_year``: provider -> SEK per staffed year (:attr:`sim.economics.prices.Prices.per_year`).
    Staffed time counts where a ``fixed_cost`` row overlaps the period (pro rata), enrolled
    time where an enrolment row (not a refusal) does.
    """

    def __init__(self, warmup: float, horizon: float, per_year: dict[str, float]):
        self.warmup, self.horizon = warmup, horizon
        self.kinds = enrolment_kinds()
        self.per_year = {p: float(per_year.get(p, 0.0)) for p in self.kinds}
        self.cost = dict.fromkeys(self.kinds, 0.0)
        self.days = dict.fromkeys(self.kinds, 0.0)
        self.person_days: dict[str, np.ndarray] = {p: np.zeros(0) for p in self.kinds}
        self._fixed = K["fixed_cost"]
        self._refused = [D[d] for d in REFUSED]

    def _overlap(self, t0: np.ndarray, dur: np.ndarray) -> np.ndarray:
        return np.clip(np.minimum(t0 + dur, self.horizon) - np.maximum(t0, self.warmup), 0.0, None)

    def add(self, table: pa.Table | Chunk) -> None:
        """Add one chunk of rows.

        Each team's rows are taken from the chunk's rows of their kind (:meth:`TableChunk.rows_of`,
        indices in row order): the same rows in the same order as masks over the whole chunk.
        """
        c = as_chunk(table)
        if c.num_rows == 0:
            return
        time = c.column("time")
        dur = c.column("duration")
        fixed = c.rows_of("kind", KINDS, self._fixed)
        provider = c.codes("provider", PROVIDERS) if len(fixed) else None
        detail = None
        for prov, k in self.kinds.items():
            if provider is not None:
                f = fixed[provider[fixed] == PR[prov]]
                if len(f):
                    self.cost[prov] += self.per_year[prov] * float(self._overlap(time[f], dur[f]).sum()) / DAYS_PER_YEAR
            e = c.rows_of("kind", KINDS, K[k])
            if not len(e):
                continue
            if detail is None:
                detail = c.codes("detail", DETAILS)
            e = e[~np.isin(detail[e], self._refused)]
            days = self._overlap(time[e], dur[e])
            if not days.any():
                continue
            self.days[prov] += float(days.sum())
            person = c.column("person")[e].astype(np.int64)
            add = np.bincount(person, weights=days)
            old = self.person_days[prov]
            if len(old) < len(add):
                old = np.concatenate([old, np.zeros(len(add) - len(old))])
            old[:len(add)] += add
            self.person_days[prov] = old

    def rates(self) -> dict[str, float]:
        """SEK per enrolled person-day of each team (0 where nobody was enrolled)."""
        return {p: self.cost[p] / self.days[p] if self.days[p] > 0 else 0.0 for p in self.kinds}

    def person_costs(self, shares: dict[str, dict[str, float]], payers: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Each person's allocated team cost by payer (SEK): enrolled days x the team's rate x the payer's share."""
        rates = self.rates()
        n = max((len(v) for v in self.person_days.values()), default=0)
        out = {payer: np.zeros(n) for payer in payers}
        for prov, days in self.person_days.items():
            if not len(days) or not rates[prov]:
                continue
            for payer in payers:
                share = shares.get(prov, {}).get(payer, 0.0)
                if share:
                    out[payer][:len(days)] += days * rates[prov] * share
        return out
