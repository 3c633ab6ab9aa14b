"""Read TensorFlow V2 checkpoints (``.index`` + ``.data-NNNNN-of-NNNNN``) without TensorFlow.

Sources (file formats, not code):

* the ``.index`` file is a LevelDB-style SSTable ("table format",
  github.com/google/leveldb doc/table_format.md; TF's copy in
  tensorflow/tsl/lib/io/table_builder.cc): data blocks of prefix-compressed
  key/value entries with restart points, an index block of BlockHandles, a
  metaindex block, and a 48-byte footer ending in the magic 0xdb4775248b80fb57;
  each block is followed by a 1-byte compression type (0 none, 1 snappy) and a
  masked CRC-32C;
* its values are protocol buffers (developers.google.com/protocol-buffers/docs/encoding):
  under the empty key a ``BundleHeaderProto`` {1 num_shards, 2 endianness,
  3 version}; under each tensor name a ``BundleEntryProto`` {1 dtype, 2 shape
  (TensorShapeProto {2 dim {1 size, 2 name}, 3 unknown_rank}), 3 shard_id,
  4 offset, 5 size, 6 crc32c (masked, fixed32), 7 slices}
  (tensorflow/core/protobuf/tensor_bundle.proto);
* tensor bytes lie raw, row-major, at ``offset`` in shard ``shard_id``
  (tensorflow/core/util/tensor_bundle/tensor_bundle.cc);
* snappy: github.com/google/snappy format_description.txt;
  CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) with LevelDB's mask
  ((crc >> 15 | crc << 17) + 0xa282ead8).
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import SingleHDRError

#: Largest checkpoint read (index + all shards, bytes) and largest tensor rank: checked
#: at open, before any tensor is allocated.  The authors' checkpoints are ~0.4 GB.
MAX_CHECKPOINT_BYTES = 4 * 1024**3
MAX_RANK = 8
MAX_SHARDS = 1024

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5

#: TF DataType enum (tensorflow/core/framework/types.proto) -> numpy dtype.
TF_DTYPES: dict[int, np.dtype] = {
    1: np.dtype("float32"),
    2: np.dtype("float64"),
    3: np.dtype("int32"),
    4: np.dtype("uint8"),
    5: np.dtype("int16"),
    6: np.dtype("int8"),
    9: np.dtype("int64"),
    10: np.dtype("bool"),
    14: np.dtype("uint16"),  # bfloat16: read as raw uint16, widened to float32 below
    17: np.dtype("uint16"),
    19: np.dtype("float16"),
    22: np.dtype("uint32"),
    23: np.dtype("uint64"),
}
DT_BFLOAT16 = 14
DT_STRING = 7


# ---------------------------------------------------------------- wire format
def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``: (value, new pos).  Values >= 2^63 are
    returned as is (callers wanting int64 use :func:`to_int64`)."""
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def to_int64(v: int) -> int:
    """Two's-complement reinterpretation of a 64-bit varint value."""
    return v - (1 << 64) if v >= 1 << 63 else v


def parse_message(buf: bytes) -> dict[int, list]:
    """Decode one protobuf message into {field number: [values]}.

    Varints -> int, fixed64 / fixed32 -> int, length-delimited -> bytes (nested
    messages are parsed by the caller).  Groups (wire types 3, 4) are refused.
    """
    fields: dict[int, list] = {}
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 1:
            value = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire == 2:
            n, pos = read_varint(buf, pos)
            if pos + n > len(buf):
                raise ValueError("truncated length-delimited field")
            value = bytes(buf[pos : pos + n])
            pos += n
        elif wire == 5:
            value = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


