"""Pure helpers of the engine: padding index maps, resizing, tiling weights."""

from __future__ import annotations

import numpy as np
import pytest

from singlehdr.infer.padding import circular_index, gather, plan_padding, symmetric_index
from singlehdr.infer.resize import area_downsample, bicubic_resize, keys_cubic
from singlehdr.infer.tiling import axis_weights, raised_cosine_ramp, tile_starts


# ----------------------------------------------------------------- padding


def test_symmetric_index_hand_example():
    # abc|cba: source [0 1 2] padded 2 each side -> 1 0 | 0 1 2 | 2 1
    assert symmetric_index(3, 2, 2).tolist() == [1, 0, 0, 1, 2, 2, 1]


def test_circular_index_hand_example():
    assert circular_index(3, 2, 2).tolist() == [1, 2, 0, 1, 2, 0, 1]


@pytest.mark.parametrize("n,before,after", [(5, 3, 4), (4, 9, 1), (1, 3, 2), (7, 0, 0), (3, 8, 11)])
def test_index_maps_match_numpy_pad(n, before, after):
    src = np.arange(n) * 10 + 1
    assert np.array_equal(src[symmetric_index(n, before, after)], np.pad(src, (before, after), mode="symmetric"))
    assert np.array_equal(src[circular_index(n, before, after)], np.pad(src, (before, after), mode="wrap"))


def test_plan_padding_is_the_authors_pad_for_multiples_of_64():
    plan = plan_padding(128, 192, 64, 32)
    assert plan.canvas_shape == (192, 256) and (plan.top, plan.left) == (32, 32)
    img = np.random.default_rng(1).random((128, 192, 3)).astype(np.float32)
    ref = np.pad(img, ((32, 32), (32, 32), (0, 0)), "symmetric")
    assert np.array_equal(gather(img, plan.rows, plan.cols), ref)


def test_plan_padding_odd_size_and_wrap():
    plan = plan_padding(50, 70, 32, 32, wrap_x=True, wrap_margin=64)
    hp, wp = plan.canvas_shape
    # rows: 50 + 64 = 114 -> 128 ; cols: 70 + 128 = 198 -> 224
    assert (hp, wp) == (128, 224)
    assert plan.top == 32 + (128 - 114) // 2 == 39
    assert plan.left == 64 + (224 - 198) // 2 == 77
    # the column just left of the image is the image's last column (wrap)
    assert plan.cols[plan.left - 1] == 69 and plan.cols[plan.left + 70] == 0
    assert plan.rows[plan.top - 1] == 0  # symmetric repeats the edge row


def test_gather_slices_and_fancy_agree():
    img = np.arange(6 * 5 * 3).reshape(6, 5, 3)
    rows, cols = np.array([2, 3, 4]), np.array([4, 0, 1])
    assert np.array_equal(gather(img, rows, cols), img[np.ix_(rows, cols)])
    assert np.array_equal(gather(img, cols[1:], rows), img[np.ix_(cols[1:], rows)])
    assert np.shares_memory(gather(img, rows, rows), img)  # plain ranges -> a view


# ------------------------------------------------------------------ resize


def test_keys_cubic_known_values():
    # a = -0.75: W(0)=1, W(1)=0, W(2)=0, W(0.5)=(a+2)/8-(a+3)/4+1=0.59375, W(1.5)=a(27/8-45/4+12-4)
    assert keys_cubic(np.array([0.0, 1.0, 2.0, 0.5, 1.5])).tolist() == pytest.approx([1, 0, 0, 0.59375, -0.09375])


def test_bicubic_resize_hand_computed_pixel():
    # Upscale [0, 0, 1, 0] to 8 samples. Output x=3 sits at source (3 + 0.5) / 2 - 0.5 = 1.25;
    # its taps are at 0,1,2,3 (distances 1.25, 0.25, 0.75, 1.75); the only non-zero source
    # value (index 2) gets W(0.75) = 1.25*0.421875 - 2.25*0.5625 + 1 = 0.26171875.
    row = np.array([0, 0, 1, 0], np.float32).reshape(1, 4, 1)
    out = bicubic_resize(row, 1, 8)
    assert out.shape == (1, 8, 1)
    assert out[0, 3, 0] == pytest.approx(0.26171875, abs=1e-7)
    # and x=4 at source 1.75: W(0.25) from index 2 = 0.87890625
    assert out[0, 4, 0] == pytest.approx(0.87890625, abs=1e-7)


