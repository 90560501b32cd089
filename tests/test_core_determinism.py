"""Functional: the same scenario and seed give byte-identical results; another seed does not.

Runs the whole pipeline (:func:`sim.experiments.pipeline.simulate_to_folder`) twice in one process with
the serial executor, so any hidden state (a global random stream, a dict or set order, a
cache kept between runs, a time stamp in a result file) would show as a differing byte.
Executors against each other are in ``test_executors.py``.
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.care import CARE_SYSTEMS
from sim.experiments.executor import Executor
from sim.experiments.pipeline import simulate_to_folder
from sim.experiments.runner import run_replication
from tests.conftest import small_scenario

PARADIGMS = tuple(CARE_SYSTEMS)
FILES = ("summary.csv", "replications.csv", "events.parquet")


def _scenario(seed=7):
    # Scarce beds and places, so that queues (and their tie-breaking) are part of what must repeat.
    return small_scenario(persons=600, years=0.5, warmup=0.25, seed=seed, replications=2,
                          capacity={"beds": 3, "short_term_places": 2})


def _run(folder, scenario):
    simulate_to_folder(scenario, PARADIGMS, folder, False, Executor())
    return {name: (folder / name).read_bytes() for name in FILES}


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("a") / "out", _scenario())


def test_same_seed_same_bytes(first, tmp_path):
    second = _run(tmp_path / "out", _scenario())
    for name in FILES:
        assert first[name] == second[name], name


def test_results_are_not_empty(first):
    events = pq.read_table(pa.BufferReader(first["events.parquet"]))
    assert set(events.column("paradigm").to_pylist()) == set(PARADIGMS)
    assert sorted(set(events.column("replication").to_pylist())) == [0, 1]
    summary = pd.read_csv(io.BytesIO(first["summary.csv"]))
    adm = summary[(summary.metric == "admissions") & summary.paradigm.isin(PARADIGMS)]
    assert len(adm) == len(PARADIGMS) and (adm["mean"] > 0).all()


def test_other_seed_other_results(first, tmp_path):
    # The seed is really used: a different one changes the event log and the summary.
    other = _run(tmp_path / "out", _scenario(seed=8))
    assert other["events.parquet"] != first["events.parquet"]
    assert other["summary.csv"] != first["summary.csv"]


def test_replication_independent_of_what_ran_before():
    # A replication is a pure function of (scenario, replication number): run alone, or after
    # others, or with the other care system left out, it gives the same rows.
    s = _scenario()
    alone = run_replication(s, 1, PARADIGMS, keep=True)
    run_replication(s, 0, PARADIGMS, keep=True)
    again = run_replication(s, 1, PARADIGMS, keep=True)
    single = run_replication(s, 1, PARADIGMS[:1], keep=True)
    for p in PARADIGMS:
        assert alone.tables[p].equals(again.tables[p]), p
        assert alone.metrics[p] == again.metrics[p], p
    assert single.tables[PARADIGMS[0]].equals(alone.tables[PARADIGMS[0]])
    # and the replications differ from each other
    other = run_replication(s, 0, PARADIGMS[:1], keep=True)
    assert not other.tables[PARADIGMS[0]].equals(single.tables[PARADIGMS[0]])
