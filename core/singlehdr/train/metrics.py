"""Quality metrics for single-image HDR reconstruction.

Small pure functions over float numpy arrays; shapes in every docstring.
Reconstructions are *relative* (LDR white ~ 1.0, no absolute scale), so every
metric here compares ``optimal_scale(pred, ref) * pred`` with ``ref``; the
:func:`scaled_prediction` helper does that once for all metrics.

Conventions
- Luminance Y: Rec. ITU-R BT.709 / sRGB primaries, D65:
  Y = 0.2126 R + 0.7152 G + 0.0722 B (ITU-R BT.709-6, item 3.3).
- Absolute luminance for the perceptual metrics (PU21, ColorVideoVDP) is
  obtained with :func:`to_absolute`: the reference's LDR white (the value
  that the synthetic camera clipped to 1.0) is mapped to ``white_nits`` =
  100 cd/m^2, the usual SDR diffuse white (as pycvvdp's PU21-PSNR, which
  maps 100 cd/m^2 to the PSNR peak).  Highlights above white keep their
  ratio, so they reach 1500 cd/m^2 at +3.9 stops on the HDR display below.
- Display: :func:`display_luminance` is the linear HDR display of
  ColorVideoVDP's ``standard_hdr_linear`` model (Mantiuk et al. 2024; GOG
  display model, Mantiuk 2016): clip to [max(0.005, peak / contrast), peak]
  and add screen reflections E_amb / pi * k_refl.
"""

from __future__ import annotations

import math
import sys
import types
from typing import Any

import numpy as np

from .. import colour

#: Rec. 709 luminance weights (ITU-R BT.709-6).
REC709_Y = np.array(colour.REC709_Y, dtype=np.float64)  # float64 for the metrics

#: Default LDR clipping threshold for the "clipped region" mask.
CLIP_THRESHOLD = 0.95

#: Default log-PSNR window: stops below the reference's peak luminance.
LOG_PSNR_STOPS = 16.0

#: PU21 parameters p1..p7 (Mantiuk & Azimi, "PU21: A novel perceptually
#: uniform encoding for adapting existing quality metrics for HDR", PCS 2021,
#: Table 1), for V = p7 * (((p1 + p2 Y^p4) / (1 + p3 Y^p4))^p5 - p6).
PU21_PARAMS: dict[str, tuple[float, ...]] = {
    "banding": (1.070275272, 0.4088273932, 0.153224308, 0.2520326168, 1.063512885, 1.14115047, 521.4527484),
    "banding_glare": (0.353487901, 0.3734658629, 8.277049286e-05, 0.9062562627, 0.09150303166, 0.9099517204, 596.3148142),
    "peaks": (1.043882782, 0.6459495343, 0.3194584211, 0.374025247, 1.114783422, 1.095360363, 384.9217577),
    "peaks_glare": (816.885024, 1479.463946, 0.001253215609, 0.9329636822, 0.06746643971, 1.573435413, 419.6006374),
}
#: PU21's valid luminance range in cd/m^2 (Mantiuk & Azimi 2021).
PU21_L_MIN = 0.005
PU21_L_MAX = 10000.0

#: ColorVideoVDP's "standard_hdr_linear" display (pycvvdp display_models.json).
HDR_DISPLAY_NAME = "standard_hdr_linear"
HDR_DISPLAY_PEAK = 1500.0  # cd/m^2
HDR_DISPLAY_CONTRAST = 1e6
HDR_DISPLAY_AMBIENT_LUX = 10.0
HDR_DISPLAY_K_REFL = 0.005

_TINY = 1e-12


# ------------------------------------------------------------------ basics
def luminance(hdr_linear: np.ndarray) -> np.ndarray:
    """Rec. 709 relative luminance.  (..., 3) -> (...) float64.

    Y = 0.2126 R + 0.7152 G + 0.0722 B (ITU-R BT.709-6).
    """
    a = np.asarray(hdr_linear, dtype=np.float64)
    return a @ REC709_Y


