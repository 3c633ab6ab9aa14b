"""Camera response recovery from the brackets themselves.

A response here is the *inverse* CRF g: (3, 1024) float32, one curve per
channel, sampled at pixel values z = i / 1023, with g(0) = 0 and g(1) = 1,
so that g(Z) = E * e (scene radiance E times relative exposure e) up to one
scale shared by all channels (the camera's white is (1, 1, 1)).

Methods
- "auto" (default): the shared EMoR curve below ("emor") or sRGB, whichever
  makes the frames agree better on sample pixels the fit did not see
  (:func:`auto_response`, :func:`consistency_score`: a trimmed mean of the
  log2 radiance differences between frames after dividing by the exposure);
  the fitted curve has more freedom, so it must win by AUTO_MARGIN (20%).
- "emor": one EMoR curve (Grossberg & Nayar 2004, inverse basis
  ``invemor.txt``) for the three channels, with per-channel sample
  radiances (cameras apply one tone curve; white balance is a per-channel
  gain the radiances absorb), fitted by Gauss-Newton on the log-domain
  Debevec-Malik condition log g(Z_ij) = log E_i + log e_j (Debevec & Malik,
  SIGGRAPH 1997) with residuals measured in codes, and pulled toward the
  projection of the sRGB inverse on the basis (:func:`solve_emor_shared`).
- "debevec" / "robertson": OpenCV's ``CalibrateDebevec`` (Debevec & Malik
  1997) / ``CalibrateRobertson`` (Robertson, Borman & Stevenson, "Estimation-
  theoretic approach to dynamic range enhancement using multiple exposures",
  JEI 12(2), 2003), regularised toward EMoR: the OpenCV curve is projected
  onto the EMoR basis (log-domain fit with a free scale, ridge on w), which
  smooths it, fixes g(1) = 1 and extrapolates the codes it saw too rarely.
- "srgb" / "linear": a known curve, no calibration.

The constants of "auto" (EMOR_PRIOR, AUTO_MARGIN) were chosen on synthetic
JPEG brackets of the training HDRIs and skies only (Blender's city, forest,
interior, night, studio, sunrise and tools/make_sky_hdrs.py's training
split), through sRGB, gamma 2.2 / 2.6, filmic, EMoR-mean and log curves:
with them no sRGB bracket of that set picked the fitted curve.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import SingleHDRError

RESPONSES = ("auto", "emor", "debevec", "robertson", "srgb", "linear")
N = 1024
Z = np.linspace(0.0, 1.0, N)
#: EMoR components used by the fits (the first ones carry almost all the variance).
EMOR_K = 8
#: Response samples are drawn from a strided view of at most this many pixels.
SAMPLE_MAX_PIXELS = 1_000_000
#: Ridge weight on the EMoR weights (conditioning only).
EMOR_RIDGE = 1e-8
#: Weight of the pull toward sRGB of the shared EMoR fit (per data row, code units).
EMOR_PRIOR = 0.01
#: "auto" takes the fitted curve only when its consistency score beats sRGB's by this fraction.
AUTO_MARGIN = 0.2
#: Codes a frame must lie in to count in the consistency score.
SCORE_LO, SCORE_HI = 0.04, 0.96
#: Most Gauss-Newton steps of the shared EMoR fit; it stops when no code in 0.1 .. 0.95 moved more than GN_TOL stops.
GN_STEPS = 30
GN_TOL = 1e-3
#: The first GN_REWEIGHT steps update the code-unit and robust weights; later steps keep them.
GN_REWEIGHT = 3
#: Smallest residual scale (codes x hat) of the robust weights of the shared fit.
ROBUST_FLOOR = 2.0 / 255
#: Steepest log-log slope trusted at the dark end of a fitted curve (:func:`_repair_dark_end`).
DARK_MAX_POWER = 4.0


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


def _finish(g: np.ndarray) -> np.ndarray:
    """A fitted curve made a valid inverse response: >= 0, non-decreasing (running maximum), g(0) = 0, g(1) = 1.

    A running maximum only flattens the small dips a basis fit can leave at
    the dark end.  (Liu et al.'s fix, :func:`singlehdr.camera.crf.make_monotone`,
    adds the largest dip to every step: one dip of a steep, gamma-2.6-like
    curve then turned it almost linear, off by stops in the shadows.)
    """
    c = np.maximum.accumulate(np.clip(np.asarray(g, dtype=np.float64), 0.0, None))
    c = c - c[0]
    c = c / max(float(c[-1]), 1e-9)
    return c.astype(np.float32)


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


_CHECK = (Z > 0.1) & (Z < 0.95)


def srgb_emor_weights(k: int = EMOR_K) -> np.ndarray:
    """The EMoR weights (k,) of the sRGB inverse curve: its least-squares projection on the basis.

    Fitted in code units (the curve difference divided by the sRGB slope,
    i.e. how far the curve moves each code), over codes 0.02 .. 1: the prior
    of :func:`solve_emor_shared`.
    """
    g0, h = _basis(k)
    gs = known_response("srgb")[0].astype(np.float64)
    sel = Z > 0.02
    slope = np.gradient(gs, Z)[sel]
    a = (h[:, sel] / slope).T
    b = (gs - g0)[sel] / slope
    return np.linalg.lstsq(a, b, rcond=None)[0]


def _repair_dark_end(g: np.ndarray, z_top: float = 0.25, max_power: float = DARK_MAX_POWER) -> np.ndarray:
    """Replace a fitted curve's dark end where it dips, falls back or plunges, by a power law.

    A basis fit can cross zero or plunge in the darkest codes (the data there
    are a few codes of JPEG noise), which would turn every dark pixel black.
    Going down from ``z_top``, the first code z_a whose log-log slope over
    [z_a, 2 z_a] exceeds ``max_power`` (a camera's inverse response is at
    most about a power 3 there: sRGB's is 1, gamma 2.6 is 2.6), or where g
    stops being positive and increasing, ends the trusted part; below it
    g = g(z_b) (z / z_b)^p, z_b one code above, p the log-log slope at z_b
    (clipped to [1, max_power]).
    """
    g = np.asarray(g, dtype=np.float64).copy()
    top = int(round(z_top * (N - 1)))
    for a in range(top, 0, -1):
        b2 = 2 * a
        if g[a] <= 1e-9 or g[b2] <= g[a] or np.log(g[b2] / g[a]) / np.log(2.0) > max_power:
            break
    else:
        return g
    zb = a + 1
    if zb >= top or g[zb] <= 0 or g[2 * zb] <= g[zb]:
        return g
    pw = float(np.clip(np.log(g[2 * zb] / g[zb]) / np.log(2.0), 1.0, max_power))
    g[:zb] = g[zb] * (Z[:zb] / Z[zb]) ** pw
    return g


def solve_emor_shared(samples: np.ndarray, exposures: Sequence[float], k: int = EMOR_K, prior: float = EMOR_PRIOR,
                      steps: int = GN_STEPS) -> np.ndarray:
    """One EMoR curve for the three channels, each sample a radiance per channel, pulled toward sRGB.

    samples: (P, n, 3) pixel values in [0, 1] at P locations in n frames;
    exposures: (n,) relative exposures.  Cameras apply one tone curve to all
    channels (white balance is a per-channel gain, absorbed by the
    per-channel radiances), so the data of the three channels are pooled.
    The Debevec-Malik condition in the log domain,

        min  sum_ijc u(Z_ijc)^2 (log g(Z_ijc) - l_ic - log e_j)^2
           + prior * M * mean_z (hat(z) (g(z) - g_s(z)) / g_s'(z))^2,
        g = g0 + H w (EMoR, Grossberg & Nayar 2004),  l_ic = log E_ic,

    over Z in (0.02, 0.98), is solved by Gauss-Newton from sRGB's weights
    (at most ``steps`` linearisations, pseudo-Huber reweighted), with u = hat(Z) g / g'
    (of the current curve): a residual measured in codes, the unit of 8-bit
    / JPEG noise.  Log residuals are blind to the scale of g, so the fit
    cannot lower its cost by shrinking the curve toward 0 below the clip
    (the linear form g(Z) = E e can: the cost scales with g^2); the scale
    comes from g(1) = 1.  The prior (M = number of data rows) pulls toward
    the projection of the sRGB inverse on the basis (:func:`srgb_emor_weights`;
    g_s its curve) in the same code units: data that show another curve
    overcome it; it fixes what the data leave free (the fractal ambiguity of
    one exposure ratio, codes no frame saw well).  Returns g (3, 1024)
    float32, the same curve in each row, g(0) = 0, g(1) = 1.
    """
    g0, h = _basis(k)
    ws = srgb_emor_weights(k)
    le = np.log(np.asarray(exposures, dtype=np.float64))
    p, n, _ = samples.shape
    zs, cols, rows_e = [], [], []
    for c in range(3):
        for j in range(n):
            z = samples[:, j, c]
            ok = np.flatnonzero((z > 0.02) & (z < 0.98))
            zs.append(z[ok])
            cols.append(c * p + ok)
            rows_e.append(np.full(ok.size, le[j]))
    z = np.concatenate(zs)
    if z.size < 2 * k:
        raise SingleHDRError("the brackets have no well-exposed pixels to recover the camera response from; use --response srgb")
    col = np.concatenate(cols)
    lez = np.concatenate(rows_e)
    m = z.size
    hz = np.stack([np.interp(z, Z, h[i]) for i in range(k)], axis=1)  # (m, k)
    g0z = np.interp(z, Z, g0)
    zg = np.linspace(0.02, 0.98, 97)
    gs = g0 + ws @ h
    sg = np.interp(zg, Z, np.gradient(gs, Z))
    hg = np.stack([np.interp(zg, Z, h[i]) for i in range(k)], axis=1) * (hat(zg) / sg)[:, None]
    lam = np.sqrt(prior * m / zg.size)
    w = ws.copy()
    robust = np.ones(m)
    for it in range(steps):
        gz = np.maximum(g0z + hz @ w, 1e-6)
        if it < GN_REWEIGHT:  # then the weights stay: Gauss-Newton on a fixed cost converges
            slope = np.maximum(np.interp(z, Z, np.gradient(g0 + w @ h, Z)), 1e-3)
            u_code = hat(z) * gz / slope
        u = u_code * robust
        # linearised: log g(w) ~ log g(w_t) + H (w - w_t) / g(w_t) = l + log e.  For fixed w each l_ic is the
        # u^2-weighted mean of its rows, so the l are eliminated exactly by centring the rows per (sample,
        # channel) group; the least squares left has k unknowns.
        ar = hz / gz[:, None]
        br = lez - np.log(gz) + (hz @ w) / gz
        u2 = u * u
        den = np.maximum(np.bincount(col, u2, minlength=3 * p), 1e-30)
        abar = np.stack([np.bincount(col, u2 * ar[:, i], minlength=3 * p) for i in range(k)], axis=1) / den[:, None]
        bbar = np.bincount(col, u2 * br, minlength=3 * p) / den
        a = np.concatenate([(ar - abar[col]) * u[:, None], hg * lam])
        b = np.concatenate([(br - bbar[col]) * u, hg @ ws * lam])
        w_new = np.linalg.lstsq(a, b, rcond=None)[0]
        lz = abar[col] @ w_new - bbar[col]
        res = (np.log(np.maximum(g0z + hz @ w_new, 1e-6)) - lz - lez) * u_code
        step = np.abs(np.log2(np.maximum(g0 + w_new @ h, 1e-6)[_CHECK]) - np.log2(np.maximum(g0 + w @ h, 1e-6)[_CHECK])).max()
        w = w_new
        if it >= GN_REWEIGHT and step < GN_TOL:
            break
        if it < GN_REWEIGHT:
            # pseudo-Huber weights, the scale floored at ROBUST_FLOOR codes: exact data must not turn the fit into L1
            scale = max(1.4826 * float(np.median(np.abs(res))), ROBUST_FLOOR)
            robust = 1.0 / np.sqrt(1.0 + (res / (2.0 * scale)) ** 2)
    out = _finish(_repair_dark_end(g0 + w @ h))
    return np.repeat(out[None], 3, axis=0)


def consistency_score(samples: np.ndarray, exposures: Sequence[float], g: np.ndarray, lo: float = SCORE_LO,
                      hi: float = SCORE_HI) -> float:
    """How well a response makes the frames agree: a robust spread of log2 radiance between frames.

    samples: (P, n, 3) pixel values (a sample set the curve was NOT fitted
    on); for every location, channel and pair of frames that both saw it in
    (lo, hi), r = log2(g(Z_j) / e_j) - log2(g(Z_k) / e_k) (0 for the true
    curve, up to noise); returns the mean of the smallest 90% of |r| (stops;
    a trimmed mean: ghosts, ringing and misalignment fall in the top tail).
    A wrong curve leaves r proportional to the EV gap at every brightness,
    so the score is scale-free and cannot be won by a degenerate curve.
    Returns inf when no pair qualifies.
    """
    e = np.asarray(exposures, dtype=np.float64)
    n = samples.shape[1]
    rs = []
    for c in range(3):
        gc = np.asarray(g[c], dtype=np.float64)
        lr = np.log2(np.maximum(np.interp(samples[:, :, c], Z, gc), 1e-9)) - np.log2(e)[None, :]
        ok = (samples[:, :, c] > lo) & (samples[:, :, c] < hi)
        for j in range(n):
            for q in range(j + 1, n):
                both = ok[:, j] & ok[:, q]
                rs.append(lr[both, j] - lr[both, q])
    r = np.abs(np.concatenate(rs)) if rs else np.zeros(0)
    if r.size < 8:
        return float("inf")
    r = np.sort(r)[: max(1, int(round(0.9 * r.size)))]
    return float(r.mean())


def auto_response(frames: Sequence[np.ndarray], exposures: Sequence[float], *, n_samples: int = 400,
                  margin: float = AUTO_MARGIN) -> tuple[np.ndarray, dict]:
    """The response "auto": the fitted shared EMoR curve or sRGB, chosen by cross-frame consistency.

    Draws 2 * n_samples locations (:func:`sample_pixels`) and splits them in
    two disjoint sets: one fits :func:`solve_emor_shared`, the other scores
    both candidates (:func:`consistency_score`).  The fitted curve has more
    freedom, so it is chosen only when its score is below (1 - margin) times
    sRGB's.  Returns (g, facts): facts = {"response_chosen", "response_scores"}.
    """
    s = sample_pixels(frames, 2 * n_samples)
    fit, held = s[0::2], s[1::2]
    cands = {"srgb": known_response("srgb"), "emor": solve_emor_shared(fit, exposures)}
    scores = {name: consistency_score(held, exposures, g) for name, g in cands.items()}
    chosen = "emor" if scores["emor"] < (1.0 - margin) * scores["srgb"] else "srgb"
    return cands[chosen], {"response_chosen": chosen, "response_scores": {k: round(v, 5) for k, v in scores.items()}}


def recover_response(frames: Sequence[np.ndarray], exposures: Sequence[float], method: str = "auto", *, n_samples: int = 400,
                     facts: dict | None = None) -> np.ndarray:
    """The inverse response (3, 1024) float32 of aligned frames (H, W, 3) in [0, 1].

    facts: a dict that receives what "auto" chose and the scores (metadata).
    """
    if method not in RESPONSES:
        raise SingleHDRError(f"unknown response {method!r}; choose one of: {', '.join(RESPONSES)}")
    if method in ("srgb", "linear"):
        return known_response(method)
    if method == "auto":
        g, f = auto_response(frames, exposures, n_samples=n_samples)
        if facts is not None:
            facts.update(f)
        return g
    if method == "emor":
        return solve_emor_shared(sample_pixels(frames, n_samples), exposures)
    raw = opencv_response(frames, exposures, method)
    codes = np.arange(256) / 255.0
    out = np.zeros((3, N), dtype=np.float32)
    for c in range(3):
        out[c] = project_to_emor(raw[:, c], codes, hat(codes))
    return out
