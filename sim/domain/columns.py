"""Event-log columns as numpy arrays: plain columns, and dictionary columns as codes of a vocabulary.

Here, below every layer that reads the event log (economics, output), so that each calls one copy.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def numpy_column(col: pa.ChunkedArray) -> np.ndarray:
    """Return a column as one numpy array (zero-copy for a single chunk without nulls)."""
    return col.combine_chunks().to_numpy(zero_copy_only=False)


def codes(col: pa.ChunkedArray | pa.Array, vocab: tuple[str, ...] | list[str]) -> np.ndarray:
    """Codes (indices into ``vocab``) of a dictionary or string column; -1 if not in ``vocab``."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(arr.type):
        lut = pc.index_in(arr.dictionary, value_set=pa.array(vocab)).to_numpy(zero_copy_only=False)
        lut = np.nan_to_num(lut.astype(float), nan=-1).astype(np.int64)
        return lut[arr.indices.to_numpy(zero_copy_only=False).astype(np.int64)]
    return np.nan_to_num(pc.index_in(arr, value_set=pa.array(vocab)).to_numpy(zero_copy_only=False)
                         .astype(float), nan=-1).astype(np.int64)


class _Grouped:
    """:meth:`rows_of` for a chunk with ``codes`` and a ``_memo`` (:class:`TableChunk`, :class:`RowsChunk`)."""

    _memo: dict[tuple, np.ndarray]

    def rows_of(self, name: str, vocab: tuple[str, ...], code: int) -> np.ndarray:
        """Return the indices, ascending, of the rows whose ``name`` column has ``code`` (in ``vocab``).

        The rows as a boolean mask ``codes == code`` selects them, in the same order: an accumulator
        that reads a few rows of each of many kinds takes them from one stable sort of the codes
        (made once per chunk) instead of comparing every row once per kind.
        """
        key = ("grouped", name, tuple(vocab))
        if key not in self._memo:
            codes = self.codes(name, vocab)
            order = np.argsort(codes, kind="stable")  # a radix sort of int8 codes
            self._memo[key] = order
            self._memo[key + ("sorted",)] = codes[order]
        order, ordered = self._memo[key], self._memo[key + ("sorted",)]
        code = ordered.dtype.type(code)  # of the codes' type: searchsorted would widen all the codes to it
        return order[np.searchsorted(ordered, code, "left"):np.searchsorted(ordered, code, "right")]


class TableChunk(_Grouped):
    """One chunk of event-log rows as an Arrow table, read as numpy columns and codes (each read once).

    The accumulators of one chunk (the summary's, the concepts', the prices', the teams') read
    the same columns; through one chunk object each conversion is made once. The arrays are
    shared: callers must not change them in place.
    """

    def __init__(self, table: pa.Table):
        self.table = table
        self.num_rows = table.num_rows
        self._memo: dict[tuple, np.ndarray] = {}

    def column(self, name: str) -> np.ndarray:
        """Return a plain column as one numpy array (:func:`numpy_column`)."""
        key = ("column", name)
        if key not in self._memo:
            self._memo[key] = numpy_column(self.table[name])
        return self._memo[key]

    def codes(self, name: str, vocab: tuple[str, ...]) -> np.ndarray:
        """Return a dictionary column's codes in ``vocab`` (:func:`codes`; -1 if not in it)."""
        key = ("codes", name, tuple(vocab))
        if key not in self._memo:
            self._memo[key] = codes(self.table[name], vocab)
        return self._memo[key]

    def lookup(self, name: str, values: dict[str, float]) -> np.ndarray:
        """Return, per row, the value of the row's word of a dictionary column in ``values`` (0 if absent)."""
        col = self.table[name]
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        if not pa.types.is_dictionary(arr.type):
            arr = pc.dictionary_encode(arr)
        words = arr.dictionary.to_pylist()
        lut = np.array([values.get(w, 0.0) for w in words] or [0.0], dtype=np.float64)
        return lut[arr.indices.to_numpy(zero_copy_only=False)]


class RowsChunk(_Grouped):
    """One chunk of the recorder's rows of codes (a numpy structured array), read like a :class:`TableChunk`.

    The recorder's dictionary columns are codes of ``vocabularies[name]`` already (the table it
    builds from them has exactly that dictionary), so the codes, numbers and lookups are those of
    the table, without building it: the metrics-only runs' accumulators read their chunks here.
    """

    def __init__(self, rows: np.ndarray, vocabularies: dict[str, tuple[str, ...]]):
        self.rows = rows
        self.num_rows = len(rows)
        self.vocabularies = vocabularies
        self._memo: dict[tuple, np.ndarray] = {}

    def column(self, name: str) -> np.ndarray:  # noqa: D102  (TableChunk.column)
        key = ("column", name)
        if key not in self._memo:
            self._memo[key] = np.ascontiguousarray(self.rows[name])
        return self._memo[key]

    def codes(self, name: str, vocab: tuple[str, ...]) -> np.ndarray:
        """Return a dictionary column's codes in ``vocab`` (as :meth:`TableChunk.codes`, but int8, the rows' own type).

        Kept narrow: the accumulators compare, mask and sort these arrays (a stable sort of int8
        is a radix sort), and 8-bit codes are an eighth of the memory traffic of int64.
        """
        if tuple(vocab) != tuple(self.vocabularies[name]):
            raise ValueError(f"column {name}: codes of another vocabulary")
        key = ("codes", name)
        if key not in self._memo:
            self._memo[key] = np.ascontiguousarray(self.rows[name])
        return self._memo[key]

    def lookup(self, name: str, values: dict[str, float]) -> np.ndarray:
        """Return, per row, the value of the row's word in ``values`` (as :meth:`TableChunk.lookup`; kept).

        The prices and the cost concentration look up the same payer shares per row: made once.
        """
        key = ("lookup", name, tuple(sorted(values.items())))
        if key not in self._memo:
            lut = np.array([values.get(w, 0.0) for w in self.vocabularies[name]] or [0.0], dtype=np.float64)
            self._memo[key] = lut[self.codes(name, self.vocabularies[name])]
        return self._memo[key]


def as_chunk(chunk: pa.Table | TableChunk | RowsChunk) -> TableChunk | RowsChunk:
    """``chunk`` as a :class:`TableChunk` or :class:`RowsChunk` (an Arrow table is wrapped)."""
    return chunk if isinstance(chunk, TableChunk | RowsChunk) else TableChunk(chunk)


#: A chunk of event-log rows, however it came (:func:`as_chunk`).
Chunk = TableChunk | RowsChunk
