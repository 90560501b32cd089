"""Functional: the delayed-discharge payment (law 2017:612) is a transfer between payers, not a resource.

The bed-days of a patient ready for discharge are the region's (the admission row's); from
``discharge_payment_free_days`` after the notice the municipality pays the region per day. The
payment moves cost from one payer to the other: the total cost is the same with or without it,
and region + municipality = total in every case.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.economics import Prices, price_table
from sim.experiments.runner import run_replication
from tests import core_invariants as ci
from tests.conftest import small_scenario

COSTS = ("cost_region_sek", "cost_municipality_sek", "cost_total_sek")


def _run(free_days: float, price: float):
    # Scarce places make long delayed discharges, so the payment is large.
    s = small_scenario(persons=1500, years=1.0, seed=3, hospital={"discharge_payment_free_days": free_days},
                       costs={"delayed_discharge_day": price}, capacity={"short_term_places": 2})
    r = run_replication(s, 0, ("intervention",), keep=True)
    return s, r


@pytest.fixture(scope="module")
def runs():
    return {key: _run(*key) for key in ((3.0, 8700.0), (3.0, 0.0), (0.0, 8700.0))}


def test_payment_moves_cost_between_payers_and_leaves_the_total(runs):
    s, r = runs[(3.0, 8700.0)]
    _, r0 = runs[(3.0, 0.0)]
    m, m0 = r.metrics["intervention"], r0.metrics["intervention"]
    assert m["discharge_payment_sek"] > 0
    assert m0["discharge_payment_sek"] == 0
    # Total cost: the same resource with and without the payment (up to float summation order).
    assert math.isclose(m["cost_total_sek"], m0["cost_total_sek"], rel_tol=1e-12)
    # Each payer's net moves by exactly the transfer.
    assert math.isclose(m["cost_municipality_sek"] - m0["cost_municipality_sek"], m["discharge_payment_sek"],
                        rel_tol=1e-9)
    assert math.isclose(m0["cost_region_sek"] - m["cost_region_sek"], m["discharge_payment_sek"], rel_tol=1e-9)
    for metrics in (m, m0):
        assert math.isclose(metrics["cost_region_sek"] + metrics["cost_municipality_sek"], metrics["cost_total_sek"],
                            rel_tol=1e-12)


def test_payment_rows_pair_up_and_follow_the_free_days(runs):
    for (free, _price), (s, r) in runs.items():
        df = ci.frame(r.tables["intervention"])
        dd = df[df.kind == "delayed_discharge"]
        pay = df[df.kind == "discharge_payment"].reset_index(drop=True)
        got = df[df.kind == "discharge_payment_received"].reset_index(drop=True)
        assert len(dd) > 0
        # One payment pair per delay longer than the free days, of the days beyond them.
        long = dd[dd.duration > free]
        assert len(pay) == len(got) == len(long)
        np.testing.assert_allclose(np.sort(pay.quantity), np.sort(long.duration - free), atol=1e-9)
        np.testing.assert_array_equal(pay[["person", "time", "quantity"]], got[["person", "time", "quantity"]])
        assert set(pay.payer) == {"municipality"} and set(got.payer) == {"region"}
        # Priced: the pair sums to zero, row by row.
        cost = price_table(r.tables["intervention"], Prices.of(s))
        k = df.kind.to_numpy()
        np.testing.assert_allclose(cost[k == "discharge_payment"], -cost[k == "discharge_payment_received"])
        assert (cost[k == "delayed_discharge"] == 0).all()


def test_fewer_free_days_pay_more(runs):
    late = runs[(3.0, 8700.0)][1].metrics["intervention"]["discharge_payment_sek"]
    early = runs[(0.0, 8700.0)][1].metrics["intervention"]["discharge_payment_sek"]
    assert early > late > 0
