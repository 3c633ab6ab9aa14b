"""Finding a chrome ball in a photo and telling input kinds apart.

detect_ball: a gradient-directed circle Hough transform (Kimme, Ballard &
Sklansky, "Finding circles by an array of accumulators", CACM 1975): every
strong edge pixel votes for centres along its gradient line (both signs: the
ball may be brighter or darker than its surround); the best centre is the
smoothed accumulator's peak; the radius is the one whose circle has the
largest fraction of its circumference supported by radial edges; finally an
algebraic least-squares circle fit (Kasa, IEEE Trans. Instrum. Meas. 1976)
on the inliers refines centre and radius.  Runs on a copy downscaled to at
most 256 px.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SingleHDRError
from ..types import LDRImage

MAX_SIDE = 256


@dataclass
class Circle:
    """A circle in pixel coordinates of the full image (pixel centres at +0.5)."""

    cx: float
    cy: float
    r: float
    score: float = 1.0  # fraction of the circumference supported by radial edges


def _downscale(gray: np.ndarray, max_side: int) -> tuple[np.ndarray, int]:
    k = int(np.ceil(max(gray.shape) / max_side))
    if k <= 1:
        return gray, 1
    h, w = (gray.shape[0] // k) * k, (gray.shape[1] // k) * k
    return gray[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3)), k


def _kasa_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares circle through points: solve x^2 + y^2 + D x + E y + F = 0 (Kasa 1976)."""
    a = np.stack([x, y, np.ones_like(x)], axis=1)
    b = -(x * x + y * y)
    (d, e, f), *_ = np.linalg.lstsq(a, b, rcond=None)
    cx, cy = -d / 2, -e / 2
    return float(cx), float(cy), float(np.sqrt(max(cx * cx + cy * cy - f, 0.0)))


def detect_ball(ldr_srgb: np.ndarray, min_radius_frac: float = 0.1) -> Circle | None:
    """Find the most circle-like strong edge contour in an (H, W, 3) image.  None if nothing convincing.

    Returns the circle in full-resolution pixel coordinates with its ``score``
    (fraction of circumference with radial edges, 0..1).
    """
    from scipy import ndimage

    gray_full = np.asarray(ldr_srgb, dtype=np.float64)[..., :3].mean(axis=-1)
    gray, k = _downscale(gray_full, MAX_SIDE)
    h, w = gray.shape
    g = ndimage.gaussian_filter(gray, 1.0, mode="nearest")
    gx = ndimage.sobel(g, axis=1, mode="nearest")
    gy = ndimage.sobel(g, axis=0, mode="nearest")
    mag = np.hypot(gx, gy)
    if mag.max() <= 1e-6:
        return None
    thr = max(np.percentile(mag, 90), 0.15 * mag.max())
    ys, xs = np.nonzero(mag >= thr)
    if len(xs) > 6000:
        keep = np.argsort(mag[ys, xs])[-6000:]
        ys, xs = ys[keep], xs[keep]
    ux, uy = gx[ys, xs] / mag[ys, xs], gy[ys, xs] / mag[ys, xs]
    px, py = xs + 0.5, ys + 0.5
    rmin = max(3.0, 0.85 * min_radius_frac * min(h, w))  # a little below the limit: the fit refines it
    rmax = 0.5 * max(h, w) * 1.05
    radii = np.arange(rmin, rmax, 1.0)
    acc = np.zeros((h, w))
    for sign in (1.0, -1.0):
        cxs = px[:, None] + sign * ux[:, None] * radii[None, :]
        cys = py[:, None] + sign * uy[:, None] * radii[None, :]
        ok = (cxs >= 0) & (cxs < w) & (cys >= 0) & (cys < h)
        np.add.at(acc, (cys[ok].astype(int), cxs[ok].astype(int)), 1.0)
    acc = ndimage.gaussian_filter(acc, 1.5)
    cy0, cx0 = np.unravel_index(int(np.argmax(acc)), acc.shape)
    cx, cy = cx0 + 0.5, cy0 + 0.5
    best = None
    for _ in range(3):
        dx, dy = px - cx, py - cy
        dist = np.hypot(dx, dy)
        radial = np.abs(dx * ux + dy * uy) >= 0.85 * np.maximum(dist, 1e-9)
        if not np.any(radial):
            return None
        bins = np.arange(rmin, rmax + 1.0, 1.0)
        hist, _ = np.histogram(dist[radial], bins=bins)
        hist = np.convolve(hist, [1, 1, 1], mode="same")  # +-1 px tolerance
        centres = 0.5 * (bins[:-1] + bins[1:])
        support = hist / (2 * np.pi * centres)
        # the ball is the outermost well-supported circle (reflections make inner ones)
        good = np.nonzero(support >= 0.5 * support.max())[0]
        r = centres[good[-1]]
        inl = radial & (np.abs(dist - r) <= 2.0)
        if inl.sum() < 8:
            return None
        cx, cy, r = _kasa_fit(px[inl], py[inl])
        best = Circle(cx, cy, r, _coverage(px[inl], py[inl], cx, cy, r))
    if best is None:
        return None
    if k > 1:
        best = _refine(gray_full, Circle(best.cx * k, best.cy * k, best.r * k, best.score), band=2.0 * k)
    return best


