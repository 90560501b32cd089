"""Functional: every results folder explains its event log (data dictionary, warm-up rule).

Tier: functional. The dictionary covers the code's whole vocabulary, is written beside
events.parquet and into its metadata (byte-identical between runs), and reading the measured
period reproduces summary.csv's sums.
"""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.domain.events import DETAILS, KINDS
from sim.engine.recorder import COLUMN_DOC, SCHEMA
from sim.experiments.executor import Executor
from sim.experiments.pipeline import simulate_to_folder
from sim.output.dictionary import (
    DETAIL_DOC,
    DICTIONARY_FILE,
    KIND_DOC,
    META_DICTIONARY,
    META_WARMUP,
    read_measured_events,
)
from sim.output.results import read_events
from tests.conftest import small_scenario


def _run(out):
    s = small_scenario(persons=800, years=0.5, warmup=0.3, replications=2, seed=3)
    simulate_to_folder(s, ("intervention", "person"), out, False, Executor(), command="compare")
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("dd") / "res")


def test_vocabulary_is_documented_whole():
    assert set(KIND_DOC) == set(KINDS)
    assert set(DETAIL_DOC) == set(DETAILS)
    assert set(COLUMN_DOC) == set(SCHEMA.names)
    assert all(all(part for part in doc) for doc in KIND_DOC.values())


def test_dictionary_beside_and_inside_events(folder):
    md = (folder / DICTIONARY_FILE).read_text(encoding="utf-8")
    meta = pq.ParquetFile(folder / "events.parquet").schema_arrow.metadata
    assert meta[META_DICTIONARY].decode() == md
    warmup = 0.3 * 365.25
    assert float(meta[META_WARMUP]) == pytest.approx(warmup)
    assert f"time < {warmup:g}" in md
    for name in (*KINDS, *SCHEMA.names, *[d for d in DETAILS if d]):
        assert f"`{name}`" in md, name
    assert "bed-days" in md and "hours" in md


def test_events_stay_byte_identical_between_runs(folder, tmp_path):
    again = _run(tmp_path / "again")
    for name in ("events.parquet", "summary.csv", DICTIONARY_FILE):
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name


def test_measured_events_give_summary_sums(folder):
    reps = pd.read_csv(folder / "replications.csv")
    measured = read_measured_events(folder, columns=["replication", "paradigm", "kind", "quantity"])
    everything = read_measured_events(folder, include_warmup=True)
    assert len(everything) == len(read_events(folder)) > len(measured)
    adm = measured[measured["kind"] == "admission"]
    bed_days = adm.groupby(["replication", "paradigm"], observed=True)["quantity"].sum()
    for r in reps.itertuples():
        assert bed_days[(r.replication, r.paradigm)] == pytest.approx(r.bed_days * r.person_years / 1000, rel=1e-4)


def test_never_written_kinds_do_not_occur(folder):
    kinds = set(read_events(folder, ["kind"])["kind"].astype(str))
    for k in ("team_discharge", "physician_unlist"):
        assert k not in kinds and "never written" in KIND_DOC[k][0]


def test_events_command_totals_and_export(folder, tmp_path):
    run = CliRunner()
    res = run.invoke(app, ["events", str(folder), "--kind", "admission"])
    assert res.exit_code == 0, res.output
    assert "measured period" in res.output and "bed-days" in res.output
    csv = tmp_path / "adm.csv"
    res = run.invoke(app, ["events", str(folder), "--kind", "admission", "--include-warmup", "--out", str(csv)])
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(csv)
    assert set(rows["kind"]) == {"admission"} and (rows["time"] < 0.3 * 365.25).any()
    assert run.invoke(app, ["events", str(folder), "--out", str(csv)]).exit_code == 2  # no overwrite
    bad = run.invoke(app, ["events", str(folder), "--kind", "admision"])
    assert bad.exit_code == 2 and "admision" in bad.output
