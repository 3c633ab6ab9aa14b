"""A small stand-in for SingleHDRModel whose output the tests can predict.

Same interface as ``singlehdr.models.pipeline.SingleHDRModel``:
``multiple``, ``estimate_inverse_crf(ldr) -> (N, 1024)`` and
``forward(ldr, inverse_crf=None) -> (N, 3, H, W)``.

It has the properties that matter to the engine:
- a global, per-image inverse CRF: g(t) = t ** (1 + mean(ldr)) sampled at 1024
  points (so estimating it per tile instead of per image would show);
- a local receptive field with zero 'same' padding (a 9x9 box blur), so tile
  borders and image borders matter;
- a dependence on a 32 px pooling grid (32x32 average pool, bilinear x32
  upsample), like the real nets' down-sampling paths.
out = B + 0.5 * blur9(B) + 0.25 * pool32(B), with B = g(ldr) by linear lookup.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


class DoubleModel(torch.nn.Module):
    multiple = 32

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))  # so .to(device) has something to move
        self.crf_calls: list[tuple[int, ...]] = []
        self.forward_calls: list[tuple[int, ...]] = []

    def estimate_inverse_crf(self, ldr: torch.Tensor) -> torch.Tensor:
        self.crf_calls.append(tuple(ldr.shape))
        p = 1.0 + ldr.float().mean(dim=(1, 2, 3))  # (N,)
        t = torch.linspace(0.0, 1.0, 1024, device=ldr.device)
        return t[None, :] ** p[:, None]

    def forward(self, ldr: torch.Tensor, inverse_crf: torch.Tensor | None = None) -> torch.Tensor:
        self.forward_calls.append(tuple(ldr.shape))
        n, _c, h, w = ldr.shape
        assert h % self.multiple == 0 and w % self.multiple == 0, (h, w)
        g = self.estimate_inverse_crf(ldr) if inverse_crf is None else inverse_crf
        b = apply_curve(ldr.float(), g.float())
        blur = F.avg_pool2d(b, 9, stride=1, padding=4, count_include_pad=True)
        pool = F.interpolate(F.avg_pool2d(b, 32), scale_factor=32, mode="bilinear", align_corners=False)
        return self.scale * (b + 0.5 * blur + 0.25 * pool)


def apply_curve(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Per-image lookup of x (N,3,H,W) in g (N,1024) at 1023 * x with linear interpolation."""
    n = x.shape[0]
    pos = (x.clamp(0, 1) * 1023.0).reshape(n, -1)
    i0 = pos.floor().clamp(0, 1022).long()
    frac = pos - i0
    v = torch.gather(g, 1, i0) * (1 - frac) + torch.gather(g, 1, i0 + 1) * frac
    return v.reshape(x.shape)


def expected_untiled(ldr: np.ndarray, pad: tuple[tuple[int, int], tuple[int, int]], mode_x: str = "symmetric") -> np.ndarray:
    """The double run the obvious way: np.pad, one forward, crop.  (H, W, 3) float32."""
    (t, b), (l, r) = pad
    canvas = np.pad(ldr, ((t, b), (0, 0), (0, 0)), mode="symmetric")
    canvas = np.pad(canvas, ((0, 0), (l, r), (0, 0)), mode=mode_x)
    x = torch.from_numpy(np.ascontiguousarray(canvas)).permute(2, 0, 1)[None]
    with torch.no_grad():
        y = DoubleModel()(x)[0].permute(1, 2, 0).numpy()
    return y[t : t + ldr.shape[0], l : l + ldr.shape[1]]


def test_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth gradient + texture + a saturated blob, (h, w, 3) float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.5 + 0.3 * np.sin(xx / 23.0)[..., None] * np.cos(yy / 17.0)[..., None] * np.array([1.0, 0.8, 0.6], np.float32)
    img = base + 0.05 * rng.standard_normal((h, w, 3)).astype(np.float32)
    blob = ((yy - h * 0.3) ** 2 + (xx - w * 0.6) ** 2) < (min(h, w) * 0.12) ** 2
    img[blob] = 1.0
    return np.clip(img, 0.0, 1.0).astype(np.float32)


test_image.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
