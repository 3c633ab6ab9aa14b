"""Model files are validated before anything large is allocated: finite weights, a
width within the config bounds, bounded sizes; for --model and for import-tf."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import singlehdr.weights as weights
from singlehdr.cli import main
from singlehdr.errors import SingleHDRError
from singlehdr.models import SingleHDRConfig, SingleHDRModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tf_builder import write_checkpoint  # noqa: E402


def _one_line_error(capsys, argv, pattern):
    rc = main([str(a) for a in argv])
    _, err = capsys.readouterr()
    assert rc == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert pattern in err, err
    return err


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory):
    torch.manual_seed(0)
    model = SingleHDRModel(SingleHDRConfig(0.125, True))
    path = tmp_path_factory.mktemp("m") / "tiny.safetensors"
    weights.save_model(path, model, provenance={"name": "tiny"})
    return path


def _rewrite(src: Path, dst: Path, *, tensor_edit=None, config=None) -> Path:
    tensors, meta = weights.read_weights(src)
    if tensor_edit:
        tensor_edit(tensors)
    if config is not None:
        meta["config"] = json.dumps(config)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(dst), metadata=meta)
    return dst


def test_nan_weights_refused_in_one_line(tmp_path, capsys, tiny_model_file, sample_jpg):
    def poison(t):
        k = sorted(t)[3]
        t[k] = t[k].clone()
        t[k].view(-1)[0] = float("nan")

    bad = _rewrite(tiny_model_file, tmp_path / "nan.safetensors", tensor_edit=poison)
    _one_line_error(capsys, ["reconstruct", sample_jpg, "-o", tmp_path / "o.exr", "--model", bad], "NaN or Inf weights")
    assert not (tmp_path / "o.exr").exists()


def test_inf_weights_refused(tmp_path, tiny_model_file):
    def poison(t):
        k = sorted(t)[-1]
        t[k] = torch.full_like(t[k], float("inf"))

    bad = _rewrite(tiny_model_file, tmp_path / "inf.safetensors", tensor_edit=poison)
    with pytest.raises(SingleHDRError, match="NaN or Inf"):
        weights.load_model(bad, device="cpu")


@pytest.mark.parametrize("width", [4096, 0, -1, "nan", 1e300])
def test_config_width_outside_bounds_refused_before_allocation(tmp_path, tiny_model_file, width):
    bad = _rewrite(tiny_model_file, tmp_path / "w.safetensors", config={"width": width, "refine": True})
    with pytest.raises(SingleHDRError, match="declares a model of width"):
        weights.load_model(bad, device="cpu")


def test_bounds_admit_the_shipped_and_authors_widths():
    for w in (0.125, 0.25, 1.0, weights.MAX_WIDTH, weights.MIN_WIDTH):
        weights.check_config(SingleHDRConfig(w, True))
    assert weights.MIN_WIDTH < 0.125 and weights.MAX_WIDTH > 1.0  # the shipped and the authors' widths are inside


def test_oversized_weight_file_refused_before_reading(tmp_path):
    big = tmp_path / "big.safetensors"
    with open(big, "wb") as fh:  # sparse: no disk used
        fh.truncate(weights.MAX_WEIGHT_FILE_BYTES + 1)
    with pytest.raises(SingleHDRError, match="larger than any singlehdr model"):
        weights.read_weights(big)


def test_tf_checkpoint_claiming_width_4096_refused_before_allocation(tmp_path, capsys):
    """The first Dequantization-Net kernel claims 16 * 4096 output channels (the import
    infers width 4096 from it, an 841 GB model): one line, nothing allocated."""
    prefix = tmp_path / "ck" / "model.ckpt"
    prefix.parent.mkdir()
    name = "Dequantization_Net/conv2d/kernel"
    shape = (7, 7, 3, 16 * 4096)
    write_checkpoint(prefix, {name: np.zeros(1, np.float32)}, shapes={name: shape},
                     sparse_sizes={name: int(np.prod(shape)) * 4})
    _one_line_error(capsys, ["import-tf", "--deq", prefix, "--lin", prefix, "--hal", prefix, "-o",
                             tmp_path / "o.safetensors"], "width 4096")
    assert not (tmp_path / "o.safetensors").exists()


def test_tf_index_entry_past_its_shard_refused_at_open(tmp_path):
    from singlehdr.weights.tf_checkpoint import TFCheckpoint

    prefix = tmp_path / "model.ckpt"
    write_checkpoint(prefix, {"a": np.ones((4, 4), np.float32)}, shapes={"a": (400, 400)},
                     sparse_sizes={"a": 400 * 400 * 4})
    Path(str(prefix) + ".data-00000-of-00001").write_bytes(b"\0" * 64)  # the shard holds 64 bytes only
    with pytest.raises(SingleHDRError, match="past the end of its 64-byte shard"):
        TFCheckpoint(prefix)


def test_tf_index_size_disagreeing_with_shape_refused_at_open(tmp_path):
    from singlehdr.weights.tf_checkpoint import TFCheckpoint

    prefix = tmp_path / "model.ckpt"
    write_checkpoint(prefix, {"a": np.ones((4, 4), np.float32)}, shapes={"a": (4096, 4096, 4096)})
    with pytest.raises(SingleHDRError, match="bytes for shape"):
        TFCheckpoint(prefix)
