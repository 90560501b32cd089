"""Cost concentration as standard output (issue 14): exact shares on a hand-built priced table.

Tier: unit (100 persons with known costs through the summary's accumulator: top 1/5/10 % of each
payer's cost exactly; zero-cost persons padded; fixed team costs nobody's) and property (hypothesis:
top shares rise with the share, lie in [share, 1], and the Lorenz curve is convex and ends at 1).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.economics import Prices
from sim.output.concentration import METRICS, PersonCosts, lorenz_points, top_share
from sim.output.summary import UNITS
from tests.conftest import small_scenario


def _table(person, provider, quantity):
    n = len(person)
    return pa.table({"person": pa.array(person, pa.int64()), "provider": pa.array(provider).dictionary_encode(),
                     "quantity": pa.array(quantity, pa.float64()), "time": pa.array(np.full(n, 5.0))})


def test_top_shares_exact_on_100_persons():
    """Person i (1..100) costs i SEK a region and 2i SEK a municipality; 20 more present persons cost nothing."""
    prices = Prices.of(small_scenario())
    persons = np.arange(100)
    cost_region = persons + 1.0
    cost_muni = 2 * (persons + 1.0)
    region_provider = next(p for p, s in prices.shares.items() if s.get("region", 0) == 1.0)
    muni_provider = next(p for p, s in prices.shares.items() if s.get("municipality", 0) == 1.0)
    table = _table(np.r_[persons, persons, -1], [region_provider] * 100 + [muni_provider] * 100 + [region_provider],
                   np.zeros(201))
    cost = np.r_[cost_region, cost_muni, 1e9]  # the last row is a team's fixed cost: nobody's
    acc = PersonCosts()
    acc.add(table.slice(0, 150), cost[:150], prices, np.ones(150, bool))  # in two chunks
    acc.add(table.slice(150), cost[150:], prices, np.ones(51, bool))
    shares = acc.shares(120)
    # 120 persons: the top 1 % is 2 persons (ceil 1.2), 5 % is 6, 10 % is 12
    for top, k in ((1, 2), (5, 6), (10, 12)):
        best = np.arange(100, 100 - k, -1).sum()
        assert shares[f"top{top}_cost_region"] == pytest.approx(best / 5050)
        assert shares[f"top{top}_cost_municipality"] == pytest.approx(2 * best / (2 * 5050))
        assert shares[f"top{top}_cost_total"] == pytest.approx(3 * best / (3 * 5050))
    assert set(shares) == set(METRICS) and all(m in UNITS for m in METRICS)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=300))
def test_top_share_and_lorenz_properties(costs):
    c = np.array(costs)
    if c.sum() <= 0:
        assert np.isnan(top_share(c, 0.05))
        return
    a, b, d = (top_share(c, s) for s in (0.01, 0.05, 0.10))
    assert a <= b + 1e-12 <= d + 2e-12 and d <= 1 + 1e-12
    assert b >= min(1.0, np.ceil(0.05 * len(c) - 1e-9) / len(c)) - 1e-9  # at least their head count's share
    pts = lorenz_points(c, 21)["cost_share"].to_numpy()
    assert pts[0] == 0 and pts[-1] == pytest.approx(1.0)
    assert (np.diff(pts) >= -1e-12).all() and (np.diff(pts, 2) >= -1e-9).all()  # rising and convex
