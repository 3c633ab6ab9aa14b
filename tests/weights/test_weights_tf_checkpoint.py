"""Our TF V2 checkpoint reader (no TF) against checkpoints written by real TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from singlehdr.errors import SingleHDRError
from singlehdr.weights import tf_checkpoint as tc


# ---------------------------------------------------------------- hand values
def test_varint_and_message_hand_values():
    assert tc.read_varint(bytes([0x96, 0x01]), 0) == (150, 2)
    # field 1 varint 150; field 2 bytes "hi"; field 6 fixed32 1
    msg = bytes([0x08, 0x96, 0x01, 0x12, 0x02]) + b"hi" + bytes([0x35, 1, 0, 0, 0])
    assert tc.parse_message(msg) == {1: [150], 2: [b"hi"], 6: [1]}
    assert tc.to_int64((1 << 64) - 3) == -3


def test_crc32c_known_values():
    assert tc.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert tc.crc32c(b"") == 0
    assert tc.mask_crc(0) == 0xA282EAD8


def test_snappy_hand_stream():
    # length 12; literal "abcd" (tag (4-1)<<2); copy-1 of length 8 at offset 4: tag ((8-4)<<2)|1, offset byte 4
    stream = bytes([12, (3 << 2)]) + b"abcd" + bytes([((8 - 4) << 2) | 1, 4])
    assert tc.snappy_decompress(stream) == b"abcdabcdabcd"
    # overlapping copy (offset 1) repeats one byte; copy-2 form
    stream = bytes([6, 0]) + b"z" + bytes([((5 - 1) << 2) | 2, 1, 0])
    assert tc.snappy_decompress(stream) == b"zzzzzz"
    with pytest.raises(ValueError):
        tc.snappy_decompress(bytes([5, 0]) + b"z")


def test_bad_index_is_a_user_error(tmp_path):
    (tmp_path / "model.ckpt.index").write_bytes(b"\0" * 100)
    with pytest.raises(SingleHDRError, match="not a TensorFlow V2 checkpoint index"):
        tc.TFCheckpoint(tmp_path)
    with pytest.raises(SingleHDRError, match="not found"):
        tc.TFCheckpoint(tmp_path / "other.ckpt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SingleHDRError, match="no TensorFlow checkpoint"):
        tc.TFCheckpoint(tmp_path / "empty")


# ---------------------------------------------------------------- real TF
@pytest.fixture(scope="module")
def tf_ckpt(tmp_path_factory):
    """A checkpoint written by tf.compat.v1.train.Saver with many dtypes and names."""
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(11)
    folder = tmp_path_factory.mktemp("ckpt")
    values = {
        "Dequantization_Net/conv2d/kernel": rng.normal(size=(7, 7, 3, 16)).astype(np.float32),
        "x/half": rng.normal(size=(5, 3)).astype(np.float16),
        "x/double": rng.normal(size=(4,)),
        "x/int64": np.array([-(2**40), -1, 0, 7], dtype=np.int64),
        "x/int32": np.array([[1, -2], [3, 4]], dtype=np.int32),
        "x/scalar": np.float32(2.5),
        "x/empty": np.zeros((0, 3), np.float32),
    }
    values.update({f"many/long_shared_prefix/v{i:03d}": np.float32(i) for i in range(300)})  # several data blocks
    g = tf.Graph()
    with g.as_default():
        feeds = {}
        for name, v in values.items():
            ph = tf.compat.v1.placeholder(tf.as_dtype(np.asarray(v).dtype), np.shape(v))
            tf.compat.v1.get_variable(name, initializer=ph)
            feeds[ph] = v
        bf = tf.compat.v1.get_variable("x/bfloat16", initializer=tf.constant([1.5, -2.25, 3.0e38], dtype=tf.bfloat16))
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(tf.compat.v1.global_variables_initializer(), feeds)
            prefix = saver.save(sess, str(folder / "model.ckpt"), write_meta_graph=False)
            values["x/bfloat16"] = sess.run(tf.cast(bf, tf.float32))
    listed = dict(tf.train.list_variables(prefix))
    return folder, prefix, values, listed


@pytest.mark.tf
def test_reader_is_bit_exact(tf_ckpt):
    folder, prefix, values, listed = tf_ckpt
    ckpt = tc.TFCheckpoint(folder)
    assert ckpt.names() == sorted(listed)
    for name, v in values.items():
        got = ckpt.read(name, verify=True)
        v = np.asarray(v)
        assert got.dtype == (np.float32 if name == "x/bfloat16" else v.dtype), name
        assert got.shape == v.shape == tuple(listed[name]), name
        assert np.array_equal(got, v), name  # bit-exact (no NaNs here)


@pytest.mark.tf
def test_prefix_resolution(tf_ckpt):
    folder, prefix, values, _ = tf_ckpt
    for spec in (folder, prefix, prefix + ".index", prefix + ".data-00000-of-00001"):
        assert str(tc.TFCheckpoint(spec).prefix) == prefix
    with pytest.raises(SingleHDRError, match="not in checkpoint"):
        tc.TFCheckpoint(folder).read("no/such/tensor")


@pytest.mark.tf
def test_crc_detects_corruption(tf_ckpt, tmp_path):
    folder, prefix, _, _ = tf_ckpt
    import shutil

    for f in folder.iterdir():
        shutil.copy(f, tmp_path / f.name)
    ckpt = tc.TFCheckpoint(tmp_path)
    e = ckpt.entries["Dequantization_Net/conv2d/kernel"]
    data = bytearray((tmp_path / "model.ckpt.data-00000-of-00001").read_bytes())
    data[e.offset + 10] ^= 0xFF
    (tmp_path / "model.ckpt.data-00000-of-00001").write_bytes(bytes(data))
    ckpt.read("x/half", verify=True)  # untouched tensor still fine
    with pytest.raises(SingleHDRError, match="CRC mismatch"):
        ckpt.read("Dequantization_Net/conv2d/kernel", verify=True)
