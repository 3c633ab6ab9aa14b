"""Colour-true highlight expansion: luminance from the network, chroma from the unclipped rim.

Hallucination-Net predicts every channel of a clipped region on its own; on a
small, briefly trained network that gives colour casts (a pink dome over a
setting sun) and the channels can even drop below the input.  What the input
does tell us inside a clipped region is little about colour and nothing about
the excess luminance; the hue of the unclipped pixels around it (the rim) is
the best evidence of the hue inside.  So, for an sRGB input ``ldr`` with linear
values ``b = g(ldr)`` (g: the inverse CRF the engine used) and the network's
output ``a``:

* luminance max(Y(a), Y(b)) (Rec. 709): the expansion factor is never below 1;
  inside a clipped region it rises from 1 at the edge to the network's value over a
  distance ``ramp`` (fraction of the long side; smoothstep of the Euclidean distance
  to the edge): no step at the clip boundary (the true radiance there is the clip level);
* the rim chroma ``b / Y(b)`` of bright unclipped pixels (max_c ldr from 0.5 up) is inpainted into the clipped
  region by push-pull (a pyramid of weighted means, filled coarse to fine with
  bilinear up-sampling: Gortler et al., "The Lumigraph", SIGGRAPH 1996, sec. 3.4),
  so it is smooth inside and meets the rim without an edge;
* deeper inside (0.75 x the square of the luminance ramp) the rim chroma fades towards
  the input's own chroma (white where every channel clipped; mixing with white keeps
  the hue and lowers the saturation): rims of opposite hue (blue sky above,
  orange horizon below) would otherwise mix into a magenta cast;
* the rim slope caps that rise (:func:`rim_slope_profile`): per clipped region, the
  log-luminance slope of the unclipped bright pixels just outside it, towards it,
  continued inward: ``Y(b) exp(g d)``.  A glow that brightens gently towards its
  clip edge keeps brightening gently behind it (the sunset sky of the README
  sample: no dome with a hard rim); a lamp whose surroundings brighten steeply
  reaches the network's value within a few pixels, as without the cap.  The
  two are joined by a smooth minimum, never below the input.  **Off by default**
  (model policy ``highlight_slope_cap``): on the training split it costs PU21
  (mean gain over the JPEG +0.77 -> +0.42 dB, EMoR curves -0.07 dB below the
  JPEG; with the slope x4, +0.65 dB and no visible change on the sample), see
  tools/choose_highlights.py --slope-cap;
* s = smoothstep((max_c ldr - 0.95) / 0.05) blends from the network's own chroma
  a / Y(a) (s = 0) to the rim chroma (s = 1, fully clipped);
* out = max(Y ((1 - s) chroma_own + s chroma_rim), b) per channel where s > 0: the
  input's own linear value is a lower bound (a clipped channel's true value is at
  least the clip level).

Two bounds keep the expansion to what the input allows (model policy; the shipped
model uses both, chosen on the training split for doing no harm):

* :func:`measured_bound` (``unsaturated_gain``, ``chroma_bound``): a pixel below
  :data:`SATURATED` in every channel was measured, so it rises at most
  ``unsaturated_gain`` times; a clipped channel next to measured ones is at most
  ``chroma_bound`` times the largest of them;
* :func:`region_size_cap` (``size_cap``): a clipped region covering a fraction A of
  the image rises at most 1 + size_cap sqrt(0.001 / A) times (wide over-exposed walls
  and skies are mostly just above the clip level, small lamps and suns far above it).

With ``keep_measured`` (model policy ``highlight_keep_measured``; the shipped model, since stop 16) a partly clipped
pixel keeps its measured channels exactly (:func:`keep_measured_channels`: the rim's chroma had moved them, e.g. a
sunset glow's measured blue to 1.9x) and its own chroma counts as rim evidence for the fully clipped pixels around it
(chosen on the training split: no input more than 1 dB worse than the JPEG, against 4; bench/RESULTS.md stop 16).
With ``channel_ramp`` (model policy ``highlight_channel_ramp``; the shipped model, since stop 18) each clipped
channel's rise above its input ramps with its own distance to where it was measured (:func:`channel_ramp_limit`):
with the measured channels kept, red and green of a glow whose blue clipped first had jumped 20 % where they clip
(the README sample's hard-edged dome); training split: still no input more than 1 dB worse, mean +0.22 -> +0.16 dB.
With ``spectral_k`` too (model policy ``highlight_spectral_k``; **not shipped**) its clipped channels are raised to
what its measured ones imply on a smooth spectrum (:func:`clipped_channel_estimate`; a clipped sky's blue stays near
the clip level, 1.4x green where the truth is 2x), and that colour is the rim evidence.  On the training split it did
no harm (377 inputs, none more than 1 dB worse than the JPEG, mean +0.22 -> +0.26 dB) and it halves the held-out
clipped glows' green cast, but on the held-out split a render's orange-yellow surface (red just clipped, green
0.92, blue 0.30 of the clip level: a pigment, not a light's spectrum) came out 1.6x too red: 4.4 dB worse than the
JPEG (bench/RESULTS.md stop 17).  One pixel cannot tell a dye from a glow.
With ``ring_estimate`` (model policy ``highlight_ring_estimate``; **the shipped model, since stop 19**) the single
clipped channels come instead from the measured pixels around their region (:func:`ring_channel_estimate`: a line
of log ratios fitted on that ring, used only within the ring's range): the image calibrates itself, a glow's own
colour trend continues and a dye keeps its surroundings' ratio.  Training split: mean +0.16 -> +0.20 dB over the
JPEG, no input more than 1 dB worse; held-out sunset's clipped-glow cast -0.057 -> -0.020 (bench/RESULTS.md stop 19).
Since stop 20 (same policy key) a pixel with two clipped channels takes its colour from the single-clipped estimates on
its own side of the light (:func:`clipped_channel_estimate`), an estimate is at most :data:`CHAIN_MAX_GAIN` (3) x the
measured channel, and the channel ramp starts from the estimates (:func:`estimate_floor`: continued into the fully
clipped pixels next to them, faded to the clip level over the ramp; specks inside a fully clipped region,
:func:`_islands`, count as fully clipped) instead of from the clip level, which had taken most of them back; where
every channel is near white (at least :data:`CLIP_LO`) the result still obeys the region size cap, as the network's
expansion does (a pixel with a clearly measured channel keeps the estimate that measurement gives).  Training split and
held-out casts: bench/RESULTS.md stop 20.

Pixels with s = 0 where the network did not darken the input come out exactly as
the network's output (for the identity stages of the shipped model: ``b``, the
input linearised).
"""

