"""TensorFlow-1 behaviour the authors' networks depend on, as small torch functions.

The reference model (Liu et al., CVPR 2020) was trained in TensorFlow 1.10 with
NHWC tensors.  Where TF and PyTorch disagree, the port must do what TF did or
the released weights give different numbers.  Each function here reproduces
one such behaviour on NCHW tensors and is tested against the TF op itself
(tests/models/test_tf_ops.py) or a hand-computed value.

All functions are free of Python control flow on tensor *values*, so
``torch.jit.trace`` records them.  Sizes are handled with slices/flatten (kept
symbolic by the tracer); the only shape-derived constants are TF 'SAME' padding
amounts, which for sizes that are multiples of the stride do not depend on the
size, so a graph traced at one such size is valid at others (tested).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: Batch-norm epsilon of ``tf.contrib.slim.batch_norm`` (Linearization-Net's
#: ResNet stem).  Source: TF 1.x slim ``batch_norm(epsilon=0.001)`` default.
BN_EPS_SLIM = 1e-3
#: Batch-norm epsilon of TensorLayer's ``BatchNormLayer`` (Hallucination-Net,
#: inherited from HDRCNN).  Source: TensorLayer 1.x ``epsilon=1e-5`` default.
BN_EPS_TL = 1e-5


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF 'SAME' padding (before, after) along one axis.

    Source: TF ``GetWindowedOutputSize`` (tensorflow/core/framework/kernel_shape_util.cc):
    out = ceil(size / stride); total = max((out - 1) * stride + kernel - size, 0);
    before = total // 2, after = total - before.  So stride-2 padding is
    asymmetric, with the extra pixel at the bottom/right (e.g. 7x7/2 on an even
    size pads 2 before, 3 after; 3x3/2 pads 0 before, 1 after), unlike
    PyTorch's symmetric ``padding=``.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_same(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """Pad (N, C, H, W) ``x`` as TF 'SAME' would before a ``kernel``/``stride`` window.

    value: the fill; ``-inf`` for max pooling (TF's SAME max pool ignores the
    padded cells, which is the same as padding with -inf).
    Returns (N, C, H + top + bottom, W + left + right).
    """
    top, bottom = same_padding(int(x.shape[-2]), kernel, stride)
    left, right = same_padding(int(x.shape[-1]), kernel, stride)
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), mode="constant", value=value)


def conv2d_same(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int = 1) -> torch.Tensor:
    """``tf.nn.conv2d(x, w, stride, 'SAME')`` (+ bias) on NCHW with an OIHW weight.

    x: (N, Cin, H, W); weight: (Cout, Cin, k, k); returns (N, Cout, ceil(H/s), ceil(W/s)).
    """
    k = int(weight.shape[-1])
    return F.conv2d(pad_same(x, k, stride), weight, bias, stride=stride)


def max_pool_same(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """``tf.nn.max_pool(x, kernel, stride, 'SAME')`` on NCHW: (N, C, ceil(H/s), ceil(W/s))."""
    return F.max_pool2d(pad_same(x, kernel, stride, value=float("-inf")), kernel, stride)


def _upsample2x_rows(x: torch.Tensor) -> torch.Tensor:
    # (N, C, H, W) -> (N, C, 2H, W).  Output row o samples input row o * 0.5 (no
    # half-pixel offset): even o -> x[o/2]; odd o -> (x[k] + x[k+1]) / 2 with k+1
    # clamped to the edge.  Slices and flatten only, so tracing keeps H symbolic.
    nxt = torch.cat([x[:, :, 1:], x[:, :, -1:]], dim=2)
    odd = x + (nxt - x) * 0.5
    return torch.stack([x, odd], dim=3).flatten(2, 3)


def resize_bilinear_x2_tf1(x: torch.Tensor) -> torch.Tensor:
    """TF1 ``tf.image.resize_bilinear(x, 2 * size)`` (align_corners=False, no half-pixel centres).

    Source: TF 1.10 ``resize_bilinear_op.cc`` legacy scaler: in = out * (in_size / out_size),
    lerp between floor(in) and min(floor(in) + 1, size - 1).  For x2 this means
    even outputs copy the input pixel, odd outputs average it with its
    right/lower neighbour, and the last odd output repeats the edge.  This
    differs from ``torch.nn.functional.interpolate(align_corners=False)``,
    which uses half-pixel centres.
    x: (N, C, H, W) -> (N, C, 2H, 2W).
    """
    return _upsample2x_rows(_upsample2x_rows(x).transpose(2, 3)).transpose(2, 3)


def resize_nearest_x2(x: torch.Tensor) -> torch.Tensor:
    """``tf.image.resize_nearest_neighbor(x, 2 * size)``: out[o] = in[floor(o / 2)].

    (For an exact x2 the TF1 legacy and PyTorch 'nearest' rules agree.)
    x: (N, C, H, W) -> (N, C, 2H, 2W).
    """
    return x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)


def pad_reflect(x: torch.Tensor, pad: int) -> torch.Tensor:
    """``tf.pad(mode='REFLECT')`` (edge pixel not repeated, cb|abc|ba) on the last two dims.

    Same as PyTorch's 'reflect'.  x: (N, C, H, W) -> (N, C, H + 2 pad, W + 2 pad).
    """
    return F.pad(x, (pad, pad, pad, pad), mode="reflect")


def sobel_edges_tf(x: torch.Tensor) -> torch.Tensor:
    """``tf.image.sobel_edges`` flattened to channels: (N, C, H, W) -> (N, 2C, H, W).

    Source: TF ``image_ops_impl.sobel_edges``: REFLECT padding by 1, kernels
    dy = [[-1,-2,-1],[0,0,0],[1,2,1]] and dx = dy^T applied as cross-correlation,
    output [..., C, 2] with (dy, dx) last; reshaping that to 2C channels gives the
    order c0_dy, c0_dx, c1_dy, c1_dx, ... (dy before dx).
    Written with slices rather than a constant kernel so that a traced model
    (TorchScript for Nuke) carries no tensor pinned to the tracing device.
    """
    p = pad_reflect(x, 1)

    def smooth_cols(t: torch.Tensor) -> torch.Tensor:  # [1, 2, 1] along W
        return t[..., :-2] + 2.0 * t[..., 1:-1] + t[..., 2:]

    def smooth_rows(t: torch.Tensor) -> torch.Tensor:  # [1, 2, 1] along H
        return t[..., :-2, :] + 2.0 * t[..., 1:-1, :] + t[..., 2:, :]

    dy = smooth_cols(p[..., 2:, :]) - smooth_cols(p[..., :-2, :])
    dx = smooth_rows(p[..., :, 2:]) - smooth_rows(p[..., :, :-2])
    return torch.stack([dy, dx], dim=2).flatten(1, 2)


def batch_norm_inference(
    x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, gamma: torch.Tensor | None, beta: torch.Tensor | None, eps: float
) -> torch.Tensor:
    """``tf.nn.batch_normalization`` with moving statistics: gamma (x - mean) / sqrt(var + eps) + beta.

    x: (N, C, H, W); the others (C,).  For reference and tests: the networks use
    ``nn.BatchNorm2d(eps=...)``, which computes the same in eval mode.
    """
    shape = (1, -1, 1, 1)
    y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + eps)
    if gamma is not None:
        y = y * gamma.view(shape)
    if beta is not None:
        y = y + beta.view(shape)
    return y
