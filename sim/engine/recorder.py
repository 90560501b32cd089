"""The event log: packed row buffers flushed to Parquet in columnar chunks.

Processes call :meth:`Recorder.record` with small integer codes; nothing is built per event
but one packed row appended to a byte buffer. When a chunk is full it is
written as a Parquet row group and the buffers are emptied, so memory stays proportional to
the chunk, not to the run.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.domain.events import DETAILS, KINDS, PAYERS, PROVIDERS
from sim.domain.strata import STRATA

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
    "stratum": "the person's need stratum at the time",
    "readmission": "an admission within the readmission window of the last discharge",
    "avoidable": "an admission of a deterioration that did not need a bed",
    "detail": "route, acuity, location or reason",
}


# One row of the buffer, packed: the columns after ``replication`` and ``paradigm`` (which
# are constant within a recorder), little-endian, no padding.
_ROW = struct.Struct("<qdbbbddbb??")
_ROW_DTYPE = np.dtype([
    ("person", "<i8"), ("time", "<f8"), ("kind", "i1"), ("provider", "i1"), ("payer", "i1"),
    ("duration", "<f8"), ("quantity", "<f8"), ("stratum", "i1"),
    ("detail", "i1"), ("readmission", "?"), ("avoidable", "?"),
])
assert _ROW.size == _ROW_DTYPE.itemsize
ROW_DTYPE = _ROW_DTYPE  #: a chunk's rows as :attr:`Recorder.on_rows` receives them (codes, not names)
#: A row as opaque bytes (``rows.view(ROW_RECORD)``): numpy selects and joins these as plain memory, where it
#: copies rows of :data:`ROW_DTYPE` field by field (about 10 times the CPU).
ROW_RECORD = np.dtype((np.void, _ROW.size))
_pack = _ROW.pack
#: One row's bytes: ``pack_row(person, time, kind, provider, payer, duration, quantity, stratum,
#: detail, readmission, avoidable)`` (all arguments given), for writers that append to :attr:`Recorder.buffer`.
pack_row = _pack


def fixed_bytes(kind: int, provider: int, payer: int, duration: float = 0.0, quantity: float = 0.0) -> bytes:
    """Return a row's kind, provider, payer, duration and quantity as packed bytes (19), for :data:`pack_fixed`."""
    return struct.pack("<bbbdd", kind, provider, payer, duration, quantity)


def tail_bytes(detail: int, readmission: bool = False, avoidable: bool = False) -> bytes:
    """Return a row's detail, readmission and avoidable as packed bytes (3), for :data:`pack_fixed`, routine rows."""
    return struct.pack("<b??", detail, readmission, avoidable)


#: The bytes of :data:`pack_row` for a row whose middle fields never change (a deterioration, an entry,
#: a stratum change): ``pack_fixed(person, time, fixed_bytes(...), stratum, tail_bytes(...))``, the
#: constant parts made once. struct converts 5 Python objects instead of 11: on the engine's hot
#: paths a converted field costs ~150 instructions (cachegrind; see routine_writer).
_FIXED = struct.Struct("<qd19sb3s")
assert _FIXED.size == _ROW.size
pack_fixed = _FIXED.pack
#: ``tail_bytes(detail)`` of every detail code (no readmission, not avoidable): ``TAILS[detail]``.
TAILS = tuple(tail_bytes(d) for d in range(len(DETAILS)))


