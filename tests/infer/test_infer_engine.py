"""Reconstructor with a predictable stand-in model (tests/infer/infer_doubles.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infer_doubles import DoubleModel, expected_untiled, test_image
from singlehdr.errors import SingleHDRError
from singlehdr.infer import Reconstructor, resolve_device, resolve_precision


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def engine(**kw) -> Reconstructor:
    kw.setdefault("device", "cpu")
    return Reconstructor(DoubleModel(), info={"model_id": "double"}, **kw)


def seam_ratio(hdr: np.ndarray) -> float:
    """mean |first column - last column| / mean |column j+1 - column j| (1 = as smooth as the interior)."""
    seam = np.abs(hdr[:, 0] - hdr[:, -1]).mean()
    inner = np.abs(np.diff(hdr, axis=1)).mean()
    return float(seam / inner)


def test_untiled_pad_mode_equals_np_pad_forward_crop():
    img = test_image(70, 90)
    out = engine(tile=0).run(img)
    # 70 + 64 -> 160 rows (top 32 + 13 = 45), 90 + 64 -> 160 cols (left 32 + 3 = 35)
    ref = expected_untiled(img, ((45, 160 - 70 - 45), (35, 160 - 90 - 35)))
    assert out.shape == (70, 90, 3) and out.dtype == np.float32
    assert np.abs(out - ref).max() < 1e-5


def test_reference_mode_reproduces_the_authors_script():
    """Authors' test_real.py: cv2 INTER_CUBIC up to x64, np.pad 32 'symmetric', run, crop, resize back."""
    cv2 = pytest.importorskip("cv2")
    img = test_image(50, 100, seed=2)
    up = cv2.resize(img, dsize=(128, 64), interpolation=cv2.INTER_CUBIC)
    hdr = expected_untiled(up, ((32, 32), (32, 32)))
    ref = np.maximum(cv2.resize(hdr, dsize=(100, 50), interpolation=cv2.INTER_CUBIC), 0)
    out = engine(tile=0).run(img, resize_mode="reference")
    assert np.abs(out - ref).max() < 1e-4
    # a size that is already a multiple of 64: no resize, and pad mode is identical
    img64 = test_image(64, 128, seed=3)
    e = engine(tile=0)
    assert np.array_equal(e.run(img64, resize_mode="reference"), e.run(img64, resize_mode="pad"))


def test_tiled_matches_untiled_within_bound_and_crf_estimated_once():
    img = test_image(300, 420, seed=4)
    full = engine(tile=0).run(img)
    e = engine(tile=128, tile_overlap=48)
    tiled = e.run(img)
    model = e.model
    assert len(model.crf_calls) == 1  # one global curve per image ...
    assert len(model.forward_calls) > 4 and all(s[2:] == (128, 128) for s in model.forward_calls)
    err = np.abs(tiled - full)
    rel = err.mean() / np.abs(full).mean()
    # The double's 9x9 blur sees zero padding at tile borders and its 32x32 pooling grid is
    # aligned, so differences live only in the raised-cosine seams; measured max 0.0031, rel 3.7e-4.
    assert err.max() < 0.02 and rel < 2e-3, (err.max(), rel)
    assert not np.array_equal(tiled, full)  # it really tiled


def test_tiles_get_the_image_curve_not_their_own():
    """Passing g to each tile matters: per-tile curves (forward(tile) without g) would differ."""
    img = test_image(256, 256, seed=5)
    img[:, :128] *= 0.3  # left half dark: per-tile mean differs a lot from the image mean
    full = engine(tile=0).run(img)
    tiled = engine(tile=128, tile_overlap=32).run(img)
    per_tile = []
    # what a naive tiler would produce: each tile estimating its own curve
    for y0 in (0, 128):
        row = []
        for x0 in (0, 128):
            t = torch.from_numpy(np.ascontiguousarray(img[y0 : y0 + 128, x0 : x0 + 128])).permute(2, 0, 1)[None]
            with torch.no_grad():
                row.append(DoubleModel()(t)[0].permute(1, 2, 0).numpy())
        per_tile.append(np.concatenate(row, axis=1))
    naive = np.concatenate(per_tile, axis=0)
    assert np.abs(tiled - full).mean() < 0.2 * np.abs(naive - full).mean()


def test_crf_on_bounded_copy_for_large_images():
    img = test_image(200, 600, seed=6)
    e = engine(tile=128, tile_overlap=32, crf_max_side=256)
    e.run(img)
    (shape,) = e.model.crf_calls
    # box k = floor(600 / 256) = 2 -> 100 x 300, then resized to long side 256 -> 85 x 256,
    # padded with >= 32 px each side to multiples of 32 -> 160 x 320
    assert shape == (1, 3, 160, 320)