# ---------------------------------------------------------------- snappy / crc
def snappy_decompress(data: bytes) -> bytes:
    """Decompress a raw snappy block (format_description.txt): varint length, then
    literals (tag & 3 == 0) and back-references (1: 11-bit offset, 2: 16-bit, 3: 32-bit)."""
    n, pos = read_varint(data, 0)
    out = bytearray()
    while pos < len(data):
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:
            length = tag >> 2
            if length >= 60:
                nb = length - 59
                length = int.from_bytes(data[pos : pos + nb], "little")
                pos += nb
            length += 1
            out += data[pos : pos + length]
            pos += length
            continue
        if kind == 1:
            length = ((tag >> 2) & 7) + 4
            offset = ((tag >> 5) << 8) | data[pos]
            pos += 1
        elif kind == 2:
            length = (tag >> 2) + 1
            offset = int.from_bytes(data[pos : pos + 2], "little")
            pos += 2
        else:
            length = (tag >> 2) + 1
            offset = int.from_bytes(data[pos : pos + 4], "little")
            pos += 4
        if offset == 0 or offset > len(out):
            raise ValueError("bad snappy back-reference")
        start = len(out) - offset
        if offset >= length:
            out += out[start : start + length]
        else:  # overlapping copy repeats the last `offset` bytes
            for i in range(length):
                out.append(out[start + i])
    if len(out) != n:
        raise ValueError(f"snappy length mismatch: {len(out)} != {n}")
    return bytes(out)


def _crc32c_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE: list[int] | None = None


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``; crc32c(b"123456789") == 0xE3069283.
    Pure Python (about 10 MB/s): used only when verification is asked for."""
    global _CRC_TABLE
    if _CRC_TABLE is None:
        _CRC_TABLE = _crc32c_table()
    table = _CRC_TABLE
    crc = 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask_crc(crc: int) -> int:
    """LevelDB/TF CRC mask: rotate right by 15, add 0xa282ead8 (mod 2^32)."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


# ---------------------------------------------------------------- SSTable
def _block_handle(buf: bytes, pos: int) -> tuple[int, int, int]:
    offset, pos = read_varint(buf, pos)
    size, pos = read_varint(buf, pos)
    return offset, size, pos


def _read_block(data: bytes, offset: int, size: int) -> bytes:
    if offset + size + BLOCK_TRAILER_SIZE > len(data):
        raise ValueError("block handle points past the end of the file")
    block = data[offset : offset + size]
    ctype = data[offset + size]
    if ctype == 0:
        return block
    if ctype == 1:
        return snappy_decompress(block)
    raise ValueError(f"unknown block compression type {ctype}")


def iter_block(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) pairs of one SSTable block (prefix-compressed keys; restarts skipped over)."""
    if len(block) < 4:
        raise ValueError("block too short")
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 * (num_restarts + 1)
    if end < 0:
        raise ValueError("bad restart count")
    pos = 0
    key = b""
    while pos < end:
        shared, pos = read_varint(block, pos)
        non_shared, pos = read_varint(block, pos)
        vlen, pos = read_varint(block, pos)
        if shared > len(key):
            raise ValueError("bad key prefix length")
        key = key[:shared] + block[pos : pos + non_shared]
        pos += non_shared
        value = block[pos : pos + vlen]
        pos += vlen
        yield key, value


def iter_table(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """All (key, value) pairs of an SSTable file's bytes, in key order."""
    if len(data) < FOOTER_SIZE:
        raise ValueError("file too short for an SSTable footer")
    footer = data[-FOOTER_SIZE:]
    if struct.unpack_from("<Q", footer, 40)[0] != TABLE_MAGIC:
        raise ValueError("bad SSTable magic number")
    _, _, pos = _block_handle(footer, 0)  # metaindex (unused: TF writes none)
    ioff, isize, _ = _block_handle(footer, pos)
    for _, handle in iter_block(_read_block(data, ioff, isize)):
        off, size, _ = _block_handle(handle, 0)
        yield from iter_block(_read_block(data, off, size))


