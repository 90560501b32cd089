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
from sim.domain.events import KINDS, K
from sim.engine.recorder import ROW_DTYPE, ROW_RECORD
from sim.experiments.runner import ReplicationResult, metrics_frame, run_replication
from sim.measure.designs import CODED, EVENT_COLUMNS, CodedEvents
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


def coded_events(results: Sequence[ReplicationResult], paradigms: Sequence[str]) -> CodedEvents:
    """Return the kept rows of ``results`` as the designs' coded events, grouped by care system and kind.

    Each group holds the rows of a results folder's event log of that care system and kind (columns
    :data:`sim.measure.designs.EVENT_COLUMNS`, coded as :func:`sim.measure.designs.normalise_events`
    codes them), in its order: by replication, then as recorded. Grouped here, column by column from
    each replication's chunks, rather than joined into one frame of all the kept rows (over a million
    for the calibration's 3 replications) that the designs then filter per group.
    """
    columns = [c for c in EVENT_COLUMNS if c not in ("replication", "paradigm")]
    parts: dict[tuple[str, str], list[dict[str, np.ndarray]]] = {}
    present = set()  # replications with rows
    for res in results:
        for p in paradigms:
            chunks = res.rows[p] if res.rows else []
            # joined as opaque records: numpy joins a structured array's rows field by field, several times slower
            rows = (np.concatenate([c.view(ROW_RECORD) for c in chunks]).view(ROW_DTYPE) if chunks
                    else np.empty(0, ROW_DTYPE))
            order = np.argsort(rows["kind"], kind="stable")  # each kind's rows, as recorded
            # Column by column, each made contiguous first: numpy takes rows of a structured array field
            # by field, and elements of its (unaligned) fields one memcpy call each.
            cols = {c: np.ascontiguousarray(rows[c])[order] for c in columns}
            codes, first = np.unique(cols["kind"], return_index=True)
            for code, lo, hi in zip(codes, first, [*first[1:], len(order)], strict=True):
                part = {c: a[lo:hi] for c, a in cols.items()}
                part["replication"] = np.full(hi - lo, res.replication, np.int32)
                parts.setdefault((p, KINDS[code]), []).append(part)
                present.add(res.replication)
    groups = {}
    for (p, kind), pieces in parts.items():
        cols = {c: np.concatenate([piece[c] for piece in pieces]) for c in ["replication", *columns]}
        for c in CODED.keys() & cols.keys():  # the codes in the type normalise_events gives them
            cols[c] = cols[c].astype(np.int16)
        cols["paradigm"] = np.full(len(cols["kind"]), DESIGN_PARADIGMS.index(p), np.int16)
        groups[(p, kind)] = pd.DataFrame({c: cols[c] for c in EVENT_COLUMNS})
    return CodedEvents.from_groups(groups, list(np.array(sorted(present), np.int32)))


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
            events = coded_events(results, paradigms)
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


__all__ = ["PARADIGMS", "coded_events", "evaluate", "metrics_table", "summary_table"]
