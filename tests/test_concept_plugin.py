"""Functional: a service concept is a plug-in (one module plus its scenario section).

The dummy concept of ``tests/dummy_concept.py`` is registered for each test and removed after
it; the tests show it validated, routed, recorded, summarised, switched off and active only
over its window, with nothing else in the package edited for it.
"""


import numpy as np
import pytest

from sim.care.concepts import REGISTRY, unregister
from sim.config import ScenarioError
from sim.domain.events import DETAILS, KINDS, PROVIDERS
from sim.domain.units import DAYS_PER_YEAR
from sim.economics import Prices
from sim.experiments.runner import run_replication
from sim.experiments.switch_off import variants
from sim.output.costs import price_events
from tests.conftest import DUMMY_SECTION as SECTION
from tests.conftest import small_scenario


def _scenario(**section):
    return small_scenario(persons=2000, years=1.5, concepts={"dummy_team": {**SECTION, **section}})


def _events(scenario, paradigm="person"):
    r = run_replication(scenario, 0, ("intervention", "person"), keep=True)
    e = price_events(r.tables[paradigm].to_pandas(), Prices.of(scenario))  # priced after the run
    for c in ("kind", "detail", "provider", "payer"):
        e[c] = e[c].astype(str)
    return e, r.metrics


def test_registered_concept_is_a_scenario_section(dummy):
    assert list(REGISTRY)[-1] == "dummy_team"
    with pytest.raises(ScenarioError, match=r"concepts\.dummy_team: missing field"):
        small_scenario()
    with pytest.raises(ScenarioError, match=r"concepts\.dummy_team\.prevent_shar: unknown field"):
        small_scenario(concepts={"dummy_team": {**SECTION, "prevent_shar": 0.1}})
    with pytest.raises(ScenarioError, match=r"concepts\.dummy_team: .*end_day must be after start_day"):
        _scenario(start_day=100.0, end_day=50.0)


def test_unregistered_concept_leaves_no_trace(dummy):
    unregister("dummy_team")
    assert "dummy_team" not in REGISTRY
    assert "dummy_enrol" not in KINDS and "dummy_team" not in PROVIDERS and "dummy_home" not in DETAILS
    with pytest.raises(ScenarioError, match=r"concepts\.dummy_team: unknown field"):
        small_scenario(concepts={"dummy_team": SECTION})


def test_dummy_routed_recorded_summarised(dummy):
    e, metrics = _events(_scenario())
    enrol = e[e["kind"] == "dummy_enrol"]
    assert len(enrol) > 0 and (enrol["provider"] == "dummy_team").all()
    # Routed: it decides first for its members; half their deteriorations are prevented.
    prevented = e[(e["kind"] == "dummy_visit") & (e["detail"] == "prevented")]
    assert len(prevented) > 0 and prevented["person"].isin(enrol["person"]).all()
    # Recorded: its routine visits and its staff cost, paid by the payer it declares.
    visits = e[(e["kind"] == "dummy_visit") & (e["detail"] == "routine")]
    assert visits["quantity"].sum() > 0
    fixed = e[(e["kind"] == "fixed_cost") & (e["provider"] == "dummy_team")]
    horizon = (0.5 + 1.5) * DAYS_PER_YEAR
    assert fixed["duration"].sum() == pytest.approx(horizon)
    assert fixed["cost"].sum() == pytest.approx(SECTION["cost_per_year"] * horizon / DAYS_PER_YEAR)
    assert (fixed["payer"] == "municipality").all()
    # Summarised: its declared metric, zero under today's care.
    assert metrics["person"]["dummy_team_caseload"] > 0
    assert metrics["intervention"]["dummy_team_caseload"] == 0


def test_dummy_switched_off(dummy):
    s = _scenario()
    vs = variants(s)
    assert "without dummy_team" in vs
    off = vs["without dummy_team"]
    assert not off.concepts.dummy_team.enabled and off.concepts.mobile_team.enabled == s.concepts.mobile_team.enabled
    e, metrics = _events(off)
    assert not e["kind"].isin(["dummy_enrol", "dummy_visit"]).any()
    assert not (e["provider"] == "dummy_team").any()
    assert metrics["person"]["dummy_team_caseload"] == 0
    # Switched off, the plug-in leaves the run as it is without the plug-in, row for row.
    unregister("dummy_team")
    e_without, _ = _events(small_scenario(persons=2000, years=1.5))
    assert len(e) == len(e_without) > 0
    assert e.equals(e_without)


def test_dummy_active_only_in_its_window(dummy):
    start, end = 300.0, 500.0
    e, _ = _events(_scenario(start_day=start, end_day=end))
    enrol = e[e["kind"] == "dummy_enrol"]
    assert len(enrol) > 0
    assert (enrol["time"] >= start).all()
    assert np.all(enrol["time"] + enrol["duration"] <= end + 1e-9)
    assert (enrol.loc[enrol["time"] + enrol["duration"] >= end - 1e-9, "detail"] == "censored").any()
    acted = e[(e["kind"] == "dummy_visit") & (e["detail"] == "prevented")]
    assert len(acted) > 0 and acted["time"].between(start, end).all()
    fixed = e[(e["kind"] == "fixed_cost") & (e["provider"] == "dummy_team")]
    assert fixed["time"].min() == start
    assert fixed["duration"].sum() == pytest.approx(end - start)
