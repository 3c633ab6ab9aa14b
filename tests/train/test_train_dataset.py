"""The on-the-fly training data: determinism, stage targets, drop rule, workers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from singlehdr.camera.crf import apply_curve
from singlehdr.errors import SingleHDRError
from singlehdr.train.dataset import HDRFolderDataset, bad_fraction, is_equirect_shape, list_hdr_files, resize_hwc
from train_helpers import make_hdr_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    torch.set_num_threads(1)
    return make_hdr_folder(tmp_path_factory.mktemp("hdrs"))


def test_listing_and_errors(folder, tmp_path):
    assert [p.name for p in list_hdr_files(folder)] == ["hdr0.exr", "hdr1.exr", "hdr2.exr"]
    with pytest.raises(SingleHDRError, match="no .exr or .hdr"):
        list_hdr_files(tmp_path)
    with pytest.raises(SingleHDRError, match="does not exist"):
        list_hdr_files(tmp_path / "nope")


def test_item_targets_are_consistent(folder):
    ds = HDRFolderDataset(folder, crop=32, short_side=48, noise=False, jpeg=False)
    s = ds[1]
    assert s["ldr"].shape == (3, 32, 32) and s["inverse_crf"].shape == (1024,)
    hdr, t = s["hdr"].numpy(), float(s["exposure"])
    assert hdr.mean() == pytest.approx(0.5, rel=1e-4)  # crops normalised to mean 0.5
    assert 2**-3 <= t <= 2**3
    np.testing.assert_allclose(s["exposed"].numpy(), hdr * np.float32(t), rtol=1e-5)
    np.testing.assert_allclose(s["linear_clipped"].numpy(), np.clip(hdr * t, 0, 1), rtol=1e-5)
    # noise-free: prequant = f(clip(H t)); without JPEG the input is its 8-bit rounding
    f = s["crf"].numpy()
    np.testing.assert_allclose(s["ldr_prequant"].numpy(), apply_curve(np.clip(hdr * t, 0, 1), f), atol=1e-5)
    np.testing.assert_allclose(s["ldr"].numpy(), np.round(s["ldr_prequant"].numpy() * 255) / 255, atol=1e-6)
    # the true inverse undoes the curve
    lin = apply_curve(s["ldr_prequant"].numpy(), s["inverse_crf"].numpy())
    np.testing.assert_allclose(lin, s["linear_clipped"].numpy(), atol=5e-3)


def test_deterministic_per_index_and_epoch(folder):
    a = HDRFolderDataset(folder, crop=32, short_side=48, seed=3)
    b = HDRFolderDataset(folder, crop=32, short_side=48, seed=3)
    for k in ("ldr", "hdr", "inverse_crf"):
        assert torch.equal(a[2][k], b[2][k])
    assert not torch.equal(a[0]["ldr"], a[1]["ldr"])
    b.set_epoch(1)
    assert not torch.equal(a[2]["hdr"], b[2]["hdr"])
    # virtual indices past len draw new augmentations of file i % n
    assert len(a) == 3 and not torch.equal(a[5]["hdr"], a[2]["hdr"])


def test_bad_fraction_hand_values():
    x = np.array([249, 248, 6, 7], np.float32) / 255.0
    assert bad_fraction(x) == 0.5
    assert bad_fraction(np.ones((4, 4, 3))) == 1.0


def test_drop_rule_retries_bad_patches(tmp_path):
    from singlehdr.io import write_hdr

    d = tmp_path / "flat"
    d.mkdir()
    write_hdr(d / "flat.exr", np.full((48, 48, 3), 2.0, np.float32), half=False)
    once = HDRFolderDataset(d, crop=32, short_side=48, max_tries=1, repeats=24)
    retry = HDRFolderDataset(d, crop=32, short_side=48, max_tries=10, repeats=24)
    f_once = [float(once[i]["bad_fraction"]) for i in range(24)]
    f_retry = [float(retry[i]["bad_fraction"]) for i in range(24)]
    # a flat 0.5-mean patch saturates for t above ~2: many single draws are bad
    assert sum(f > 0.5 for f in f_once) >= 3
    assert max(f_retry) <= 0.5


def test_workers_give_the_same_batches(folder):
    ds = HDRFolderDataset(folder, crop=32, short_side=48, seed=1)
    ref = torch.stack([ds[i]["ldr"] for i in range(3)])
    loader = torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2)
    got = next(iter(loader))["ldr"]
    assert torch.equal(ref, got)


def test_resize_and_equirect_helpers():
    img = np.repeat(np.tile(np.arange(8, dtype=np.float32), (4, 1))[..., None], 3, axis=2)  # value = x
    out = resize_hwc(img, (2, 4))
    assert out.shape == (2, 4, 3)
    # a symmetric (antialiasing) filter keeps a linear ramp: output x = 1 samples source x = 2.5
    np.testing.assert_allclose(out[:, 1], 2.5, rtol=1e-5)
    np.testing.assert_allclose(resize_hwc(np.full((8, 8, 3), 0.3, np.float32), (3, 5)), 0.3, rtol=1e-5)
    assert is_equirect_shape((512, 1024, 3)) and not is_equirect_shape((512, 768, 3))


def test_equirect_crop_wraps_horizontally(tmp_path):
    from singlehdr.io import write_hdr

    d = tmp_path / "pano"
    d.mkdir()
    img = np.zeros((32, 64, 3), np.float32)
    img[:, :4] = 1.0  # left edge column band
    img[:, -4:] = 3.0  # right edge column band
    img += 0.1
    write_hdr(d / "pano.exr", img, half=False)
    ds = HDRFolderDataset(d, crop=32, short_side=32, scale_range=(1.0, 1.0))
    hdr = ds.load(0)
    rng = np.random.default_rng(0)
    seen_both = False
    for _ in range(40):
        p = ds.random_crop(hdr, rng)
        if (np.abs(p - 1.1) < 1e-4).any() and (np.abs(p - 3.1) < 1e-4).any():
            seen_both = True
            break
    assert seen_both  # a crop across the 360 seam holds both edge bands
