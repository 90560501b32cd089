"""The event log: columnar buffers flushed to Parquet in chunks.

Processes call :meth:`Recorder.record` with small integer codes; nothing is built per event
but one append to each column's typed buffer (``array.array``). When a chunk is full it is
written as a Parquet row group and the buffers are emptied, so memory stays proportional to
the chunk, not to the run.
"""

from __future__ import annotations

from array import array
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.config.scenario import STRATA

KINDS = (
    # health events (the exogenous trajectory and care-dependent relapses)
    "enter", "stratum_change", "deterioration", "death",
    # care contacts
    "ed_visit", "admission", "delayed_discharge", "short_term_care",
    "outpatient_visit", "primary_care_visit", "home_health_visit", "home_help",
    # service concepts of individstyrning
    "team_referral", "team_enrol", "team_discharge", "team_visit",
    "palliative_enrol", "palliative_visit", "physician_list", "physician_unlist", "physician_visit",
    "safe_discharge", "safe_discharge_visit", "fixed_cost",
    # nurse time (weekly)
    "nurse_demand_hours", "nurse_available_hours", "nurse_lost_hours",
)
PROVIDERS = (
    "none", "hospital", "ed", "outpatient", "primary_care", "home_health", "home_help",
    "short_term_care", "mobile_team", "palliative_team", "home_physician", "safe_discharge",
)
PAYERS = ("none", "region", "municipality")
DETAILS = (
    "", "needs_bed", "needs_assessment", "minor", "relapse", "in_care", "prevented",
    "acute", "routine", "followup", "censored", "direct", "via_ed",
    "home", "hospital", "short_term_care", "team_home", "plan_nurse", "plan_ed",
    "accepted", "full", "not_eligible", "queued", "stabilised", "time_limit", "died",
    "physician_home", "palliative_home", "safe_discharge_home",
)
K = {name: i for i, name in enumerate(KINDS)}
PR = {name: i for i, name in enumerate(PROVIDERS)}
PY = {name: i for i, name in enumerate(PAYERS)}
D = {name: i for i, name in enumerate(DETAILS)}

SCHEMA = pa.schema(
    [
        ("replication", pa.int32()),
        ("paradigm", pa.dictionary(pa.int8(), pa.string())),
        ("person", pa.int64()),
        ("time", pa.float64()),
        ("kind", pa.dictionary(pa.int8(), pa.string())),
        ("provider", pa.dictionary(pa.int8(), pa.string())),
        ("payer", pa.dictionary(pa.int8(), pa.string())),
        ("duration", pa.float64()),
        ("quantity", pa.float64()),
        ("cost", pa.float64()),
        ("stratum", pa.dictionary(pa.int8(), pa.string())),
        ("readmission", pa.bool_()),
        ("avoidable", pa.bool_()),
        ("detail", pa.dictionary(pa.int8(), pa.string())),
    ]
)
COLUMN_DOC = {
    "replication": "replication number",
    "paradigm": "intervention (insatsstyrning) or person (individstyrning)",
    "person": "person id (the same person in both paradigms)",
    "time": "day since the start of the run (warm-up included)",
    "kind": "what happened: a care contact, a state change or a concept event",
    "provider": "who delivered it",
    "payer": "who pays: region or municipality",
    "duration": "days (stays, accrual intervals, weeks of nurse time); 0 for a contact",
    "quantity": "contacts, bed-days, hours; expected counts for accrued routine volume",
    "cost": "SEK",
    "stratum": "the person's need stratum at the time",
    "readmission": "an admission within the readmission window of the last discharge",
    "avoidable": "an admission of a deterioration that did not need a bed",
    "detail": "route, acuity, location or reason",
}


class Recorder:
    """Append-only columnar event buffer with chunked Parquet output."""

    def __init__(self, replication: int, paradigm: str, sink: pq.ParquetWriter | None = None,
                 chunk_rows: int = 200_000, keep: bool = False, on_chunk=None):
        self.replication = replication
        self.paradigm = paradigm
        self.sink = sink
        self.chunk_rows = chunk_rows
        self.keep = keep  # also keep the chunks in memory (tests, timelines of small runs)
        self.on_chunk = on_chunk  # called with each chunk (the metric accumulator)
        self.tables: list[pa.Table] = []
        self.rows_written = 0
        self._reset()

    def _reset(self) -> None:
        self.person = array("q")
        self.time = array("d")
        self.kind = array("b")
        self.provider = array("b")
        self.payer = array("b")
        self.duration = array("d")
        self.quantity = array("d")
        self.cost = array("d")
        self.stratum = array("b")
        self.readmission = array("b")
        self.avoidable = array("b")
        self.detail = array("b")

    def record(self, person: int, time: float, kind: int, provider: int, payer: int,
               duration: float, quantity: float, cost: float, stratum: int,
               detail: int = 0, readmission: bool = False, avoidable: bool = False) -> None:
        """Append one row (codes from K, PR, PY, D; stratum index)."""
        self.person.append(person)
        self.time.append(time)
        self.kind.append(kind)
        self.provider.append(provider)
        self.payer.append(payer)
        self.duration.append(duration)
        self.quantity.append(quantity)
        self.cost.append(cost)
        self.stratum.append(stratum)
        self.detail.append(detail)
        self.readmission.append(readmission)
        self.avoidable.append(avoidable)
        if len(self.time) >= self.chunk_rows:
            self.flush()

    def __len__(self) -> int:
        return self.rows_written + len(self.time)

    def _table(self) -> pa.Table:
        n = len(self.time)

        def dict_col(codes, vocab):
            idx = pa.array(np.frombuffer(codes, dtype=np.int8) if n else np.empty(0, np.int8))
            return pa.DictionaryArray.from_arrays(idx, pa.array(vocab, pa.string()))

        def f64(buf):
            return pa.array(np.frombuffer(buf, dtype=np.float64) if n else np.empty(0))

        return pa.Table.from_arrays(
            [
                pa.array(np.full(n, self.replication, np.int32)),
                pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int8)),
                                               pa.array([self.paradigm], pa.string())),
                pa.array(np.frombuffer(self.person, dtype=np.int64) if n else np.empty(0, np.int64)),
                f64(self.time),
                dict_col(self.kind, KINDS),
                dict_col(self.provider, PROVIDERS),
                dict_col(self.payer, PAYERS),
                f64(self.duration),
                f64(self.quantity),
                f64(self.cost),
                dict_col(self.stratum, STRATA),
                pa.array(np.frombuffer(self.readmission, dtype=np.int8).astype(bool) if n else np.empty(0, bool)),
                pa.array(np.frombuffer(self.avoidable, dtype=np.int8).astype(bool) if n else np.empty(0, bool)),
                dict_col(self.detail, DETAILS),
            ],
            schema=SCHEMA,
        )

    def flush(self) -> None:
        """Write the buffered rows (to the sink or the kept tables) and empty the buffers."""
        if not len(self.time):
            return
        table = self._table()
        self.rows_written += table.num_rows
        if self.sink is not None:
            self.sink.write_table(table)
        if self.on_chunk is not None:
            self.on_chunk(table)
        if self.keep:
            self.tables.append(table)
        self._reset()

    def to_table(self) -> pa.Table:
        """All kept rows as one table (only with ``keep=True``)."""
        self.flush()
        if not self.tables:
            return SCHEMA.empty_table()
        return pa.concat_tables(self.tables)


def open_sink(path: Path) -> pq.ParquetWriter:
    """A Parquet writer with the event schema."""
    return pq.ParquetWriter(str(path), SCHEMA, compression="zstd")
