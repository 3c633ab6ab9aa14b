"""A minimal TensorFlow V2 checkpoint writer for tests (no TensorFlow): one shard,
an SSTable index with one uncompressed data block (leveldb doc/table_format.md;
block trailer = type byte 0 + masked CRC-32C), BundleHeaderProto under the empty key
and one BundleEntryProto per tensor (tensorflow/core/protobuf/tensor_bundle.proto)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from singlehdr.weights.tf_checkpoint import TABLE_MAGIC, crc32c, mask_crc

_DTYPES = {np.dtype("float32"): 1, np.dtype("float64"): 2, np.dtype("int32"): 3, np.dtype("int64"): 9,
           np.dtype("float16"): 19}


def _varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_varint(n: int, v: int) -> bytes:
    return _varint(n << 3) + _varint(v)


def _field_bytes(n: int, b: bytes) -> bytes:
    return _varint(n << 3 | 2) + _varint(len(b)) + b


def _block(entries: list[tuple[bytes, bytes]]) -> bytes:
    out = b""
    for k, v in entries:  # no prefix sharing: shared = 0, one restart point at 0
        out += _varint(0) + _varint(len(k)) + _varint(len(v)) + k + v
    return out + struct.pack("<II", 0, 1)


def _with_trailer(block: bytes) -> bytes:
    return block + b"\0" + struct.pack("<I", mask_crc(crc32c(block + b"\0")))


def write_checkpoint(prefix, tensors: dict[str, np.ndarray], *, shapes: dict[str, tuple] | None = None,
                     sparse_sizes: dict[str, int] | None = None) -> Path:
    """Write ``prefix``.index and ``prefix``.data-00000-of-00001.

    shapes: declared shapes overriding the arrays' (to claim other sizes);
    sparse_sizes: name -> byte count stored as zeros without writing them (a sparse file).
    """
    prefix = Path(prefix)
    data = bytearray()
    entries = [(b"", _field_varint(1, 1) + _field_varint(2, 0))]
    extra_tail = 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        shape = (shapes or {}).get(name, a.shape)
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        size = (sparse_sizes or {}).get(name, len(raw))
        offset = len(data) + extra_tail
        if name in (sparse_sizes or {}):
            extra_tail += size
        else:
            data += raw
        shape_msg = b"".join(_field_bytes(2, _field_varint(1, int(d))) for d in shape)
        entry = (_field_varint(1, _DTYPES[a.dtype]) + _field_bytes(2, shape_msg) + _field_varint(3, 0)
                 + _field_varint(4, offset) + _field_varint(5, size))
        entries.append((name.encode(), entry))
    data_block = _with_trailer(_block(entries))
    meta_block = _with_trailer(_block([]))
    index_block = _with_trailer(_block([(entries[-1][0] + b"\xff", _varint(0) + _varint(len(data_block) - 5))]))
    meta_off = len(data_block)
    index_off = meta_off + len(meta_block)
    footer = _varint(meta_off) + _varint(len(meta_block) - 5) + _varint(index_off) + _varint(len(index_block) - 5)
    footer = footer.ljust(40, b"\0") + struct.pack("<Q", TABLE_MAGIC)
    Path(str(prefix) + ".index").write_bytes(data_block + meta_block + index_block + footer)
    shard = Path(str(prefix) + ".data-00000-of-00001")
    with open(shard, "wb") as fh:
        fh.write(bytes(data))
        if extra_tail:
            fh.truncate(len(data) + extra_tail)
    return prefix
