"""Replications: build the persons once, run each care system on them, reduce to metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.care import CARE_SYSTEMS
from sim.config.scenario import Scenario
from sim.domain.columns import RowsChunk
from sim.domain.events import DETAILS, KINDS, PAYERS, PROVIDERS
from sim.domain.strata import STRATA
from sim.domain.streams import replication_seed
from sim.economics import Prices
from sim.engine.model import Model
from sim.engine.recorder import ROW_DTYPE, ROW_RECORD, Recorder, open_sink
from sim.output.concepts import ConceptAccumulator
from sim.output.dictionary import parquet_metadata
from sim.output.splice import ParquetSplice
from sim.output.summary import MetricAccumulator, population_counts
from sim.population import Attributes, draw_trajectories, make_population

PARADIGMS = ("intervention", "person")
#: The vocabulary of each dictionary column of the recorder's rows (the dictionaries of the tables it builds).
VOCABULARIES = {"kind": KINDS, "provider": PROVIDERS, "payer": PAYERS, "stratum": STRATA, "detail": DETAILS}
#: Suffix of an event-log part the main process encodes (:func:`encode_later`): an Arrow IPC stream, not Parquet.
ARROW_PART = ".arrow"


class _ArrowPart:
    """An event-log part as an Arrow IPC stream: the recorder's tables as they are, for :func:`parquet_part`.

    The stream format, not the file format: the ``paradigm`` dictionary changes between the care
    systems of one part.
    """

    def __init__(self, path: Path):
        import pyarrow as pa

        from sim.engine.recorder import SCHEMA

        self._file = pa.OSFile(str(path), "wb")
        self._writer = pa.ipc.new_stream(self._file, SCHEMA)

    def write_table(self, table) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        try:
            self._writer.close()
        finally:
            self._file.close()


@dataclass
class ReplicationResult:
    """Metrics per paradigm of one replication, and where its events went."""

    replication: int
    metrics: dict[str, dict[str, float]]
    events_path: str | None
    events: int
    seconds: float
    rows: dict[str, list] | None = None  #: per paradigm, the kept rows' chunks (``collect_kinds``)


def run_replication(scenario: Scenario, replication: int, paradigms: tuple[str, ...],
                    events_path: str | None = None, keep: bool = False,
                    collect_kinds: list[int] | None = None) -> ReplicationResult:
    """Run one replication of each paradigm on the same persons and trajectories.

    ``events_path``: a Parquet file for this replication's rows (streamed in chunks), with the
    results folder's schema, metadata and options: a part :func:`open_events` splices as it is;
    or an Arrow IPC stream if it ends in :data:`ARROW_PART` (for :func:`parquet_part`).
    ``collect_kinds``: kind codes whose rows are kept in memory as the recorder's structured
    arrays of codes (``result.rows[paradigm]``, a list of chunks; the metrics-only evaluation).
    """
    t0 = time.perf_counter()
    seed = replication_seed(scenario.simulation.seed, replication)
    pop = make_population(scenario, seed)
    traj = draw_trajectories(scenario, pop, seed)
    attrs = Attributes(scenario, pop)
    counts = population_counts(pop, traj, scenario.warmup_days, scenario.horizon_days)
    sink = None
    if events_path and str(events_path).endswith(ARROW_PART):
        sink = _ArrowPart(Path(events_path))
    elif events_path:
        sink = open_sink(Path(events_path), parquet_metadata(scenario.warmup_days, scenario.horizon_days))
    prices = Prices.of(scenario)  # the rows carry quantities; the summary prices them
    metrics: dict[str, dict[str, float]] = {}
    n_events = 0
    tables = {}
    kept: dict[str, list] | None = None if collect_kinds is None else {}
    shared: dict = {}  # arrays every care system's model draws alike: one copy per replication
    try:
        for paradigm in paradigms:
            acc = MetricAccumulator(scenario.warmup_days, scenario.horizon_days, scenario.capacity.beds, prices,
                                    scenario.capacity.nurse_hours_per_week)
            concepts = ConceptAccumulator(scenario.warmup_days, scenario.horizon_days)
            chunks = None
            if kept is not None:
                chunks = kept[paradigm] = []
            codes = None if collect_kinds is None else np.asarray(collect_kinds, np.int8)

            def on_rows(rows, a=acc, c=concepts, chunks=chunks, codes=codes):
                if chunks is not None:
                    chunks.append(rows.view(ROW_RECORD)[np.isin(rows["kind"], codes)].view(ROW_DTYPE))
                # The accumulators read the rows of codes, not the Arrow table written from them (the
                # same values): no column converted back from Arrow, no codes looked up by name.
                chunk = RowsChunk(rows, VOCABULARIES)
                a.add(chunk)
                c.add(chunk)

            rec = Recorder(replication, paradigm, sink=sink, keep=keep, on_rows=on_rows)
            model = Model(scenario, pop, traj, seed, CARE_SYSTEMS[paradigm], rec, attrs, shared)
            model.run()
            n_events += next(model.env._eid)  # events scheduled by the engine (its id counter)
            acc.extra.update(concepts.result())
            metrics[paradigm] = acc.result(counts)
            if keep:
                tables[paradigm] = rec.to_table()
    finally:
        if sink is not None:
            sink.close()
    res = ReplicationResult(replication, metrics, events_path, n_events, time.perf_counter() - t0, kept)
    if keep:
        res.tables = tables  # type: ignore[attr-defined]
    return res


def metrics_frame(results: list[ReplicationResult], paradigm: str) -> pd.DataFrame:
    """Per-replication metrics of one paradigm."""
    rows = [{"replication": r.replication, **r.metrics[paradigm]} for r in results]
    return pd.DataFrame(rows)


def open_events(out: Path, metadata: dict[bytes, bytes] | None = None) -> ParquetSplice:
    """Open the results folder's event log: parts of :func:`run_replication` are appended in order, as they are.

    Each part was encoded by the process that recorded it, with the same schema, metadata
    (``metadata``: the data dictionary) and options; the log is their row groups, one footer.
    """
    return ParquetSplice(out, lambda path: open_sink(path, metadata).close())


def parquet_part(part: str, metadata: dict[bytes, bytes] | None = None) -> str:
    """Encode an Arrow IPC part as the Parquet part a worker would have written, beside it; its path.

    ``metadata``: as :func:`open_events`. Each of the recorder's chunks becomes one row group, as
    in the worker, so the bytes are the same. The IPC part is deleted.
    """
    import pyarrow as pa

    out = part.removesuffix(ARROW_PART) + ".parquet"
    with pa.memory_map(str(part)) as source, open_sink(Path(out), metadata) as w:
        for batch in pa.ipc.open_stream(source):
            w.write_table(pa.Table.from_batches([batch]))
    Path(part).unlink()
    return out


def merge_results(parts: list[ReplicationResult]) -> ReplicationResult:
    """One replication's result from the results of its care systems run apart (in paradigm order)."""
    first = parts[0]
    metrics = {p: m for r in parts for p, m in r.metrics.items()}
    rows = None if first.rows is None else {p: c for r in parts for p, c in r.rows.items()}
    return ReplicationResult(first.replication, metrics, first.events_path, sum(r.events for r in parts),
                             sum(r.seconds for r in parts), rows)


