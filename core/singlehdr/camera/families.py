"""Camera-curve families for evaluation: how real cameras, phones and renderers encode.

Each family draws a CRF f (1024,) (x = i / 1023 linear, clipped exposure ->
display code value) from a seeded generator:

- ``srgb``: the sRGB OETF (IEC 61966-2-1), what most files claim to be;
- ``gamma``: pure power laws x ** (1 / gamma), gamma ~ U(1.8, 2.6);
- ``film``: display/film S-curves: Blender 5.0's Filmic, AgX and ACES 1.3 views
  (1D neutral-axis curves derived with OpenColorIO from Blender's own OCIO config,
  see :mod:`.view_curves` and tools/make_view_curves.py), and Narkowicz's analytic
  ACES fit (K. Narkowicz, "ACES Filmic Tone Mapping Curve", 2016:
  y = x (2.51 x + 0.03) / (x (2.43 x + 0.59) + 0.14)) followed by the sRGB OETF;
  x = 1 is the scene value where the view reaches display white;
- ``phone``: picture styles on top of sRGB: a contrast S (y^c / (y^c + (1 - y)^c),
  c ~ U(1.2, 1.7)) or a lifted shadow toe (y + 4 l y (1 - y)^3, l ~ U(0.2, 0.6));
- ``emor``: draws from the held-out CRF bank (``crf_bank("test")``: EMoR samples and
  the held-out named curves).
"""

from __future__ import annotations

import numpy as np

from .crf import CURVE_X, crf_bank, make_monotone, srgb_curve
from ..colour import linear_to_srgb

FAMILIES = ("srgb", "gamma", "film", "phone", "emor")
FILM_VIEWS = ("Filmic", "AgX", "ACES 1.3", "ACES (Narkowicz)")


def view_curve(view: str) -> np.ndarray:
    """The CRF of a Blender view transform (neutral axis), white at the scene value where it reaches 0.999."""
    if view == "ACES (Narkowicz)":
        a, b, c, d, e = 2.51, 0.03, 2.43, 0.59, 0.14
        # y(x) = 1 at x_w = (d - b + sqrt((d - b)^2 + 4 (a - c) e)) / (2 (a - c))
        xw = ((d - b) + np.sqrt((d - b) ** 2 + 4 * (a - c) * e)) / (2 * (a - c))
        x = CURVE_X * xw
        y = np.clip(x * (a * x + b) / (x * (c * x + d) + e), 0.0, 1.0)
        return make_monotone(linear_to_srgb(y.astype(np.float32)))
    from .view_curves import CURVES, LOG2_MIN, STEP

    table = np.asarray(CURVES[view], dtype=np.float64)
    log2 = LOG2_MIN + STEP * np.arange(table.size)
    top = int(np.argmax(table >= 0.999 * table.max()))
    xw = 2.0 ** log2[top]
    with np.errstate(divide="ignore"):
        lx = np.log2(np.maximum(CURVE_X * xw, 1e-30))
    y = np.interp(lx, log2, table, left=0.0)
    y[0] = 0.0
    return make_monotone(y / y[-1])


def phone_curve(kind: str, strength: float) -> np.ndarray:
    """sRGB then a contrast S ("contrast", strength c) or a lifted shadow toe ("toe", strength l)."""
    y = srgb_curve().astype(np.float64)
    if kind == "contrast":
        yc = y ** strength
        out = yc / (yc + (1.0 - y) ** strength)
    else:
        out = y + 4.0 * strength * y * (1.0 - y) ** 3
    return make_monotone(out)


def draw_curve(family: str, rng: np.random.Generator, seed: int = 0) -> tuple[str, np.ndarray]:
    """(name, f (1024,) float32) drawn from ``family`` with ``rng``."""
    if family == "srgb":
        return "srgb", srgb_curve()
    if family == "gamma":
        gm = float(rng.uniform(1.8, 2.6))
        return f"gamma-{gm:.2f}", np.power(CURVE_X, 1.0 / gm).astype(np.float32)
    if family == "film":
        view = FILM_VIEWS[int(rng.integers(len(FILM_VIEWS)))]
        return f"view:{view}", view_curve(view)
    if family == "phone":
        if rng.uniform() < 0.5:
            c = float(rng.uniform(1.2, 1.7))
            return f"phone-contrast-{c:.2f}", phone_curve("contrast", c)
        lift = float(rng.uniform(0.2, 0.6))
        return f"phone-toe-{lift:.2f}", phone_curve("toe", lift)
    if family == "emor":
        bank = crf_bank("test", seed=seed)
        crf = bank[int(rng.integers(len(bank)))]
        return crf.name, crf.f
    raise ValueError(f"unknown curve family {family!r}; choose one of {', '.join(FAMILIES)}")
