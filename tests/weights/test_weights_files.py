"""save_model / load_model: safetensors only, metadata, strictness, clear errors."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

import singlehdr.weights as weights
from singlehdr.errors import SingleHDRError
from singlehdr.models import SingleHDRConfig, SingleHDRModel


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(3)
    model = SingleHDRModel(SingleHDRConfig(0.125, refine=True)).eval()
    with torch.no_grad():  # non-trivial BN statistics, so a missed buffer would show
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model


def test_round_trip_float32_is_exact(small_model, tmp_path):
    path = weights.save_model(tmp_path / "m.safetensors", small_model, provenance={"name": "unit", "note": "test"})
    model, info = weights.load_model(str(path), device="cpu")
    assert info["config"] == {"width": 0.125, "refine": True}
    assert info["provenance"] == {"name": "unit", "note": "test"}
    assert info["model_id"].startswith("unit-") and len(info["model_id"]) == len("unit-") + 12
    assert not model.training
    ref, got = small_model.state_dict(), model.state_dict()
    for k, v in ref.items():
        if not k.endswith("num_batches_tracked"):
            assert torch.equal(v, got[k]), k
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), small_model(x))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]  # no temp file left


def test_model_id_depends_on_weights_only(small_model, tmp_path):
    a = weights.save_model(tmp_path / "a.safetensors", small_model, provenance={"name": "x", "when": 1})
    b = weights.save_model(tmp_path / "b.safetensors", small_model, provenance={"name": "x", "when": 2})
    other = SingleHDRModel(SingleHDRConfig(0.125, refine=True))
    c = weights.save_model(tmp_path / "c.safetensors", other, provenance={"name": "x"})
    ids = [weights.load_model(str(p), device="cpu")[1]["model_id"] for p in (a, b, c)]
    assert ids[0] == ids[1] != ids[2]


def test_half_storage_loads_as_float32(small_model, tmp_path):
    full = weights.save_model(tmp_path / "f.safetensors", small_model, provenance={})
    half = weights.save_model(tmp_path / "h.safetensors", small_model, provenance={}, half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    model, info = weights.load_model(str(half), device="cpu")
    assert info["dtype"] == "float16"
    w = model.dequantize.unet.stem[0].weight
    assert w.dtype == torch.float32
    assert torch.equal(w, small_model.dequantize.unet.stem[0].weight.half().float())


def test_missing_default_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr(weights, "DEFAULT_PATH", tmp_path / "default.safetensors")
    with pytest.raises(SingleHDRError, match="no default model is shipped yet; pass --model FILE"):
        weights.load_model(None)


def test_refuses_missing_file_and_pickles(tmp_path):
    with pytest.raises(SingleHDRError, match="not found"):
        weights.load_model(str(tmp_path / "nope.safetensors"))
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"w": [1.0]}))
    with pytest.raises(SingleHDRError, match="not a readable .safetensors"):
        weights.load_model(str(evil))


def test_refuses_foreign_and_mismatched_files(small_model, tmp_path):
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(SingleHDRError, match="not a singlehdr model"):
        weights.load_model(str(foreign))
    # tensors of a x0.125 model under a header that claims x0.25: shapes differ
    tensors = weights.state_dict_for_saving(small_model)
    lying = tmp_path / "lying.safetensors"
    save_file(tensors, str(lying), metadata={"format": "singlehdr", "config": json.dumps({"width": 0.25, "refine": True})})
    with pytest.raises(SingleHDRError, match="wrong shape"):
        weights.load_model(str(lying))
    # a three-stage header over four-stage tensors: refine.* are unexpected
    extra = tmp_path / "extra.safetensors"
    save_file(tensors, str(extra), metadata={"format": "singlehdr", "config": json.dumps({"width": 0.125, "refine": False})})
    with pytest.raises(SingleHDRError, match=r"unexpected \(e.g. refine\."):
        weights.load_model(str(extra))


def test_load_model_resolves_the_device_like_the_engine(tmp_path, small_model):
    """weights.load_model uses singlehdr.device.resolve_device (the one device rule)."""
    path = weights.save_model(tmp_path / "m.safetensors", small_model, provenance={"name": "unit"})
    model, info = weights.load_model(path, device="cpu")
    assert info["device"] == "cpu" and next(model.parameters()).device.type == "cpu"
    with pytest.raises(SingleHDRError, match="unknown device"):
        weights.load_model(path, device="tpu")