def test_wrap_x_closes_the_360_seam():
    h, w = 96, 192
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # periodic in x (a real panorama is continuous across 0/360 degrees)
    img = 0.5 + 0.4 * np.sin(2 * np.pi * xx / w)[..., None] * np.cos(yy / 11.0)[..., None]
    img = np.repeat(img, 3, axis=2).astype(np.float32)
    img[10:30, 0:12] = 1.0  # a bright patch touching the seam
    img[10:30, w - 12 :] = 1.0
    e = engine(tile=0)
    plain = e.run(img, wrap_x=False)
    wrapped = e.run(img, wrap_x=True)
    r_plain, r_wrap = seam_ratio(plain), seam_ratio(wrapped)
    assert r_wrap < 0.5 * r_plain, (r_wrap, r_plain)
    assert r_wrap < 1.5  # measured: plain 3.85, wrapped 1.13 (tiled + wrapped 1.13)
    # tiles wrap too
    tiled = engine(tile=128, tile_overlap=32).run(img, wrap_x=True)
    assert seam_ratio(tiled) < 0.5 * r_plain


def test_run_batch_equals_single_runs():
    imgs = [test_image(64, 96, seed=s) for s in range(3)]
    e = engine(tile=0)
    batch = e.run_batch(imgs)
    assert len(e.model.forward_calls) == 1 and e.model.forward_calls[0][0] == 3
    for img, out in zip(imgs, batch):
        assert np.abs(out - e.run(img)).max() < 1e-6
    with pytest.raises(SingleHDRError):
        e.run_batch([imgs[0], test_image(32, 32)])


def test_memory_aware_tiling_and_tile_zero():
    img = test_image(300, 300, seed=7)
    e = engine(tile=None)
    e.bytes_per_pixel = 1e12  # pretend each pixel costs a terabyte: must tile, at the floor size
    plan = e.plan(300, 300)
    assert plan["tile"] == 256 and plan["tiles"] == 4
    assert engine(tile=None).plan(300, 300)["tile"] == 0  # plenty of RAM for 364^2 px: untiled
    assert engine(tile=None).plan(1000, 400)["tile"] == 512  # CPU: at most 512 px tiles (faster)
    assert engine(tile=0).plan(5000, 5000)["tile"] == 0
    assert engine(tile=200).plan(300, 300)["tile"] == 192  # rounded down to the multiple
    out = e.run(img)
    assert len(e.model.forward_calls) == 4
    assert np.abs(out - engine(tile=0).run(img)).max() < 0.1


def test_output_is_finite_non_negative_float32():
    class Wild(DoubleModel):
        def forward(self, ldr, inverse_crf=None):
            y = super().forward(ldr, inverse_crf) - 0.5
            y[:, :, :8, :8] = float("nan")
            y[:, :, 8:16, :8] = float("inf")
            return y

    img = test_image(64, 64)
    out = Reconstructor(Wild(), info={}, device="cpu", tile=0, border=0).run(img)
    assert out.dtype == np.float32 and np.isfinite(out).all() and out.min() >= 0.0
    assert out[0, 0, 0] == 0.0 and out[8, 0, 0] == 65504.0


def test_input_validation_and_integer_inputs():
    e = engine(tile=0)
    with pytest.raises(SingleHDRError, match="H, W, 3"):
        e.run(np.zeros((10, 10), np.float32))
    with pytest.raises(SingleHDRError, match="H, W, 3"):
        e.run(np.zeros((10, 10, 4), np.float32))
    with pytest.raises(SingleHDRError, match="resize mode"):
        e.run(np.zeros((10, 10, 3), np.float32), resize_mode="stretch")
    u8 = (test_image(32, 32) * 255).round().astype(np.uint8)
    assert np.abs(e.run(u8) - e.run(u8.astype(np.float32) / 255)).max() < 1e-6
    tiny = e.run(np.full((1, 1, 3), 0.5, np.float32))  # 1 px works (symmetric pad repeats it)
    assert tiny.shape == (1, 1, 3) and tiny[0, 0, 0] > 0


def test_device_and_precision_choices():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(SingleHDRError, match="CUDA"):
            resolve_device("cuda")
        with pytest.raises(SingleHDRError, match="CUDA"):
            Reconstructor(DoubleModel(), info={}, device="cuda")
    with pytest.raises(SingleHDRError, match="device"):
        resolve_device("tpu")
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("fp32", None)
    p, note = resolve_precision("bf16", cpu)
    assert p == "fp32" and "CPU" in note
    with pytest.raises(SingleHDRError):
        resolve_precision("fp8", cpu)
    with pytest.warns(RuntimeWarning, match="fp32"):
        e = Reconstructor(DoubleModel(), info={"model_id": "x"}, device="cpu", precision="fp16")
    assert e.precision == "fp32" and e.info["notes"] and e.info["model_id"] == "x"
    assert e.device_name.startswith("cpu (")
