"""The envmap preview sheet: tone-mapped map, exposure brackets, false colour, shaded spheres.

Layout (one PNG, sRGB, width = 2 * panel width):
  row 1: the tone-mapped map | false-colour log2 luminance with a legend
  row 2: nine brackets at -4 .. +4 EV around the auto exposure
  row 3 (exposed so the diffuse sphere's log-average is 0.18): a diffuse sphere (albedo 0.8, SH irradiance E(n) / pi, Ramamoorthi
         & Hanrahan 2001) and a glossy sphere (prefiltered lookup: the map
         convolved with a normalised von Mises-Fisher lobe of concentration
         ``kappa`` around the mirror direction, Phong-like), both seen by an
         orthographic camera looking along -Z, exposed like the map.

Tone map, exposure and false colour are :mod:`singlehdr.preview`'s: the
Reinhard tone map (:func:`~singlehdr.preview.tonemap`), the log-average
auto exposure to key 0.18 (:func:`~singlehdr.preview.auto_exposure`; the spheres
get their own, over the sphere pixels) and the stepped one-colour-per-stop
palette (:func:`~singlehdr.preview.false_colour`) over absolute log2 luminance
-8 .. +8 (reference 1.0), its legend every 4 stops.
"""

from __future__ import annotations

import numpy as np

from ..preview import auto_exposure, false_colour, tonemap
from ..preview.falsecolor import palette
from .lighting import sh_irradiance
from .projections import ball_to_direction, equirect_directions, equirect_solid_angles, resize_equirect, sample_equirect

#: The false-colour panel's range: absolute log2 luminance (stops from Y = 1).
FALSE_COLOUR_STOPS = (-8, 8)


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
    fc = false_colour(small, FALSE_COLOUR_STOPS[0], FALSE_COLOUR_STOPS[1], reference=1.0)
    n_stops = FALSE_COLOUR_STOPS[1] - FALSE_COLOUR_STOPS[0] + 1
    legend = [(float(FALSE_COLOUR_STOPS[0] + k), tuple(int(v) for v in (palette(n_stops)[k] * 255 + 0.5).astype(np.uint8)))
              for k in range(0, n_stops, 4)]
    bw = (2 * pw) // 9
    brackets = [tonemap(resize_equirect(env, bw - bw % 2), ev + e) for e in range(-4, 5)]
    bh = brackets[0].shape[0]
    size = pw // 2
    diffuse, glossy, mask = render_spheres(env, sh, size)
    ev_s = auto_exposure(diffuse[mask[..., 0]][None]) if mask.any() else ev
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
