"""Camera response recovery from the brackets themselves.

A response here is the *inverse* CRF g: (3, 1024) float32, one curve per
channel, sampled at pixel values z = i / 1023, with g(0) = 0 and g(1) = 1,
so that g(Z) = E * e (scene radiance E times relative exposure e) up to one
scale shared by all channels (the camera's white is (1, 1, 1)).

Methods
- "emor" (default): a joint linear least-squares solve for the EMoR weights
  and the radiances of sampled pixels.  With g = g0 + sum_k w_k h_k
  (Grossberg & Nayar 2004, inverse basis ``invemor.txt``), the Debevec-Malik
  condition g(Z_ij) = E_i e_j (Debevec & Malik, SIGGRAPH 1997, eq. 2 without
  the log) is *linear* in (w, E), so it is solved exactly, with
  Debevec-Malik's second-difference smoothness on g and a hat weight on Z;
  the EMoR basis keeps g a realistic camera curve.
- "debevec" / "robertson": OpenCV's ``CalibrateDebevec`` (Debevec & Malik
  1997) / ``CalibrateRobertson`` (Robertson, Borman & Stevenson, "Estimation-
  theoretic approach to dynamic range enhancement using multiple exposures",
  JEI 12(2), 2003), regularised toward EMoR: the OpenCV curve is projected
  onto the EMoR basis (log-domain fit with a free scale, ridge on w), which
  smooths it, fixes g(1) = 1 and extrapolates the codes it saw too rarely.
- "srgb" / "linear": a known curve, no calibration.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import SingleHDRError

RESPONSES = ("emor", "debevec", "robertson", "srgb", "linear")
N = 1024
Z = np.linspace(0.0, 1.0, N)
#: EMoR components used by the fits (the first ones carry almost all the variance).
EMOR_K = 8
#: Weight of the second-difference smoothness of g (per sample pixel).
EMOR_SMOOTH = 1e-3
#: Response samples are drawn from a strided view of at most this many pixels.
SAMPLE_MAX_PIXELS = 1_000_000
#: Iterations of the robust (Cauchy IRLS) response solve.
IRLS_STEPS = 4
#: Ridge weight on the EMoR weights (conditioning only).
EMOR_RIDGE = 1e-8


def hat(z: np.ndarray) -> np.ndarray:
    """Debevec-Malik's hat weight on pixel values in [0, 1]: min(z, 1 - z), 0 at the ends."""
    z = np.asarray(z, dtype=np.float64)
    return np.clip(np.minimum(z, 1.0 - z), 0.0, None)


def known_response(name: str) -> np.ndarray:
    """The inverse of a named curve, (3, 1024) float32."""
    if name == "linear":
        g = Z.astype(np.float32)
    elif name == "srgb":
        from ..camera.transfer import srgb_to_linear

        g = srgb_to_linear(Z.astype(np.float32))
    else:
        raise SingleHDRError(f"unknown response {name!r}; choose one of: {', '.join(RESPONSES)}")
    return np.repeat(g[None], 3, axis=0).astype(np.float32)


