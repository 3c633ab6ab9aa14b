"""The forward camera pipeline, step by step, on hand-computed pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from singlehdr.camera import crf as C
from singlehdr.camera import forward as F


def test_expose_clip_quantize_values():
    x = np.array([[[0.1, 0.3, 0.6]]], np.float32)
    e = F.expose(x, 2.0)
    np.testing.assert_allclose(e, [[[0.2, 0.6, 1.2]]], rtol=1e-6)
    np.testing.assert_allclose(F.clip01(e), [[[0.2, 0.6, 1.0]]], rtol=1e-6)
    q = F.quantize(np.array([0.5, 0.1, 1.0, 0.001], np.float32))
    np.testing.assert_allclose(q, [128 / 255, 26 / 255, 1.0, 0.0], rtol=1e-6)  # 25.5 -> 26 (half to even)
    tq = F.quantize(torch.tensor([0.5, 0.1]))
    np.testing.assert_allclose(tq.numpy(), [128 / 255, 26 / 255], rtol=1e-6)


def test_add_noise_formula_numpy_and_torch():
    x = np.full((1, 1, 3), 0.5, np.float32)
    n = np.array([[[1.0, -1.0, -100.0]]], np.float32)
    out = F.add_noise(x, (0.01, 0.02, 0.03), (0.001, 0.002, 0.003), n)
    # 0.5 + 1*(0.01*0.5 + 0.001) = 0.506; 0.5 - (0.02*0.5 + 0.002) = 0.488; relu -> 0
    np.testing.assert_allclose(out, [[[0.506, 0.488, 0.0]]], atol=1e-6)
    xt = torch.full((3, 1, 1), 0.5)
    nt = torch.tensor([1.0, -1.0, -100.0]).view(3, 1, 1)
    outt = F.add_noise(xt, (0.01, 0.02, 0.03), (0.001, 0.002, 0.003), nt)
    np.testing.assert_allclose(outt.flatten().numpy(), [0.506, 0.488, 0.0], atol=1e-6)


def test_apply_crf_numpy_torch_agree():
    f = C.srgb_curve()
    x = np.random.default_rng(0).random((4, 5, 3), dtype=np.float32)
    a = F.apply_crf(x, f)
    b = F.apply_crf(torch.from_numpy(x).permute(2, 0, 1), f).permute(1, 2, 0).numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)
    # sRGB curve of 0.214041 ~ 0.5 (within lookup interpolation error)
    assert F.apply_crf(np.array([0.214041]), f)[0] == pytest.approx(0.5, abs=2e-3)


def test_jpeg_round_trip_error_small_and_quality_dependent():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    img = np.stack([xx, yy, 0.5 * (xx + yy)], -1).astype(np.float32)
    img = img + 0.02 * rng.standard_normal(img.shape).astype(np.float32)
    img = np.clip(img, 0, 1)
    e100 = np.abs(F.jpeg(img, 100) - F.quantize(img)).mean()
    e90 = np.abs(F.jpeg(img, 90) - F.quantize(img)).mean()
    assert 0 < e100 < e90 < 0.03
    np.testing.assert_array_equal(F.jpeg(img, 101), F.quantize(img))
    out = F.jpeg(img, 95)
    assert out.dtype == np.float32 and np.allclose(out * 255, np.round(out * 255), atol=1e-3)


def test_simulate_stages_consistent():
    rng = np.random.default_rng(1)
    hdr = (rng.random((16, 16, 3)) * 3).astype(np.float32)
    bank = C.crf_bank("train", n_random=3)
    cam = F.sample_camera(rng, bank)
    assert 2**-3 <= cam.t <= 2**3 and 90 <= cam.quality <= 100
    assert all(0 <= s <= F.SIGMA_S_MAX for s in cam.sigma_s) and all(0 <= s <= F.SIGMA_C_MAX for s in cam.sigma_c)
    st = F.simulate(hdr, cam, np.random.default_rng(2))
    np.testing.assert_allclose(st["exposed"], hdr * np.float32(cam.t), rtol=1e-6)
    np.testing.assert_allclose(st["linear_clipped"], np.clip(hdr * cam.t, 0, 1), rtol=1e-6)
    np.testing.assert_allclose(st["ldr_prequant"], C.apply_curve(st["noisy_clipped"], cam.crf.f), atol=1e-6)
    np.testing.assert_allclose(st["ldr_8bit"], np.round(st["ldr_prequant"] * 255) / 255, atol=1e-6)
    assert np.abs(st["ldr"] - st["ldr_8bit"]).mean() < 0.02
    # noise-free camera: the prequant LDR is exactly f(clip(H t))
    cam0 = F.sample_camera(np.random.default_rng(5), bank, noise=False, jpeg_quality=None)
    st0 = F.simulate(hdr, cam0, np.random.default_rng(2))
    np.testing.assert_allclose(st0["ldr_prequant"], C.apply_curve(np.clip(hdr * cam0.t, 0, 1), cam0.crf.f), atol=1e-6)
    np.testing.assert_array_equal(st0["ldr"], st0["ldr_8bit"])
