"""One model evaluation: paired replications reduced to their figures, in memory (metrics-only mode).

For calibration, sensitivity analysis and sweeps, which need thousands of evaluations::

    from sim.experiments.evaluate import evaluate
    out = evaluate(scenario, [0, 1, 2], targets)        # metrics_only=True by default
    out["metrics"]      # per replication and care system: the summary metrics (replications.csv rows)
    out["summary"]      # summary.csv rows: means and 95 % intervals, paired differences
    out["designs"]      # per target: per-replication naive / causal / counterfactual figures
    out["measures"]     # measures.csv rows (intervals over the replications)

In metrics-only mode no event log is written or read back: the recorder hands each chunk of
rows to the summary's accumulators and keeps, as its structured arrays of integer codes, only
the rows of the kinds the measurement designs read; the designs then run on those codes. The
result is a small dict of plain Python values (lists, dicts, floats), so a task on a Dask
worker returns kilobytes, not an event log. Its figures are those of a results folder
(``narvard compare`` then ``narvard measure``) of the same scenario and replications, to the
bit (tests/test_evaluate.py); ``metrics_only=False`` takes the old way through a temporary
Parquet file per replication and gives the same figures.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.scenario import Scenario
from sim.domain.events import K
from sim.engine.recorder import ROW_DTYPE
from sim.experiments.runner import ReplicationResult, metrics_frame, run_replication
from sim.measure.designs import EVENT_COLUMNS
from sim.measure.designs import PARADIGMS as DESIGN_PARADIGMS
from sim.measure.report import measure_table, needed_kinds, per_replication, read_needed_events
from sim.measure.targets import TargetFile
from sim.output.summary import paired_differences, summarise

PARADIGMS = ("intervention", "person")


def summary_table(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``summary.csv`` rows from per-replication metrics per care system (paired differences with two)."""
    paradigms = list(frames)
    summary = pd.concat([summarise(frames[p], p) for p in paradigms], ignore_index=True)
    if len(paradigms) == 2:
        summary = pd.concat([summary, paired_differences(frames[paradigms[0]], frames[paradigms[1]])],
                            ignore_index=True)
    return summary


def coded_rows(results: Sequence[ReplicationResult], paradigms: Sequence[str]) -> pd.DataFrame:
    """Return the kept rows of ``results`` as an event frame of codes (:data:`sim.measure.designs.EVENT_COLUMNS`).

    Rows in the order of a results folder's event log: replication, then care system, then as recorded.
    """
    parts = []
    for res in results:
        for p in paradigms:
            chunks = res.rows[p] if res.rows else []
            rows = np.concatenate(chunks) if chunks else np.empty(0, ROW_DTYPE)
            n = len(rows)
            parts.append(pd.DataFrame({
                "replication": np.full(n, res.replication, np.int32),
                "paradigm": np.full(n, DESIGN_PARADIGMS.index(p), np.int16),
                **{c: rows[c] for c in EVENT_COLUMNS if c not in ("replication", "paradigm")},
            }))
    return pd.concat(parts, ignore_index=True)


def evaluate(scenario: Scenario, replications: Sequence[int], targets: TargetFile | None = None,
             paradigms: tuple[str, ...] = PARADIGMS, metrics_only: bool = True) -> dict[str, Any]:
    """Run ``replications`` of ``scenario`` (each with every care system on the same persons) and measure them.

    Parameters
    ----------
    scenario
        Validated scenario (apply a parameter set first: ``sim.config.loader.validate``).
    replications
        Replication numbers (seeds follow from the scenario seed and these only).
    targets
        Measurement designs and summary targets (``sim.measure.load_targets``); None: no designs.
    paradigms
        Care systems to run; the designs' causal figures need both.
    metrics_only
        True: nothing written to disk, designs on the in-memory rows (codes). False: each
        replication's event log written to a temporary Parquet file and read back (same figures).

    Returns
    -------
    dict
        Plain values only (cheap to send from a worker): ``replications``; ``metrics`` (list of
        dicts: ``replication``, each summary metric, ``paradigm``; unrounded, as the calibration
        has always used them); ``summary`` (``summary.csv`` rows: ``paradigm, metric, mean,
        ci_low, ci_high, unit``); ``designs`` (``{target: [per-replication records]}``, as
        :func:`sim.measure.report.per_replication`); ``measures`` and ``measures_detail``
        (``measures.csv`` / ``measures_detail.csv`` rows); ``engine_events``; ``cpu_seconds``
        (of this process) and ``wall_seconds``. Without ``targets`` the design fields are empty.

    """
    t0, c0 = time.perf_counter(), time.process_time()
    replications = list(replications)
    kinds = needed_kinds(targets) if targets is not None else []
    results: list[ReplicationResult] = []
    events = None
    if metrics_only or not kinds:
        codes = [K[k] for k in kinds] if kinds else None
        for r in replications:
            results.append(run_replication(scenario, r, paradigms, collect_kinds=codes))
        if kinds:
            events = coded_rows(results, paradigms)
    else:
        frames = []
        with tempfile.TemporaryDirectory(prefix="narvard-eval-") as tmp:
            for r in replications:
                part = Path(tmp) / f"part{r}"
                part.mkdir()
                results.append(run_replication(scenario, r, paradigms, events_path=str(part / "events.parquet")))
                frames.append(read_needed_events(part, kinds))
        events = pd.concat(frames, ignore_index=True)
    per_paradigm = {p: metrics_frame(results, p) for p in paradigms}
    reps = pd.concat([f.assign(paradigm=p) for p, f in per_paradigm.items()], ignore_index=True)
    out: dict[str, Any] = {
        "replications": replications,
        "metrics": reps.to_dict("records"),
        "summary": summary_table(per_paradigm).to_dict("records"),
        "designs": {}, "measures": [], "measures_detail": [],
    }
    if targets is not None:
        per_rep = per_replication(events, targets, scenario.warmup_days, scenario.horizon_days, reps)
        table, detail = measure_table(per_rep, targets)
        out["designs"] = {tid: f.to_dict("records") for tid, f in per_rep.items()}
        out["measures"] = table.to_dict("records")
        out["measures_detail"] = detail.to_dict("records")
    out["engine_events"] = int(sum(r.events for r in results))
    out["cpu_seconds"] = time.process_time() - c0
    out["wall_seconds"] = time.perf_counter() - t0
    return out


def metrics_table(result: dict[str, Any]) -> pd.DataFrame:
    """Return an :func:`evaluate` result's per-replication metrics as a frame (as ``replications.csv``)."""
    return pd.DataFrame(result["metrics"])


__all__ = ["PARADIGMS", "coded_rows", "evaluate", "metrics_table", "summary_table"]
