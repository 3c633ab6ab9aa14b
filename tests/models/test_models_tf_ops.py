"""tf_ops: each TF behaviour against a hand-computed value and against the TF op itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from singlehdr.geometry.padding import symmetric_pad
from singlehdr.models import tf_ops


def nchw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))


def nhwc(t: torch.Tensor) -> np.ndarray:
    return t.numpy().transpose(0, 2, 3, 1)


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


# ---------------------------------------------------------------- hand values
@pytest.mark.parametrize(
    "size,kernel,stride,expected",
    [(224, 7, 2, (2, 3)), (112, 3, 2, (0, 1)), (5, 3, 2, (1, 1)), (7, 1, 2, (0, 0)), (9, 3, 1, (1, 1)), (6, 2, 2, (0, 0))],
)
def test_same_padding_hand_values(size, kernel, stride, expected):
    assert tf_ops.same_padding(size, kernel, stride) == expected


def test_resize_bilinear_x2_hand_value():
    x = torch.tensor([[[[0.0, 1.0, 3.0]]]])
    out = tf_ops.resize_bilinear_x2_tf1(x)
    # columns: 0, (0+1)/2, 1, (1+3)/2, 3, 3 (edge repeats); both rows equal
    expected = torch.tensor([0.0, 0.5, 1.0, 2.0, 3.0, 3.0])
    assert out.shape == (1, 1, 2, 6)
    assert torch.equal(out[0, 0, 0], expected) and torch.equal(out[0, 0, 1], expected)
    # and it is NOT torch's half-pixel bilinear
    assert not torch.allclose(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False), out)


def test_resize_nearest_x2_hand_value():
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    out = tf_ops.resize_nearest_x2(x)
    assert out[0, 0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]


def test_symmetric_pad_hand_value():
    x = torch.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
    out = symmetric_pad(x, 2, 2, 2, 2)
    assert out.shape == (1, 1, 6, 7)
    assert out[0, 0, 2].tolist() == [2, 1, 1, 2, 3, 3, 2]  # abc -> ba|abc|cb
    assert out[0, 0, :, 2].tolist() == [4, 1, 1, 4, 4, 1]  # rows: b a | a b | b a


def test_symmetric_pad_matches_numpy(rng):
    a = rng.normal(size=(2, 3, 5, 7)).astype(np.float32)
    out = symmetric_pad(torch.from_numpy(a), 3, 3, 3, 3).numpy()
    assert np.array_equal(out, np.pad(a, ((0, 0), (0, 0), (3, 3), (3, 3)), mode="symmetric"))


def test_sobel_hand_value():
    # a vertical ramp x[i, j] = i: dy = 4 (i + 1) - 4 (i - 1) = 8 inside, 0 on the top/bottom
    # rows (REFLECT mirrors row 1 onto row -1), dx = 0 everywhere
    ramp = torch.arange(5.0).view(1, 1, 5, 1).expand(1, 1, 5, 4).contiguous()
    out = tf_ops.sobel_edges_tf(ramp)
    assert out.shape == (1, 2, 5, 4)
    assert out[0, 0, :, 0].tolist() == [0.0, 8.0, 8.0, 8.0, 0.0]
    assert torch.count_nonzero(out[0, 1]) == 0


def test_batch_norm_inference_hand_value():
    x = torch.full((1, 1, 1, 1), 3.0)
    y = tf_ops.batch_norm_inference(x, torch.tensor([1.0]), torch.tensor([4.0 - 1e-3]), torch.tensor([2.0]), torch.tensor([0.5]), 1e-3)
    assert abs(float(y) - (2.0 * (3.0 - 1.0) / 2.0 + 0.5)) < 1e-6
    bn = torch.nn.BatchNorm2d(1, eps=1e-3).eval()
    with torch.no_grad():
        bn.running_mean.fill_(1.0)
        bn.running_var.fill_(4.0 - 1e-3)
        bn.weight.fill_(2.0)
        bn.bias.fill_(0.5)
    assert torch.allclose(bn(x), y)


# ---------------------------------------------------------------- against TF
@pytest.mark.tf
@pytest.mark.parametrize("h,w", [(16, 24), (15, 21)])
@pytest.mark.parametrize("k,stride", [(7, 2), (3, 2), (1, 2), (3, 1)])
def test_conv2d_same_matches_tf(tf, rng, h, w, k, stride):
    x = rng.normal(size=(1, h, w, 4)).astype(np.float32)
    kern = rng.normal(size=(k, k, 4, 5)).astype(np.float32)
    bias = rng.normal(size=5).astype(np.float32)
    ref = tf.nn.bias_add(tf.nn.conv2d(x, kern, strides=stride, padding="SAME"), bias).numpy()
    out = tf_ops.conv2d_same(nchw(x), torch.from_numpy(kern.transpose(3, 2, 0, 1).copy()), torch.from_numpy(bias), stride)
    assert nhwc(out).shape == ref.shape
    assert np.abs(nhwc(out) - ref).max() < 1e-6 * np.abs(ref).max()  # float32 summation-order noise only


@pytest.mark.tf
@pytest.mark.parametrize("h,w", [(16, 24), (15, 21)])
@pytest.mark.parametrize("k,stride", [(3, 2), (2, 2)])
def test_max_pool_same_matches_tf(tf, rng, h, w, k, stride):
    x = -np.abs(rng.normal(size=(1, h, w, 3))).astype(np.float32) - 1.0  # negative: zero padding would show
    ref = tf.nn.max_pool2d(x, k, stride, "SAME").numpy()
    assert np.array_equal(nhwc(tf_ops.max_pool_same(nchw(x), k, stride)), ref)


@pytest.mark.tf
@pytest.mark.parametrize("h,w", [(4, 6), (5, 3), (1, 7)])
def test_resize_bilinear_x2_matches_tf1_legacy(tf, rng, h, w):
    x = rng.normal(size=(2, h, w, 3)).astype(np.float32)
    ref = tf.compat.v1.image.resize_bilinear(x, (2 * h, 2 * w), align_corners=False, half_pixel_centers=False).numpy()
    assert np.abs(nhwc(tf_ops.resize_bilinear_x2_tf1(nchw(x))) - ref).max() < 1e-6


@pytest.mark.tf
def test_resize_nearest_x2_matches_tf(tf, rng):
    x = rng.normal(size=(1, 3, 5, 2)).astype(np.float32)
    ref = tf.compat.v1.image.resize_nearest_neighbor(x, (6, 10), align_corners=False, half_pixel_centers=False).numpy()
    assert np.array_equal(nhwc(tf_ops.resize_nearest_x2(nchw(x))), ref)


@pytest.mark.tf
def test_pads_match_tf(tf, rng):
    x = rng.normal(size=(1, 5, 6, 2)).astype(np.float32)
    sym = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], "SYMMETRIC").numpy()
    refl = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], "REFLECT").numpy()
    assert np.array_equal(nhwc(symmetric_pad(nchw(x), 2, 2, 2, 2)), sym)
    assert np.array_equal(nhwc(tf_ops.pad_reflect(nchw(x), 1)), refl)


@pytest.mark.tf
def test_sobel_matches_tf(tf, rng):
    x = rng.uniform(size=(2, 7, 9, 3)).astype(np.float32)
    ref = np.reshape(tf.image.sobel_edges(tf.constant(x)).numpy(), (2, 7, 9, 6))
    assert np.abs(nhwc(tf_ops.sobel_edges_tf(nchw(x))) - ref).max() < 1e-5


@pytest.mark.tf
def test_batch_norm_matches_tf(tf, rng):
    x = rng.normal(size=(1, 4, 4, 3)).astype(np.float32)
    mean, var, gamma, beta = (rng.uniform(0.5, 1.5, 3).astype(np.float32) for _ in range(4))
    for eps in (tf_ops.BN_EPS_SLIM, tf_ops.BN_EPS_TL):
        ref = tf.nn.batch_normalization(x, mean, var, beta, gamma, eps).numpy()
        out = tf_ops.batch_norm_inference(nchw(x), *(torch.from_numpy(v) for v in (mean, var, gamma, beta)), eps)
        assert np.abs(nhwc(out) - ref).max() < 1e-5