class Recorder:
    """Append-only event buffer with chunked Parquet output.

    A row is packed into one ``bytearray`` with a precompiled :class:`struct.Struct` (one C
    call per row, 39 bytes a row); a chunk is read back as a numpy structured array without
    copying, so the cost per row is the ``record`` call itself.
    """

    def __init__(self, replication: int, paradigm: str, sink: pq.ParquetWriter | None = None,
                 chunk_rows: int = 200_000, keep: bool = False, on_chunk=None, on_rows=None):
        self.replication = replication
        self.paradigm = paradigm
        self.sink = sink
        self.chunk_rows = chunk_rows
        self.keep = keep  # also keep the chunks in memory (tests, timelines of small runs)
        self.on_chunk = on_chunk  # called with each chunk as an Arrow table (the rollout's accumulator)
        # Called with each chunk as the numpy structured array of codes (``ROW_DTYPE``), before
        # any Arrow table is built: every run's accumulators read their rows from here, and the
        # metrics-only evaluation keeps them.
        self.on_rows = on_rows
        self.tables: list[pa.Table] = []
        self.rows_written = 0
        #: The row buffer. The same object for the whole run (emptied in place at each chunk), so a
        #: writer may hold it: :meth:`record` and the model's hottest rows append :data:`pack_row` or
        #: :func:`pack_fixed` rows to it and call :meth:`spill` when it holds ``limit`` bytes or more.
        self.buffer = bytearray()
        self.limit = chunk_rows * _ROW.size

    def record(self, person: int, time: float, kind: int, provider: int, payer: int,
               duration: float, quantity: float, stratum: int,
               detail: int = 0, readmission: bool = False, avoidable: bool = False) -> None:
        """Append one row (codes from K, PR, PY, D; stratum index)."""
        buf = self.buffer
        buf += _pack(person, time, kind, provider, payer, duration, quantity, stratum,
                     detail, readmission, avoidable)
        if len(buf) >= self.limit:
            self.spill()

    def routine_writer(self, codes: tuple[tuple[int, int, int], ...], detail: int):
        """Return ``write(p, a, dt, s, q_pc, q_op, q_hh, q_help)``: an accrual interval's rows in one call.

        ``codes``: (kind, provider, payer) of the primary-care, outpatient, home-health and
        home-help rows; ``q_hh`` / ``q_help`` None when the interval has no such row. The rows
        are those of up to four :meth:`record` calls, in that order, packed with one
        :class:`struct.Struct` call; the chunks stay exactly ``chunk_rows`` rows (:meth:`spill`).
        A row's fields that are the same in every call (its kind, provider and payer; the detail
        and the two flags, with the stratum: one of a few) go in as ready bytes (``3s``, ``4s``):
        6 fields a row to convert, not 11 (12-24 arguments a call instead of 22-44).
        """
        tail = tail_bytes(detail)
        # stratum + detail + flags, per stratum: one tuple look-up a call instead of a field a row
        tails = tuple(struct.pack("<b", s) + tail for s in range(len(STRATA)))
        pc, op, hh, he = (struct.pack("<bbb", *c) for c in codes)
        # person, time, kind+provider+payer, duration, quantity, stratum+detail+flags: the bytes of _ROW
        fmt = "qd3sdd4s"
        assert struct.calcsize("<" + fmt) == _ROW.size
        two, three, four = (struct.Struct("<" + fmt * n).pack for n in (2, 3, 4))
        limit, buf, spill = self.limit, self.buffer, self.spill

        def write(p, a, dt, s, q_pc, q_op, q_hh, q_help):
            nonlocal buf
            t = tails[s]
            if q_hh is None:
                if q_help is None:
                    buf += two(p, a, pc, dt, q_pc, t, p, a, op, dt, q_op, t)
                else:
                    buf += three(p, a, pc, dt, q_pc, t, p, a, op, dt, q_op, t, p, a, he, dt, q_help, t)
            elif q_help is None:
                buf += three(p, a, pc, dt, q_pc, t, p, a, op, dt, q_op, t, p, a, hh, dt, q_hh, t)
            else:
                buf += four(p, a, pc, dt, q_pc, t, p, a, op, dt, q_op, t,
                            p, a, hh, dt, q_hh, t, p, a, he, dt, q_help, t)
            if len(buf) >= limit:
                spill()

        return write

    def spill(self) -> None:
        """Emit full chunks of exactly ``chunk_rows`` rows; keep the rest in the buffer."""
        buf, limit = self.buffer, self.limit
        while len(buf) >= limit:
            with memoryview(buf) as view:
                data = bytes(view[:limit])
            del buf[:limit]
            self._emit(data)

    def __len__(self) -> int:
        return self.rows_written + len(self.buffer) // _ROW.size

    def _table(self, rows: np.ndarray) -> pa.Table:
        n = len(rows)

        def col(name):
            return pa.array(np.ascontiguousarray(rows[name]))

        def dict_col(name, vocab):
            codes = np.ascontiguousarray(rows[name])
            # Arrow's own bounds check (``safe=True``) costs ~11 instructions a row; numpy's min and
            # max of the int8 codes check the same a hundred times cheaper.
            if n and (codes.min() < 0 or codes.max() >= len(vocab)):
                raise ValueError(f"column {name}: a code outside its vocabulary of {len(vocab)}")
            return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(vocab, pa.string()), safe=False)

        return pa.Table.from_arrays(
            [
                pa.array(np.full(n, self.replication, np.int32)),
                pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int8)),
                                               pa.array([self.paradigm], pa.string())),
                col("person"),
                col("time"),
                dict_col("kind", KINDS),
                dict_col("provider", PROVIDERS),
                dict_col("payer", PAYERS),
                col("duration"),
                col("quantity"),
                dict_col("stratum", STRATA),
                col("readmission"),
                col("avoidable"),
                dict_col("detail", DETAILS),
            ],
            schema=SCHEMA,
        )

    def flush(self) -> None:
        """Write the buffered rows (to the sink or the kept tables) and empty the buffer."""
        if not self.buffer:
            return
        data = bytes(self.buffer)
        del self.buffer[:]
        self._emit(data)

    def _emit(self, data: bytes) -> None:
        """Hand one chunk of packed rows on: ``on_rows``, then as a table to the sink, ``on_chunk``, ``keep``."""
        rows = np.frombuffer(data, dtype=_ROW_DTYPE)
        self.rows_written += len(rows)
        if self.on_rows is not None:
            self.on_rows(rows)
        if self.sink is None and self.on_chunk is None and not self.keep:
            return
        table = self._table(rows)
        if self.sink is not None:
            self.sink.write_table(table)
        if self.on_chunk is not None:
            self.on_chunk(table)
        if self.keep:
            self.tables.append(table)

    def to_table(self) -> pa.Table:
        """All kept rows as one table (only with ``keep=True``)."""
        self.flush()
        if not self.tables:
            return SCHEMA.empty_table()
        return pa.concat_tables(self.tables)


#: Parquet writer settings of every event file. Dictionary encoding only for the columns that
#: are dictionaries already: trying it on the float columns costs time and gains nothing
#: (measured on the default scenario: 30-50 % faster writes, 18 % smaller files).
WRITER_OPTIONS = {
    "compression": "zstd",
    "use_dictionary": [f.name for f in SCHEMA if pa.types.is_dictionary(f.type)],
}


def open_sink(path: Path, metadata: dict[bytes, bytes] | None = None) -> pq.ParquetWriter:
    """Open a Parquet writer with the event schema (``metadata``: the file's key-value metadata)."""
    return pq.ParquetWriter(str(path), SCHEMA.with_metadata(metadata) if metadata else SCHEMA, **WRITER_OPTIONS)