# ---------------------------------------------------------------- bundle
@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lies: BundleEntryProto fields."""

    name: str
    dtype: int
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int | None
    sliced: bool = False


def _int_field(fields: dict[int, list], number: int, default: int = 0) -> int:
    """The first value of a varint field; ValueError if a mutated message holds bytes there."""
    v = fields.get(number, [default])[0]
    if not isinstance(v, int):
        raise ValueError(f"protobuf field {number} is not an integer")
    return v


def parse_entry(name: str, value: bytes) -> TensorEntry:
    f = parse_message(value)
    shape: list[int] = []
    for shape_msg in f.get(2, []):
        if not isinstance(shape_msg, bytes):
            raise ValueError("tensor shape is not a message")
        for dim in parse_message(shape_msg).get(2, []):
            if not isinstance(dim, bytes):
                raise ValueError("tensor dimension is not a message")
            shape.append(to_int64(_int_field(parse_message(dim), 1)))
    crc = f[6][0] if 6 in f else None
    return TensorEntry(
        name=name,
        dtype=_int_field(f, 1),
        shape=tuple(shape),
        shard_id=_int_field(f, 3),
        offset=to_int64(_int_field(f, 4)),
        size=to_int64(_int_field(f, 5)),
        crc32c=crc if isinstance(crc, int) else None,
        sliced=7 in f,
    )


def resolve_prefix(path: str | os.PathLike) -> Path:
    """The checkpoint prefix (``.../model.ckpt``) from a folder, a prefix, or an ``.index``/``.data`` path.

    A folder is resolved through its ``checkpoint`` state file
    (``model_checkpoint_path: "..."``) or else its only ``*.index`` file.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        state = p / "checkpoint"
        if state.is_file():
            m = re.search(r'^model_checkpoint_path:\s*"(.*)"', state.read_text(errors="replace"), re.M)
            if m:
                cand = Path(m.group(1))
                for c in (p / cand.name, cand if cand.is_absolute() else p / cand):  # prefer this folder
                    if Path(str(c) + ".index").is_file():
                        return c
        indexes = sorted(p.glob("*.index"))
        if len(indexes) == 1:
            return indexes[0].with_suffix("")
        if not indexes:
            raise SingleHDRError(f"no TensorFlow checkpoint (*.index) in {p}; pass the folder holding model.ckpt.index")
        raise SingleHDRError(f"{p} holds {len(indexes)} checkpoints and no usable 'checkpoint' file; pass one prefix, e.g. {indexes[-1].with_suffix('')}")
    s = str(p)
    if s.endswith(".index"):
        return Path(s[: -len(".index")])
    m = re.match(r"(.*)\.data-\d{5}-of-\d{5}$", s)
    if m:
        return Path(m.group(1))
    if Path(s + ".index").is_file():
        return p
    raise SingleHDRError(f"TensorFlow checkpoint {p} not found; pass its folder or its prefix (the path without .index)")


