"""The engine on the real SingleHDRModel (small config, seeded random weights)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infer_doubles import test_image
from singlehdr.infer import Reconstructor

pipeline = pytest.importorskip("singlehdr.models.pipeline")


@pytest.fixture(scope="module")
def model():
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    m = pipeline.SingleHDRModel(pipeline.SingleHDRConfig.small()).eval()
    yield m
    torch.set_num_threads(prev)


def test_untiled_equals_direct_forward_on_symmetric_pad(model):
    img = test_image(96, 128, seed=1)  # 96 + 64 = 160, 128 + 64 = 192: both multiples of 32
    out = Reconstructor(model, info={}, device="cpu", tile=0).run(img)
    canvas = np.pad(img, ((32, 32), (32, 32), (0, 0)), "symmetric")
    with torch.inference_mode():
        ref = model(torch.from_numpy(canvas).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
    ref = np.maximum(ref[32:-32, 32:-32], 0)
    assert out.shape == (96, 128, 3) and np.isfinite(out).all()
    assert np.abs(out - ref).max() < 1e-5


def test_tiled_vs_untiled_real_model(model):
    img = test_image(256, 384, seed=4)
    full = Reconstructor(model, info={}, device="cpu", tile=0).run(img)
    tiled = Reconstructor(model, info={}, device="cpu", tile=192, tile_overlap=64).run(img)
    err = np.abs(tiled - full)
    rel = float(err.mean() / np.abs(full).mean())
    # measured (seed 0, small config): max 2.4e-4, mean relative 5.4e-6 (6 tiles of 192 px)
    assert err.max() < 2e-3 and rel < 5e-5, (err.max(), rel)
    assert err.max() > 0  # it really tiled


def test_wrap_x_makes_the_seam_interior_real_model(model):
    """With wrap_x, the output around the 0/360 seam matches a plain run on the panorama
    rolled by half its width (where the seam is interior); a plain run does not."""
    h, w = 128, 256
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = 0.5 + 0.4 * np.sin(2 * np.pi * xx / w)[..., None] * np.cos(yy / 11.0)[..., None] * np.array([1, 0.8, 0.6], np.float32)
    img = img.astype(np.float32)
    img[10:40, 0:16] = 1.0  # a highlight touching the seam from the left
    e = Reconstructor(model, info={}, device="cpu", tile=0)
    interior = e.run(np.roll(img, w // 2, axis=1))
    wrapped = np.roll(e.run(img, wrap_x=True), w // 2, axis=1)
    plain = np.roll(e.run(img), w // 2, axis=1)
    band = slice(w // 2 - 8, w // 2 + 8)
    err_wrap = np.abs(wrapped - interior)[:, band].mean()
    err_plain = np.abs(plain - interior)[:, band].mean()
    # measured: wrap 7.7e-5, plain 9.8e-4
    assert err_wrap < 0.25 * err_plain, (err_wrap, err_plain)


def test_unlit_tiles_skip_hallucination_exactly():
    """Tiles whose highlight mask is zero everywhere give b itself (Liu et al. Eq. 6): skipping the
    net there changes nothing, bit for bit, and it is skipped on most tiles of a mostly unclipped photo."""
    import numpy as np

    from singlehdr.api import get_reconstructor

    rng = np.random.default_rng(3)
    img = (0.2 + 0.5 * rng.random((256, 384, 3))).astype(np.float32)
    img[20:60, 30:90] = 1.0  # one clipped patch in a corner
    eng = get_reconstructor(None, "cpu", "fp32", 128, 32)
    eng.tiles_run = eng.tiles_skipped = 0
    fast = eng.run(img)
    run, skipped = eng.tiles_run, eng.tiles_skipped
    eng.skip_unlit_tiles = False
    try:
        full = eng.run(img)
    finally:
        eng.skip_unlit_tiles = True
    assert np.array_equal(fast, full)
    assert skipped > run >= 1
    assert float(fast[40, 60].min()) > 1.0  # the clipped patch was still expanded