def test_bicubic_resize_matches_real_opencv_inter_cubic():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(3)
    img = rng.random((37, 53, 3)).astype(np.float32)
    for h, w in [(64, 64), (128, 64), (20, 30)]:  # up, mixed, down
        ours = bicubic_resize(img, h, w)
        theirs = cv2.resize(img, dsize=(w, h), interpolation=cv2.INTER_CUBIC)
        assert np.abs(ours - theirs).max() < 2e-5, (h, w)


def test_area_downsample_block_means():
    img = np.arange(6 * 9 * 1, dtype=np.float32).reshape(6, 9, 1)
    out = area_downsample(img, 4, rows_per_chunk=3)  # k = ceil(9/4) = 3 -> (2, 3)
    assert out.shape == (2, 3, 1)
    assert out[0, 0, 0] == pytest.approx(img[0:3, 0:3].mean())  # (0+1+2+9+10+11+18+19+20)/9 = 10
    assert out[0, 0, 0] == pytest.approx(10.0)
    assert out[1, 2, 0] == pytest.approx(img[3:6, 6:9].mean())
    assert area_downsample(img, 9).shape == (6, 9, 1)


# ------------------------------------------------------------------ tiling


def test_tile_starts_examples():
    assert tile_starts(1000, 512, 64) == [0, 244, 488]
    assert tile_starts(960, 512, 64) == [0, 448]
    assert tile_starts(400, 512, 64) == [0]
    s = tile_starts(2048, 512, 64, align=32)
    assert s[0] == 0 and s[-1] == 2048 - 512 and all(v % 32 == 0 for v in s)
    assert all(a + 512 - b >= 64 for a, b in zip(s, s[1:]))
    with pytest.raises(ValueError):
        tile_starts(1000, 64, 64)


def test_raised_cosine_ramp_values_and_complement():
    r = raised_cosine_ramp(2)
    assert r.tolist() == pytest.approx([0.5 - 0.5 * np.cos(np.pi / 4), 0.5 - 0.5 * np.cos(3 * np.pi / 4)])
    r = raised_cosine_ramp(64)
    assert np.allclose(r + r[::-1], 1.0)


@pytest.mark.parametrize("n,tile,overlap", [(1000, 256, 64), (2048, 512, 96), (300, 128, 0), (100, 256, 32)])
def test_axis_weights_partition_of_unity(n, tile, overlap):
    starts = tile_starts(n, tile, overlap)
    weights = axis_weights(n, starts, tile, overlap)
    total = np.zeros(n)
    for s, w in zip(starts, weights):
        total[s : s + w.size] += w
    assert np.allclose(total, 1.0, atol=1e-6)
    if len(starts) > 1 and overlap:
        # interior edges fade out: the first tile's last pixel has a small weight
        assert weights[0][-1] < 0.01 and weights[0][0] == pytest.approx(1.0)


def test_downsample_to_long_side_has_one_size_for_every_large_input():
    from singlehdr.infer.resize import downsample_to_long_side

    for h, w in ((817, 1225), (1633, 2449), (3266, 4899)):
        img = np.full((h, w, 3), 0.25, dtype=np.float32)
        img[:, w // 2 :] = 0.75
        out = downsample_to_long_side(img, 256)
        assert max(out.shape[:2]) == 256 and abs(out.shape[0] / out.shape[1] - h / w) < 0.01
        # a box + antialiased bilinear keeps flat regions and the mean
        assert np.allclose(out[:, :100], 0.25, atol=1e-6) and np.allclose(out[:, -100:], 0.75, atol=1e-6)
        assert abs(float(out.mean()) - float(img.mean())) < 0.01
    small = np.random.default_rng(0).random((100, 200, 3)).astype(np.float32)
    assert downsample_to_long_side(small, 256) is not None and np.array_equal(downsample_to_long_side(small, 256), small)