def clipped_mask(ldr_srgb: np.ndarray, threshold: float = CLIP_THRESHOLD) -> np.ndarray:
    """Pixels where the LDR input is saturated.  (H, W, 3) -> (H, W) bool.

    True where any channel of the display-referred input is >= ``threshold``
    (0.95: the region a reconstruction has to hallucinate).
    """
    return np.any(np.asarray(ldr_srgb) >= threshold, axis=-1)


def _mask_or_all(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    if mask is None:
        return np.ones(shape, dtype=bool)
    m = np.asarray(mask, dtype=bool)
    if m.shape != shape:
        raise ValueError(f"mask shape {m.shape} does not match image shape {shape}")
    return m


def optimal_scale(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None, domain: str = "log") -> float:
    """The global scale s minimising the luminance error of s * pred vs ref.

    pred, ref: (H, W, 3) linear; mask: (H, W) bool or None (all pixels).
    domain "log" (default, used by every metric here): least squares of
        log Y: s = exp(mean(log Y_ref - log Y_pred)) over pixels where both
        are > 0 (closed form of argmin_s sum (log s + log Yp - log Yr)^2).
        Robust to highlights: each pixel counts for its ratio, not its size.
    domain "linear": least squares of Y: s = sum(Yp Yr) / sum(Yp^2).
    Returns 1.0 when no pixel qualifies.
    """
    yp, yr = luminance(pred), luminance(ref)
    m = _mask_or_all(mask, yp.shape)
    if domain == "log":
        m = m & (yp > _TINY) & (yr > _TINY)
        if not m.any():
            return 1.0
        return float(np.exp(np.mean(np.log(yr[m]) - np.log(yp[m]))))
    if domain == "linear":
        den = float(np.sum(yp[m] ** 2))
        return float(np.sum(yp[m] * yr[m]) / den) if den > 0 else 1.0
    raise ValueError(f"unknown scale domain {domain!r}; use 'log' or 'linear'")


def scaled_prediction(pred: np.ndarray, ref: np.ndarray, domain: str = "log") -> np.ndarray:
    """pred * optimal_scale(pred, ref) over all pixels.  (H, W, 3) -> (H, W, 3) float32."""
    return (np.asarray(pred, dtype=np.float32) * np.float32(optimal_scale(pred, ref, None, domain))).astype(np.float32)


def _psnr(mse: float, peak: float) -> float:
    if mse <= 0:
        return math.inf
    return float(20.0 * math.log10(peak / math.sqrt(mse)))


# ------------------------------------------------------------------ log-PSNR
def log_psnr(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None, stops: float = LOG_PSNR_STOPS) -> float:
    """PSNR of log2 luminance in a fixed window of ``stops`` below the reference peak.

    pred, ref: (H, W, 3) linear (pred already scaled); mask: (H, W) bool.
    With top = log2(max Y_ref) over the whole image and floor = top - stops,
    l(Y) = max(log2 Y, floor) (values below the floor are clamped, none
    above); RMSE in stops over the mask; PSNR = 20 log10(stops / RMSE), i.e.
    the peak-to-peak signal range is the ``stops``-stop window (16 stops by
    default).  Example: an error of exactly one stop everywhere gives
    20 log10(16) = 24.08 dB.  Returns inf for a perfect match and nan for
    an empty mask.
    """
    yp, yr = luminance(pred), luminance(ref)
    m = _mask_or_all(mask, yp.shape)
    if not m.any():
        return math.nan
    top = math.log2(max(float(yr.max()), _TINY))
    floor = top - float(stops)
    lp = np.maximum(np.log2(np.maximum(yp, _TINY)), floor)
    lr = np.maximum(np.log2(np.maximum(yr, _TINY)), floor)
    return _psnr(float(np.mean((lp[m] - lr[m]) ** 2)), float(stops))


# ------------------------------------------------------------------ PU21
def pu21_encode(luminance_abs: np.ndarray, kind: str = "banding_glare") -> np.ndarray:
    """PU21 perceptually uniform encoding of absolute luminance.

    luminance_abs: (...) cd/m^2, clipped to [0.005, 10000].  Returns (...) float64.
    Formula (Mantiuk & Azimi 2021, eq. 2): V = p7 * (((p1 + p2 Y^p4) /
    (1 + p3 Y^p4))^p5 - p6), parameters :data:`PU21_PARAMS` (default the
    "banding_glare" set, as pycvvdp).  Scaled so that 100 cd/m^2 -> ~256
    (SDR white ~ 8-bit code value) and 0.005 cd/m^2 -> ~0.
    """
    p1, p2, p3, p4, p5, p6, p7 = PU21_PARAMS[kind]
    y = np.clip(np.asarray(luminance_abs, dtype=np.float64), PU21_L_MIN, PU21_L_MAX)
    yp = y**p4
    return p7 * (((p1 + p2 * yp) / (1.0 + p3 * yp)) ** p5 - p6)


def to_absolute(hdr_linear: np.ndarray, white: float, white_nits: float = 100.0) -> np.ndarray:
    """Relative -> absolute linear: the value ``white`` is mapped to ``white_nits`` cd/m^2.

    (H, W, 3) -> (H, W, 3) float32; hdr * white_nits / white.
    """
    return (np.asarray(hdr_linear, dtype=np.float32) * np.float32(white_nits / float(white))).astype(np.float32)


def display_luminance(luminance_abs: np.ndarray, peak: float = HDR_DISPLAY_PEAK, contrast: float = HDR_DISPLAY_CONTRAST, ambient_lux: float = HDR_DISPLAY_AMBIENT_LUX, k_refl: float = HDR_DISPLAY_K_REFL) -> np.ndarray:
    """Luminance emitted + reflected by a linear HDR display.  (...) -> (...) float64 cd/m^2.

    L = clip(Y, max(0.005, peak / contrast), peak) + ambient_lux / pi * k_refl
    (GOG display model, Mantiuk 2016, as ColorVideoVDP's linear-EOTF display;
    defaults = its ``standard_hdr_linear``: 1500 cd/m^2, 10^6:1, 10 lux, 0.005).
    """
    y = np.asarray(luminance_abs, dtype=np.float64)
    return np.clip(y, max(PU21_L_MIN, peak / contrast), peak) + ambient_lux / math.pi * k_refl


def pu21_psnr(pred_abs: np.ndarray, ref_abs: np.ndarray, mask: np.ndarray | None = None, display: bool = True, kind: str = "banding_glare") -> float:
    """PU21-PSNR of luminance (Mantiuk & Azimi 2021).

    pred_abs, ref_abs: (H, W, 3) absolute linear Rec. 709 RGB in cd/m^2
    (see :func:`to_absolute`); mask: (H, W) bool.
    Y -> (display=True: :func:`display_luminance`) -> :func:`pu21_encode`;
    PSNR = 20 log10(P / RMSE) with peak P = PU21(100 cd/m^2) = 256.38
    (the peak pycvvdp's ``pu_psnr_y`` uses: SDR white).  Equals pycvvdp's
    ``pu_psnr_y(display_name="standard_hdr_linear")`` on the whole image.
    """
    yp, yr = luminance(pred_abs), luminance(ref_abs)
    m = _mask_or_all(mask, yp.shape)
    if not m.any():
        return math.nan
    if display:
        yp, yr = display_luminance(yp), display_luminance(yr)
    ep, er = pu21_encode(yp, kind), pu21_encode(yr, kind)
    peak = float(pu21_encode(np.array(100.0), kind))
    return _psnr(float(np.mean((ep[m] - er[m]) ** 2)), peak)


# ------------------------------------------------------------------ ColorVideoVDP
_PYCVVDP: Any = None


def load_pycvvdp() -> Any:
    """Import pycvvdp (pip package ``cvvdp``) with the shims this torch build needs.

    - torchvision wheels from PyPI do not match the CPU torch here; their
      ``_meta_registrations`` fails, so it is replaced by an empty module
      before import (pycvvdp only needs torchvision's GaussianBlur / MLP).
    - ``huggingface_hub`` (only for the ML variant of the metric, which
      downloads weights) is replaced by a stub that refuses: nothing may
      download at run time.
    - pycvvdp 0.5.7's ``vq_metric`` uses ``vvdp_display_photometry``,
      ``vvdp_display_geometry`` and ``video_source_array`` without
      importing them; they are set on the module.
    Returns the module, or None when it cannot be imported.
    """
    global _PYCVVDP
    if _PYCVVDP is not None:
        return _PYCVVDP or None
    try:
        sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
        try:
            import huggingface_hub  # noqa: F401
        except ImportError:
            stub = types.ModuleType("huggingface_hub")

            def _refuse(*_a: Any, **_k: Any) -> None:
                raise RuntimeError("singlehdr never downloads at run time")

            stub.hf_hub_download = _refuse  # type: ignore[attr-defined]
            sys.modules["huggingface_hub"] = stub
        import pycvvdp  # type: ignore[import-not-found]
        import pycvvdp.video_source as vs  # type: ignore[import-not-found]
        import pycvvdp.vq_metric as vq  # type: ignore[import-not-found]
        from pycvvdp.display_model import vvdp_display_geometry, vvdp_display_photometry  # type: ignore[import-not-found]

        for name, value in (("vvdp_display_photometry", vvdp_display_photometry), ("vvdp_display_geometry", vvdp_display_geometry), ("video_source_array", vs.video_source_array)):
            if not hasattr(vq, name):
                setattr(vq, name, value)
        _PYCVVDP = pycvvdp
    except Exception:  # any import failure: the metric is optional
        _PYCVVDP = False
        return None
    return pycvvdp


_CVVDP_METRIC: dict[str, Any] = {}


def cvvdp_jod(pred_abs: np.ndarray, ref_abs: np.ndarray, display_name: str = HDR_DISPLAY_NAME) -> float:
    """ColorVideoVDP quality in JOD (Mantiuk et al., SIGGRAPH 2024), 10 = identical.

    pred_abs, ref_abs: (H, W, 3) absolute linear Rec. 709 RGB in cd/m^2.
    Runs pycvvdp on CPU with an HDR display model (default
    ``standard_hdr_linear``: 30" 4K, 1500 cd/m^2, 10 lux, 0.75 m).
    Returns nan when pycvvdp is not installed.
    """
    mod = load_pycvvdp()
    if mod is None:
        return math.nan
    import torch

    metric = _CVVDP_METRIC.get(display_name)
    if metric is None:
        metric = mod.cvvdp(display_name=display_name, device=torch.device("cpu"))
        _CVVDP_METRIC[display_name] = metric
    with torch.no_grad():
        q, _ = metric.predict(np.ascontiguousarray(pred_abs, dtype=np.float32), np.ascontiguousarray(ref_abs, dtype=np.float32), dim_order="HWC")
    return float(q)


# ------------------------------------------------------------------ environment maps
#: Irradiance convolution factors A_l for l = 0, 1, 2 (Ramamoorthi & Hanrahan 2001, eq. 8).
SH9_IRRADIANCE_A = np.array([math.pi] + [2.0 * math.pi / 3.0] * 3 + [math.pi / 4.0] * 5)


def sh9_irradiance(hdr_equirect: np.ndarray) -> np.ndarray:
    """The 9 SH irradiance coefficients of an equirectangular environment map.

    hdr_equirect: (H, W, 3) linear radiance.  Returns (9, 3) float64:
    E_lm = A_l * L_lm (Ramamoorthi & Hanrahan, "An efficient representation
    for irradiance environment maps", SIGGRAPH 2001, eqs. 7-8), with the
    radiance coefficients L_lm of :func:`singlehdr.envmap.lighting.sh9`
    (exact per-pixel solid angles, the envmap frame).  A map of constant
    radiance 1 gives L_00 = 4 pi * 0.282095 = sqrt(4 pi), E_00 = pi sqrt(4 pi)
    = 11.137 (irradiance E_00 * Y_00 = pi for every normal) and 0 for l > 0.
    """
    from ..envmap.lighting import sh9

    return sh9(np.asarray(hdr_equirect, dtype=np.float32)) * SH9_IRRADIANCE_A[:, None]


def sh9_relative_error(pred_equirect: np.ndarray, ref_equirect: np.ndarray) -> float:
    """Relative error of the SH9 irradiance: ||E_pred - E_ref||_F / ||E_ref||_F over the (9, 3) coefficients.

    pred_equirect, ref_equirect: (H, W, 3) (pred already scaled).  0 = same lighting.
    """
    ep, er = sh9_irradiance(pred_equirect), sh9_irradiance(ref_equirect)
    den = float(np.linalg.norm(er))
    return float(np.linalg.norm(ep - er) / den) if den > 0 else math.nan


def brightest_direction(hdr_equirect: np.ndarray) -> np.ndarray:
    """Direction of the brightest light of an equirectangular map.  (H, W, 3) -> (3,) unit.

    :func:`singlehdr.envmap.lighting.dominant_light`: the luminance- and
    solid-angle-weighted mean direction of the connected region (the seam
    wraps) around the peak pixel with luminance >= half the peak.
    """
    from ..envmap.lighting import dominant_light

    return np.asarray(dominant_light(np.asarray(hdr_equirect, dtype=np.float32)).direction, dtype=np.float64)


def angular_error_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two direction vectors in degrees.  (3,), (3,) -> float in [0, 180]."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    c = float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), _TINY))
    return math.degrees(math.acos(min(1.0, max(-1.0, c))))


def light_direction_error(pred_equirect: np.ndarray, ref_equirect: np.ndarray) -> float:
    """Angular error in degrees between the brightest-light directions of two equirect maps (nan if one is black)."""
    from ..errors import SingleHDRError

    try:
        return angular_error_deg(brightest_direction(pred_equirect), brightest_direction(ref_equirect))
    except SingleHDRError:
        return math.nan


# ------------------------------------------------------------------ all at once
def clipped_energy(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray) -> float:
    """Share of the true light kept inside ``mask``: sum Y(pred) / sum Y(ref) over the mask (1 = all of it)."""
    yr = float(luminance(ref)[mask].sum())
    return float(luminance(pred)[mask].sum()) / yr if yr > 0 else math.nan


def clipped_log_rmse(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray, floor: float = 1e-6) -> float:
    """RMS of log2 luminance error inside ``mask`` (stops; lower is better)."""
    lp = np.log2(np.maximum(luminance(pred)[mask], floor))
    lr = np.log2(np.maximum(luminance(ref)[mask], floor))
    return float(np.sqrt(np.mean((lp - lr) ** 2)))


def image_metrics(pred: np.ndarray, ref: np.ndarray, ldr_srgb: np.ndarray, white: float, *, equirect: bool = False, jod: bool = False) -> dict[str, float]:
    """Every metric for one reconstruction.

    pred: (H, W, 3) relative linear reconstruction (any scale);
    ref: (H, W, 3) linear ground truth; ldr_srgb: (H, W, 3) the LDR input
    (for the clipped mask); white: the reference value the LDR clipped at
    (1 / exposure), mapped to 100 cd/m^2 for PU21 / JOD.
    pred is first scaled by :func:`optimal_scale` (log domain, all pixels).
    Returns {"scale", "log_psnr", "pu21_psnr", "clipped_log_psnr",
    "clipped_pu21_psnr", "clipped_fraction", "clipped_energy", "clipped_log_rmse", "jod" (nan unless jod),
    "sh9_rel_error", "light_angle_deg" (nan unless equirect)}.
    """
    s = optimal_scale(pred, ref)
    p = (np.asarray(pred, dtype=np.float32) * np.float32(s)).astype(np.float32)
    r = np.asarray(ref, dtype=np.float32)
    mask = clipped_mask(ldr_srgb)
    pa, ra = to_absolute(p, white), to_absolute(r, white)
    out = {
        "scale": s,
        "log_psnr": log_psnr(p, r),
        "pu21_psnr": pu21_psnr(pa, ra),
        "clipped_log_psnr": log_psnr(p, r, mask) if mask.any() else math.nan,
        "clipped_pu21_psnr": pu21_psnr(pa, ra, mask) if mask.any() else math.nan,
        "clipped_fraction": float(mask.mean()),
        "clipped_energy": clipped_energy(p, r, mask) if mask.any() else math.nan,
        "clipped_log_rmse": clipped_log_rmse(p, r, mask) if mask.any() else math.nan,
        "jod": cvvdp_jod(pa, ra) if jod else math.nan,
        "sh9_rel_error": sh9_relative_error(p, r) if equirect else math.nan,
        "light_angle_deg": light_direction_error(p, r) if equirect else math.nan,
    }
    return out
