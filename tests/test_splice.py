"""Unit: Parquet parts spliced (sim.output.splice) are the bytes one writer writes from the same tables.

Tier: unit. The event log of a results folder is spliced from the workers' parts; a single
``pq.ParquetWriter`` fed the same tables in the same order is the reference, byte for byte,
for any split of the tables into parts (parts without rows included) and with the data
dictionary's key-value metadata, and the hash it records is the file's. Parts that differ in
schema or metadata are refused.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sim.engine.recorder import SCHEMA, WRITER_OPTIONS, Recorder
from sim.output.dictionary import parquet_metadata
from sim.output.splice import (
    _CC_META,
    _I64,
    _META_OFFSETS,
    _RG_COLUMNS,
    _RG_OFFSET,
    _ROW_GROUPS,
    ParquetSplice,
    _field,
    _Reader,
    _shift,
    _struct,
    _value,
    read_footer,
)

META = parquet_metadata(30.0, 400.0)
SCHEMA_META = SCHEMA.with_metadata(META)


def _tables(sizes: list[int], seed: int = 1) -> list[pa.Table]:
    """Event tables of ``sizes`` rows (a table of 0 rows: no row group), as the recorder builds them."""
    rng = np.random.default_rng(seed)
    out = []
    for i, n in enumerate(sizes):
        rec = Recorder(i, "person" if i % 2 else "intervention", keep=True, chunk_rows=max(n, 1))
        for _ in range(n):
            rec.record(int(rng.integers(0, 1000)), float(rng.uniform(0, 400)), int(rng.integers(0, 5)),
                       int(rng.integers(0, 3)), int(rng.integers(0, 2)), float(rng.integers(0, 9)),
                       float(rng.uniform(0, 3)), int(rng.integers(0, 3)), int(rng.integers(0, 4)),
                       bool(rng.integers(0, 2)), False)
        out.append(rec.to_table())
    return out


def _one_writer(path, tables) -> bytes:
    with pq.ParquetWriter(str(path), SCHEMA_META, **WRITER_OPTIONS) as w:
        for t in tables:
            if t.num_rows:
                w.write_table(t)
    return path.read_bytes()


def _spliced(tmp_path, parts: list[list[pa.Table]]) -> bytes:
    names = []
    for i, tables in enumerate(parts):
        names.append(tmp_path / f"part{i}.parquet")
        _one_writer(names[-1], tables)
    out = tmp_path / "events.parquet"
    with ParquetSplice(out, lambda p: _one_writer(p, [])) as events:
        rows = sum(events.append(p) for p in names)
    assert rows == sum(t.num_rows for tables in parts for t in tables)
    data = out.read_bytes()
    # the hash the manifest records, taken from the bytes as written (none for the empty file)
    assert events.sha256 == (hashlib.sha256(data).hexdigest() if parts else None)
    return data


@settings(max_examples=15, deadline=None)
@example(sizes=[5, 3, 7, 2], cuts=[2])  # always: two parts of two row groups each (offsets shifted)
@given(sizes=st.lists(st.integers(0, 40), min_size=1, max_size=6), cuts=st.lists(st.integers(0, 6), max_size=4))
def test_splice_equals_one_writer_for_any_split(tmp_path_factory, sizes, cuts):
    tmp = tmp_path_factory.mktemp("splice")
    tables = _tables(sizes)
    bounds = sorted({0, len(tables), *(min(c, len(tables)) for c in cuts)})
    parts = [tables[a:b] for a, b in zip(bounds, bounds[1:], strict=False)] or [tables]
    assert _spliced(tmp, parts) == _one_writer(tmp / "reference.parquet", tables)
    assert pq.read_table(tmp / "events.parquet").equals(pa.concat_tables(tables).cast(SCHEMA_META))


def test_no_parts_is_the_empty_file(tmp_path):
    assert _spliced(tmp_path, []) == _one_writer(tmp_path / "reference.parquet", [])


def test_footer_decodes_and_encodes_to_its_own_bytes(tmp_path):
    data = _one_writer(tmp_path / "f.parquet", _tables([5, 7, 0, 3]))
    with open(tmp_path / "f.parquet", "rb") as f:
        start, footer = read_footer(f)
    again = bytearray()
    _struct(footer, again)
    assert bytes(again) == data[start:-8]
    assert _Reader(bytes(again)).struct() == footer


def test_parts_of_another_schema_or_metadata_are_refused(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    tables = _tables([4])
    _one_writer(a, tables)
    with pq.ParquetWriter(str(b), SCHEMA, **WRITER_OPTIONS) as w:  # no data dictionary
        w.write_table(tables[0])
    with pytest.raises(ValueError, match="not the schema"), ParquetSplice(tmp_path / "e.parquet", None) as events:
        events.append(a)
        events.append(b)


def test_page_indexes_are_refused(tmp_path):
    part = tmp_path / "p.parquet"
    with pq.ParquetWriter(str(part), SCHEMA_META, write_page_index=True, **WRITER_OPTIONS) as w:
        w.write_table(_tables([4])[0])
    with pytest.raises(ValueError, match="page indexes"), ParquetSplice(tmp_path / "e.parquet", None) as events:
        events.append(part)


def test_not_parquet_is_refused(tmp_path):
    part = tmp_path / "p.parquet"
    part.write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match="footer|not a Parquet"), ParquetSplice(tmp_path / "e.parquet", None) as e:
        e.append(part)


@pytest.mark.parametrize("v", [0, 1, -1, 2**31 - 1, 2**31, 2**32 + 5, 5 << 30, 2**62, 2**63 - 1, -(2**63)])
def test_64_bit_integers_round_trip(v):
    """A region's events.parquet passes 4 GiB: its offsets are i64 varints (zigzag) of any size."""
    out = bytearray()
    _value(_I64, v, out)
    assert _Reader(bytes(out)).value(_I64) == v


def test_offsets_beyond_4_gib_are_shifted_and_encoded(tmp_path):
    """Every absolute offset of a row group moves by the shift, past 2^32, and survives encoding."""
    _one_writer(tmp_path / "f.parquet", _tables([5, 7]))
    with open(tmp_path / "f.parquet", "rb") as f:
        _start, footer = read_footer(f)

    def offsets(fields):
        rgs = _field(fields, _ROW_GROUPS)[2][1]
        got = []
        for rg in rgs:
            got.append(_field(rg, _RG_OFFSET)[2])
            for cc in _field(rg, _RG_COLUMNS)[2][1]:
                got += [_field(_field(cc, _CC_META)[2], fid)[2] for fid in _META_OFFSETS
                        if _field(_field(cc, _CC_META)[2], fid)]
        return got

    before = offsets(footer)
    shift = (5 << 30) + 12345
    for rg in _field(footer, _ROW_GROUPS)[2][1]:
        _shift(rg, shift)
    again = bytearray()
    _struct(footer, again)
    after = offsets(_Reader(bytes(again)).struct())
    assert len(before) > 2 and after == [o + shift for o in before]