class TFCheckpoint:
    """A TF V2 checkpoint opened without TensorFlow.

    >>> ckpt = TFCheckpoint("ckpt_deq")          # folder, prefix or .index path
    >>> ckpt.names()[:2], ckpt.shape("Dequantization_Net/conv2d/kernel")
    >>> w = ckpt.read("Dequantization_Net/conv2d/kernel")  # numpy, TF layout (HWIO)
    """

    def __init__(self, path: str | os.PathLike):
        self.prefix = resolve_prefix(path)
        index = Path(str(self.prefix) + ".index")
        try:
            data = index.read_bytes()
        except OSError as exc:
            raise SingleHDRError(f"cannot read {index}: {exc.strerror}") from None
        self.entries: dict[str, TensorEntry] = {}
        self.num_shards = 1
        self.big_endian = False
        try:
            for key, value in iter_table(data):
                if key == b"":
                    header = parse_message(value)
                    self.num_shards = _int_field(header, 1, 1)
                    self.big_endian = _int_field(header, 2, 0) == 1
                    continue
                name = key.decode("utf-8")
                self.entries[name] = parse_entry(name, value)
        except (ValueError, struct.error, UnicodeDecodeError, IndexError, OverflowError) as exc:
            raise SingleHDRError(f"{index} is not a TensorFlow V2 checkpoint index ({exc})") from None
        self._validate(index)

    def _validate(self, index: Path) -> None:
        """Refuse (one line) an index whose entries cannot be real: bad shapes, sizes that
        disagree with their shapes or lie outside their shard, or a total over the limit."""
        if not isinstance(self.num_shards, int) or not 1 <= self.num_shards <= MAX_SHARDS:
            raise SingleHDRError(f"{index} claims {self.num_shards} shards; not a valid TensorFlow checkpoint")
        shard_sizes: dict[int, int] = {}
        total = len(index.read_bytes()) if index.is_file() else 0
        for e in self.entries.values():
            if e.dtype == DT_STRING or e.sliced:
                continue  # never read as weights; read() refuses them in one line
            bad = None
            if len(e.shape) > MAX_RANK or any(d < 0 for d in e.shape):
                bad = f"shape {e.shape}"
            elif e.offset < 0 or e.size < 0 or not 0 <= e.shard_id < self.num_shards:
                bad = f"offset {e.offset}, size {e.size}, shard {e.shard_id}"
            elif e.dtype in TF_DTYPES:
                count = 1
                for d in e.shape:
                    count *= d
                if count * TF_DTYPES[e.dtype].itemsize != e.size:
                    bad = f"{e.size} bytes for shape {e.shape}"
            if bad is None and e.size:
                if e.shard_id not in shard_sizes:
                    try:
                        shard_sizes[e.shard_id] = self.shard_path(e.shard_id).stat().st_size
                    except OSError:
                        shard_sizes[e.shard_id] = -1  # missing shard: read() says so in one line
                size = shard_sizes[e.shard_id]
                if size >= 0 and e.offset + e.size > size:
                    bad = f"bytes {e.offset}..{e.offset + e.size} past the end of its {size}-byte shard"
            if bad is not None:
                raise SingleHDRError(f"{index}: tensor {e.name!r} has {bad}; the checkpoint is corrupt")
            total += e.size
        if total > MAX_CHECKPOINT_BYTES:
            raise SingleHDRError(f"{index} describes {total / 1024**3:.1f} GB of tensors, over the "
                                 f"{MAX_CHECKPOINT_BYTES / 1024**3:.0f} GB limit; not one of the authors' checkpoints")

    def names(self) -> list[str]:
        return sorted(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def shape(self, name: str) -> tuple[int, ...]:
        return self.entries[name].shape

    def shard_path(self, shard_id: int) -> Path:
        return Path(f"{self.prefix}.data-{shard_id:05d}-of-{self.num_shards:05d}")

    def read(self, name: str, verify: bool = False) -> np.ndarray:
        """The tensor ``name`` as a numpy array in TF's layout (bfloat16 widened to float32).

        verify: check the stored CRC-32C of the bytes (slow, pure Python).
        Raises SingleHDRError for unknown names, unsupported dtypes, sliced
        (partitioned) variables, truncated shards or CRC mismatches.
        """
        e = self.entries.get(name)
        if e is None:
            raise SingleHDRError(f"tensor {name!r} not in checkpoint {self.prefix}")
        if e.sliced:
            raise SingleHDRError(f"tensor {name!r} is a partitioned variable; not supported")
        if e.dtype not in TF_DTYPES:
            raise SingleHDRError(f"tensor {name!r} has TF dtype {e.dtype}, which this reader does not support")
        dt = TF_DTYPES[e.dtype].newbyteorder(">" if self.big_endian else "<")
        count = int(np.prod(e.shape, dtype=np.int64)) if e.shape else 1
        if count * dt.itemsize != e.size:
            raise SingleHDRError(f"tensor {name!r}: {e.size} bytes stored for shape {e.shape}; corrupt checkpoint?")
        path = self.shard_path(e.shard_id)
        try:
            with open(path, "rb") as fh:
                fh.seek(e.offset)
                raw = fh.read(e.size)
        except OSError as exc:
            raise SingleHDRError(f"cannot read {path}: {exc.strerror}; is the .data file next to the .index?") from None
        if len(raw) != e.size:
            raise SingleHDRError(f"{path} is truncated (tensor {name!r}); re-download the checkpoint")
        if verify and e.crc32c is not None and mask_crc(crc32c(raw)) != e.crc32c:
            raise SingleHDRError(f"CRC mismatch for tensor {name!r} in {path}; the checkpoint is corrupt")
        arr = np.frombuffer(raw, dtype=dt).reshape(e.shape)
        if e.dtype == DT_BFLOAT16:
            return (arr.astype(np.uint32) << 16).view(np.float32)
        return arr.astype(dt.newbyteorder("="), copy=True)