from __future__ import annotations

import numpy as np

from ..colour import LUMA_709

#: Rec. 709 luminance weights (ITU-R BT.709-6), float32: :data:`singlehdr.colour.LUMA_709`.
LUMA = LUMA_709
#: The transition band in the sRGB input: chroma from the rim above it.
CLIP_LO, CLIP_HI = 0.95, 1.0
#: Rim evidence: only pixels with max_c ldr above RIM_LO count (bright ones near the clip level).
RIM_LO, RIM_HI = 0.5, 0.9
#: How far the rim chroma fades towards the input's own chroma deep inside a clipped region
#: (mixing with white keeps the hue angle, it only lowers saturation).
INNER_FADE = 0.75
#: Default length of the luminance ramp into a clipped region, as a fraction of the long side.
RAMP = 0.02
#: Width of the band outside a clipped region whose slope is continued inward: 0.3 x the square root of the
#: region's area, from 3 px up to SLOPE_BAND of the long side (near the clip level 8-bit codes are coarse in log:
#: a narrow band under-reads the slope of a wide glow).
SLOPE_BAND = 0.04
#: An 8-bit code at or above 253 (of 255) in some channel counts as clipped (JPEG ringing lowers a saturated code
#: by a few); below it in every channel a pixel was measured (see ``unsaturated_gain``).
SATURATED = 252.5 / 255.0
#: :func:`clipped_channel_estimate` estimates only pixels whose measured channels are all at least this fraction of
#: the clip level: light from the sky, a glow or a lamp, not a saturated dye or a coloured emitter (a yellow floor
#: whose red clips is barely redder than its green; chosen on the training split: tools/choose_highlights.py) ...
SPECTRAL_MIN_MEASURED = 0.3
#: ... and where two channels clipped, their estimate is at most this many times the measured one (a single clipped
#: channel's ring estimate at most this many times its clip level).  2 until stop 20: with the colour taken from the
#: same side of the light, a glow's red and green both met that cap and came out equal (held-out courtyard's orange
#: patches R/G 1.01 where the truth is 1.69); at 3 the training split's gate is unchanged (none > 1 dB worse).
CHAIN_MAX_GAIN = 3.0
#: Exponent of the smooth minimum joining the network's expansion and the rim-slope profile.
SOFTMIN_P = 4.0


