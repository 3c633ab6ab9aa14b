"""float16: the authors' Hallucination-Net overflows it; its folded copy (models.hallucinate.fold_for_half) does not.

Found on an H200 (bench/cuda_check.py, stop 22): ``--precision fp16`` gave a relative RMSE of 6.5 % on the README
sample and the TorchScript export, converted to half as Nuke's *Optimize for Speed and Memory* does, gave NaN.
The checks here run half precision on the CPU, with the shipped weights on the clipped sky of the bundled sample.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from singlehdr.models.hallucinate import ChannelAffine, HallucinationNet, fold_for_half, half_safe

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def shipped():
    from singlehdr.weights import load_model

    model, info = load_model(None, device="cpu")
    return model.eval(), info


@pytest.fixture(scope="module")
def sky_crop(shipped):
    """Hallucination-Net's input on the sample's clipped sunset glow: (1, 3, 256, 320) linear, a tenth of it >= 0.9."""
    from singlehdr.api import load_input
    from singlehdr.data import sample_path
    from singlehdr.models.linearize import apply_inverse_crf

    model, _ = shipped
    x = torch.from_numpy(np.ascontiguousarray(load_input(sample_path()).pixels.transpose(2, 0, 1)[None, :, 60:316, 350:670]))
    with torch.no_grad():
        b = apply_inverse_crf(model.dequantize(x), model.estimate_inverse_crf(x).float())
    assert float((b.amax(dim=1) >= 0.9).float().mean()) > 0.1
    return x, b


def log2_err(y: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    m = ref > 1e-3
    return (torch.log2(y.float().clamp_min(1e-6)[m] / ref.clamp_min(1e-6)[m])).abs()


def test_the_authors_form_overflows_float16(shipped, sky_crop):
    """Why the copy exists: VGG's x255 input drives the encoder past 65504 and h6's BatchNorm variance is ~4e11."""
    model, _ = shipped
    _, b = sky_crop
    assert float(model.hallucinate.encoder.bn6.running_var.max()) > 65504
    with torch.no_grad():
        y = copy.deepcopy(model.hallucinate).half()(b.half())  # a copy: the fixture's model stays float32
    assert not bool(torch.isfinite(y).all())


def test_folded_copy_is_the_same_function_in_fp32(shipped, sky_crop):
    model, _ = shipped
    _, b = sky_crop
    folded = fold_for_half(model.hallucinate)
    assert isinstance(folded.encoder.bn6, ChannelAffine) and all(isinstance(u.bn, ChannelAffine) for u in folded.decoder.up)
    assert model.hallucinate.encoder_scale == 1.0 and isinstance(model.hallucinate.encoder.bn6, torch.nn.BatchNorm2d)  # untouched
    with torch.no_grad():
        ref = model.hallucinate(b)
        y = folded(b)
    assert float((y - b).abs().max()) > 0.5  # the glow is filled: the net's residual matters here
    assert float(((y - ref).abs() / (ref.abs() + 1e-3)).max()) < 2e-5


def test_folded_copy_in_half_precision_stays_close(shipped, sky_crop):
    model, _ = shipped
    _, b = sky_crop
    with torch.no_grad():
        ref = model.hallucinate(b)
        y = fold_for_half(model.hallucinate).half()(b.half())
    assert bool(torch.isfinite(y).all())
    e = log2_err(y, ref)
    assert float(e.mean()) < 2e-3 and float(torch.quantile(e, 0.99)) < 1e-2, (float(e.mean()), float(e.max()))


def test_half_safe_shares_the_other_networks(shipped):
    model, _ = shipped
    safe = half_safe(model)
    assert safe is not model and safe.hallucinate is not model.hallucinate
    assert safe.dequantize is model.dequantize and safe.linearize is model.linearize and safe.refine is model.refine
    assert model.hallucinate.encoder_scale == 1.0 and safe.hallucinate.encoder_scale != 1.0
    assert isinstance(half_safe(model.hallucinate), HallucinationNet)
    other = torch.nn.Conv2d(3, 3, 1)
    assert half_safe(other) is other


def test_torchscript_export_runs_in_half_on_a_clipped_sky(shipped, sky_crop, tmp_path):
    """Nuke's Optimize for Speed and Memory: the module and its input in half precision."""
    from singlehdr.export import export_torchscript
    from singlehdr.export.export import NukeInferenceWrapper

    model, info = shipped
    x, _ = sky_crop
    lin = (x ** 2.2).contiguous()  # scene-linear pixels, as Nuke hands them over
    path = export_torchscript(model, tmp_path / "m.pt", example_size=(128, 128), info=info)
    with torch.no_grad():
        ref = NukeInferenceWrapper(model, model.multiple, "linear", 32)(lin)
        half = torch.jit.load(str(path)).half()(lin.half())
    assert float(ref.max()) > 2.0  # the glow is expanded past LDR white
    assert half.dtype == torch.float16 and bool(torch.isfinite(half).all())
    e = log2_err(half, ref)
    assert float(torch.quantile(e, 0.99)) < 0.05
    assert float((half.float() - ref).abs().max()) <= 0.04 * float(ref.max())
