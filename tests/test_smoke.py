"""Functional: the default scenario loads and a small run produces sane metrics."""

from sim.experiments.runner import run_replication
from tests.conftest import small_scenario


def test_default_loads(default_scenario):
    assert default_scenario.population.persons_65plus == 18000


def test_small_run_has_contacts():
    s = small_scenario()
    res = run_replication(s, 0, ("intervention",))
    m = res.metrics["intervention"]
    assert m["admissions"] > 0 and m["bed_days"] > m["admissions"]
    assert m["cost_total_sek"] > 0