def smoothstep(t: np.ndarray) -> np.ndarray:
    """3 t^2 - 2 t^3 on t clipped to [0, 1] (C1-continuous ramp)."""
    t = np.clip(t, 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def _cmax(x: np.ndarray) -> np.ndarray:
    """``np.max(x, axis=-1)`` of an (H, W, 3) array, channel by channel (numpy reduces a last axis of 3 slowly)."""
    return np.maximum(np.maximum(x[..., 0], x[..., 1]), x[..., 2])


def _call(x: np.ndarray) -> np.ndarray:
    """``x.all(axis=-1)`` of an (H, W, 3) bool array."""
    return x[..., 0] & x[..., 1] & x[..., 2]


def _cany(x: np.ndarray) -> np.ndarray:
    """``x.any(axis=-1)`` of an (H, W, 3) bool array."""
    return x[..., 0] | x[..., 1] | x[..., 2]


def apply_curve(ldr: np.ndarray, curve: np.ndarray) -> np.ndarray:
    """``np.interp(ldr, linspace(0, 1, len(curve)), curve)`` as float32, exactly; an 8-bit image (every value code / 255
    in float32) through a 256-entry table (15x faster at 4 MP: the interpolation was a quarter of this pass on a GPU
    machine, where the pass is most of a reconstruction's time; bench/RESULTS.md stop 22)."""
    g = np.asarray(curve, dtype=np.float32).reshape(-1)
    xp = np.linspace(0.0, 1.0, g.size, dtype=np.float32)
    x = np.asarray(ldr, dtype=np.float32)
    if x.size and float(x.min()) >= 0.0 and float(x.max()) <= 1.0:
        levels = np.arange(256, dtype=np.float32) / np.float32(255.0)
        code = np.rint(x * np.float32(255.0)).astype(np.uint8)
        if np.array_equal(levels[code], x):
            return np.interp(levels, xp, g).astype(np.float32)[code]
    return np.interp(x, xp, g).astype(np.float32)


def transition_weight(ldr_srgb: np.ndarray, lo: float = CLIP_LO, hi: float = CLIP_HI) -> np.ndarray:
    """s in [0, 1]: 0 below max_c ldr = lo, 1 at hi, smooth between.  (H, W, 3) -> (H, W)."""
    return smoothstep((_cmax(np.asarray(ldr_srgb)) - lo) / (hi - lo))


def push_pull(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Fill low-weight pixels with a smooth weighted mean of their surroundings.

    values (H, W, C), weight (H, W) in [0, 1] -> (H, W, C) float32: where weight
    is 1 the value is kept, where it is 0 the value comes from the coarsest
    pyramid level with enough weight, bilinearly up-sampled.
    """
    import torch
    import torch.nn.functional as F

    v = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32)).permute(2, 0, 1)[None]
    w = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))[None, None]
    nums, dens = [v * w], [w]
    while min(nums[-1].shape[-2:]) > 1:
        h, wd = nums[-1].shape[-2:]
        size = ((h + 1) // 2, (wd + 1) // 2)
        nums.append(F.adaptive_avg_pool2d(nums[-1], size))
        dens.append(F.adaptive_avg_pool2d(dens[-1], size))
    n, d = nums[-1], dens[-1]
    total = (v * w).sum(dim=(2, 3), keepdim=True) / w.sum().clamp_min(1e-12)
    if float(w.sum()) <= 0:
        total = torch.ones_like(total)
    est = torch.where(d > 1e-8, n / d.clamp_min(1e-12), total)
    for n, d in zip(reversed(nums[:-1]), reversed(dens[:-1])):
        up = F.interpolate(est, size=n.shape[-2:], mode="bilinear", align_corners=False)
        a = d.clamp(0.0, 1.0)
        est = a * (n / d.clamp_min(1e-12)) + (1.0 - a) * up
    return est[0].permute(1, 2, 0).numpy().astype(np.float32)


def clip_distance(s: np.ndarray, *, wrap_x: bool = False) -> np.ndarray:
    """Euclidean distance in pixels from each pixel of the clipped region (s >= 0.5) to its edge; 0 outside.  (H, W) -> (H, W)."""
    import cv2

    inside = (s >= 0.5).astype(np.uint8)
    if not inside.any():
        return np.zeros(s.shape, dtype=np.float32)
    if wrap_x:
        w = inside.shape[1]
        third = w // 3
        tiled = np.concatenate([inside[:, -third:], inside, inside[:, :third]], axis=1)
        d = cv2.distanceTransform(tiled, cv2.DIST_L2, 5)[:, third : third + w]
    else:
        d = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    return d.astype(np.float32)


def _wrapped(a: np.ndarray, wrap_x: bool) -> tuple[np.ndarray, int]:
    """``a`` with a third of its width copied to each side when ``wrap_x`` (a 360 panorama), and that margin."""
    if not wrap_x:
        return a, 0
    third = a.shape[1] // 3
    return np.concatenate([a[:, -third:], a, a[:, :third]], axis=1), third


def rim_slope_profile(yb: np.ndarray, ldr_max: np.ndarray, inside: np.ndarray, depth: np.ndarray, max_band_px: float,
                      *, wrap_x: bool = False) -> np.ndarray:
    """Per clipped region, the rim's log-luminance slope towards it continued inward: ``yb exp(g d)``.

    yb: (H, W) input luminance (linear); ldr_max: (H, W) max channel of the sRGB input; inside: (H, W) bool,
    the clipped regions; depth: (H, W) distance in pixels to their edge (0 outside); max_band_px: the widest
    outside band (each region's is 0.3 sqrt(area), at least 3 px).  ``g`` (per pixel of a region, >= 0) is the least-squares slope of log yb against the
    distance to the region over its band's bright (max_c ldr > RIM_LO), unclipped pixels; a region with
    fewer than 8 such pixels, or whose surroundings do not brighten towards it, gets +inf there (no cap).
    Returns (H, W) float32, +inf outside the regions.
    """
    from scipy import ndimage

    h, w = inside.shape
    ins, m = _wrapped(inside, wrap_x)
    lab, n = ndimage.label(ins)
    out = np.full((h, w), np.inf, dtype=np.float32)
    if n == 0:
        return out
    dist, (iy, ix) = ndimage.distance_transform_edt(~ins, return_indices=True)
    near = lab[iy, ix]  # the region each outside pixel is closest to
    logy = np.log(np.maximum(_wrapped(yb, wrap_x)[0], 1e-8))
    area = np.bincount(lab.ravel(), minlength=n + 1).astype(np.float64)
    width = np.clip(0.3 * np.sqrt(area), 3.0, max(3.0, max_band_px))
    band = (~ins) & (dist >= 1.0) & (dist <= width[near]) & (_wrapped(ldr_max, wrap_x)[0] > RIM_LO)
    k, dd, ly = near[band], dist[band], logy[band]
    cnt = np.bincount(k, minlength=n + 1).astype(np.float64)
    sd, sl = np.bincount(k, dd, n + 1), np.bincount(k, ly, n + 1)
    sdd, sdl = np.bincount(k, dd * dd, n + 1), np.bincount(k, dd * ly, n + 1)
    var = sdd - sd * sd / np.maximum(cnt, 1.0)
    cov = sdl - sd * sl / np.maximum(cnt, 1.0)
    slope = np.where((cnt >= 8) & (var > 1e-9), -cov / np.maximum(var, 1e-12), -1.0)  # brightening towards the region
    g = np.where(slope > 0, slope, np.inf)
    g[0] = np.inf
    g_px = g[lab][:, m: m + w] if m else g[lab]
    cap = inside & np.isfinite(g_px)
    out[cap] = yb[cap] * np.exp(np.minimum(g_px[cap] * depth[cap], 80.0))
    return out


def measured_bound(ldr: np.ndarray, b: np.ndarray, unsaturated_gain: float, chroma_bound: float) -> np.ndarray:
    """(H, W) the most luminance a pixel's measured (unclipped) channels allow; inf where every channel clipped.

    A channel below :data:`SATURATED` was measured: its linear value ``b`` times ``unsaturated_gain`` (>= 1; a
    tone curve's shoulder may hide a little more, not 10^4 x).  With ``chroma_bound`` > 0 a clipped channel next to a
    measured one is at most ``chroma_bound`` x the largest measured channel (natural light is not that saturated);
    without it, or with every channel clipped, the pixel is unbounded.
    """
    clipped = ldr >= SATURATED
    gain = max(float(unsaturated_gain), 1.0) if unsaturated_gain > 0 else np.inf
    ref = _cmax(np.where(clipped, 0.0, b))
    clip_cap = np.maximum(b, (chroma_bound * ref)[..., None]) if chroma_bound > 0 else np.full_like(b, np.inf)
    bound_rgb = np.where(clipped, clip_cap, b * gain)
    with np.errstate(invalid="ignore"):
        y = bound_rgb @ LUMA
    y = np.where(np.isnan(y), np.inf, y)
    return np.where(_call(clipped), np.inf, np.maximum(y, b @ LUMA)).astype(np.float32)


def region_size_cap(clipped: np.ndarray, size_cap: float, *, wrap_x: bool = False, depth: np.ndarray | None = None,
                    dome: float = 0.0) -> np.ndarray:
    """(H, W) the largest expansion factor per pixel: 1 + size_cap * sqrt(0.001 / A) inside a connected clipped region
    covering a fraction A of the image (the seam wraps when ``wrap_x``), inf outside.

    Wide clipped regions (a wall, an over-exposed sky) are mostly only a little above the clip level; small ones
    (lamps, the sun, speculars) can be far above it.  A region of 0.1 % of the image may rise 1 + size_cap times, one
    of 10 % 1 + size_cap / 10 times.

    dome > 0 (with ``depth``, the distance of each pixel to its region's edge): the cap itself rises from 1 at the
    edge to that value at ``dome`` x the region's deepest distance (smoothstep), so a wide glow is a dome brightening
    towards its middle, not a plateau whose edge shows as a step once the map is darkened.
    """
    from ..geometry.labels import label_regions

    lab = label_regions(clipped, wrap_x=wrap_x)  # regions touching both sides of a 360 panorama are one
    n = int(lab.max())
    if n == 0:
        return np.full(clipped.shape, np.inf, np.float32)
    area = np.bincount(lab.ravel(), minlength=n + 1).astype(np.float64) / clipped.size
    k = 1.0 + size_cap * np.sqrt(0.001 / np.maximum(area, 1e-12))
    k[0] = np.inf
    if dome <= 0 or depth is None:
        return k[lab].astype(np.float32)
    from ..geometry.labels import region_max

    inside = lab > 0  # work on the clipped pixels only (a small share of a big image)
    li, di = lab[inside], np.asarray(depth, np.float64)[inside]
    deepest = region_max(lab, depth, n)
    out = np.full(lab.shape, np.inf, np.float32)
    out[inside] = 1.0 + (k[li] - 1.0) * smoothstep(di / np.maximum(dome * deepest[li], 1e-6))
    return out


def colour_true_highlights(ldr_srgb: np.ndarray, hdr: np.ndarray, inverse_crf: np.ndarray, *, wrap_x: bool = False,
                           ramp: float = RAMP, growth: float = 0.0, slope_cap: bool = False,
                           slope_gain: float = 1.0, unsaturated_gain: float = 0.0, chroma_bound: float = 0.0,
                           size_cap: float = 0.0, size_cap_dome: float = 0.0, keep_measured: bool = False,
                           spectral_k: tuple[float, float] | None = None, channel_ramp: bool = False,
                           ring_estimate: bool = False, inner_fade: float = INNER_FADE, edge_fade: bool = False,
                           measured_chroma: bool = False) -> np.ndarray:
    """Replace the network's highlight colour by the rim's (see the module docstring).

    ldr_srgb: (H, W, 3) input in [0, 1]; hdr: (H, W, 3) the network's linear output;
    inverse_crf: (1024,) the curve the engine linearised with.  slope_cap: cap the rise by
    :func:`rim_slope_profile` (module docstring), its slope times ``slope_gain``.  unsaturated_gain: when > 0,
    pixels below :data:`SATURATED` in every channel (measured, not clipped) are expanded at most this many times;
    chroma_bound: when > 0, a pixel with some channels clipped and others not is bounded by its measured channels:
    each clipped channel at most ``chroma_bound`` x the largest measured one (module docstring).  size_cap: when > 0,
    a clipped region covering a fraction A of the image is expanded at most 1 + size_cap * sqrt(0.001 / A) times
    (:func:`region_size_cap`); size_cap_dome: when > 0, that cap rises from 1 at the region's edge to its value at
    this fraction of the region's deepest distance (a dome, no plateau).  keep_measured: a partly clipped pixel keeps
    its measured channels (:func:`keep_measured_channels`).  spectral_k (with keep_measured): (k_red, k_blue), a
    partly clipped pixel's clipped channels are raised to what its measured ones imply
    (:func:`clipped_channel_estimate`, at most ``chroma_bound`` x the largest measured one when that is set), and
    that colour is its rim evidence.  channel_ramp: each clipped channel's rise above its input value is scaled
    by the same ``ramp`` of its own distance to where that channel was measured (:func:`channel_ramp_limit`).
    ring_estimate (with keep_measured): as spectral_k, but a single clipped channel comes from the measured ring
    around its region (:func:`ring_channel_estimate`; spectral_k, when given, is its prior slope); with
    channel_ramp the estimates are the floor its ramp starts from (:func:`estimate_floor`).  inner_fade: how
    far the rim's chroma fades towards the input's own deep inside a clipped region (:data:`INNER_FADE`).
    edge_fade (with ramp): a measured pixel's rise (at most ``unsaturated_gain``) fades out over the same ramp
    towards a clipped region's edge, where the region's own rise starts from the input: the luminance has no step
    along the region's outline (which follows the JPEG's 8x8 blocks).  measured_chroma: a pixel measured in every
    channel keeps its own colour where the network's would have tinted it (its rise only scales it).
    Returns (H, W, 3) float32 >= the linearised input.
    """
    ldr = np.clip(np.asarray(ldr_srgb, dtype=np.float32), 0.0, 1.0)
    b = apply_curve(ldr, inverse_crf)
    hdr = np.asarray(hdr, dtype=np.float32)
    s = transition_weight(ldr)
    yb = b @ LUMA
    ya = hdr @ LUMA
    y_out = np.maximum(ya, yb)  # expansion factor k = y_out / yb >= 1
    r = np.zeros_like(s)
    d = None  # distance to the clip edge, computed once when needed
    if ramp > 0 and np.any(s >= 0.5):
        ramp_px = ramp * max(ldr.shape[:2])
        d = clip_distance(s, wrap_x=wrap_x)
        r = smoothstep(d / max(ramp_px, 1e-6))
        # inside clipped regions the expansion rises from 1 at the edge to the network's
        # value over ``ramp``: the luminance is continuous across the clip boundary;
        # with ``growth`` > 0 it keeps rising with depth (log2 of the distance in ramps)
        gain = r * (1.0 + growth * np.log2(1.0 + d / max(ramp_px, 1e-6)))
        gain = np.where(s >= 0.5, gain, 1.0).astype(np.float32)
        y_out = yb + (y_out - yb) * gain
        if slope_cap:
            inside = s >= 0.5
            cap = rim_slope_profile(yb, np.max(ldr, axis=-1), inside, d * float(slope_gain), SLOPE_BAND * max(ldr.shape[:2]),
                                    wrap_x=wrap_x)
            capped = inside & np.isfinite(cap)
            if capped.any():
                a, c = np.maximum(y_out[capped], 1e-8), np.maximum(cap[capped], 1e-8)
                soft = (a ** -SOFTMIN_P + c ** -SOFTMIN_P) ** (-1.0 / SOFTMIN_P)
                y_out = y_out.copy()
                y_out[capped] = np.maximum(soft, yb[capped])
    if unsaturated_gain > 0 or chroma_bound > 0:
        y_out = np.minimum(y_out, measured_bound(ldr, b, unsaturated_gain, chroma_bound))
    if edge_fade and ramp > 0 and np.any(s >= 0.5):
        # outside a clipped region (s < 0.5) the rise fades to none at its edge, mirroring the ramp inside
        ramp_px = ramp * max(ldr.shape[:2])
        d_out = clip_distance(1.0 - s, wrap_x=wrap_x)  # outside pixels: distance to the region
        fade = np.where(s < 0.5, smoothstep(d_out / max(ramp_px, 1e-6)), 1.0).astype(np.float32)
        y_out = yb + (y_out - yb) * fade
    size_bound = None  # (H, W) the region size cap on the luminance, inf outside clipped regions
    if size_cap > 0:
        if size_cap_dome > 0 and d is None:
            d = clip_distance(s, wrap_x=wrap_x)
        k = region_size_cap(s >= 0.5, size_cap, wrap_x=wrap_x, depth=d if size_cap_dome > 0 else None, dome=size_cap_dome)
        inside = np.isfinite(k)  # outside clipped regions no cap (and no 0 * inf on black pixels)
        size_bound = np.where(inside, np.maximum(yb * np.where(inside, k, 1.0), yb), np.inf)
        y_out = np.minimum(y_out, size_bound)
    if not np.any(s > 0):
        scale = np.where(ya > 1e-12, y_out / np.maximum(ya, 1e-12), 1.0).astype(np.float32)
        return (hdr * scale[..., None]).astype(np.float32)
    own = np.where((ya > 1e-12)[..., None], hdr / np.maximum(ya, 1e-12)[..., None], b / np.maximum(yb, 1e-6)[..., None])
    chroma_in = b / np.maximum(yb, 1e-6)[..., None]
    if measured_chroma:
        own = np.where(_call(ldr < SATURATED)[..., None], chroma_in, own)
    w = (1.0 - s) * smoothstep((_cmax(ldr) - RIM_LO) / (RIM_HI - RIM_LO))
    sat = ldr >= SATURATED
    est = isl = None
    if keep_measured:  # a partly clipped pixel's own chroma (its clipped channels at their clip level) is evidence too
        part = _cany(sat) & ~_call(sat)
        w = np.where(part, 1.0, w).astype(np.float32)
        if (spectral_k is not None or ring_estimate) and part.any():
            single = None
            if ring_estimate:
                single = ring_channel_estimate(sat, b, np.max(ldr, axis=-1), prior=spectral_k or RING_PRIOR,
                                               wrap_x=wrap_x)
            est = clipped_channel_estimate(sat, b, spectral_k or RING_PRIOR, chroma_bound=chroma_bound, single=single)
            isl = _islands(sat, wrap_x)
            est = np.where(isl[..., None], b, est)
            chroma_in = np.where(part[..., None], est / np.maximum(est @ LUMA, 1e-6)[..., None], chroma_in)
    if not np.any(w > 0):
        w = 1.0 - s
    rim = np.maximum(push_pull(chroma_in, w), 0.0)
    rim = rim / np.maximum(rim @ LUMA, 1e-6)[..., None]
    # deep inside a clipped region the rim says little: fade towards the input's own
    # chroma (white where every channel clipped), so opposite rims (blue sky above,
    # orange horizon below) do not mix into a magenta cast
    inner = (float(inner_fade) * r * r)[..., None]
    rim = (1.0 - inner) * rim + inner * chroma_in
    mixed = (1.0 - s)[..., None] * own + s[..., None] * rim
    out = y_out[..., None] * mixed
    out = np.where((s > 0)[..., None], np.maximum(out, b), out)
    if keep_measured:
        out = keep_measured_channels(sat, b, out if est is None else np.where(sat, np.maximum(out, est), out))
    if channel_ramp and ramp > 0:
        ramp_px = ramp * max(ldr.shape[:2])
        if d is None:
            d = clip_distance(s, wrap_x=wrap_x)
        floor = b if est is None else estimate_floor(sat, b, est, ramp_px, wrap_x=wrap_x, islands=isl)
        out = channel_ramp_limit(sat, floor, np.where(sat, np.maximum(out, floor), out), ramp_px, wrap_x=wrap_x,
                                 applied=smoothstep(d / max(ramp_px, 1e-6)))
    if est is not None and size_bound is not None:
        # where every channel is near white (the wide over-exposed walls and skies the size cap is for) the estimates
        # obey the region's size cap too, where the pixel's luminance would pass it; a pixel with a clearly measured
        # channel keeps the estimate that measurement gives
        lo = out @ LUMA
        over = (lo > size_bound) & (np.min(ldr, axis=-1) >= CLIP_LO)
        if over.any():
            # scaled as a whole (its colour kept), no channel under its input; what that leaves over, from the rise
            o, bo = out[over], b[over]
            o = np.maximum(o * (size_bound[over] / lo[over])[:, None], bo)
            lo2 = o @ LUMA
            f = np.minimum((size_bound[over] - yb[over]) / np.maximum(lo2 - yb[over], 1e-12), 1.0)
            out[over] = bo + (o - bo) * f[:, None]
    return np.ascontiguousarray(out, dtype=np.float32)


def channel_ramp_limit(clipped: np.ndarray, b: np.ndarray, out: np.ndarray, ramp_px: float, *,
                       wrap_x: bool = False, applied: np.ndarray | None = None) -> np.ndarray:
    """``out`` with each clipped channel's rise above ``b`` scaled by smoothstep(d / ramp_px), d its distance to the
    nearest pixel where that channel was measured; with ``applied`` (H, W), the ramp the luminance already had (the
    smoothstep of the distance to where any channel clipped), by min(1, that / ``applied``) instead, so a channel that
    clips where the others do is not ramped twice (a white lamp: unchanged; stop 18's first version ramped it twice
    and filled 0.07 instead of 0.15 stops of a bracketed sun's clipped core).

    clipped: (H, W, 3) bool; b: (H, W, 3) the input linearised; out: (H, W, 3) the expansion (>= b).  The luminance
    ramp runs from the edge of the region where *any* channel clipped; with the measured channels kept
    (:func:`keep_measured_channels`) a channel that clips later (red and green of a sunset glow, long after blue)
    jumps from its measured value to the expansion's level in one pixel: the README sample's glow had a 20 % step
    where its last channel clipped (0.97 -> 1.19; the truth 0.96 -> 1.02), a hard-edged dome.  Per channel, the
    true value rises from its clip level where that channel starts to clip, so its expansion does too."""
    clipped = np.asarray(clipped, bool)
    if not clipped.any() or ramp_px <= 0:
        return out
    res = np.array(out, dtype=np.float32, copy=True)
    for c in range(3):
        m = clipped[..., c]
        if not m.any():
            continue
        dc = clip_distance(m.astype(np.float32), wrap_x=wrap_x)
        g = smoothstep(dc / float(ramp_px))
        if applied is not None:
            g = np.where(applied > 1e-6, np.minimum(g / np.maximum(applied, 1e-6), 1.0), 1.0).astype(np.float32)
        res[..., c] = np.where(m, b[..., c] + (res[..., c] - b[..., c]) * g, res[..., c])
    return res


def _islands(clipped: np.ndarray, wrap_x: bool) -> np.ndarray:
    """(H, W) partly clipped pixels that a 3x3 closing of the fully clipped ones covers: specks inside a fully clipped
    region whose last channel fell just under the clip (JPEG noise), not evidence of a colour of their own."""
    import cv2

    full = _call(np.asarray(clipped, bool))
    part = _cany(np.asarray(clipped, bool)) & ~full
    if not full.any() or not part.any():
        return np.zeros(full.shape, bool)
    src, pad = _wrapped(full.astype(np.uint8), wrap_x)
    closed = cv2.morphologyEx(src, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    closed = closed[:, pad: pad + full.shape[1]] if pad else closed
    return part & (closed > 0)


def estimate_floor(clipped: np.ndarray, b: np.ndarray, est: np.ndarray, ramp_px: float, *,
                   wrap_x: bool = False, islands: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) the floor under a clipped channel's expansion: ``est`` (the partly clipped pixels' estimates from what
    they and their surroundings measured, :func:`clipped_channel_estimate`), continued into the fully clipped pixels
    next to them and faded to the clip level ``b`` over ``ramp_px`` (the luminance ramp's width, over which the
    expansion takes over).  Without the continuation a glow's estimated red (the README sample's: 1.5x the clip level
    where red and green clipped) would drop to the clip level where its blue clips too, a hard-edged dome.  islands:
    :func:`_islands` of ``clipped`` when the caller has it."""
    isl = _islands(clipped, wrap_x) if islands is None else islands
    full = _call(np.asarray(clipped, bool)) | isl
    part = _cany(np.asarray(clipped, bool)) & ~full
    if not full.any() or not np.any(part & np.any(est > b * 1.0001, axis=-1)):
        return est
    rows = np.nonzero(part.any(axis=1))[0]
    reach = int(np.ceil(ramp_px)) + 2  # only rows within reach of an estimate change
    y0, y1 = max(0, int(rows[0]) - reach), min(full.shape[0], int(rows[-1]) + reach + 1)
    fe = full[y0:y1]
    pe = part[y0:y1] & (_dilate(fe.astype(np.uint8), 1, wrap_x) > 0)  # the estimates on the fully clipped ones' rim
    from scipy import ndimage

    src, pad = _wrapped(~pe, wrap_x)
    near, (iy, ix) = ndimage.distance_transform_edt(src, return_indices=True)  # the nearest rim pixel
    if pad:
        near, iy, ix = near[:, pad:-pad], iy[:, pad:-pad], (ix[:, pad:-pad] - pad) % pe.shape[1]
    fade = (1.0 - smoothstep(near / max(float(ramp_px), 1e-6)))[..., None]
    bb = b[y0:y1]
    cont = bb + np.maximum(est[y0:y1][iy, ix] - bb, 0.0) * fade
    out = np.array(est, dtype=np.float32, copy=True)
    cl = np.asarray(clipped, bool)[y0:y1]
    out[y0:y1] = np.where(fe[..., None] & cl, np.maximum(cont, bb), out[y0:y1])
    return out


def keep_measured_channels(clipped: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out`` with every measured channel of a partly clipped pixel set back to its measured value ``b``.

    clipped: (..., 3) bool, which channels clipped (an sRGB input: >= :data:`SATURATED`); b, out: (..., 3) the
    measured linear values and the expansion.  In a pixel with some channels clipped and others not, the unclipped
    ones were measured: a chroma taken from the rim (or the network) must not move them.  Around a setting sun blue
    is often still measured inside the glow while red and green clip: the rim's bluish chroma made that glow whiter
    and bluer than the measured blue allows (the README sample: blue 1.9x its measured value near the sun).  The
    clipped channels keep the expansion's values (at least their clip level): handing them the luminance the
    measured ones give up would pour it into blue where only blue clips (a violet rim on a blue sky)."""
    clipped = np.asarray(clipped, bool)
    part = (_cany(clipped) & ~_call(clipped))[..., None]
    return np.where(part & ~clipped, b, np.where(part, np.maximum(out, b), out)).astype(out.dtype)


def clipped_channel_estimate(clipped: np.ndarray, b: np.ndarray, spectral_k: tuple[float, float], *,
                             chroma_bound: float = 0.0, single: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) ``b`` with each partly clipped pixel's clipped channels estimated from its measured ones (>= ``b``).

    clipped: (H, W, 3) bool; b: (H, W, 3) linear values (a clipped channel at its clip level); spectral_k:
    (k_red, k_blue).  A smooth spectrum is close to a power of the wavelength, so its log channel ratios are
    nearly proportional: where only red clipped, R = G (G / B)^k_red; where only blue clipped, B = G (G / R)^k_blue
    (fitted on the training split's photographed HDRIs: tools/fit_spectral_k.py).  Where two channels clipped the
    one measured channel sets the level and the colour comes from the single-clipped estimates around (push-pull of
    their log chroma; not from fully measured pixels: a near-white floor whose green and blue clip at the horizon
    took the sky's blue, 1.5x, and the training split's one input more than 1 dB worse than the JPEG) on the same
    side of the light: where red and green clipped, from where red alone clipped (a glow warming towards its
    source), where green and blue clipped, from where blue alone did, where red and blue clipped, from both (until
    stop 20 from both always: the README sample's warm band, between its red-only rim and the blue sky's blue-only
    band, got the sky's colour too and stayed at its clip level, R/G 1.12 where the truth is 1.71), at most
    :data:`CHAIN_MAX_GAIN` x the measured channel.  Only pixels whose measured channels are all at least
    :data:`SPECTRAL_MIN_MEASURED` are estimated.  With ``chroma_bound`` > 0 an estimate is at most that many times
    the pixel's largest measured channel.  A clipped green (red and blue measured) lies between them on such a
    spectrum, so below the clip level: it stays.  Not in the shipped policy (module docstring: a pigment is no
    light).  single: (H, W, 3) the estimates where one channel clipped, made elsewhere (:func:`ring_channel_estimate`),
    instead of the power law (``spectral_k`` is then unused)."""
    clipped = np.asarray(clipped, bool)
    b = np.asarray(b, np.float32)
    k_red, k_blue = float(spectral_k[0]), float(spectral_k[1])
    n = _count(clipped)
    est = b.copy()
    part = (n == 1) | (n == 2)  # the work is on these pixels only (a small share of a big image)
    if not part.any():
        return est
    bp, cp, npart = b[part], clipped[part], n[part]
    lb = np.log(np.maximum(bp, 1e-6))
    ep = bp.copy()
    bright = np.all(cp | (bp >= SPECTRAL_MIN_MEASURED), axis=-1)  # light, not a dye's deep colour
    r_only = cp[:, 0] & (npart == 1) & bright
    b_only = cp[:, 2] & (npart == 1) & bright
    if single is None:
        ep[:, 0] = np.where(r_only, np.exp(lb[:, 1] + k_red * (lb[:, 1] - lb[:, 2])), ep[:, 0])
        ep[:, 2] = np.where(b_only, np.exp(lb[:, 1] + k_blue * (lb[:, 1] - lb[:, 0])), ep[:, 2])
    else:
        ep = np.where((r_only | b_only)[:, None] & cp, np.asarray(single, np.float32)[part], ep)
    ep = np.maximum(ep, bp)
    measured_max = np.max(np.where(cp, 0.0, bp), axis=-1, keepdims=True)
    two = (npart == 2) & bright
    if two.any() and (r_only | b_only).any():
        lc = np.zeros(b.shape, np.float32)
        lcp = np.log(np.maximum(ep, 1e-6))
        lc[part] = lcp - lcp.mean(axis=-1, keepdims=True)  # log chroma (the level drops out)
        meas = ~cp
        # evidence from the same side of the light: where red and green clipped (blue measured), from where red
        # alone clipped; where green and blue clipped, from where blue alone did; red and blue, from both
        for tgt, src in ((two & ~cp[:, 2], r_only), (two & ~cp[:, 0], b_only), (two & ~cp[:, 1], r_only | b_only)):
            if not tgt.any():
                continue
            if not src.any():
                src = r_only | b_only
            w = np.zeros(n.shape, np.float32)
            w[part] = src
            rim = push_pull(lc, w)[part][tgt]
            level = np.sum(np.where(meas[tgt], lb[tgt] - rim, 0.0), axis=-1) / np.maximum(meas[tgt].sum(axis=-1), 1)
            guess = np.minimum(np.exp(level[:, None] + rim), CHAIN_MAX_GAIN * measured_max[tgt])
            ep[tgt] = np.where(cp[tgt], np.maximum(guess, bp[tgt]), ep[tgt])
    if chroma_bound > 0:
        ep = np.where(cp, np.minimum(ep, np.maximum(bp, chroma_bound * measured_max)), ep)
    est[part] = ep
    return est.astype(np.float32)


#: :func:`ring_channel_estimate`: the ring is the fully measured, bright pixels within RING_BAND of the long side (at
#: least RING_BAND_MIN px) of a clipped region, after a RING_GAP px gap (JPEG ringing and the tone curve's shoulder
#: right at the clip edge); a region with fewer than RING_MIN_PIXELS ring pixels is left at its clip level ...
RING_BAND, RING_BAND_MIN, RING_GAP, RING_MIN_PIXELS = 0.012, 4, 2, 8
#: ... the slope is shrunk towards the spectral prior by RING_RIDGE (in units of the variance of the ring's log
#: ratio: a ring of one colour, a dye lit more or less, says nothing of the slope), at most RING_SLOPE_MAX; only a
#: target whose log ratio lies within RING_X_MARGIN of the ring's range is estimated (no extrapolation: a white wall
#: whose blue clips next to a blue sky is not the sky's colour).
RING_RIDGE, RING_SLOPE_MAX, RING_X_MARGIN = 0.04, 3.0, 0.2
#: The prior slope: the pooled exponents of tools/fit_spectral_k.py on the training split (k_red, k_blue).
RING_PRIOR = (0.48, 1.68)
#: A ring pixel whose smallest channel is under this fraction of its largest is a dye's colour, not evidence.
RING_LIGHT_RATIO = 0.3


def _count(clipped: np.ndarray) -> np.ndarray:
    """(H, W) uint8 how many channels of (H, W, 3) bool ``clipped`` are set (faster than a sum over the last axis)."""
    return clipped[..., 0].astype(np.uint8) + clipped[..., 1] + clipped[..., 2]


def _dilate(a: np.ndarray, radius: int, wrap_x: bool) -> np.ndarray:
    """Grey dilation of ``a`` (H, W; uint8, uint16 or float32) by a disc of ``radius`` px (the largest value within
    it); across the seam of a 360 panorama when ``wrap_x``."""
    import cv2

    if radius <= 0:
        return a
    pad = radius + 1 if wrap_x else 0
    src = np.concatenate([a[:, -pad:], a, a[:, :pad]], axis=1) if pad else a
    out = cv2.dilate(np.ascontiguousarray(src),
                     cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)),
                     borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return out[:, pad: pad + a.shape[1]] if pad else out


def ring_channel_estimate(clipped: np.ndarray, b: np.ndarray, ldr_max: np.ndarray, *,
                          prior: tuple[float, float] = RING_PRIOR, wrap_x: bool = False) -> np.ndarray:
    """(H, W, 3) ``b`` with the clipped channel of each pixel where only red or only blue clipped estimated from the
    fully measured pixels around its clipped region (>= ``b``).

    clipped: (H, W, 3) bool; b: (H, W, 3) linear values (a clipped channel at its clip level); ldr_max: (H, W) the
    largest channel of the sRGB input.  Per connected clipped region (any channel; regions within RING_GAP px join;
    the seam wraps when ``wrap_x``), a weighted least-squares line of log(R/G) on log(G/B) (blue: log(B/G) on
    log(G/R)) over its ring (module constants; weights ldr_max^4, the pixels nearest the clip level count most),
    shrunk towards the spectral prior's slope; a red-only pixel whose log(G/B) lies within :data:`RING_X_MARGIN` of the
    ring's range gets R = G exp(line(log(G/B))), at most :data:`CHAIN_MAX_GAIN` x its clip level; the others keep
    it.  The image calibrates itself: a sunset glow whose red rises steeply against green and blue
    around its clipped core continues that rise (R = G (G/B)^1.05 on held-out sunset.exr, where the training data's
    prior says 0.48), and a dye's clipped red stays at the ratio its unclipped surroundings show (the held-out render's
    orange-yellow surface, 1.6x too red under the prior: bench/RESULTS.md stop 17).  Only pixels whose measured
    channels are all at least :data:`SPECTRAL_MIN_MEASURED` are estimated, and ring pixels with a channel under
    :data:`RING_LIGHT_RATIO` of their largest (a saturated surface next to the light) are not evidence.
    """
    from ..geometry.labels import label_regions

    clipped = np.asarray(clipped, bool)
    b = np.asarray(b, np.float32)
    est = b.copy()
    n = _count(clipped)
    if not (n == 1).any():
        return est
    rows = np.nonzero((n > 0).any(axis=1))[0]
    h, w = n.shape
    band = max(float(RING_BAND_MIN), RING_BAND * max(h, w))
    reach = int(np.ceil(band)) + RING_GAP + 2  # every region and its ring lie in these rows: work on those only
    y0, y1 = max(0, int(rows[0]) - reach), min(h, int(rows[-1]) + reach + 1)
    n, cl, bc, lm = n[y0:y1], clipped[y0:y1], b[y0:y1], np.asarray(ldr_max)[y0:y1]
    grown = _dilate((n > 0).astype(np.uint8), RING_GAP, wrap_x) > 0
    lab = label_regions(grown, wrap_x=wrap_x)
    nl = int(lab.max())
    near = _dilate(lab.astype(np.uint16 if nl < 65535 else np.float32), int(np.ceil(band)), wrap_x)  # nearby label
    ring = (lab == 0) & (n == 0) & (lm >= RIM_LO) & (near > 0)
    br = bc[ring]
    light = np.min(br, axis=-1) >= RING_LIGHT_RATIO * np.max(br, axis=-1)  # evidence like the targets: no dye
    br = br[light]
    k = near[ring][light].astype(np.int64)
    wr = lm[ring][light].astype(np.float64) ** 4
    lbr = np.log(np.maximum(br, 1e-6)).astype(np.float64)
    sw = np.bincount(k, wr, nl + 1)
    cnt = np.bincount(k, minlength=nl + 1)
    single = (n == 1) & (lab > 0)
    bt, ct, lt = bc[single], cl[single], lab[single]
    lbt = np.log(np.maximum(bt, 1e-6))
    bright = np.all(ct | (bt >= SPECTRAL_MIN_MEASURED), axis=-1)
    et = bt.copy()
    for ch, ref, oth, kp in ((0, 1, 2, prior[0]), (2, 1, 0, prior[1])):
        tgt = ct[:, ch] & bright
        if not tgt.any():
            continue
        xr, yr = lbr[:, ref] - lbr[:, oth], lbr[:, ch] - lbr[:, ref]
        xm = np.bincount(k, wr * xr, nl + 1) / np.maximum(sw, 1e-12)
        ym = np.bincount(k, wr * yr, nl + 1) / np.maximum(sw, 1e-12)
        sxx = np.bincount(k, wr * (xr - xm[k]) ** 2, nl + 1) / np.maximum(sw, 1e-12)
        sxy = np.bincount(k, wr * (xr - xm[k]) * (yr - ym[k]), nl + 1) / np.maximum(sw, 1e-12)
        beta = np.clip((sxy + RING_RIDGE * kp) / (sxx + RING_RIDGE), 0.0, RING_SLOPE_MAX)
        lo, hi = np.full(nl + 1, np.inf), np.full(nl + 1, -np.inf)
        np.minimum.at(lo, k, xr)
        np.maximum.at(hi, k, xr)
        li = lt[tgt]
        xt = lbt[tgt, ref] - lbt[tgt, oth]
        # only within the ring's range of log ratios (a white wall next to the sky is not the sky's colour)
        ok = (cnt[li] >= RING_MIN_PIXELS) & (xt >= lo[li] - RING_X_MARGIN) & (xt <= hi[li] + RING_X_MARGIN)
        yt = ym[li] + beta[li] * (xt - xm[li])
        val = np.where(ok, np.exp(lbt[tgt, ref] + yt), bt[tgt, ch])
        val = np.minimum(val, CHAIN_MAX_GAIN * bt[tgt, ch])
        et[tgt, ch] = np.maximum(val, bt[tgt, ch])
    est[y0:y1][single] = et
    return est
