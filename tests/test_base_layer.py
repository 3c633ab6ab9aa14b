"""The bottom layer (singlehdr.colour, .device, .exposure, .geometry): one copy of each rule,
and the places that used to carry their own copy now agree with it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from singlehdr import colour
from singlehdr.device import resolve_device
from singlehdr.errors import SingleHDRError
from singlehdr.export.export import NukeInferenceWrapper
from singlehdr.geometry.padding import circular_indices, pad_amounts, symmetric_indices, symmetric_pad
from singlehdr.infer.padding import gather, plan_padding


def test_bt709_luminance_hand_values():
    px = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]], np.float32)
    np.testing.assert_allclose(colour.luminance(px), [0.2126, 0.7152, 0.0722, 0.5], rtol=1e-6)
    rgba = np.array([[[0.0, 1.0, 0.0, 0.25]]], np.float32)  # alpha is ignored
    assert colour.luminance(rgba).shape == (1, 1) and abs(float(colour.luminance(rgba)[0, 0]) - 0.7152) < 1e-6
    assert sum(colour.REC709_Y) == pytest.approx(1.0)


def test_every_luminance_in_core_is_the_colour_modules():
    """classical, preview, envmap (calibrate), exposure, the highlight pass and the metrics all use one set of weights."""
    from singlehdr.classical import luminance as classical_luminance
    from singlehdr.envmap.calibrate import luminance as envmap_luminance
    from singlehdr.infer.highlights import LUMA
    from singlehdr.preview import luminance as preview_luminance
    from singlehdr.train.metrics import luminance as metric_luminance

    rgb = np.random.default_rng(0).uniform(0, 40, (7, 5, 3)).astype(np.float32)
    want = rgb.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])
    for f in (classical_luminance, envmap_luminance, preview_luminance, colour.luminance):
        got = f(rgb)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(metric_luminance(rgb), want, rtol=1e-12)
    assert LUMA is colour.LUMA_709


def test_srgb_curve_hand_values_and_half_range():
    assert float(colour.linear_to_srgb(np.float32(0.5))) == pytest.approx(0.7353569, abs=1e-6)
    assert float(colour.srgb_to_linear(np.float32(0.5))) == pytest.approx(0.2140411, abs=1e-6)
    assert float(colour.linear_to_srgb(np.float32(0.001))) == pytest.approx(0.01292, abs=1e-7)  # linear toe
    assert colour.HALF_MAX == float(np.finfo(np.float16).max)
    assert colour.fits_half(np.array([-65504.0, 65504.0])) and not colour.fits_half(np.array([0.0, -70000.0]))


def test_one_device_rule():
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(SingleHDRError, match="unknown device 'tpu'"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(SingleHDRError, match="CUDA was requested"):
            resolve_device("cuda", local_rank=1)  # the trainer's call gets the same message as the engine's
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            assert resolve_device("auto", local_rank=3) == torch.device("cpu")


def test_exposure_calibration_lives_in_the_bottom_layer():
    from singlehdr import exposure
    from singlehdr.envmap import calibrate

    assert calibrate.exposure_scale is exposure.exposure_scale and calibrate.exif_exposure is exposure.exif_exposure
    assert exposure.ev100(8.0, 1 / 125, 100) == pytest.approx(np.log2(8000.0))
    assert exposure.absolute_scale(8.0, 1 / 125, 100) == pytest.approx(8000 * 12.5 / 18)


@pytest.mark.parametrize("h,w,multiple,border", [(1, 1, 64, 32), (5, 9, 8, 0), (50, 70, 32, 32), (128, 192, 64, 32),
                                                 (33, 100, 64, 40), (3, 200, 16, 7)])
def test_engine_and_torchscript_export_pad_the_same(h, w, multiple, border):
    """infer.padding (numpy tiles) and the exported Nuke wrapper (scripted torch) use one index map."""
    plan = plan_padding(h, w, multiple, border)
    top, bottom = pad_amounts(h, multiple, border)
    left, right = pad_amounts(w, multiple, border)
    assert (plan.top, plan.left) == (top, left) and plan.canvas_shape == (top + h + bottom, left + w + right)
    x = np.random.default_rng(h * w).normal(size=(h, w, 3)).astype(np.float32)
    engine = gather(x, plan.rows, plan.cols)
    assert np.array_equal(engine, np.pad(x, ((top, bottom), (left, right), (0, 0)), mode="symmetric"))
    t = torch.from_numpy(x).permute(2, 0, 1)[None]
    scripted = torch.jit.script(symmetric_pad)
    for pad in (symmetric_pad, scripted):
        assert np.array_equal(pad(t, top, bottom, left, right)[0].permute(1, 2, 0).numpy(), engine)


def test_the_exported_wrapper_scripts_the_shared_padding():
    """The Nuke wrapper's forward pads with geometry.padding (identity model: the crop gives the input back)."""

    class Probe(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    wrapper = torch.jit.script(NukeInferenceWrapper(Probe(), 32, "srgb", 8).eval())
    x = torch.rand(1, 3, 21, 37)
    np.testing.assert_allclose(wrapper(x).numpy(), x.numpy(), atol=1e-6)
    code = wrapper.code
    assert "symmetric_pad" in code or "symmetric_indices" in code


def test_circular_map_is_numpy_wrap():
    for n, b, a in [(3, 2, 2), (5, 11, 0), (1, 3, 4)]:
        src = np.arange(n)
        assert np.array_equal(src[circular_indices(n, b, a, torch.device("cpu")).numpy()], np.pad(src, (b, a), mode="wrap"))
        assert np.array_equal(src[symmetric_indices(n, b, a, torch.device("cpu")).numpy()], np.pad(src, (b, a), mode="symmetric"))