def _coverage(x: np.ndarray, y: np.ndarray, cx: float, cy: float, r: float) -> float:
    """Fraction of the circle's circumference (1 px arcs) hit by the points."""
    ang = np.arctan2(y - cy, x - cx)
    nb = max(16, int(2 * np.pi * r))
    return len(np.unique(((ang + np.pi) / (2 * np.pi) * nb).astype(int) % nb)) / nb


def _refine(gray: np.ndarray, c: Circle, band: float) -> Circle:
    """Re-fit a circle at full resolution: per 1-degree direction, the strongest radial edge within +-band px."""
    from scipy import ndimage

    h, w = gray.shape
    x0, x1 = max(0, int(c.cx - c.r - band - 2)), min(w, int(c.cx + c.r + band + 3))
    y0, y1 = max(0, int(c.cy - c.r - band - 2)), min(h, int(c.cy + c.r + band + 3))
    g = ndimage.gaussian_filter(gray[y0:y1, x0:x1], 1.0, mode="nearest")
    gx = ndimage.sobel(g, axis=1, mode="nearest")
    gy = ndimage.sobel(g, axis=0, mode="nearest")
    yy, xx = np.mgrid[y0:y1, x0:x1] + 0.5
    dx, dy = xx - c.cx, yy - c.cy
    dist = np.hypot(dx, dy)
    radial_mag = np.abs(gx * dx + gy * dy) / np.maximum(dist, 1e-9)
    sel = np.abs(dist - c.r) <= band
    ang = ((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * 360).astype(int) % 360
    xs, ys = [], []
    for a in range(360):
        m = sel & (ang == a)
        if not np.any(m):
            continue
        vals = np.where(m, radial_mag, -1.0)
        i = np.unravel_index(int(np.argmax(vals)), vals.shape)
        if vals[i] > 0.2 * radial_mag[sel].max():
            xs.append(xx[i])
            ys.append(yy[i])
    if len(xs) < 8:
        return c
    cx, cy, r = _kasa_fit(np.array(xs), np.array(ys))
    if abs(r - c.r) > band * 2 or np.hypot(cx - c.cx, cy - c.cy) > band * 2:
        return c
    return Circle(cx, cy, r, c.score)


def parse_ball(spec: str) -> Circle:
    """'cx,cy,r' in pixels -> Circle; SingleHDRError on malformed input."""
    try:
        cx, cy, r = (float(v) for v in str(spec).split(","))
    except ValueError:
        raise SingleHDRError(f"--ball expects 'cx,cy,r' in pixels (e.g. 512,384,300), got {spec!r}") from None
    if not r > 0:
        raise SingleHDRError(f"--ball radius must be positive, got {r}")
    return Circle(cx, cy, r, 1.0)


def is_equirect_input(ldr: LDRImage) -> bool:
    """A 360 panorama: GPano:ProjectionType equirectangular, or a 2:1 aspect."""
    from ..geometry import is_equirect_image

    return is_equirect_image(*ldr.shape, ldr.xmp)


def detect_kind(ldr: LDRImage, min_score: float = 0.6, min_radius_frac: float = 0.05) -> tuple[str, Circle | None, str]:
    """('equirect' | 'ball' | 'photo', the ball's circle or None, why no ball) for --kind auto.

    A ball is accepted only when its circle covers at least ``min_score`` of
    its circumference with radial edges, its radius is at least
    ``min_radius_frac`` of the image's short side (a tenth by default, with a
    10 % tolerance) and it lies inside the image; otherwise 'photo', with the
    reason in the third value.
    """
    if is_equirect_input(ldr):
        return "equirect", None, ""
    h, w = ldr.shape
    if min(h, w) < 16:
        return "photo", None, "the image is too small to look for a ball in"
    circle = detect_ball(ldr.pixels, min_radius_frac=min_radius_frac)
    if circle is None:
        return "photo", None, "no circular edge"
    short = min(h, w)
    inside = (circle.cx - circle.r >= -0.05 * circle.r and circle.cy - circle.r >= -0.05 * circle.r
              and circle.cx + circle.r <= w + 0.05 * circle.r and circle.cy + circle.r <= h + 0.05 * circle.r)
    if circle.score < min_score:
        return "photo", None, f"the best circle covers only {circle.score:.0%} of its outline with edges"
    if circle.r < 0.9 * min_radius_frac * short:
        return "photo", None, f"the best circle (radius {circle.r:.0f} px) is smaller than a tenth of the short side"
    if not inside:
        return "photo", None, "the best circle does not fit inside the image"
    return "ball", circle, ""