def apply_response(ldr: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g applied per channel: (H, W, 3) values in [0, 1] -> (H, W, 3) float32 linear."""
    a = np.clip(np.asarray(ldr, dtype=np.float32), 0.0, 1.0)
    idx = a * (N - 1)
    lo = np.floor(idx).astype(np.int64)
    lo = np.minimum(lo, N - 2)
    f = idx - lo
    out = np.empty_like(a)
    for c in range(3):
        gc = np.asarray(g[c], dtype=np.float32)
        out[..., c] = gc[lo[..., c]] * (1 - f[..., c]) + gc[lo[..., c] + 1] * f[..., c]
    return out


def _local_std(img: np.ndarray, r: int = 2) -> np.ndarray:
    import cv2

    g = np.asarray(img, dtype=np.float32).mean(axis=-1)
    k = (2 * r + 1, 2 * r + 1)
    m = cv2.blur(g, k)
    return np.sqrt(np.maximum(cv2.blur(g * g, k) - m * m, 0.0))


def sample_pixels(frames: Sequence[np.ndarray], n_samples: int = 400, seed: int = 0) -> np.ndarray:
    """Pixel values at ``n_samples`` locations: (n_samples, n_frames, 3) float64.

    Locations are spread over the brightness of the middle frame (equal
    counts per brightness bin, so the whole curve is constrained) and taken
    from the smoothest pixels of each bin (lowest local standard deviation in
    every frame): JPEG ringing, demosaic and residual misalignment live on
    edges (Debevec & Malik 1997 also sample flat regions).  Reproducible.
    """
    rng = np.random.default_rng(seed)
    h0, w0 = np.asarray(frames[0]).shape[:2]
    step = max(1, int(np.sqrt(h0 * w0 / SAMPLE_MAX_PIXELS)))  # a strided view (no mixing of pixel values)
    arrs = [np.ascontiguousarray(np.asarray(f, dtype=np.float32)[::step, ::step]) for f in frames]
    h, w, _ = arrs[0].shape
    n = len(arrs)
    rough = np.max(np.stack([_local_std(a) for a in arrs]), axis=0).ravel()
    mid = arrs[n // 2].reshape(h * w, 3).mean(axis=1)
    nbins = 16
    bins = np.clip((mid * nbins).astype(int), 0, nbins - 1)
    per = max(1, n_samples // nbins)
    picks = []
    for b in range(nbins):
        idx = np.flatnonzero(bins == b)
        if not idx.size:
            continue
        smooth = idx[np.argsort(rough[idx] + rng.uniform(0, 1e-6, idx.size), kind="stable")[: max(per * 4, per)]]
        picks.append(rng.choice(smooth, size=min(per, smooth.size), replace=False))
    sel = np.concatenate(picks) if picks else rng.choice(h * w, size=min(n_samples, h * w), replace=False)
    return np.stack([a.reshape(h * w, 3)[sel] for a in arrs], axis=1).astype(np.float64)


def _basis(k: int) -> tuple[np.ndarray, np.ndarray]:
    from ..camera.emor import load_invemor

    inv = load_invemor()
    return np.asarray(inv["g0"], dtype=np.float64), np.asarray(inv["hinv"][:k], dtype=np.float64)


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares by the normal equations (a few hundred unknowns; far faster than an SVD), SVD as a fallback."""
    ata = a.T @ a
    ata[np.diag_indices_from(ata)] += 1e-9  # a sample with no usable observation gets E = 0, not a singular matrix
    try:
        return np.linalg.solve(ata, a.T @ b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def _finish(g: np.ndarray) -> np.ndarray:
    from ..camera.crf import make_monotone

    return make_monotone(np.clip(g, -0.05, 1.05)).astype(np.float32)


def solve_emor(samples: np.ndarray, exposures: Sequence[float], k: int = EMOR_K, smooth: float = EMOR_SMOOTH,
               ridge: float = EMOR_RIDGE) -> np.ndarray:
    """Joint linear least squares for the EMoR weights and sample radiances.

    samples: (P, n, 3) pixel values in [0, 1] at P locations in n frames;
    exposures: (n,) relative exposures.  For each channel solves

        min  sum_ij hat(Z_ij)^2 (g0(Z_ij) + sum_k w_k h_k(Z_ij) - E_i e_j)^2
           + smooth * P * |D2 g|^2 + ridge * P * |w|^2

    over Z_ij in (0.02, 0.98), g = g0 + H w sampled at 1024 points and D2
    the second difference.  With a fixed exposure ratio the data alone leave
    g free up to a factor periodic in log radiance (g -> g p(log g), period
    log2 of the ratio: the fractal ambiguity of Grossberg & Nayar 2003);
    the smoothness term (Debevec & Malik's regulariser, here on the EMoR
    curve) removes it.  Returns g (3, 1024) float32 with g(0) = 0, g(1) = 1.
    """
    g0, h = _basis(k)
    e = np.asarray(exposures, dtype=np.float64)
    e = e / e.max()
    p, n, _ = samples.shape
    d2_h, d2_g0 = np.diff(h, 2, axis=1), np.diff(g0, 2)
    out = np.zeros((3, N), dtype=np.float32)
    for c in range(3):
        zc = samples[:, :, c]
        rows_a, rows_b = [], []
        for j in range(n):
            z = zc[:, j]
            ok = (z > 0.02) & (z < 0.98)
            if not ok.any():
                continue
            wt = hat(z)[ok]
            hz = np.stack([np.interp(z[ok], Z, h[i]) for i in range(k)], axis=1)  # (m, k)
            a = np.zeros((int(ok.sum()), k + p))
            a[:, :k] = hz
            a[np.arange(ok.sum()), k + np.flatnonzero(ok)] = -e[j]
            rows_a.append(a * wt[:, None])
            rows_b.append(-np.interp(z[ok], Z, g0) * wt)
        if not rows_a:
            raise SingleHDRError("the brackets have no well-exposed pixels to recover the camera response from; use --response srgb")
        sm = np.zeros((d2_h.shape[1], k + p))
        sm[:, :k] = d2_h.T * np.sqrt(smooth * p)
        reg = np.zeros((k, k + p))
        reg[:, :k] = np.eye(k) * np.sqrt(ridge * p)
        a_data, b_data = np.concatenate(rows_a), np.concatenate(rows_b)
        a_reg = np.concatenate([sm, reg])
        b_reg = np.concatenate([-d2_g0 * np.sqrt(smooth * p), np.zeros(k)])
        robust = np.ones(len(b_data))
        for _ in range(IRLS_STEPS):
            # iteratively reweighted least squares, Cauchy weights on the relative residual (JPEG ringing, noise)
            a = np.concatenate([a_data * robust[:, None], a_reg])
            b = np.concatenate([b_data * robust, b_reg])
            sol = _solve(a, b)
            res = a_data @ sol - b_data
            scale = 1.4826 * np.median(np.abs(res)) + 1e-9
            robust = 1.0 / np.sqrt(1.0 + (res / (2.0 * scale)) ** 2)
        out[c] = _finish(g0 + sol[:k] @ h)
    return out


def project_to_emor(curve: np.ndarray, codes: np.ndarray, weights: np.ndarray, k: int = EMOR_K, ridge: float = 1e-3) -> np.ndarray:
    """Fit s * (g0 + H w) to a positive inverse response known at ``codes``.

    curve: (m,) values of an inverse response of arbitrary scale at pixel
    values ``codes`` (m,) in [0, 1]; weights: (m,) confidence.  Alternates a
    log-domain scale and a relative-error linear fit of w (ridge toward the
    mean curve).  Returns the normalised EMoR curve (1024,) float32.
    """
    g0, h = _basis(k)
    hz = np.stack([np.interp(codes, Z, h[i]) for i in range(k)], axis=1)
    g0z = np.interp(codes, Z, g0)
    ok = (curve > 0) & (weights > 0) & (g0z > 1e-4)
    if ok.sum() < k:
        return _finish(g0)
    w = np.zeros(k)
    for _ in range(12):
        model = np.maximum(g0z + hz @ w, 1e-6)
        s = float(np.exp(np.average(np.log(curve[ok]) - np.log(model[ok]), weights=weights[ok])))
        target = curve / s
        rw = weights / np.maximum(target, 1e-4)  # relative error
        a = np.concatenate([hz[ok] * rw[ok, None], np.eye(k) * np.sqrt(ridge * ok.sum())])
        b = np.concatenate([(target[ok] - g0z[ok]) * rw[ok], np.zeros(k)])
        w, *_ = np.linalg.lstsq(a, b, rcond=None)
    return _finish(g0 + w @ h)


def _to_u8(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    return [np.ascontiguousarray(np.round(np.clip(f, 0, 1) * 255).astype(np.uint8)) for f in frames]


def opencv_response(frames: Sequence[np.ndarray], exposures: Sequence[float], method: str) -> np.ndarray:
    """OpenCV's raw CalibrateDebevec / CalibrateRobertson curve: (256, 3) float64, arbitrary scale."""
    import cv2

    cal = cv2.createCalibrateDebevec(samples=100, random=False) if method == "debevec" else cv2.createCalibrateRobertson()
    times = np.asarray(exposures, dtype=np.float32)
    resp = cal.process(_to_u8(frames), times=times)
    return np.asarray(resp, dtype=np.float64).reshape(256, 3)


def recover_response(frames: Sequence[np.ndarray], exposures: Sequence[float], method: str = "emor", *, n_samples: int = 400) -> np.ndarray:
    """The inverse response (3, 1024) float32 of aligned frames (H, W, 3) in [0, 1]."""
    if method not in RESPONSES:
        raise SingleHDRError(f"unknown response {method!r}; choose one of: {', '.join(RESPONSES)}")
    if method in ("srgb", "linear"):
        return known_response(method)
    if method == "emor":
        return solve_emor(sample_pixels(frames, n_samples), exposures)
    raw = opencv_response(frames, exposures, method)
    codes = np.arange(256) / 255.0
    out = np.zeros((3, N), dtype=np.float32)
    for c in range(3):
        out[c] = project_to_emor(raw[:, c], codes, hat(codes))
    return out
