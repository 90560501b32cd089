"""Parquet files of one schema joined into one, byte for byte: their row groups copied, one new footer.

A Parquet file is ``PAR1``, its row groups' column chunks, a footer (Thrift ``FileMetaData``), the
footer's length and ``PAR1``. A column chunk holds no absolute offset (its pages' headers are
relative); the footer does. So files written by separate writers with the same schema, metadata
and options join into the file one writer would have written from the same tables in the same
order: their chunks copied as they are, the footers' row groups concatenated with their offsets
shifted (the locked pyarrow writes no row-group ordinal to renumber: the byte-for-byte tests would
show one). The event log's parts are encoded once, in the workers that record them;
the process that assembles the results folder copies bytes instead of decoding and encoding them
again (about 0.17 s of CPU per paired replication of the default). Files with page indexes or
bloom filters (written after all row groups) are refused: ours have neither.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import BinaryIO

MAGIC = b"PAR1"
_BLOCK = 8 << 20  # bytes copied at a time: a part of a large region need not fit in memory

# Thrift compact protocol types (as a field header's low nibble).
_STOP, _TRUE, _FALSE, _I8, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)
_INTS = (_I16, _I32, _I64)


class _Reader:
    """Decodes Thrift compact structs into ``[field id, type, value]`` lists that re-encode to the same bytes."""

    def __init__(self, data: bytes, pos: int = 0):
        self.data, self.pos = data, pos

    def _byte(self) -> int:
        b = self.data[self.pos]
        self.pos += 1
        return b

    def _varint(self) -> int:
        shift = result = 0
        while True:
            b = self._byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def _zigzag(self) -> int:
        n = self._varint()
        return (n >> 1) ^ -(n & 1)

    def _bytes(self, n: int) -> bytes:
        v = self.data[self.pos:self.pos + n]
        self.pos += n
        return v

    def value(self, t: int):
        if t in _INTS:
            return self._zigzag()
        if t == _I8:
            return self._byte()
        if t == _DOUBLE:
            return self._bytes(8)  # kept as its bytes: nothing here reads it
        if t == _BINARY:
            return self._bytes(self._varint())
        if t in (_LIST, _SET):
            head = self._byte()
            size, et = head >> 4, head & 0x0F
            if size == 15:
                size = self._varint()
            # a list's booleans are one byte each, kept as they are
            return et, [self._byte() if et in (_TRUE, _FALSE) else self.value(et) for _ in range(size)]
        if t == _MAP:
            size = self._varint()
            if not size:
                return 0, 0, []
            kv = self._byte()
            kt, vt = kv >> 4, kv & 0x0F
            return kt, vt, [(self.value(kt), self.value(vt)) for _ in range(size)]
        if t == _STRUCT:
            return self.struct()
        raise ValueError(f"Thrift type {t} at byte {self.pos}")

    def struct(self) -> list[list]:
        fields: list[list] = []
        last = 0
        while True:
            head = self._byte()
            if head == _STOP:
                return fields
            t, delta = head & 0x0F, head >> 4
            fid = last + delta if delta else self._zigzag()
            last = fid
            fields.append([fid, t, t == _TRUE if t in (_TRUE, _FALSE) else self.value(t)])


def _varint(n: int, out: bytearray) -> None:
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _value(t: int, v, out: bytearray) -> None:
    if t in _INTS:
        _varint((v << 1) ^ (v >> 63), out)
    elif t == _I8:
        out.append(v & 0xFF)
    elif t in (_DOUBLE, _BINARY):
        if t == _BINARY:
            _varint(len(v), out)
        out += v
    elif t in (_LIST, _SET):
        et, items = v
        if len(items) < 15:
            out.append(len(items) << 4 | et)
        else:
            out.append(0xF0 | et)
            _varint(len(items), out)
        for x in items:
            if et in (_TRUE, _FALSE):
                out.append(x)
            else:
                _value(et, x, out)
    elif t == _MAP:
        kt, vt, items = v
        _varint(len(items), out)
        if items:
            out.append(kt << 4 | vt)
            for k, x in items:
                _value(kt, k, out)
                _value(vt, x, out)
    elif t == _STRUCT:
        _struct(v, out)
    else:
        raise ValueError(f"Thrift type {t}")


def _struct(fields: list[list], out: bytearray) -> None:
    """Encode as Thrift's own writers do: fields in order, a short header when the id delta is 1-15."""
    last = 0
    for fid, t, v in fields:
        if t in (_TRUE, _FALSE):
            t = _TRUE if v else _FALSE
        if 0 < fid - last <= 15:
            out.append((fid - last) << 4 | t)
        else:
            out.append(t)
            _varint((fid << 1) ^ (fid >> 63), out)
        last = fid
        if t not in (_TRUE, _FALSE):
            _value(t, v, out)
    out.append(_STOP)


def _field(fields: list[list], fid: int) -> list | None:
    return next((f for f in fields if f[0] == fid), None)


