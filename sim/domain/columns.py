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
