"""The shipped default model: loads, has the documented config, is small, and
`singlehdr reconstruct` with no flags uses it and recovers clipped highlights."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import singlehdr.weights as weights
from singlehdr.cli import main
from singlehdr.io import read_hdr, read_ldr

CARD = Path(weights.__file__).with_name("MODEL_CARD.md")


@pytest.fixture(scope="module")
def default_model():
    return weights.load_model(None, device="cpu")


@pytest.fixture(scope="module")
def reconstructed(tmp_path_factory):
    """`singlehdr reconstruct sample.jpg -o out.exr`, no flags (run once: the slow part)."""
    from singlehdr.data import sample_path

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    out = tmp_path_factory.mktemp("default") / "out.exr"
    rc = main(["reconstruct", str(sample_path()), "-o", str(out)])
    assert rc == 0
    hdr, meta = read_hdr(out)
    return hdr, meta, read_ldr(sample_path()).pixels


def test_default_file_is_small_safetensors():
    path = weights.DEFAULT_PATH
    assert path.is_file() and path.suffix == ".safetensors"
    assert path.stat().st_size < 25 * 1024 * 1024
    with open(path, "rb") as fh:  # safetensors: u64 header length, then a JSON header (no pickle)
        n = int.from_bytes(fh.read(8), "little")
        header = json.loads(fh.read(n))
    assert header["__metadata__"]["format"] == "singlehdr"


def test_default_loads_with_documented_config(default_model):
    model, info = default_model
    assert info["config"] == {"width": 0.25, "refine": True}  # SingleHDRConfig.small()
    assert info["model_id"].startswith("singlehdr-default-")
    assert not model.training
    card = CARD.read_text()
    assert info["model_id"] in card  # the card describes this very file
    assert "python tools/train_default.py" in card
    n_params = sum(p.numel() for p in model.parameters())
    assert f"{n_params:,}" in card


def test_default_card_table_shows_the_model_beating_training_free_operators():
    """The card's evaluate table: the shipped model ("default") beats every training-free
    operator in log-PSNR and PU21-PSNR (the requirement of issue 6)."""
    rows = {}
    for line in CARD.read_text().splitlines():
        m = re.match(r"\|\s*([\w.-]+)\s*\|\s*([-\d.]+)\s*\|\s*([-\d.]+)\s*\|", line)
        if m:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    assert {"default", "inverse-srgb", "akyuz", "kovaleski"} <= set(rows)
    for op in ("inverse-srgb", "akyuz", "kovaleski"):
        assert rows["default"][0] > rows[op][0], op
        assert rows["default"][1] > rows[op][1], op


def test_reconstruct_without_flags_uses_the_default_model(reconstructed, default_model):
    hdr, meta, _ = reconstructed
    _, info = default_model
    attrs = meta["attributes"]
    assert attrs.get("singlehdr:model_id") == info["model_id"]
    assert attrs.get("singlehdr:method") == "singlehdr"


def test_default_output_finite_nonnegative_and_above_one_in_clipped_regions(reconstructed):
    hdr, _, ldr = reconstructed
    assert hdr.shape == (512, 1024, 3) and hdr.dtype == np.float32
    assert np.isfinite(hdr).all() and (hdr >= 0).all()
    clipped = ldr.min(axis=2) >= 250 / 255  # all three channels at the 8-bit ceiling
    unclipped = ldr.max(axis=2) <= 0.5
    assert clipped.sum() > 100 and unclipped.sum() > 1000
    # highlights are expanded above LDR white (relative exposure: LDR white ~ 1) ...
    assert float(np.median(hdr[clipped].max(axis=1))) > 1.0
    # ... while the mid-tones stay below it
    assert float(np.median(hdr[unclipped].max(axis=1))) < 1.0
