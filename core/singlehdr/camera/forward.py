"""The forward camera pipeline being reversed (Liu et al., CVPR 2020, sec. 3):

    H (linear scene) -> exposure t -> noise -> clip [0, 1] -> CRF f
      -> 8-bit quantisation -> JPEG

Each step is a small pure function over numpy arrays or torch tensors
(same type out as in; JPEG is numpy only).  Images are (H, W, 3) numpy or
(..., 3, H, W) torch; every step but the noise is elementwise.
:func:`simulate` composes them with one :class:`CameraParams` and returns
every intermediate stage (the training targets).
"""

from __future__ import annotations

import io as _io
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .crf import CRF, apply_curve, apply_curve_torch

#: Noise ranges of the training recipe (Liu et al. 2020 / ../shared/REFERENCE.md):
#: sigma_s ~ U(0, 0.08/6) (signal-dependent), sigma_c ~ U(0, 0.005) (constant).
SIGMA_S_MAX = 0.08 / 6.0
SIGMA_C_MAX = 0.005
#: Exposure t = 2 ** U(-3, 3).
LOG2_EXPOSURE_RANGE = (-3.0, 3.0)
#: JPEG quality drawn in [90, 100].
JPEG_QUALITY_RANGE = (90, 100)


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def expose(hdr_linear: Any, t: float) -> Any:
    """Exposure: H * t.  Any shape, same type out."""
    return hdr_linear * t


def add_noise(x: Any, sigma_s: Sequence[float], sigma_c: Sequence[float], noise: Any) -> Any:
    """Per-channel sensor noise: relu(x + n * (sigma_s[c] * x + sigma_c[c])).

    Source: Liu et al. 2020 training recipe (signal-dependent + constant
    Gaussian noise, then ReLU).  ``noise`` is a standard-normal draw of x's
    shape (numpy: (H, W, 3); torch: (..., 3, H, W)), so the function stays
    pure and deterministic.  sigma_s, sigma_c: 3 values (R, G, B).
    """
    if _is_torch(x):
        import torch

        ts = torch.as_tensor(sigma_s, dtype=x.dtype, device=x.device).view(3, 1, 1)
        tc = torch.as_tensor(sigma_c, dtype=x.dtype, device=x.device).view(3, 1, 1)
        return torch.relu(x + noise * (ts * x + tc))
    ss = np.asarray(sigma_s, dtype=np.float32).reshape(1, 1, 3)
    sc = np.asarray(sigma_c, dtype=np.float32).reshape(1, 1, 3)
    return np.maximum(x + noise * (ss * x + sc), 0.0).astype(np.float32)


def clip01(x: Any) -> Any:
    """Sensor saturation: clip to [0, 1]."""
    return x.clamp(0.0, 1.0) if _is_torch(x) else np.clip(x, 0.0, 1.0).astype(np.float32)


def apply_crf(x: Any, curve: Any) -> Any:
    """Camera response: f(x) by linear interpolation of the 1024-sample curve
    (index 1023 x, clipped), one curve for R, G, B.  numpy (any shape) or
    torch (N, C, H, W) with curve (1024,) or (N, 1024)."""
    if _is_torch(x):
        import torch

        c = curve if _is_torch(curve) else torch.as_tensor(np.asarray(curve), dtype=x.dtype, device=x.device)
        squeeze = x.dim() == 3
        out = apply_curve_torch(x.unsqueeze(0) if squeeze else x, c)
        return out.squeeze(0) if squeeze else out
    return apply_curve(x, curve)


def quantize(x: Any, bits: int = 8) -> Any:
    """Quantisation to ``bits`` per channel: round(x * (2^bits - 1)) / (2^bits - 1).

    0.5 -> round(127.5) / 255 = 128 / 255 (numpy and torch round half to even:
    127.5 -> 128).  Values are clipped to [0, 1] first.
    """
    m = float(2**bits - 1)
    if _is_torch(x):
        return (x.clamp(0.0, 1.0) * m).round() / m
    return (np.round(np.clip(x, 0.0, 1.0) * m) / m).astype(np.float32)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """[0, 1] float -> uint8 by rounding (255 * x)."""
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def jpeg(x: np.ndarray, quality: int) -> np.ndarray:
    """JPEG round trip with Pillow at ``quality`` (4:4:4 chroma, no subsampling
    at quality >= 90 as cameras at that setting).  (H, W, 3) [0, 1] numpy ->
    (H, W, 3) float32 multiples of 1/255.  quality >= 101 skips the codec."""
    from PIL import Image

    q = int(quality)
    u8 = to_uint8(x)
    if q > 100:
        return (u8.astype(np.float32) / 255.0).astype(np.float32)
    buf = _io.BytesIO()
    Image.fromarray(u8, "RGB").save(buf, format="JPEG", quality=q, subsampling=0 if q >= 90 else 2)
    buf.seek(0)
    with Image.open(buf) as im:
        out = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return out.astype(np.float32)


@dataclass
class CameraParams:
    """One random camera: exposure t, per-channel noise, a CRF, JPEG quality."""

    t: float
    sigma_s: tuple[float, float, float]
    sigma_c: tuple[float, float, float]
    crf: CRF
    quality: int
    extra: dict[str, Any] = field(default_factory=dict)


def sample_camera(rng: np.random.Generator, bank: Sequence[CRF], *, noise: bool = True, jpeg_quality: tuple[int, int] | None = JPEG_QUALITY_RANGE) -> CameraParams:
    """Draw a camera per the training recipe: t = 2^U(-3, 3), sigma_s ~
    U(0, 0.08/6), sigma_c ~ U(0, 0.005) per channel, a CRF uniformly from
    ``bank``, JPEG quality ~ U{90..100} (None: no JPEG, quality 101)."""
    t = float(2.0 ** rng.uniform(*LOG2_EXPOSURE_RANGE))
    ss = tuple(float(v) for v in rng.uniform(0.0, SIGMA_S_MAX, 3)) if noise else (0.0, 0.0, 0.0)
    sc = tuple(float(v) for v in rng.uniform(0.0, SIGMA_C_MAX, 3)) if noise else (0.0, 0.0, 0.0)
    crf = bank[int(rng.integers(len(bank)))]
    q = int(rng.integers(jpeg_quality[0], jpeg_quality[1] + 1)) if jpeg_quality else 101
    return CameraParams(t=t, sigma_s=ss, sigma_c=sc, crf=crf, quality=q)  # type: ignore[arg-type]


def simulate(hdr_linear: np.ndarray, cam: CameraParams, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Run the forward pipeline on (H, W, 3) float32 numpy and keep every stage.

    Returns {"exposed": H t, "linear_clipped": clip(H t) (noise-free),
    "noisy_clipped": clip(relu(H t + noise)), "ldr_prequant": f(noisy_clipped),
    "ldr_8bit": quantize(ldr_prequant), "ldr": jpeg(ldr_8bit)}, all (H, W, 3)
    float32.  The noise draw comes from ``rng``.
    """
    exposed = (np.asarray(hdr_linear, dtype=np.float32) * np.float32(cam.t)).astype(np.float32)
    noise = rng.standard_normal(exposed.shape, dtype=np.float32)
    noisy = clip01(add_noise(exposed, cam.sigma_s, cam.sigma_c, noise))
    pre = apply_crf(noisy, cam.crf.f)
    q8 = quantize(pre)
    out = jpeg(q8, cam.quality)
    return {
        "exposed": exposed,
        "linear_clipped": clip01(exposed),
        "noisy_clipped": noisy,
        "ldr_prequant": pre,
        "ldr_8bit": q8,
        "ldr": out,
    }
