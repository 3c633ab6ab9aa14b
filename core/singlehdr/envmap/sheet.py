"""The envmap preview sheet: tone-mapped map, exposure brackets, false colour, shaded spheres.

Layout (one PNG, sRGB, width = 2 * panel width):
  row 1: the tone-mapped map | false-colour log2 luminance with a legend
  row 2: nine brackets at -4 .. +4 EV (plain exposure, clip, sRGB)
  row 3 (exposed so the diffuse sphere's median is 0.18): a diffuse sphere (albedo 0.8, SH irradiance E(n) / pi, Ramamoorthi
         & Hanrahan 2001) and a glossy sphere (prefiltered lookup: the map
         convolved with a normalised von Mises-Fisher lobe of concentration
         ``kappa`` around the mirror direction, Phong-like), both seen by an
         orthographic camera looking along -Z, exposed like the map.

Tone map: :func:`singlehdr.preview.tonemap` when present, otherwise a plain
exposure (the map's median luminance -> 0.18) + clip + sRGB encode.
"""

from __future__ import annotations

import numpy as np

from ..colour import linear_to_srgb
from ..colour import luminance
from .lighting import sh_irradiance
from .projections import ball_to_direction, equirect_directions, equirect_solid_angles, resize_equirect, sample_equirect


def auto_exposure(env: np.ndarray) -> float:
    """EV shift so the solid-angle-weighted median luminance maps to 0.18 (log2 units)."""
    y = luminance(env)
    pos = y[y > 0]
    med = float(np.median(pos)) if pos.size else 1.0
    return float(np.log2(0.18 / med)) if med > 0 else 0.0


def tonemap(hdr_linear: np.ndarray, exposure: float = 0.0) -> np.ndarray:
    """(H, W, 3) linear -> (H, W, 3) sRGB in [0, 1] at ``exposure`` EV."""
    try:
        from ..preview import tonemap as tm  # type: ignore[attr-defined]

        return np.asarray(tm(hdr_linear, exposure=exposure), dtype=np.float32)
    except (ImportError, AttributeError):
        return linear_to_srgb(np.clip(hdr_linear * np.float32(2.0**exposure), 0.0, 1.0))


def false_color(hdr_linear: np.ndarray, lo: float = -8.0, hi: float = 8.0) -> tuple[np.ndarray, list[tuple[float, tuple[int, int, int]]]]:
    """log2 luminance mapped through a blue-cyan-green-yellow-red-white ramp over [lo, hi] stops.

    Returns ((H, W, 3) sRGB image, legend [(stops, rgb8), ...]).
    """
    stops = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    cols = np.array([[0, 0, 0.5], [0, 0.8, 1], [0, 0.8, 0], [1, 1, 0], [1, 0, 0], [1, 1, 1]], dtype=np.float32)
    y = np.log2(np.maximum(luminance(hdr_linear), 2.0 ** (lo - 1)))
    t = np.clip((y - lo) / (hi - lo), 0, 1)
    img = np.stack([np.interp(t, stops, cols[:, c]) for c in range(3)], axis=-1).astype(np.float32)
    legend = [(lo + s * (hi - lo), tuple(int(round(v * 255)) for v in cols[i])) for i, s in enumerate(stops)]
    return img, legend


def prefilter_glossy(env: np.ndarray, kappa: float = 64.0, width: int = 64) -> np.ndarray:
    """Equirect (width / 2, width, 3) of the map convolved with a vMF lobe exp(kappa (r.w - 1)), normalised."""
    small = resize_equirect(env, max(width, 64))
    h, w = small.shape[:2]
    d = equirect_directions(h, w).reshape(-1, 3)
    lw = small.reshape(-1, 3).astype(np.float64)
    om = equirect_solid_angles(h, w).reshape(-1)
    out_d = equirect_directions(width // 2, width).reshape(-1, 3)
    k = np.exp(kappa * (out_d @ d.T - 1.0)) * om[None, :]
    res = (k @ lw) / k.sum(axis=1, keepdims=True)
    return res.reshape(width // 2, width, 3).astype(np.float32)


def render_spheres(env: np.ndarray, sh: np.ndarray, size: int = 128, albedo: float = 0.8, kappa: float = 64.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(diffuse, glossy, mask) images (size, size, 3|1) of spheres lit by the map (orthographic view along -Z)."""
    r = size / 2.0
    x = (np.arange(size)[None, :] + 0.5 - r) / r
    y = -(np.arange(size)[:, None] + 0.5 - r) / r
    x, y = np.broadcast_arrays(x, y)
    inside = (x * x + y * y) <= 1.0
    nz = np.sqrt(np.clip(1 - x * x - y * y, 0, 1))
    n = np.stack([x, y, nz], axis=-1)
    diffuse = albedo * np.clip(sh_irradiance(sh, n), 0, None) / np.pi
    glossy = sample_equirect(prefilter_glossy(env, kappa), ball_to_direction(x, y))
    m = inside[..., None]
    return (diffuse * m).astype(np.float32), (glossy * m).astype(np.float32), m


def preview_sheet(env: np.ndarray, sh: np.ndarray, panel_width: int = 512) -> np.ndarray:
    """The whole sheet as an (H, W, 3) uint8 sRGB image (module doc)."""
    from PIL import Image, ImageDraw

    pw = panel_width
    small = resize_equirect(env, pw)
    ev = auto_exposure(small)
    main = tonemap(small, ev)
    fc, legend = false_color(small)
    bw = (2 * pw) // 9
    brackets = [tonemap(resize_equirect(env, bw - bw % 2), ev + e) for e in range(-4, 5)]
    bh = brackets[0].shape[0]
    size = pw // 2
    diffuse, glossy, mask = render_spheres(env, sh, size)
    yd = luminance(diffuse)[mask[..., 0]]
    ev_s = float(np.log2(0.18 / np.median(yd))) if yd.size and np.median(yd) > 0 else ev
    sheet = np.full((pw // 2 + bh + 16 + size + 32, 2 * pw, 3), 0.12, np.float32)
    sheet[: pw // 2, :pw] = main
    sheet[: pw // 2, pw:] = fc
    y0 = pw // 2 + 16
    for i, b in enumerate(brackets):
        sheet[y0 : y0 + bh, i * bw : i * bw + b.shape[1]] = b
    y1 = y0 + bh + 16
    sheet[y1 : y1 + size, :size] = tonemap(diffuse, ev_s)
    sheet[y1 : y1 + size, size : 2 * size] = tonemap(glossy, ev_s)
    im = Image.fromarray(np.round(np.clip(sheet, 0, 1) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    draw.text((4, 4), f"tone-mapped ({ev:+.1f} EV)", fill=(255, 255, 255))
    draw.text((pw + 4, 4), "log2 luminance", fill=(255, 255, 255))
    for i in range(9):
        draw.text((i * bw + 3, y0 + 2), f"{i - 4:+d} EV", fill=(255, 255, 255))
    draw.text((4, y1 + size + 4), f"diffuse (SH irradiance), spheres at {ev_s:+.1f} EV", fill=(255, 255, 255))
    draw.text((size + 4, y1 + size + 4), "glossy (prefiltered)", fill=(255, 255, 255))
    # legend: swatches with their stop values
    lx = 2 * size + 16
    for i, (stop, rgb) in enumerate(legend):
        yy = y1 + 8 + i * 22
        draw.rectangle([lx, yy, lx + 18, yy + 16], fill=rgb)
        draw.text((lx + 24, yy + 2), f"{stop:+.0f} stops (Y = {2.0 ** stop:.3g})", fill=(255, 255, 255))
    return np.asarray(im)