# FileMetaData: 3 num_rows, 4 row_groups. RowGroup: 1 columns, 5 file_offset. ColumnChunk:
# 2 file_offset, 3 meta_data, 4/6 offset/column index offsets. ColumnMetaData: 9 data page, 10 index
# page, 11 dictionary page, 14 bloom filter offsets (parquet.thrift).
_NUM_ROWS, _ROW_GROUPS = 3, 4
_RG_COLUMNS, _RG_OFFSET = 1, 5
_CC_OFFSET, _CC_META, _CC_INDEXES = 2, 3, (4, 6)
_META_OFFSETS, _META_BLOOM = (9, 10, 11), 14


def read_footer(f: BinaryIO, name: str = "part") -> tuple[int, list[list]]:
    """Return where an open Parquet file's footer starts and the footer decoded (``FileMetaData``)."""
    size = f.seek(0, 2)
    f.seek(0)
    head = f.read(4)
    f.seek(max(size - 8, 0))
    tail = f.read(8)
    if size < 12 or head != MAGIC or tail[4:] != MAGIC:
        raise ValueError(f"{name}: not a Parquet file")
    (length,) = struct.unpack("<i", tail[:4])
    start = size - 8 - length
    if not 4 <= start <= size - 8:
        raise ValueError(f"{name}: a Parquet footer of {length} bytes does not fit")
    f.seek(start)
    reader = _Reader(f.read(length))
    footer = reader.struct()
    if reader.pos != length:
        raise ValueError(f"{name}: the Parquet footer ends {length - reader.pos} bytes early")
    return start, footer


def _shift(row_group: list[list], shift: int) -> None:
    """Move a row group's absolute offsets by ``shift`` bytes."""
    for cc in _field(row_group, _RG_COLUMNS)[2][1]:
        if any(_field(cc, fid) for fid in _CC_INDEXES) or _field(_field(cc, _CC_META)[2], _META_BLOOM):
            raise ValueError("a part with page indexes or bloom filters cannot be spliced")
        f = _field(cc, _CC_OFFSET)
        if f and f[2]:  # 0: not set (writers that leave this deprecated field empty)
            f[2] += shift
        for fid in _META_OFFSETS:
            f = _field(_field(cc, _CC_META)[2], fid)
            if f:
                f[2] += shift
    f = _field(row_group, _RG_OFFSET)
    if f:
        f[2] += shift


class ParquetSplice:
    """Write one Parquet file from parts written with the same schema, metadata and options, in order.

    ``empty``: writes the file when no part is appended (the schema has to come from somewhere).
    :attr:`sha256`: the file's hash once closed, from the bytes as they are written (the manifest's
    hash without reading the file back at the end of a run); None for the empty file.
    """

    def __init__(self, path: Path | str, empty):
        self.path = Path(path)
        self._empty = empty
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed by close())
        self._hash = hashlib.sha256()
        self.sha256: str | None = None
        self._write(MAGIC)
        self._offset = len(MAGIC)
        self._first: list[list] | None = None
        self._same: bytes = b""  # the footer's fields other than the rows and row groups, as encoded
        self._groups: list[list] = []
        self.rows = 0

    def _write(self, data) -> None:
        self._file.write(data)
        self._hash.update(data)

    def append(self, part: Path | str) -> int:
        """Copy a part's row groups to the end of the file, a block at a time; its rows."""
        with open(part, "rb") as f:
            start, footer = read_footer(f, str(part))
            same = bytearray()
            _struct([x for x in footer if x[0] not in (_NUM_ROWS, _ROW_GROUPS)], same)
            if self._first is None:
                self._first, self._same = footer, bytes(same)
            elif bytes(same) != self._same:
                raise ValueError(f"{part}: not the schema, metadata and writer of the first part"
                                 " (a worker with another pyarrow version? workers need the locked versions)")
            groups = _field(footer, _ROW_GROUPS)
            for rg in groups[2][1] if groups else []:
                _shift(rg, self._offset - len(MAGIC))
                self._groups.append(rg)
            f.seek(len(MAGIC))
            left = start - len(MAGIC)
            while left:
                block = f.read(min(left, _BLOCK))
                if not block:
                    raise ValueError(f"{part}: shorter than its footer says")
                self._write(block)
                left -= len(block)
        self._offset += start - len(MAGIC)
        rows = _field(footer, _NUM_ROWS)[2]
        self.rows += rows
        return rows

    def close(self) -> None:
        """Write the footer: the first part's, with every part's rows and row groups."""
        if self._file.closed:
            return
        if self._first is None:
            self._file.close()
            self._empty(self.path)
            return
        footer = [list(f) for f in self._first]
        _field(footer, _NUM_ROWS)[2] = self.rows
        groups = _field(footer, _ROW_GROUPS)
        if groups:
            groups[2] = (groups[2][0], self._groups)
        elif self._groups:
            raise ValueError("the first part has no row-group list")  # never from a Parquet writer
        out = bytearray()
        _struct(footer, out)
        out += struct.pack("<i", len(out)) + MAGIC
        with self._file:
            self._write(out)
        self.sha256 = self._hash.hexdigest()

    def __enter__(self) -> ParquetSplice:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._file.close()  # an incomplete file: its folder is discarded