def task_groups(replications: int, paradigms: tuple[str, ...], executor) -> dict[int, list[tuple[str, ...]]]:
    """Return the care systems of each task, per replication: one task for all, or one each in a last round.

    A round of whole replications that would leave workers idle (the last one, when the
    replications are not a multiple of the workers) is run as one task per care system instead
    (each draws the same persons from the replication's seed, so the figures are the same): 5
    replications on 2 workers take 2 rounds and two half-replications, not 3 rounds.
    """
    workers = getattr(executor, "workers", 1) if getattr(executor, "parallel", False) else 1
    whole = replications - replications % workers if len(paradigms) > 1 else replications
    return {r: [tuple(paradigms)] if r < whole else [(p,) for p in paradigms] for r in range(replications)}


def encode_later(groups: dict[int, list[tuple[str, ...]]], executor) -> set[int]:
    """Return the replications whose parts the main process encodes, once a worker is idle.

    A round split into care systems (:func:`task_groups`) ends unevenly: the person-driven half
    runs about a third longer, and one worker waits. The round of whole replications before it
    writes its parts unencoded (:data:`ARROW_PART`); the main process encodes them while that
    worker waits, instead of the workers on the run's longest path (about 0.15 s of CPU each).
    Only where the workers write parts on this machine, and side by side.
    """
    if not getattr(executor, "shared_filesystem", True):
        return set()
    split = [r for r, g in groups.items() if len(g) > 1]  # none unless the executor runs tasks in parallel
    if not split:
        return set()
    return set(range(max(0, min(split) - getattr(executor, "workers", 1)), min(split)))


def whole_replications(tasks: list[tuple], results, groups: dict[int, list[tuple[str, ...]]], each=None):
    """Yield one result per replication (:func:`merge_results`) from the results of ``tasks``, in order.

    ``tasks``: ``(scenario, replication, paradigms, ...)`` in the order of :func:`task_groups`;
    ``each(task, result)`` is called for every task's result as it comes.
    """
    done: list[ReplicationResult] = []
    for task, res in zip(tasks, results, strict=True):
        if each is not None:
            each(task, res)
        done.append(res)
        if len(done) < len(groups[task[1]]):
            continue
        yield merge_results(done)
        done = []


def replication_part(scenario: Scenario, replication: int, paradigms: tuple[str, ...],
                     events_path: str | None = None) -> tuple[ReplicationResult, bytes]:
    """Run one replication on a worker and return its event-log part as Parquet bytes.

    For executors whose workers may not share a filesystem with the client (Dask): the worker
    writes the part to its own temporary folder, reads it back and deletes it; the client
    writes the bytes where it wants them (``events_path`` is only recorded in the result).
    """
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(suffix=".parquet", prefix=f"narvard-r{replication:04d}-")
    os.close(fd)
    try:
        res = run_replication(scenario, replication, paradigms, tmp)
        data = Path(tmp).read_bytes()
    finally:
        Path(tmp).unlink(missing_ok=True)
    res.events_path = events_path
    return res, data


def run_replications(executor, tasks: list[tuple]):
    """Run ``(scenario, replication, paradigms, events_path)`` tasks on an executor, in order.

    Executors with a shared filesystem (serial, local processes) write each part where the
    task says; the others (``executor.shared_filesystem`` false: Dask, whose workers may be
    on other machines) send the part's bytes back and this process writes them. Either way
    the parts are pieces of the final events file (the same schema, metadata and row groups),
    spliced in order (:func:`open_events`), so the results are byte-identical whatever the executor.
    """
    if getattr(executor, "shared_filesystem", True):
        yield from executor.map(run_replication, tasks)
        return
    for res, data in executor.map(replication_part, tasks):
        if res.events_path:
            Path(res.events_path).write_bytes(data)
        yield res
