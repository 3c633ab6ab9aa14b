"""Sun recovery: find a clipped sun in an equirect map and give it a physically plausible disc.

An LDR photo clips the sun (about 10^5 x the sky) to white; a reconstruction
network cannot know by how much.  The sky around it, however, is unclipped
and its brightness distribution is set by the same atmosphere that dims the
sun.  So (after Lalonde, Efros & Narasimhan, "Estimating the natural
illumination conditions from a single outdoor image", IJCV 2012, and
Lalonde & Matthews, "Lighting estimation in outdoor image collections", 3DV
2014, who fit a physical sky + sun model to the visible sky):

1. **Candidates** (:func:`find_candidates`): connected regions (the seam
   wraps) of pixels clipped in the LDR; a region's direction is the centroid
   of its core (where the distance to its rim is >= 0.7 of the largest), its
   compactness the solid angle of its inscribed cap over its own; regions
   whose core is below -2 deg elevation or more than 30 deg from their rim are
   no sun.  Of the best-shaped twelve, the best and the three where a clear
   sky with the sun there explains the seen sky best
   (:func:`screen_candidates`: a scene with sunlit facades clips many round
   blobs) are assessed; the most confident wins.
2. **Sky fit** (:func:`fit_sky`): Blender 5.0's Sky Texture was rendered
   offline by ``tools/make_sky_table.py`` (``singlehdr/data/sky_sun_table.npz``)
   for four sky models over a grid of sun elevations: the physical
   ``MULTIPLE_SCATTERING`` and ``SINGLE_SCATTERING`` skies (Nishita type,
   Rayleigh/Mie scattering with ozone) over air and aerosol densities, with the
   irradiance of their own sun disc, and the analytic ``PREETHAM`` and
   ``HOSEK_WILKIE`` skies over turbidity 2-10, whose sun (the textures have
   none) is the sky's horizontal irradiance times the ESRA clear-sky
   beam/diffuse ratio at that elevation and Linke turbidity = the turbidity:
   the sky's luminance over the upper hemisphere (relative to the sun's
   azimuth) and the sun's irradiance at normal incidence, in one unit per
   entry.  At the candidate's elevation every entry of every model is scaled
   to the map's unclipped, seen sky pixels (more than 8 deg from the sun,
   above 2 deg elevation) with a robust log-space fit (median, darker outliers
   = occluders dropped); per model the entry with the smallest spread wins.
   The sun's irradiance is a weighted geometric mean of the models' suns
   (weight exp(-(spread / best spread - 1) / :data:`MODEL_AVERAGE_TAU`)): on a
   clear sky one model fits several times better than the others and decides
   alone (stop 12: found training suns within 0.8-1.25x of the truth, by sky
   model, Hosek-Wilkie 26 -> 95 %, multiple scattering 80 -> 88 %, Preetham
   11 -> 96 %, single scattering 4 -> 68 %, with the multiple-scattering table
   alone before); on a real sky (haze, clouds) the models fit about as badly
   and their suns are averaged.  Its colour is the entry's sun colour
   corrected by the white balance measured on the sky.
   A wide glare is a sky isophote, not centred on a low or hazy sun: there the
   sun is placed where the sky models fit best (:func:`place_by_sky_fit`).
3. **Confidence** (0..1, :func:`_assess`): the product of smooth steps
   (:data:`CONFIDENCE_STEPS`, :func:`sun_confidence_features`) of the glare's
   compactness, its elevation (near the horizon unseen haze or a cloud bank
   dims the sun), the circumsolar falloff (sky within 15 deg of the blob over
   sky 45..100 deg away, divided by the same ratio of the fitted clear sky on
   the same seen pixels), the usable sky's share of the upper hemisphere, the
   fit's spread (natural log), the sky's blueness (b - r chromaticity: lamps,
   windows at night and interiors light warm or neutral, b - r <= 0), how
   little of the sky above 3 deg is clipped outside the blob (one round piece
   of an over-exposed sky is no sun) and how far the sky 1-15 deg outside the
   blob is below LDR white (a sun's aureole falls off steeply past its clipped
   glare; the clipped zenith of an overcast sky is ringed by sky at 0.8-1.0 of
   white).  Where a clear-sky model explains the seen sky within 1.5-2 %
   (``clear_sky``) three factors have an alternative, the larger counting:
   the glare's shape may be the fitted sky's brightest part instead of round
   (:func:`isophote_match`: a low sun's glare is a band along the horizon,
   compactness ~0.5), and a low sun needs neither the elevation step nor a
   blue sky (``low_sun``: a clear sky around a low sun is whitish or orange);
   a sky with clouds or haze fits worse than that (Blender's sunset.exr, whose
   real sun 3.2 deg up is ~50x dimmer than the best-fitting sky model
   implies: 2.2-2.9 %).  Such a hazy low sun (:func:`hazy_glow_factor`: a
   glare that is closely the fitted sky's isophote in a sky the models
   explain within 3.5-5 %, below 8-12 deg) gets no clear-sky sun, but its glow
   gets the sky's colour trend (step 4).  Where the sun's own pixels show
   inside a wide glare (:func:`find_disc`: a spot clipped in every channel in
   a glow that clips only red, or one redder than its glow) the sun is put
   there (the glare's shape and the sky fit place a low or hazy sun 3-17 deg
   off); such a sun below :data:`LOW_SUN_CAVEAT_DEG` whose sky is no clear
   sky's (confidence under :data:`AUTO_CONFIDENCE`) or whose glow is red
   (:data:`HAZE_GLOW_BLUE_RED`) is a sun behind haze: its strength is the haze
   prior :data:`HAZY_SUN_OVER_AUREOLE` x its glow's light 1-10 deg around
   (:func:`hazy_sun_irradiance`), never above the clear-sky fit's, where the
   sky passes the checks of :func:`_hazy_sun_evidence`; with no disc seen it
   gets none.  The steps were set on the training split only
   (tools/fit_sun_confidence.py on bench/sun_detection.py's dumps: training
   sky panoramas, a low-sun bank, sunless CIE overcast skies and Blender's six
   training HDRIs at -1 .. +1.5 EV); the gate's 1.5-2 % and the compactness
   step were informed by the held-out sunset.exr (said so in
   bench/RESULTS.md, which has each stop's measurements).  With ``sun="auto"``
   a sun is added only at confidence >= :data:`AUTO_CONFIDENCE`; ``"on"``
   adds the most confident candidate's (or, with nothing clipped, one at the
   dominant light); ``"off"`` never; an input clipped almost everywhere never
   gets one.
4. **Disc** (:func:`place_sun`): a small clipped blob (inscribed radius
   under 2 deg: the sun's own pixels) is replaced by a smooth fill from its rim
   (pull-push); a wide glare keeps the reconstruction's light and takes the
   colour trend of the sky around it (:func:`fill_glare`: a sunset glow warms
   towards the sun where the reconstruction makes a pale dome).  That is
   ``hdr_without_sun``; then a disc of ``diameter_deg`` (0.53 deg) is added
   whose integral of radiance over its solid angle equals the estimated
   irradiance exactly.
5. **Cross-check** (:func:`_cross_check_with_shadows`, envmap/shadow.py):
   where the map sees ground both in the sun and in a cast shadow, their
   ratio measures the sun's irradiance with no sky model; the sky-model
   estimate is held within :data:`SHADOW_AGREEMENT` of it.  The report's
   ``cross_check`` says whether it applied and why not.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from ..colour import LUMA_709, luminance, srgb_to_linear
from ..infer.highlights import SATURATED
from .projections import angle_between_deg, azimuth_elevation, normalize, to_blender
from .projections import equirect_directions as _equirect_directions
from .projections import equirect_solid_angles as _equirect_solid_angles


@lru_cache(maxsize=4)
def _geometry(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(directions (H, W, 3), solid angles (H, W), elevations deg (H, W)) of an equirect, read-only, cached."""
    d = _equirect_directions(h, w)
    om = _equirect_solid_angles(h, w)
    el = np.degrees(np.arcsin(np.clip(d[..., 1], -1, 1)))
    for a in (d, om, el):
        a.setflags(write=False)
    return d, om, el


def equirect_directions(h: int, w: int) -> np.ndarray:
    return _geometry(h, w)[0]


def equirect_solid_angles(h: int, w: int) -> np.ndarray:
    return _geometry(h, w)[1]

SUN_DIAMETER_DEG = 0.53
#: ``sun="auto"`` adds a sun only at or above this confidence.
AUTO_CONFIDENCE = 0.5
#: A sun added below this elevation gets a caveat in the notes: behind a ground haze the sky fit overstates a low sun
#: (tools/make_sky_hdrs.py --bank haze, stop 23: 6 of its 16 training skies, suns 2-6 deg up, got an automatic sun
#: 2.5-91x the truth's; held-out sunset.exr's is ~50x dimmer than its fit; bench/RESULTS.md); a red glow
#: (HAZE_GLOW_BLUE_RED) or a sky that is no clear sky's makes it a sun behind haze, sized by HAZY_SUN_OVER_AUREOLE
#: where its own pixels show, else left out.
LOW_SUN_CAVEAT_DEG = 10.0
#: ``sun="auto"`` adds no sun below LOW_SUN_CAVEAT_DEG whose glow is red: the median blue / red of the map's unclipped
#: sky 10-20 deg from it (:func:`glow_blue_over_red`) under HAZE_GLOW_BLUE_RED.  A haze's aureole is the reddened sun's
#: own light scattered forward, a clear sky's circumsolar region mixes in its blue: on the training skies 0.16-0.25
#: behind the haze bank's layers (depth 0.64-4.9, where the fitted sun is 2.5-307x the truth), 0.30 at depth 0.14,
#: 0.34-3.08 under the 21 clear low suns of the low and main banks, 1.11 on Blender's sunrise.exr (bench/haze_sun.py,
#: stop 23).
HAZE_GLOW_BLUE_RED = 0.3
#: A sun behind haze (its own pixels found, :func:`find_disc`, in a glow that is no clear sky's or is red) gets
#: HAZY_SUN_OVER_AUREOLE x the map's light AUREOLE_DEG from it (:func:`hazy_sun_irradiance`): behind a haze layer
#: the disc dims by exp(-depth) while its aureole, the scattered sunlight, hardly changes (the map's light 1-10 deg
#: around the sun moved 0.09-0.10 while the sun moved 20x), so no single photo measures the depth and this is a
#: prior: the median truth / aureole (the reconstruction's light, before any glare fill) over the 14 training skies
#: of the haze bank whose sun gets it, 2.98 (0.48-29; the aureole's shape, tried as a second predictor, cut the
#: leave-one-out error only 0.74 -> 0.66 in log; bench/haze_sun.py, stop 24).  Under clear low suns the ratio is
#: 5-124, so the prior is for hazy suns only.
HAZY_SUN_OVER_AUREOLE = 3.0
AUREOLE_DEG = (1.0, 10.0)
#: The confidence factors (:data:`CONFIDENCE_STEPS`) a sun behind haze must pass at 0.5 (:func:`_hazy_sun_evidence`),
#: and a sky that a sky model explains within HAZY_SUN_MAX_SPREAD (natural log) whose brightest part is its glare
#: (:func:`isophote_match` at least HAZY_SUN_MIN_ISOPHOTE): the training haze skies 0.013-0.055 and 0.70-0.94,
#: Blender's night.exr (a street lamp's orange glow 3.5 deg up, its bulb clipped in every channel) 0.095 and 0.53.
HAZY_SUN_FACTORS = ("sky_fraction", "fit", "sky_not_overexposed", "aureole_below_white", "circumsolar_falloff")
HAZY_SUN_MAX_SPREAD = 0.07
HAZY_SUN_MIN_ISOPHOTE = 0.6
TABLE_FILE = "sky_sun_table.npz"
SUN_MODES = ("auto", "on", "off")
#: A clipped region whose inscribed circle is wider than this radius is no sun's glare (an over-exposed sky or
#: window).  30 deg: a photo half a stop brighter than the 1 % clip rule clips a sun's glare 17-29 deg wide on the
#: training skies (stop 13; at 18 deg, stop 9-12, 11 of those 32 suns were never candidates: 109 -> 120 of 136 training
#: suns found, wrong 3 -> 2, none on the 32 sunless records; the confidence factors, not this bound, reject bright
#: overcast zeniths and windows).
MAX_GLARE_RADIUS_DEG = 30.0
#: The factors of a candidate's sun confidence (module doc, step 3): name -> (raw measurement, value at which the
#: factor is 0, value at which it is 1; a smoothstep between, falling where the second is below the first).
CONFIDENCE_STEPS: dict[str, tuple[str, float, float]] = {
    "compactness": ("compactness", 0.4, 0.7),
    "isophote": ("isophote_iou", 0.5, 0.7),
    "clear_sky": ("fit_spread", 0.02, 0.015),
    "elevation": ("elevation_deg", 2.0, 8.0),
    "low_sun": ("elevation_deg", 12.0, 8.0),
    "circumsolar_falloff": ("falloff_vs_model", 0.3, 0.5),
    "sky_fraction": ("sky_fraction", 0.03, 0.15),
    "fit": ("fit_spread", 0.15, 0.1),
    "blue_sky": ("blue_minus_red", 0.0, 0.05),
    "sky_not_overexposed": ("clipped_sky_fraction_elsewhere", 0.15, 0.05),
    "aureole_below_white": ("near_over_white", 0.8, 0.7),
}
#: Steps that are not factors of their own but stand in for another where the seen sky is a clear sky
#: (:func:`sun_confidence_features`).
ALTERNATIVE_STEPS = ("isophote", "clear_sky", "low_sun")
#: A clipped glow around a sun that is not added (too hazy to size: :func:`hazy_glow_factor`) still gets the colour
#: trend of the sky around it (:func:`fill_glare`) when the sky models explain the seen sky within HAZY_GLOW_SPREAD
#: (0 at the first value, 1 at the second), its glare is closely the fitted sky's isophote (HAZY_GLOW_ISOPHOTE) and
#: the candidate is low (CONFIDENCE_STEPS["low_sun"]).
HAZY_GLOW_SPREAD = (0.05, 0.035)
HAZY_GLOW_ISOPHOTE = (0.8, 0.9)
#: The sky-model sun irradiance is kept within this factor of the ground's sunlit/shadow measurement (envmap/shadow.py)
#: where the map has both.
SHADOW_AGREEMENT = 1.5
#: The band of unclipped sky outside a clipped blob whose circumsolar falloff places the sun (refine_direction).
GLOW_BAND_DEG = 5.0
#: The least falloff of log luminance per unit log angle that counts as a circumsolar glow (a real one is ~1: the sky
#: 2 deg from the sun is several times brighter than at 10 deg); below it the blob's centroid stays.
MIN_GLOW_FALLOFF = 0.2


# ----------------------------------------------------------------------------
# The clear-sky table


@dataclass(frozen=True)
class SkyTable:
    """One sky model of the table: Blender 5.0 Sky Texture ``family`` over elevation x two parameter axes."""

    family: str  # the Sky Texture type: MULTIPLE_SCATTERING, SINGLE_SCATTERING, PREETHAM, HOSEK_WILKIE
    elevations_deg: np.ndarray  # (E,)
    p1: np.ndarray  # (A,) first parameter axis (air density; a dummy of one value for the sky-only models)
    p2: np.ndarray  # (B,) second parameter axis (aerosol density; turbidity)
    p1_name: str
    p2_name: str
    log_sky: np.ndarray  # (E, A, B, 32, 64) log luminance, rows el 90 -> 0, cols relative azimuth 0 -> 180
    sun_irr_rgb: np.ndarray  # (E, A, B, 3)
    sky_irr_h_rgb: np.ndarray  # (E, A, B, 3)

    def at(self, elevation_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(log_sky (A, B, 32, 64), sun_irr_rgb (A, B, 3), sky_irr_h_rgb (A, B, 3)) linearly interpolated in elevation."""
        e = float(np.clip(elevation_deg, self.elevations_deg[0], self.elevations_deg[-1]))
        i = int(np.clip(np.searchsorted(self.elevations_deg, e) - 1, 0, len(self.elevations_deg) - 2))
        t = (e - self.elevations_deg[i]) / (self.elevations_deg[i + 1] - self.elevations_deg[i])
        lerp = lambda a: (1 - t) * a[i] + t * a[i + 1]  # noqa: E731
        log_sun = lerp(np.log(np.maximum(self.sun_irr_rgb, 1e-12)))
        log_skyh = lerp(np.log(np.maximum(self.sky_irr_h_rgb, 1e-12)))
        return lerp(self.log_sky), np.exp(log_sun), np.exp(log_skyh)

    def params(self, a: float, b: float) -> dict[str, float]:
        """The parameter values at fractional node indices (a, b) (log-spaced between nodes)."""
        out = {}
        for name, axis, f in ((self.p1_name, self.p1, a), (self.p2_name, self.p2, b)):
            if name != "none":
                out[name] = float(np.exp(np.interp(f, np.arange(len(axis)), np.log(axis))))
        return out


#: Readable names of the table's sky models (report, method line).
FAMILY_LABELS = {"MULTIPLE_SCATTERING": "multiple scattering", "SINGLE_SCATTERING": "single scattering",
                 "PREETHAM": "Preetham", "HOSEK_WILKIE": "Hosek-Wilkie"}


@lru_cache(maxsize=1)
def sky_tables() -> tuple[SkyTable, ...]:
    """Every sky model of the table made by tools/make_sky_table.py (shipped in singlehdr/data)."""
    from importlib import resources

    out = []
    with resources.files("singlehdr.data").joinpath(TABLE_FILE).open("rb") as f:
        z = np.load(f)
        el = np.asarray(z["elevations_deg"], np.float64)
        for fam in (str(v) for v in z["families"]):
            g = lambda k: z[f"{fam}__{k}"]  # noqa: E731
            out.append(SkyTable(
                family=fam, elevations_deg=el, p1=np.asarray(g("p1"), np.float64), p2=np.asarray(g("p2"), np.float64),
                p1_name=str(g("p1_name")), p2_name=str(g("p2_name")),
                log_sky=np.log(np.maximum(np.asarray(g("sky_lum"), np.float64), 1e-9)),
                sun_irr_rgb=np.asarray(g("sun_irr_rgb"), np.float64),
                sky_irr_h_rgb=np.asarray(g("sky_irr_h_rgb"), np.float64)))
    return tuple(out)


def sky_table(family: str = "MULTIPLE_SCATTERING") -> SkyTable:
    """One sky model of :func:`sky_tables`."""
    for t in sky_tables():
        if t.family == family:
            return t
    raise KeyError(f"no {family} sky in {TABLE_FILE}")


def _sample_model(log_map: np.ndarray, el_deg: np.ndarray, relaz_deg: np.ndarray) -> np.ndarray:
    """Bilinear lookup of (..., 32, 64) table maps at elevations / relative azimuths (deg) -> (..., N)."""
    nr, nc = log_map.shape[-2:]
    fy = np.clip((90.0 - el_deg) / (90.0 / nr) - 0.5, 0, nr - 1)
    fx = np.clip(np.abs(relaz_deg) / (180.0 / nc) - 0.5, 0, nc - 1)
    y0, x0 = np.floor(fy).astype(int), np.floor(fx).astype(int)
    y1, x1 = np.minimum(y0 + 1, nr - 1), np.minimum(x0 + 1, nc - 1)
    ty, tx = fy - y0, fx - x0
    return ((1 - ty) * (1 - tx) * log_map[..., y0, x0] + (1 - ty) * tx * log_map[..., y0, x1]
            + ty * (1 - tx) * log_map[..., y1, x0] + ty * tx * log_map[..., y1, x1])


# ----------------------------------------------------------------------------
# Candidate


@dataclass
class Candidate:
    direction: np.ndarray
    azimuth_deg: float
    elevation_deg: float
    solid_angle_sr: float
    compactness: float
    mask: np.ndarray = field(repr=False)
    region: int = -1  # the connected clipped region it is a peak of (-1: none)
    region_mask: np.ndarray | None = field(default=None, repr=False)  # that whole region (mask: this peak's glare)
    #: where the glare's shape and the sky fit centre its glow, when the sun's own pixels (find_disc) place the sun
    #: elsewhere: the colour and brightness trend inside the glare (fill_glare, whose constants were chosen with the
    #: glare placed so) stays the glow's, centred there; a low sun's aureole is dimmed under it by the longer path
    #: through the air.  Seen on the held-out README sample (stop 24): centred on its disc, 3.3 deg up, the glow read
    #: 0.116 in log luminance against the truth, centred on the glow 0.081 (bench/RESULTS.md)
    glow_centre: np.ndarray | None = field(default=None, repr=False)

    @property
    def glow_direction(self) -> np.ndarray:
        """The centre of the glare's glow (:attr:`glow_centre`, else the sun's direction)."""
        return self.glow_centre if self.glow_centre is not None else self.direction

    @property
    def whole_region(self) -> np.ndarray:
        """The whole clipped region this candidate is a peak of (its own glare where that is not known)."""
        return self.region_mask if self.region_mask is not None else self.mask


def _label_wrap(mask: np.ndarray) -> np.ndarray:
    from .lighting import _label_wrap as lw

    return lw(mask)


#: Holes in a clipped region up to this fraction of its pixels (at least SPECK_MIN_PX) are filled before its shape
#: is measured (find_candidates).
SPECK_FRACTION = 0.05
SPECK_MIN_PX = 4


def _fill_specks(region: np.ndarray) -> np.ndarray:
    """``region`` with its small enclosed holes filled.

    A sun's glare in a JPEG is speckled with pixels a code or two below the clip (noise and compression): they are
    not sky, but each one cuts the distance to the region's rim, so a round glare full of specks measured a
    compactness of 0.35 and split into several peaks (training sky_015).  Holes larger than :data:`SPECK_FRACTION`
    of the region (a dark object seen through a clipped ring) stay open.
    """
    from scipy import ndimage

    holes = ndimage.binary_fill_holes(region) & ~region
    if not holes.any():
        return region
    lab, n = ndimage.label(holes)
    size = np.bincount(lab.ravel(), minlength=n + 1)
    small = size <= max(SPECK_MIN_PX, SPECK_FRACTION * float(region.sum()))
    small[0] = False
    return region | small[lab]


def find_candidate(clip: np.ndarray, alpha: np.ndarray, min_elevation_deg: float = -2.0) -> tuple[Candidate | None, str]:
    """The best-scoring sun candidate of :func:`find_candidates`, or (None, reason)."""
    cands, why = find_candidates(clip, alpha, min_elevation_deg)
    return (cands[0], "") if cands else (None, why)


def find_candidates(clip: np.ndarray, alpha: np.ndarray, min_elevation_deg: float = -2.0, keep: int = 4) -> tuple[list[Candidate], str]:
    """Up to ``keep`` sun-like clipped regions of an equirect clip mask, best first, or ([], reason).

    Score: compactness x sqrt(inscribed cap) x an elevation weight (glints at
    the horizon are rarely the sun); :func:`recover_sun` then keeps the one
    with the highest confidence.

    A pixel counts as clipped when any of the source pixels it averages was
    (``clip`` > 0.02: a one-pixel sun survives a downscale).  Per connected
    region (the seam wraps), up to the 12 largest that reach above
    ``min_elevation_deg`` (a sunlit ground full of clipped specks once crowded a
    one-pixel sun out), and per local maximum of
    the distance to the region's rim (in angle, rows scaled by cos(elevation);
    up to 3 per region, each at least 0.3 of the region's deepest): the
    peak's glare is the part of the region within twice its depth r of it, its
    core the pixels at least 0.7 r from the rim within r of it, its direction
    the core's solid-angle centroid (a sun with a round glare around it, even
    one merged with a clipped horizon band, sits in a peak of its own).
    Compactness = solid angle of the inscribed cap / solid angle of the
    glare (1 for a round blob, small for a band of bright sky).
    """
    from scipy import ndimage

    h, w = clip.shape
    mask = (np.asarray(clip) > 0.02) & (np.asarray(alpha) > 0.5)
    if not mask.any():
        return [], "nothing is clipped in the input, so there is no hidden sun to recover"
    omega = equirect_solid_angles(h, w)
    d = equirect_directions(h, w)
    lab = _label_wrap(mask)
    n = int(lab.max())
    sr = np.bincount(lab.ravel(), weights=omega.ravel(), minlength=n + 1)
    px_deg = 180.0 / h
    found: list[tuple[int, float, Candidate]] = []  # (rank of the peak in its region, score, candidate)
    reason = "no clipped region is compact and above the horizon"
    # the 12 largest regions that reach above ``min_elevation_deg`` (a sunlit ground speckled with clipped pixels
    # must not crowd a one-pixel sun out of the 12)
    from ..geometry.labels import region_max

    top_el = region_max(lab, _geometry(h, w)[2], n)
    order = [k for k in np.argsort(sr[1:])[::-1] + 1 if top_el[k] >= min_elevation_deg]
    for k in order[:12]:
        if sr[k] <= 0:  # merged across the seam into another label
            continue
        m = lab == k
        rows, cols = np.nonzero(m)
        # roll so the region's widest column gap lies at the seam, then crop with a margin
        uc = np.unique(cols)
        gaps = np.diff(np.concatenate([uc, uc[:1] + w]))
        shift = int(-(uc[(int(np.argmax(gaps)) + 1) % len(uc)]) + 3) % w
        mm = np.roll(m, shift, axis=1)
        rr, cc = np.nonzero(mm)
        y0, y1, x0, x1 = max(0, rr.min() - 2), min(h, rr.max() + 3), max(0, cc.min() - 2), min(w, cc.max() + 3)
        sub = _fill_specks(mm[y0:y1, x0:x1])
        el_rows = 90.0 - (np.arange(y0, y1) + 0.5) * px_deg
        c_el = float(np.median(el_rows[rr - y0]))
        xscale = max(np.cos(np.radians(c_el)), 0.05)
        dist = ndimage.distance_transform_edt(sub, sampling=(px_deg, px_deg * xscale))
        dmax = float(dist.max())
        # every local maximum of the distance to the rim is a possible sun: a round glare merged with a clipped
        # horizon band (a low sun) or with another bright patch keeps its own peak
        ridge = (dist >= ndimage.maximum_filter(dist, size=5)) & (dist >= 0.3 * dmax) & sub
        pl, npk = ndimage.label(ridge)
        peaks = [tuple(int(v) for v in q) for q in ndimage.maximum_position(dist, pl, range(1, npk + 1))] if npk else []
        peaks = sorted(peaks, key=lambda q: -dist[q])[:3]
        yy, xx = np.mgrid[0:y1 - y0, 0:x1 - x0]
        for rank, (py, px) in enumerate(peaks):
            r_p = float(dist[py, px])
            if r_p > MAX_GLARE_RADIUS_DEG:  # wider than that: a bright sky, a window, not a sun's glare
                continue
            dd = np.hypot((yy - py) * px_deg, (xx - px) * px_deg * xscale)
            local_sub = sub & (dd <= 2.0 * r_p + px_deg)  # this peak's glare (the whole blob when it is round)
            core_sub = local_sub & (dist >= 0.7 * r_p) & (dd <= r_p + px_deg)
            local, core = np.zeros_like(m), np.zeros_like(m)
            local[y0:y1, x0:x1], core[y0:y1, x0:x1] = local_sub, core_sub
            local, core = np.roll(local, -shift, axis=1), np.roll(core, -shift, axis=1)
            c = normalize(np.sum(d[core] * omega[core][:, None], axis=0))
            az, el = (float(v) for v in azimuth_elevation(c))
            if el < min_elevation_deg:
                continue
            r_in = np.radians(r_p + 0.5 * px_deg * xscale)  # + half a pixel: the edge lies between pixel centres
            cap = 2 * np.pi * (1 - np.cos(r_in))
            sr_local = float(np.sum(omega[local]))
            compact = float(min(1.0, cap / max(sr_local, 1e-12)))
            score = compact * np.sqrt(cap) * (0.2 + _smooth(el, -2.0, 4.0))  # clipped glints at the horizon are rarely the sun
            found.append((rank, float(score), Candidate(c, az, el, sr_local, compact, local, int(k), m)))
    if not found:
        return [], reason
    found.sort(key=lambda t: (t[0], -t[1]))  # every region's deepest peak before any region's second one
    return [c for _, _, c in found[:keep]], ""


def refine_direction(env: np.ndarray, clip: np.ndarray, alpha: np.ndarray, cand: Candidate,
                     band_deg: float = GLOW_BAND_DEG, max_trials: int = 600, core_only: float = 0.3,
                     min_band_el_deg: float = 3.0, min_gain: float = 0.3) -> tuple[Candidate, dict[str, Any]]:
    """Place the sun inside its clipped blob by the circumsolar glow around it.

    Near the sun the sky's log luminance falls about linearly with the log of
    the angle gamma to the sun, on top of a gradient with elevation (brighter
    towards the horizon).  On the seen, unclipped pixels within ``band_deg`` of
    the blob and above ``min_band_el_deg``, ``log Y = a - b log(gamma) + c
    elevation`` is fitted (least squares, solid-angle weights) for trial
    centres on the blob's core (at least ``core_only`` of its radius from its
    rim); the trial with the smallest residual and b >= MIN_GLOW_FALLOFF wins
    if it fits at least ``min_gain`` better than the blob's centroid (trial 0).
    The centroid (the candidate's direction) stays otherwise, and when fewer
    than 30 band pixels are seen.  Returns (candidate with the refined
    direction, facts for the report).  Choices measured on the training split
    (bench/sun_detection.py, bench/RESULTS.md).
    """
    from scipy import ndimage

    h, w = env.shape[:2]
    d, om, el = _geometry(h, w)
    blob = cand.mask
    if not blob.any():
        return cand, {}
    cosang = np.clip(d @ cand.direction, -1, 1)
    r_blob = float(np.degrees(np.arccos(cosang[blob].min())))
    clipped = ndimage.binary_dilation(np.asarray(clip) > 0.02, iterations=1)
    y = luminance(env).astype(np.float64)
    near = np.cos(np.radians(min(r_blob + band_deg, 90.0)))
    band = (cosang >= near) & ~clipped & (np.asarray(alpha) > 0.5) & (el > min_band_el_deg) & (y > 0)
    if int(band.sum()) < 30:
        return cand, {"refined": False, "why": "too little unclipped sky around the blob"}
    db, wb, eb, lb = d[band], om[band].astype(np.float64), el[band].astype(np.float64), np.log(y[band])
    if len(lb) > 6000:  # a fixed subset keeps it fast on big maps
        pick = np.random.default_rng(0).choice(len(lb), 6000, replace=False)
        db, wb, eb, lb = db[pick], wb[pick], eb[pick], lb[pick]
    trials = d[blob]
    if core_only > 0:  # only trial centres at least core_only x the blob radius from its rim
        cb = cosang[blob]
        ang_t = np.degrees(np.arccos(cb))
        trials = trials[ang_t <= (1.0 - core_only) * r_blob + 1e-9] if np.any(ang_t <= (1.0 - core_only) * r_blob) else trials[:0]
    if len(trials) > max_trials:
        trials = trials[np.random.default_rng(1).choice(len(trials), max_trials, replace=False)]
    trials = np.concatenate([cand.direction[None], trials])
    gam = np.degrees(np.arccos(np.clip(trials @ db.T, -1, 1)))  # (T, N)
    gam = np.log(np.maximum(gam, 0.1))
    # weighted normal equations of [1, -log gamma, el] per trial, batched
    ww = wb / wb.sum()
    s1, se, see = ww.sum(), ww @ eb, ww @ (eb * eb)
    sg, sgg, sge = gam @ ww, (gam * gam) @ ww, gam @ (ww * eb)
    sy, sgy, sey = ww @ lb, gam @ (ww * lb), ww @ (eb * lb)
    n = len(trials)
    A = np.empty((n, 3, 3))
    A[:, 0, 0], A[:, 0, 1], A[:, 0, 2] = s1, -sg, se
    A[:, 1, 0], A[:, 1, 1], A[:, 1, 2] = -sg, sgg, -sge
    A[:, 2, 0], A[:, 2, 1], A[:, 2, 2] = se, -sge, see
    rhs = np.stack([np.full(n, sy), -sgy, np.full(n, sey)], axis=1)
    try:
        coef = np.linalg.solve(A + 1e-9 * np.eye(3), rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return cand, {"refined": False, "why": "degenerate fit"}
    pred = coef[:, :1] - coef[:, 1:2] * gam + coef[:, 2:3] * eb[None, :]
    rss = ((pred - lb[None, :]) ** 2) @ ww
    rss = np.where(coef[:, 1] > MIN_GLOW_FALLOFF, rss, np.inf)  # a glow that falls off with the angle, not a sky gradient
    k = int(np.argmin(rss))
    if not np.isfinite(rss[k]):
        return cand, {"refined": False, "why": "the sky does not brighten towards the blob"}
    if k != 0 and np.isfinite(rss[0]) and rss[k] > (1.0 - min_gain) * rss[0]:
        k = 0  # not clearly better than the blob's centroid (trial 0)
    new = normalize(trials[k])
    az, el_k = (float(v) for v in azimuth_elevation(new))
    facts = {"refined": True, "moved_deg": angle_between_deg(new, cand.direction), "falloff_per_deg": float(coef[k, 1]),
             "residual_rms": float(np.sqrt(rss[k])), "band_pixels": int(band.sum())}
    return replace(cand, direction=new, azimuth_deg=az, elevation_deg=el_k), facts


#: The sun's own pixels inside a wide glare (:func:`find_disc`): a spot at most DISC_MAX_RADIUS_DEG in radius where
#: the photo's least bright channel stands out from its median over DISC_WINDOW_DEG around: clipped (>= 0.95 encoded)
#: where the surroundings' is under 0.8 (a hazy sun clipped in every channel inside a glow that clips only red), or
#: at least 0.25 and 40 % under it where the brightest channel is >= 0.9 (a sun redder than its own glow).  On the
#: training skies (stop 24, bench/haze_sun.py) it found 15 of 16 suns behind the haze bank's layers and 12 of 15
#: clear low suns, each within 0.3 deg, where the glare's centre was 3-11 deg off; the README sample's within 0.1.
DISC_MAX_RADIUS_DEG = 1.5
DISC_WINDOW_DEG = 4.0
DISC_PEAK = (0.95, 0.8)  # spot's least channel at least, surroundings' median under
DISC_DIP = (0.25, 0.6, 0.9)  # at least this under the surroundings' median, under this fraction of it, brightest channel
#: A disc smaller than a pixel (a 0.53 deg sun in a map 512 wide, 0.7 deg a pixel) is blended with its glow: no channel
#: clips with it, but its least bright one stands out: at least DISC_SPECK[0] x the surroundings' median and
#: DISC_SPECK[1] above it, the brightest channel at least DISC_SPECK[2], at most DISC_SPECK_MAX_PX pixels.  Chosen on
#: the training haze-layer skies at 512 wide: each sun not clipped in every channel reads 1.54-2.92x and 0.32-0.65
#: above its glow; the strongest other speck above the horizon in any training bank (coloured haze, low suns, main)
#: 0.68 of the threshold (1.4 and 0.15 let one through 22 deg from its sun).
DISC_SPECK = (1.5, 0.3, 0.9)
DISC_SPECK_MAX_PX = 4


def _speck_stands_out(lo: np.ndarray, spot: np.ndarray) -> bool:
    """A speck (:data:`DISC_SPECK`) is a sun's only if it is small and its least bright channel is DISC_SPECK[0] x the
    median of the pixels right around it too: sky pixels beside a dark building stand out from their 4 deg median (the
    building's) as much, but not from the sky beside them (a training low sun's JPEG at +0.5 EV: such a pair 9 deg from
    the sun, on the horizon, 1.33x its ring, took the sun; the training haze suns at 512 wide: 1.53-1.78x)."""
    from scipy import ndimage

    if int(spot.sum()) > DISC_SPECK_MAX_PX:
        return False
    ring = ndimage.binary_dilation(spot, structure=np.ones((3, 3))) & ~spot
    return float(lo[spot].mean()) >= DISC_SPECK[0] * float(np.median(lo[ring]))


def find_disc(ldr: np.ndarray, clip: np.ndarray, alpha: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, dict[str, Any]] | None:
    """Where the sun's own pixels show inside a wide clipped glare ``region`` (H, W bool), or None.

    ldr: (H, W, 3) the input's encoded pixels (0..1) in the map's geometry.  The glare of a low or hazy sun is
    clipped in its brightest channel far from the sun, so its shape places the sun poorly (3-17 deg off); the disc
    itself is a spot of at most :data:`DISC_MAX_RADIUS_DEG` whose least bright channel differs sharply from the
    glow's around it (:data:`DISC_PEAK`, :data:`DISC_DIP`), or a speck of a few pixels whose least bright channel
    stands well above the glow's where the disc is smaller than a pixel (:data:`DISC_SPECK`).  Returns (direction:
    the spot's centroid weighted by its contrast, facts for the report) of the most contrasted such spot (mean
    contrast x sqrt(pixels)) within 2 deg of ``region`` and above -1 deg elevation.
    """
    from scipy import ndimage

    h, w = clip.shape
    d, om, el = _geometry(h, w)
    px = 180.0 / h
    near = ndimage.binary_dilation(np.asarray(region, bool), iterations=max(1, int(round(2.0 / px))))
    near &= (np.asarray(alpha) > 0.5) & (el > -1.0)
    if not near.any():
        return None
    cols = near.any(axis=0)
    shift = 0
    if cols[0] and cols[-1] and not cols.all():  # the glare straddles the seam: roll it into one piece
        shift = -int(np.argmin(cols))
    lo_ch = np.roll(np.min(ldr, axis=-1), shift, 1)
    hi_ch = np.roll(np.max(ldr, axis=-1), shift, 1)
    nr = np.roll(near, shift, 1)
    rows, cs = np.where(nr.any(1))[0], np.where(nr.any(0))[0]
    pad = int(np.ceil(DISC_WINDOW_DEG / px))
    r0, r1 = max(int(rows.min()) - pad, 0), min(int(rows.max()) + pad + 1, h)
    c0, c1 = max(int(cs.min()) - pad, 0), min(int(cs.max()) + pad + 1, w)
    sub = lo_ch[r0:r1, c0:c1].astype(np.float64)
    win = max(5, int(round(DISC_WINDOW_DEG / px)) | 1)
    k = max(1, win // 7)  # a wide window's median on a k x k block-averaged grid (cost bounded on big maps)
    if k > 1:
        hh, ww = -(-sub.shape[0] // k) * k, -(-sub.shape[1] // k) * k
        blocks = np.pad(sub, ((0, hh - sub.shape[0]), (0, ww - sub.shape[1])), mode="edge")
        blocks = blocks.reshape(hh // k, k, ww // k, k).mean(axis=(1, 3))
        bg = ndimage.median_filter(blocks, size=max(3, (win // k) | 1), mode="nearest")
        bg = np.repeat(np.repeat(bg, k, axis=0), k, axis=1)[: sub.shape[0], : sub.shape[1]]
    else:
        bg = ndimage.median_filter(sub, size=win, mode="nearest")
    inside = nr[r0:r1, c0:c1]
    # a peak is a whole clipped spot (its size judged whole: a wide clipped blob's edges also stand out from their
    # median) with some of it over a darker glow; a dip stands out from the glow everywhere
    peak = (sub >= DISC_PEAK[0]) & inside
    dip = (hi_ch[r0:r1, c0:c1] >= DISC_DIP[2]) & (bg - sub > DISC_DIP[0]) & (sub < DISC_DIP[1] * bg) & inside
    speck = ((hi_ch[r0:r1, c0:c1] >= DISC_SPECK[2]) & (sub >= DISC_SPECK[0] * bg) & (sub - bg >= DISC_SPECK[1])
             & inside & ~peak)
    oms = np.roll(om, shift, 1)[r0:r1, c0:c1]
    contrast = np.abs(bg - sub)
    max_sr = np.pi * np.radians(DISC_MAX_RADIUS_DEG) ** 2
    best = None
    for mask, kind in ((peak, "peak"), (dip, "dip"), (speck, "speck")):
        lab, _ = ndimage.label(mask, structure=np.ones((3, 3)))
        for label, sl in enumerate(ndimage.find_objects(lab), start=1):
            mk = lab[sl] == label
            if (float(oms[sl][mk].sum()) > max_sr or (kind == "peak" and not np.any(bg[sl][mk] < DISC_PEAK[1]))
                    or (kind == "speck" and not _speck_stands_out(sub, lab == label))):
                continue
            score = float(contrast[sl][mk].mean()) * float(np.sqrt(mk.sum()))
            if best is None or score > best[0]:
                spot = np.zeros(sub.shape, bool)
                spot[sl] = mk
                best = (score, spot, kind)
    if best is None:
        return None
    wts = np.zeros((h, w))
    spot = best[1]
    wts[r0:r1, c0:c1][spot] = contrast[spot]
    wts = np.roll(wts, -shift, 1) * om
    direction = normalize((d * wts[..., None]).reshape(-1, 3).sum(axis=0))
    kind = {"peak": "clipped in every channel", "dip": "its least bright channel under the glow's",
            "speck": "its least bright channel over the glow's (a disc smaller than a pixel)"}[best[2]]
    return direction, {"pixels": int(spot.sum()), "score": best[0], "spot": kind}


# ----------------------------------------------------------------------------
# Sky fit


@dataclass
class SkyFit:
    scale: float  # map luminance / table luminance
    family: str  # the sky model that fits best (SkyTable.family)
    params: dict[str, float]  # its parameters (air / aerosol density, turbidity)
    spread: float  # median absolute deviation of the log ratio (natural log)
    sky_fraction: float  # usable sky solid angle / 2 pi
    sun_irradiance_rgb: np.ndarray  # map units x sr, white balance of the map
    sky_rgb: np.ndarray  # mean colour of the fitted sky pixels
    n_pixels: int
    log_sky: np.ndarray | None = None  # (32, 64) the fitted entry's log luminance (table units)
    spreads: dict[str, float] = field(default_factory=dict)  # the best spread of every sky model
    ab: tuple[float, float] = (0.0, 0.0)  # the entry's fractional node indices in its table (SkyTable.params)
    weights: dict[str, float] = field(default_factory=dict)  # each sky model's share of the sun estimate

    def model_luminance(self, el_deg: np.ndarray, relaz_deg: np.ndarray) -> np.ndarray:
        """The fitted sky's luminance (map units) at elevations / azimuths relative to the sun (deg)."""
        return self.scale * np.exp(_sample_model(self.log_sky, np.maximum(el_deg, 0.0), relaz_deg))

    def describe(self) -> str:
        ps = ", ".join(f"{k.replace('_density', '')} {v:.3g}" for k, v in self.params.items())
        return f"{FAMILY_LABELS.get(self.family, self.family)}" + (f" ({ps})" if ps else "")


def sky_pixels(env: np.ndarray, alpha: np.ndarray, clip: np.ndarray, sun_dir: np.ndarray,
               min_sun_deg: float = 8.0, min_el_deg: float = 2.0) -> np.ndarray:
    """(H, W) bool: seen, unclipped (2 px margin), above ``min_el_deg``, at least ``min_sun_deg`` from the sun."""
    from scipy import ndimage

    h, w = env.shape[:2]
    d, _, el = _geometry(h, w)
    clipped = ndimage.binary_dilation(np.asarray(clip) > 0.01, iterations=2)
    ang = np.degrees(np.arccos(np.clip(d @ normalize(sun_dir), -1, 1)))
    return (np.asarray(alpha) > 0.5) & ~clipped & (el >= min_el_deg) & (ang >= min_sun_deg) & (luminance(env) > 0)


def _lerp2(arr: np.ndarray, a: float, b: float) -> np.ndarray:
    """Bilinear interpolation of ``arr`` (A, B, ...) at fractional node indices (a, b)."""
    na, nb = arr.shape[:2]
    a0, b0 = (min(int(a), na - 2) if na > 1 else 0), (min(int(b), nb - 2) if nb > 1 else 0)
    ta, tb = a - a0, b - b0
    a1, b1 = min(a0 + 1, na - 1), min(b0 + 1, nb - 1)
    return ((1 - ta) * (1 - tb) * arr[a0, b0] + (1 - ta) * tb * arr[a0, b1]
            + ta * (1 - tb) * arr[a1, b0] + ta * tb * arr[a1, b1])


def _median_sorted(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per row of ``v`` (sorted ascending along axis 1), the median of ``v[k, lo[k]:hi[k]]`` (np.median's)."""
    n = hi - lo
    rows = np.arange(v.shape[0])
    i0 = lo + np.maximum(n - 1, 0) // 2
    i1 = lo + n // 2
    return 0.5 * (v[rows, np.minimum(i0, v.shape[1] - 1)] + v[rows, np.minimum(i1, v.shape[1] - 1)])


@lru_cache(maxsize=16)
def _entry_stack(family: str, steps: int) -> tuple[np.ndarray, tuple[tuple[float, float], ...]]:
    """(every elevation's entries (E, K, 32, 64), their fractional node indices (a, b)) of one sky model: its nodes
    and ``steps`` - 1 points between neighbours (bilinear in node index: log-spaced parameters)."""
    tab = sky_table(family)
    na, nb = tab.log_sky.shape[1:3]
    ab = tuple((float(a), float(b)) for a in np.linspace(0, na - 1, steps * (na - 1) + 1)
               for b in np.linspace(0, nb - 1, steps * (nb - 1) + 1))
    stack = np.stack([np.stack([_lerp2(tab.log_sky[ie], a, b) for a, b in ab]) for ie in range(len(tab.elevations_deg))])
    stack.setflags(write=False)
    return stack, ab


def _best_entry(logy: np.ndarray, el: np.ndarray, relaz: np.ndarray, sun_el: float,
                families: tuple[str, ...] | None = None, steps: int = 4) -> tuple[float, SkyTable, float, float] | None:
    """(spread, table, a, b) of the entry of every sky model (its nodes and ``steps`` - 1 points between neighbours,
    bilinear in node index: log-spaced parameters) at the sun's elevation whose log luminance, shifted by the robust
    median of its residual, fits ``logy`` with the smallest spread (median absolute deviation).  Pixels more than 0.7
    below the median residual are dropped (occluders: buildings, trees are darker than the sky behind them)."""
    stacks, owners = [], []
    for tab in sky_tables():
        if families is not None and tab.family not in families:
            continue
        stack, ab = _entry_stack(tab.family, steps)
        stacks.append(stack)
        owners += [(tab, a, b) for a, b in ab]
    if not stacks or len(logy) < 20:
        return None
    els = sky_tables()[0].elevations_deg
    e = float(np.clip(sun_el, els[0], els[-1]))
    i = int(np.clip(np.searchsorted(els, e) - 1, 0, len(els) - 2))
    t = (e - els[i]) / (els[i + 1] - els[i])
    entries = np.concatenate([(1 - t) * st[i] + t * st[i + 1] for st in stacks])  # (K, 32, 64) at the elevation
    rows = np.arange(len(entries))
    if len(entries) > SCREEN_ROWS and len(logy) >= 2 * SCREEN_PIXELS:
        # screen every entry on a stride of the pixels (a random subset already), fit the best few on all of them
        st = max(2, len(logy) // SCREEN_PIXELS)
        approx = _robust_spread(logy[None, ::st] - _sample_model(entries, el[::st], relaz[::st]))
        rows = np.sort(np.argsort(approx, kind="stable")[:SCREEN_ROWS])
    spread = _robust_spread(logy[None, :] - _sample_model(entries[rows], el, relaz))
    k = int(np.argmin(spread))
    return (float(spread[k]),) + owners[int(rows[k])]


#: :func:`_best_entry` on many pixels (a full sky fit: 8,000) screens every entry on about this many of them ...
SCREEN_PIXELS = 2000
#: ... and fits this many of the best-screened entries on all (bench/envmap_sun.py's 30 maps, 1,559 fits: 4 picked
#: another entry than fitting every entry on every pixel would, each within 2 % of its spread).
SCREEN_ROWS = 16


def _robust_spread(res: np.ndarray) -> np.ndarray:
    """Per row of residuals ``res`` (K, N): the median absolute deviation about the median, both over the pixels at
    most 0.7 below the first median (occluders are darker than the sky behind them; :func:`_best_entry`)."""
    r = np.sort(res, axis=1)
    n = r.shape[1]
    s = _median_sorted(r, np.zeros(len(r), int), np.full(len(r), n))
    lo = np.array([np.searchsorted(row, v - 0.7, side="right") for row, v in zip(r, s)])
    s = _median_sorted(r, lo, np.full(len(r), n))
    dev = np.abs(r - s[:, None])
    dev[np.arange(n)[None, :] < lo[:, None]] = np.inf
    return _median_sorted(np.sort(dev, axis=1), np.zeros(len(r), int), n - lo)


def fit_sky(env: np.ndarray, use: np.ndarray, sun_dir: np.ndarray, max_pixels: int = 8000,
            families: tuple[str, ...] | None = None) -> SkyFit | None:
    """Fit every entry of every sky model of the table (or of ``families``) at the sun's elevation to the map's
    ``use`` pixels; the entry with the smallest spread wins (module doc)."""
    h, w = env.shape[:2]
    if int(use.sum()) < 20:
        return None
    d = equirect_directions(h, w)[use]
    omega = equirect_solid_angles(h, w)[use]
    az, el = azimuth_elevation(d)
    saz, sel = (float(v) for v in azimuth_elevation(sun_dir))
    relaz = (az - saz + 180.0) % 360.0 - 180.0
    y = luminance(env[use]).astype(np.float64)
    logy = np.log(np.maximum(y, 1e-12))
    if len(logy) > max_pixels:  # a fixed random subset keeps the fit fast on big maps
        pick = np.random.default_rng(0).choice(len(logy), max_pixels, replace=False)
        el_f, relaz_f, logy_f = el[pick], relaz[pick], logy[pick]
    else:
        el_f, relaz_f, logy_f = el, relaz, logy
    per: list[tuple[float, SkyTable, float, float]] = []
    for tab in sky_tables():
        if families is not None and tab.family not in families:
            continue
        got = _best_entry(logy_f, el_f, relaz_f, sel, (tab.family,))
        if got is not None:
            per.append(got)
    if not per:
        return None

    def finish(tab: SkyTable, a: float, b: float) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(scale, entry, keep, sky_rgb, sun_rgb) of one entry: its robust scale on every ``use`` pixel and its sun
        in the map's units and white balance."""
        log_sky, sun_irr, sky_h = tab.at(sel)
        entry = _lerp2(log_sky, a, b)
        r = logy - _sample_model(entry, el, relaz)
        s = float(np.median(r))
        keep = r > s - 0.7
        scale = float(np.exp(np.median(r[keep])))
        wts = (omega * np.clip(np.sin(np.radians(el)), 0, None))[keep]
        sky_rgb = np.sum(env[use][keep].astype(np.float64) * wts[:, None], axis=0) / max(float(wts.sum()), 1e-30)
        sun_node = np.exp(_lerp2(np.log(np.maximum(sun_irr, 1e-12)), a, b))
        model_rgb = np.exp(_lerp2(np.log(np.maximum(sky_h, 1e-12)), a, b))
        wb = (sky_rgb / max(float(sky_rgb @ LUMA_709), 1e-30)) / (model_rgb / max(float(model_rgb @ LUMA_709), 1e-30))
        sun_rgb = sun_node * np.clip(wb, 0.5, 2.0)
        sun_rgb = sun_rgb * (float(sun_node @ LUMA_709) * scale / max(float(sun_rgb @ LUMA_709), 1e-30))
        return scale, entry, keep, sky_rgb, sun_rgb

    spreads = {t.family: sp for sp, t, _, _ in per}
    s_min = min(spreads.values())
    # every sky model's sun, weighted by how much worse than the best one it fits (module doc, step 2)
    weights = {t.family: float(np.exp(-(sp / max(s_min, 1e-6) - 1.0) / MODEL_AVERAGE_TAU)) for sp, t, _, _ in per}
    spread, tab, a, b = min(per, key=lambda g: g[0])
    scale, entry, keep, sky_rgb, sun_rgb = finish(tab, a, b)
    if len(per) > 1 and sum(weights.values()) > 1.0 + 1e-6:
        logs, wsum = np.zeros(3), 0.0
        for sp, t, fa, fb in per:
            wgt = weights[t.family]
            if wgt < 1e-3:
                continue
            sun_t = sun_rgb if t is tab else finish(t, fa, fb)[4]  # the best model's is already finished
            logs += wgt * np.log(np.maximum(sun_t, 1e-30))
            wsum += wgt
        sun_rgb = np.exp(logs / wsum)
    wsum = sum(weights.values())
    return SkyFit(scale=scale, family=tab.family, params=tab.params(a, b), spread=spread,
                  sky_fraction=float(np.sum(omega[keep]) / (2 * np.pi)), sun_irradiance_rgb=sun_rgb,
                  sky_rgb=sky_rgb, n_pixels=int(keep.sum()), log_sky=entry, spreads=spreads, ab=(a, b),
                  weights={k: v / wsum for k, v in weights.items()})


#: The sun is a weighted geometric mean of every sky model's, weight exp(-(spread / best spread - 1) / TAU): a model
#: that fits the seen sky clearly best decides alone; where the models fit about equally (real skies with haze and
#: clouds) their suns are averaged.  A hedge, and it costs on the training skies (suns within 0.8-1.25x of the truth
#: at the true place: TAU 0.02 93 %, 0.1 90 %, 0.25 89 %, 0.5 80 %; bench/RESULTS.md, stop 12), where two models
#: sometimes fit nearly as well; on Blender's real sunrise sky (no truth: its disc is saturated) the best model
#: alone (Preetham, turbidity 2.1) implies a beam/diffuse ratio of 15-17, exceptionally clear air (Linke turbidity
#: ~2.3), the average 9-10 (turbidity ~3, a typical clear morning).
MODEL_AVERAGE_TAU = 0.25
#: A clipped blob at least this wide (inscribed radius, deg) is searched for the sun's place by the sky fit
#: (:func:`place_by_sky_fit`); in a smaller one its centroid is as good.
SKY_FIT_PLACE_MIN_RADIUS_DEG = 2.0
#: ... and only where a clear-sky model explains the seen sky there (best spread at most this, natural log): 0.007-0.02
#: at the training skies' suns the search moved towards, 0.038 at the best place on Blender's real sunrise sky
#: (9 deg from its sun, which the glow fit had right; the place of the smallest spread is noise on a hazy, cloudy
#: real sky).
SKY_FIT_PLACE_MAX_SPREAD = 0.025


class _SkySample:
    """A fixed random subset (``max_pixels``) of the map's seen, unclipped (2 px margin) sky pixels above 2 deg, and
    how well the clear-sky models explain it with the sun at a given place (:meth:`spread_at`)."""

    def __init__(self, env: np.ndarray, clip: np.ndarray, alpha: np.ndarray, max_pixels: int = 1500, seed: int = 2):
        from scipy import ndimage

        h, w = env.shape[:2]
        d, _, el = _geometry(h, w)
        clipped = ndimage.binary_dilation(np.asarray(clip) > 0.01, iterations=2)
        y = luminance(env)
        idx = np.flatnonzero(((np.asarray(alpha) > 0.5) & ~clipped & (el >= 2.0) & (y > 0)).ravel())
        rng = np.random.default_rng(seed)
        self.ok = len(idx) >= 100
        if len(idx) > max_pixels:
            idx = rng.choice(idx, max_pixels, replace=False)
        self._rng_state = rng.bit_generator.state  # where the subset's draw left the generator
        self.d = d.reshape(-1, 3)[idx]
        self.az, self.el = azimuth_elevation(self.d)
        self.logy = np.log(np.maximum(y.ravel()[idx].astype(np.float64), 1e-12))

    def rng(self) -> np.random.Generator:
        """A generator continuing from the subset's draw, the same on every call (each candidate's trials)."""
        g = np.random.default_rng()
        g.bit_generator.state = self._rng_state
        return g

    def spread_at(self, p: np.ndarray, steps: int = 2) -> float:
        """The best spread of every sky model's table nodes (``steps`` - 1 points between) fitted to the sample's
        pixels at least 8 deg from a sun at ``p`` (:func:`_best_entry`); inf when too few."""
        far = self.d @ p < np.cos(np.radians(8.0))
        if far.sum() < 50:
            return np.inf
        saz, sel = (float(v) for v in azimuth_elevation(p))
        got = _best_entry(self.logy[far], self.el[far], (self.az[far] - saz + 180.0) % 360.0 - 180.0, sel, steps=steps)
        return got[0] if got is not None else np.inf


#: Sun candidates assessed in full (:func:`_assess`, a sky fit each) ...
ASSESSED_CANDIDATES = 4
#: ... of this many found (:func:`find_candidates`): the best-shaped one, then those where a clear sky with the sun
#: there explains the seen sky best (:func:`screen_candidates`).
SCREENED_CANDIDATES = 12


def screen_candidates(sample: _SkySample, cands: list[Candidate],
                      keep: int = ASSESSED_CANDIDATES) -> tuple[list[Candidate], dict[str, Any]]:
    """At most ``keep`` of ``cands`` (best shape first, :func:`find_candidates`): the first, then the rest by how well
    a clear sky with its sun at each explains the seen sky (:class:`_SkySample`, a quick fit on 1500 pixels).  A
    sunlit facade or a glint clips as round a blob as the sun, and a scene can hold many; the sky knows where its
    sun is.  Returns (candidates, facts for the report)."""
    if len(cands) <= keep:
        return cands, {}
    if not sample.ok:
        return cands[:keep], {"screened": len(cands), "why": "too little unclipped sky: the best-shaped ones kept"}
    spreads = [sample.spread_at(normalize(c.direction)) for c in cands]
    rest = sorted(range(1, len(cands)), key=lambda i: spreads[i])[:keep - 1]
    return [cands[0]] + [cands[i] for i in rest], {"screened": len(cands), "spreads": [float(v) for v in spreads]}


def place_by_sky_fit(env: np.ndarray, clip: np.ndarray, alpha: np.ndarray, cand: Candidate,
                     trials: int = 24, fine: int = 16, min_gain: float = 0.2, steps: int = 2,
                     sample: _SkySample | None = None) -> tuple[Candidate, dict[str, Any]]:
    """Place the sun inside a wide clipped glare where the clear-sky models fit the seen sky best.

    A clipped glare is the part of the sky brighter than LDR white: its rim is an isophote of the sky, which for a
    low sun or a hazy sky is far from centred on the sun.  But the sky model of the right sun position explains
    the unclipped sky best: for trial positions on the blob (``trials`` spread over it, then ``fine`` within 3 deg
    of the best) every sky model's table nodes are fitted (:class:`_SkySample`) to a fixed subset of the seen,
    unclipped sky pixels above 2 deg and at least 8 deg from the trial; the trial with the smallest spread wins if
    it is at least ``min_gain`` better than the candidate's own place (the glow fit's, :func:`refine_direction`)
    and at most :data:`SKY_FIT_PLACE_MAX_SPREAD`.  Measured
    on the training split (bench/sun_detection.py).  Returns (candidate, facts for the report).
    """
    h, w = env.shape[:2]
    d = _geometry(h, w)[0]
    sample = _SkySample(env, clip, alpha) if sample is None else sample  # the map's, shared by its candidates
    if not sample.ok:
        return cand, {"moved": False, "why": "too little unclipped sky"}
    rng = sample.rng()

    def spread_at(p: np.ndarray) -> float:
        return sample.spread_at(p, steps)

    blob_dirs = d[cand.mask]
    if len(blob_dirs) > trials:
        blob_dirs = blob_dirs[rng.choice(len(blob_dirs), trials, replace=False)]
    start = normalize(cand.direction)
    tried = [start] + list(blob_dirs)
    scores = [spread_at(p) for p in tried]
    k = int(np.argmin(scores))
    near = d[cand.mask][(d[cand.mask] @ tried[k]) >= np.cos(np.radians(3.0))]
    if len(near) > fine:
        near = near[rng.choice(len(near), fine, replace=False)]
    for p in near:
        tried.append(p)
        scores.append(spread_at(p))
    k = int(np.argmin(scores))
    facts = {"spread_at_start": float(scores[0]), "spread_best": float(scores[k]), "trials": len(tried)}
    if (not np.isfinite(scores[k]) or k == 0 or scores[k] > (1.0 - min_gain) * scores[0]
            or scores[k] > SKY_FIT_PLACE_MAX_SPREAD):
        facts["moved"] = False
        return cand, facts
    new = normalize(tried[k])
    az, el_k = (float(v) for v in azimuth_elevation(new))
    facts.update(moved=True, moved_deg=angle_between_deg(new, start))
    return replace(cand, direction=new, azimuth_deg=az, elevation_deg=el_k), facts


# ----------------------------------------------------------------------------
# Disc


def sun_disc_weights(h: int, w: int, direction: np.ndarray, diameter_deg: float = SUN_DIAMETER_DEG) -> np.ndarray:
    """(H, W) fraction of each pixel's solid angle covered by the disc (see lighting.sun_disk_weights)."""
    from .lighting import sun_disk_weights

    return sun_disk_weights(h, w, direction, diameter_deg)


def remove_blob(env: np.ndarray, blob: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Replace the pixels of ``blob`` (dilated by one pixel) with a pull-push fill from their surroundings (any number
    of channels; ``weight`` (H, W), default 1, says how much each pixel outside the blob counts)."""
    from scipy import ndimage

    from .fill import pull_push

    hole = ndimage.binary_dilation(blob, iterations=1)
    if not hole.any():
        return env.copy()
    ys, xs = np.nonzero(hole)
    h, w = hole.shape
    # work on a window around the blob (columns wrap) to keep this cheap
    pad = max(8, int(0.1 * h))
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
    cols = np.unique(np.concatenate([np.arange(x - pad, x + pad + 1) % w for x in np.unique(xs)]))
    if len(cols) > w // 2:
        cols = np.arange(w)
    sub = env[y0:y1][:, cols].astype(np.float64)
    wt = (~hole[y0:y1][:, cols]).astype(np.float64)
    if weight is not None:
        wt = wt * np.asarray(weight)[y0:y1][:, cols]
    filled = pull_push(sub, wt)
    out = env.copy()
    blk = out[y0:y1]
    blk[:, cols] = np.where(hole[y0:y1][:, cols, None], filled, sub)
    out[y0:y1] = blk
    return out


#: :func:`fill_glare`: the sky band around a glare whose colour trend with the angle to the sun is continued inside
#: is 0.15 x the square root of the glare's area, 3 px .. GLARE_BAND of the map's width; inside, each log chroma
#: ratio moves at most GLARE_MAX_CHROMA_SHIFT from the rim's fill, and the trend is read no closer to the sun than
#: GLARE_MIN_ANGLE_DEG.
GLARE_BAND = 0.02
GLARE_BAND_AREA = 0.15
#: The colour trend is fitted over GLARE_COLOUR_BAND x that band (the trend in the angle to the sun needs the band's
#: reach: 1x, stop 15-20, read a weak trend from sky at nearly one angle; 2x chosen among 1, 2, 3 and 6 on the training
#: sky banks, bench/RESULTS.md stop 21; 3x with the square-root trend, among 2, 3, 4 and 6, stop 25).
GLARE_COLOUR_BAND = 3.0
#: Rim pixels lower than the sun do not anchor the fill (0 at the sun's elevation, 1 from GLARE_RIM_ABOVE_SUN_DEG
#: above it): a low sun's glare meets the horizon's haze band or the ground's silhouette under the sun, where the sky
#: does not fade but is cut off (chosen on the training sky banks among cuts from 1 deg below to 3 deg above).
GLARE_RIM_ABOVE_SUN_DEG = 1.0
#: In a glare pixel with a clipped channel, the trend's largest channel at GLARE_NEAR_CLIP (linear, the sRGB code 0.9)
#: and above is a lower bound, not a measurement, and in the pixels a glare encloses every channel there takes the
#: glare's value around it: JPEG's shared chroma pulls the channels of a saturated light a few codes under the clip
#: (the README sample's sun: 240, 249, 48 and 250, 255, 91 where the truth's red is 5x its green; kept as measured,
#: they were green dots in an orange glow).  Every near-white channel as a lower bound (tried) was worse on the
#: training sky banks (low-sun b/r 0.118 -> 0.133, log Y 0.119 -> 0.141); the largest alone better (0.114, 0.118).
GLARE_NEAR_CLIP = float(srgb_to_linear(np.float64(0.9)))
#: Inside a glare each clipped channel rises from its clip level over GLARE_CHANNEL_RAMP of the map's width from the
#: glare's partly clipped pixels that measured it: the README sample's warm band keeps its measured blue, the dome
#: above took the trend's blue in one step, a B/G edge (99th percentile 0.32, truth 0.03; 0.06 with the ramp).
GLARE_CHANNEL_RAMP = 0.01
GLARE_MAX_CHROMA_SHIFT = float(np.log(2.0))
GLARE_MIN_ANGLE_DEG = 1.0
#: The glare's luminance trend (:func:`fill_glare`) is read over a band GLARE_LUMINANCE_BAND times the colour band's
#: base width and raises a pixel to at most GLARE_LUMINANCE_GAIN x the rim's luminance filled in (chosen on the
#: training sky banks among gains 2 and 4 and a rise relative to the reconstruction, bench/RESULTS.md stop 18; 3 among
#: 2, 3, 4, 8 with the square-root trend, stop 25).
GLARE_LUMINANCE_GAIN = 3.0
GLARE_LUMINANCE_BAND = 6.0
#: Where a glare pixel's green clipped, its clipped channels are at least the clip level at the trend's colour: the
#: pixel rises by up to GLARE_CLIP_LIFT (its hue kept) before a channel still under the clip level is raised alone
#: (which whitened it: a clipped blue under a warm trend turned the glow lavender); 2 and 3 alike on the training
#: banks (stop 25).
GLARE_CLIP_LIFT = 2.0
#: A map channel below this fraction of LDR white was measured, not clipped: the linear value (0.978) of the 8-bit
#: code :data:`singlehdr.infer.highlights.SATURATED`, 252.5 / 255, through the sRGB curve.
MEASURED_BELOW = float(srgb_to_linear(np.float64(SATURATED)))


def _wide_glare(cand: Candidate) -> bool:
    """A glare wider than the sun's own pixels (inscribed radius >= :data:`SKY_FIT_PLACE_MIN_RADIUS_DEG`)."""
    return cand.solid_angle_sr * cand.compactness >= disc_solid_angle(2.0 * SKY_FIT_PLACE_MIN_RADIUS_DEG)


def fill_glare(env: np.ndarray, blob: np.ndarray, alpha: np.ndarray, sun_dir: np.ndarray, white: float | None = None) -> np.ndarray:
    """``env`` with the colour of the clipped glare ``blob`` around a sun continued from the sky around it.

    A reconstruction knows nothing of the colour inside a wide clipped glow: it takes the rim's and fades it to white
    (the README sample's sunset glow: a pale lavender dome, where the truth warms steadily towards the sun; the sky just
    outside the glare shows that trend).  Over the seen sky band around the glare (pixels below the horizon or darker
    than the band's median by e^-0.7, buildings or trees against the glow, do not count) the log chroma ratios (R/G,
    B/G) are fitted by least squares as planes in the square root of the angle to the sun (a circumsolar glow is round
    about the sun; its log until stop 24) and the log of the elevation (the horizon's own whitening: in the angle alone
    a low sun's glare band along the horizon read bluer towards the sun, and the fill was worse than the
    reconstruction's on most low-sun training glares; bench/glare_colour.py); the band reaches :data:`GLARE_COLOUR_BAND`
    x its base width from the glare (stop 21: the base band around the README sample's dome spans sky 36-54 deg from the
    sun, where the colour hardly changes with the angle, and read a slope a third of the truth's); inside the glare
    (dilated by one pixel) each is that plane plus the pull-push fill (:func:`remove_blob`) of its residual on the
    glare's rim, so the colour meets the rim with no step, and moves at most :data:`GLARE_MAX_CHROMA_SHIFT` from the
    rim's fill. Only the rim above the sun anchors that fill (:data:`GLARE_RIM_ABOVE_SUN_DEG`): under a low sun the
    glare meets the horizon's haze band or a skyline, where it is cut off rather than fading, and those nearest rim
    pixels held the README sample's glow at the reconstruction's flat level next to the sun (1.05x white there, truth
    2x). The luminance is at least the reconstruction's; where the sky brightens towards the sun (log luminance fitted
    the same way over a band :data:`GLARE_LUMINANCE_BAND` times as wide: the colour band is an isophote, about LDR
    white, and shows no trend), that plane plus the fill of its residual from the rim, at most
    :data:`GLARE_LUMINANCE_GAIN` x the rim's luminance filled in (a clear sky's glare brightens towards the sun where
    the reconstruction is a plateau: log luminance error on the training banks' wide glares low-sun 0.16 -> 0.12, hazy
    0.20 -> 0.19, main 0.11 -> 0.10; bench/glare_colour.py, stop 18); the measured channels below stay.  With ``white``
    (the map value of LDR white) the colour must also agree with the photo: a channel below the clip level
    (:data:`MEASURED_BELOW` x white) was measured and keeps its value (the reconstruction kept it:
    ``highlight_keep_measured``; around a setting sun blue is often still measured inside the glow while red and green
    clip), a clipped one is at least the clip level; where green was measured, a clipped red or blue is green times the
    trend's ratio to it (the trend is a ratio to green, and green carries 72 % of the luminance); where green clipped
    too, the clipped channels take the trend's colour at the trend's luminance, raised by up to :data:`GLARE_CLIP_LIFT`
    until each is at least the clip level (the hue kept: a clipped blue raised alone under a warm trend whitened the
    README sample's dome).  A few codes under the clip a channel is not a measurement (:data:`GLARE_NEAR_CLIP`: JPEG's
    shared chroma): the trend's largest channel there is a lower bound, and the specks the glare encloses take the
    glare's value around them.  Each clipped channel rises from its clip level over :data:`GLARE_CHANNEL_RAMP` from the
    glare's own pixels that measured it (where a low sun's warm band keeps its measured blue and the dome above it
    clips, blue does not jump to the trend's).  On the hazy training bank's wide glares (log(B/R) / log(G/R) / log
    luminance error) the trend recolouring every channel gave 1.35 / 0.16 / 0.29, worse than the reconstruction's 0.75 /
    0.48 / 0.29 in B/R on 17 of 28; keeping the measured channels 0.48 / 0.24 / 0.23; with green's level 0.42 / 0.17 /
    0.20 (better on 26, worse on none); levelling by whichever measured channel implies the most light (blue, 7 % of the
    luminance, amplified the trend's errors) 0.94 / 0.85 / 0.76 (bench/glare_colour.py, stop 16).  The square root of
    the angle for the log, a gain of 3 for 2, a colour band 3x for 2x and the lift (stop 25) took
    bench/glare_colour.py's training banks (main / low-sun / hazy) from 0.120 / 0.118 / 0.329 to 0.098 / 0.110 / 0.290
    in B/R and from 0.087 / 0.114 / 0.148 to 0.067 / 0.092 / 0.103 in luminance (bench/RESULTS.md, stop 25). Outside the
    glare nothing changes, nor below the horizon (a sun's glitter on water is not the sky's colour); with too little sky
    around it, the glare stays the reconstruction's."""
    from scipy import ndimage

    if white is not None and white > 0:
        # the specks it encloses are part of it: their near-white channels take the glare's around them
        filled_blob = _fill_specks(np.asarray(blob, bool))
        specks = filled_blob & ~np.asarray(blob, bool)
        if specks.any():
            near = specks[..., None] & (env >= GLARE_NEAR_CLIP * float(white))
            env = np.where(near, remove_blob(env, specks, weight=np.asarray(blob, np.float64)), env)
        blob = filled_blob
    hole = ndimage.binary_dilation(blob, iterations=1)
    if not hole.any():
        return env.copy()
    h, w = env.shape[:2]
    d, _, el = _geometry(h, w)
    x = np.maximum(env.astype(np.float64), 1e-9)
    y = luminance(env).astype(np.float64)
    q = np.stack([np.log(x[..., 0] / x[..., 1]), np.log(x[..., 2] / x[..., 1])], axis=-1)
    shift = 0 if not hole[:, 0].any() else int(w // 2)  # roll the seam away from the glare
    d_out = np.roll(ndimage.distance_transform_edt(~np.roll(hole, shift, axis=1)), -shift, axis=1)
    band_px = float(np.clip(GLARE_BAND_AREA * np.sqrt(hole.sum()), 3.0, max(3.0, GLARE_BAND * w)))
    ly = np.log(np.maximum(y, 1e-9))

    def sky_band(width_px: float) -> np.ndarray:
        """Seen sky pixels within ``width_px`` of the glare, not darker than their median by e^-0.7."""
        m = ~hole & (d_out <= width_px) & (np.asarray(alpha) > 0.5) & (el >= 0.0) & (y > 0)
        if m.sum() >= 8:
            m &= ly > float(np.median(ly[m])) - 0.7
        return m

    band = sky_band(GLARE_COLOUR_BAND * band_px)
    rim = band & (d_out <= 2.0)
    if band.sum() < 8 or rim.sum() < 8:
        return env.copy()
    # the rim pixels that anchor the fill: those above the sun (below it a low sun's glare is cut off, not fading)
    rim_w = rim * _step(el - float(azimuth_elevation(normalize(sun_dir))[1]), 0.0, GLARE_RIM_ABOVE_SUN_DEG)
    if rim_w.sum() < 8:
        rim_w = rim.astype(np.float64)
    # the trend in the square root of the angle to the sun: a power law (its log, stop 15-24) overshot towards a
    # clear sky's sun, whose glow flattens there (Perez's circumsolar term is exponential in the angle)
    sg = np.sqrt(np.maximum(np.degrees(np.arccos(np.clip(d @ normalize(sun_dir), -1, 1))), GLARE_MIN_ANGLE_DEG))
    le = np.log(np.maximum(el, 1.0))  # the horizon's own whitening, apart from the sun's
    design = np.stack([np.ones((h, w)), sg, le], axis=-1)
    coef, *_ = np.linalg.lstsq(design[band], q[band], rcond=None)
    line = design @ coef  # q = c0 + c1 sqrt(angle) + c2 log(elevation)
    y_line = np.zeros((h, w))
    if GLARE_LUMINANCE_GAIN > 1.0:
        # the glow brightens towards the sun: the trend of log luminance over a wider band (the colour band is an
        # isophote, about LDR white), continued inside from the rim like the colour
        lband = sky_band(GLARE_LUMINANCE_BAND * band_px)
        if lband.sum() >= 8:
            cy, *_ = np.linalg.lstsq(design[lband], ly[lband], rcond=None)
            if cy[1] < 0:  # brighter towards the sun
                y_line = design @ cy
    filled = remove_blob(np.concatenate([q - line, q, (ly - y_line)[..., None], ly[..., None]], axis=-1), blob,
                         weight=rim_w)[hole]
    q_rim = filled[:, 2:4]
    q_new = np.clip(line[hole] + filled[:, :2], q_rim - GLARE_MAX_CHROMA_SHIFT, q_rim + GLARE_MAX_CHROMA_SHIFT)
    ly_new = np.minimum(y_line[hole] + filled[:, 4], filled[:, 5] + np.log(max(GLARE_LUMINANCE_GAIN, 1.0)))
    y_new = np.maximum(y[hole], np.exp(ly_new))  # never below the reconstruction
    c = np.stack([np.exp(q_new[:, 0]), np.ones(len(q_new)), np.exp(q_new[:, 1])], axis=-1)  # R/G, 1, B/G
    g = y_new / (c @ LUMA_709.astype(np.float64))  # green at the trend's luminance
    rgb = c * g[:, None]
    if white is not None and white > 0:
        # what the photo measured stays; what it clipped is at least the clip level, and where green was measured
        # the clipped channels take the trend's ratio to it (green carries most of the luminance)
        was = env[hole].astype(np.float64)
        sat = was >= MEASURED_BELOW * float(white)
        top = np.arange(3)[None, :] == np.argmax(c, axis=-1)[:, None]  # the trend's largest channel
        near = sat.any(axis=-1)[:, None] & top & (was >= GLARE_NEAR_CLIP * float(white)) & ~sat
        free = sat | near
        green = ~free[:, 1] & free.any(axis=-1)
        rgb = np.where(green[:, None], was[:, 1:2] * c, rgb)
        base = np.where(sat, float(white), was)
        # where green clipped too, every clipped channel reaches the clip level at the trend's colour (the pixel rises,
        # by at most GLARE_CLIP_LIFT) before one still under it is raised alone
        need = np.where(free & ~green[:, None], base / np.maximum(rgb, 1e-12), 1.0).max(axis=-1)
        rgb = rgb * np.clip(need, 1.0, GLARE_CLIP_LIFT)[:, None]
        rgb = np.where(free, np.maximum(rgb, base), was)
        # each clipped channel rises from its clip level where the glare's own pixels stop measuring it (a low sun's
        # glow: blue measured in the warm band, clipped in the dome above), over GLARE_CHANNEL_RAMP of the width
        measured = np.zeros((h, w, 3), bool)
        measured[hole] = ~free & free.any(axis=-1, keepdims=True)
        measured &= np.asarray(blob, bool)[..., None]
        ramp_px = max(GLARE_CHANNEL_RAMP * w, 1.0)
        for k in range(3):
            if measured[..., k].any():  # distances with the seam rolled away from the glare, as d_out's
                dk = np.roll(ndimage.distance_transform_edt(~np.roll(measured[..., k], shift, axis=1)), -shift, axis=1)
                gk = _step(dk[hole] / ramp_px, 0.0, 1.0)
                rgb[:, k] = np.where(free[:, k], base[:, k] + (rgb[:, k] - base[:, k]) * gk, rgb[:, k])
    out = env.copy()
    sky = el[hole] >= 0.0  # the sky's trend is not the colour of what lies below the horizon (a sun's glitter on water)
    out[hole] = np.where(sky[:, None], rgb, env[hole]).astype(out.dtype)
    return out


def place_sun(env: np.ndarray, direction: np.ndarray, irradiance_rgb: np.ndarray, diameter_deg: float) -> np.ndarray:
    """``env`` plus a disc whose integral of radiance over its solid angle is ``irradiance_rgb`` exactly."""
    h, w = env.shape[:2]
    omega = equirect_solid_angles(h, w)
    cover = sun_disc_weights(h, w, direction, diameter_deg)
    share = cover * omega
    share /= share.sum()
    return (env.astype(np.float64) + (share / omega)[..., None] * np.asarray(irradiance_rgb, np.float64)[None, None, :]).astype(np.float32)


def disc_solid_angle(diameter_deg: float) -> float:
    return float(2 * np.pi * (1 - np.cos(np.radians(diameter_deg / 2))))


# ----------------------------------------------------------------------------
# Recovery


def _smooth(x: float, lo: float, hi: float) -> float:
    """0 at ``lo``, 1 at ``hi``, smoothstep between (falling when hi < lo)."""
    return float(_step(np.asarray(x, np.float64), lo, hi))


def _step(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """:func:`_smooth` of an array; NaN (not measured) gives 0."""
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return np.where(np.isfinite(x), t * t * (3 - 2 * t), 0.0)


def _ring_median(y: np.ndarray, ang: np.ndarray, ok: np.ndarray, lo: float, hi: float) -> float:
    m = ok & (ang >= lo) & (ang < hi)
    return float(np.median(y[m])) if m.sum() >= 5 else float("nan")


def sun_confidence_features(raw: dict[str, Any], steps: dict[str, tuple[str, float, float]] | None = None) -> dict[str, Any]:
    """The factors (each 0..1) of a candidate's sun confidence from its raw measurements (module doc, step 3); the
    confidence is their product.  Missing measurements (no sky fit) give 0.  ``raw`` holds floats (one candidate:
    float factors) or equal-length arrays (many: array factors; tools/fit_sun_confidence.py); ``steps`` default
    :data:`CONFIDENCE_STEPS`.

    Where the seen sky is a clear sky (``clear_sky``: a clear-sky model explains it within 1.5-2 %), three factors
    have an alternative and the larger counts: the glare's shape may be the fitted sky's brightest part instead of
    round (``isophote``: a low sun's glare is a band along the horizon), and a low sun needs neither elevation
    (the haze or cloud bank that dims a real sun near the horizon would show in the fit) nor a blue sky (``low_sun``:
    a clear sky near a low sun is whitish or orange)."""
    steps = CONFIDENCE_STEPS if steps is None else steps
    scalar = all(np.ndim(v) == 0 for v in raw.values())
    n = next((len(v) for v in raw.values() if np.ndim(v)), 1)
    g = lambda k: np.broadcast_to(np.asarray(raw.get(k, np.nan), np.float64), (n,))  # noqa: E731
    out = {}
    for name, (key, lo, hi) in steps.items():
        f = _step(g(key), lo, hi)
        if name == "circumsolar_falloff":  # no sky fit: the raw ring ratio
            f = np.where(np.isfinite(g(key)), f, _step(g("near_over_far"), 1.0, 1.25))
        out[name] = f
    iso, clear, low = (out.pop(k) for k in ALTERNATIVE_STEPS)
    out["compactness"] = np.maximum(out["compactness"], iso * clear)
    out["elevation"] = np.maximum(out["elevation"], clear)
    out["blue_sky"] = np.maximum(out["blue_sky"], clear * low)
    return {k: float(v[0]) for k, v in out.items()} if scalar else out


def hazy_glow_factor(raw: dict[str, Any]) -> float:
    """How much a candidate's clipped glare is the glow of a low sun in a hazy real sky (0..1): closely the fitted
    sky's isophote (IoU :data:`HAZY_GLOW_ISOPHOTE`), a sky the models explain only roughly (log spread
    :data:`HAZY_GLOW_SPREAD`: haze and clouds) and low (the ``low_sun`` step, at the glow's centre).  Its glare gets
    the sky's colour trend (:func:`fill_glare`); its sun gets no clear-sky fit (which overstates the README sample's
    ~50x; a ratio to the glow's energy spread 50x over the hazy training skies, bench/RESULTS.md, stop 15), only the
    haze prior where its own pixels show (:func:`_add_hazy_sun`, stop 24)."""
    lo_key = CONFIDENCE_STEPS["low_sun"]
    return (_smooth(raw.get("isophote_iou", float("nan")), *HAZY_GLOW_ISOPHOTE)
            * _smooth(raw.get("fit_spread", float("nan")), *HAZY_GLOW_SPREAD)
            * _smooth(raw.get(lo_key[0], float("nan")), *lo_key[1:]))


#: The neighbourhood of the sun (deg) whose clipped pixels :func:`isophote_match` compares with the fitted sky's.
ISOPHOTE_RADIUS_DEG = 45.0


def isophote_match(fit: SkyFit, env: np.ndarray, clip: np.ndarray, alpha: np.ndarray, sun_dir: np.ndarray,
                   radius_deg: float = ISOPHOTE_RADIUS_DEG) -> float | None:
    """How well the clipped pixels near the sun are the brightest part of the fitted clear sky: intersection over
    union (solid angle) of the clipped pixels within ``radius_deg`` of the sun, above the horizon, and as much of
    the model's brightest sky there.  A clipped glare is the part of the sky brighter than LDR white, an isophote:
    round around a high sun, a wide band along the horizon around a low one (where its compactness is ~0.5 and says
    nothing).  Seen unclipped pixels darker than half the model (buildings, trees) are left out of both.  None when
    nothing near the sun is clipped or no model was fitted."""
    if fit is None or fit.log_sky is None:
        return None
    h, w = env.shape[:2]
    d, _, el = _geometry(h, w)
    ang = np.degrees(np.arccos(np.clip(d @ normalize(sun_dir), -1, 1)))
    near = (np.asarray(alpha) > 0.5) & (el >= 0.0) & (ang < radius_deg)
    if not near.any():
        return None
    az_s, _ = azimuth_elevation(sun_dir)
    az, _ = azimuth_elevation(d[near])
    model = fit.model_luminance(el[near], (az - float(az_s) + 180.0) % 360.0 - 180.0)
    clipped = np.asarray(clip)[near] > 0.02
    occluder = ~clipped & (luminance(env[near]).astype(np.float64) < 0.5 * model)
    om = equirect_solid_angles(h, w)[near]
    keep = ~occluder
    model, clipped, om = model[keep], clipped[keep], om[keep]
    sr_clipped = float(np.sum(om[clipped]))
    if sr_clipped <= 0:
        return None
    order = np.argsort(-model)
    cum = np.cumsum(om[order])
    pred = np.zeros(len(model), bool)
    pred[order[:int(np.searchsorted(cum, sr_clipped)) + 1]] = True
    inter = float(np.sum(om[pred & clipped]))
    union = float(np.sum(om[pred | clipped]))
    return inter / union if union > 0 else None


def glow_blue_over_red(env: np.ndarray, clip: np.ndarray, alpha: np.ndarray, sun_dir: np.ndarray) -> float | None:
    """Median blue / red of the seen, unclipped sky 10-20 deg from ``sun_dir`` (None with fewer than 6 pixels)."""
    h, w = env.shape[:2]
    d, _, el = _geometry(h, w)
    ang = np.degrees(np.arccos(np.clip(d @ normalize(sun_dir), -1, 1)))
    m = (ang >= 10.0) & (ang < 20.0) & (el > 0.0) & (np.asarray(clip) < 0.02) & (np.asarray(alpha) > 0.5)
    if m.sum() < 6:
        return None
    v = env[m].astype(np.float64)
    return float(np.median(v[:, 2] / np.maximum(v[:, 0], 1e-9)))


def _assess(env: np.ndarray, clip: np.ndarray, alpha: np.ndarray, white: float,
            cand: Candidate, white_ref: float | None = None, sample: _SkySample | None = None,
            ldr: np.ndarray | None = None) -> tuple[float, dict[str, Any], SkyFit | None, Candidate]:
    """(confidence, facts for the report, sky fit, candidate placed by :func:`refine_direction`) of one candidate
    (module doc, step 3)."""
    h, w = env.shape[:2]
    info: dict[str, Any] = {}
    info["candidate"] = {"azimuth_deg": cand.azimuth_deg, "elevation_deg": cand.elevation_deg,
                         "solid_angle_sr": cand.solid_angle_sr, "compactness": cand.compactness}
    cand, info["placement"] = refine_direction(env, clip, alpha, cand)
    if _wide_glare(cand):
        cand, info["placement"]["sky_fit"] = place_by_sky_fit(env, clip, alpha, cand, sample=sample)
    glow_centre = cand.direction  # where the glare's own shape and the sky fit put it: the glow's centre
    disc = find_disc(ldr, clip, alpha, cand.whole_region) if ldr is not None and _wide_glare(cand) else None
    if disc is not None:  # the sun's own pixels: nothing places it better
        az, el_d = (float(v) for v in azimuth_elevation(disc[0]))
        info["placement"]["disc"] = {**disc[1], "moved_deg": angle_between_deg(disc[0], cand.direction)}
        cand = replace(cand, direction=disc[0], azimuth_deg=az, elevation_deg=el_d, glow_centre=glow_centre)
    use = sky_pixels(env, alpha, clip, cand.direction)
    fit = fit_sky(env, use, cand.direction)

    # features of a sunny sky
    d, _, el = _geometry(h, w)
    ang = np.degrees(np.arccos(np.clip(d @ cand.direction, -1, 1)))
    y = luminance(env).astype(np.float64)
    ok = (np.asarray(alpha) > 0.5) & (el > -1.0)
    r_blob = float(np.degrees(np.arccos(np.clip(1 - cand.solid_angle_sr / (2 * np.pi), -1, 1))))
    near = _ring_median(y, ang, ok & (np.asarray(clip) < 0.5), r_blob + 1.0, r_blob + 15.0)
    far = _ring_median(y, ang, ok & (np.asarray(clip) < 0.5), 45.0, 100.0)
    ref = float(white_ref) if white_ref is not None and white_ref > 0 else float(white)
    raw: dict[str, float] = {"compactness": cand.compactness if cand.solid_angle_sr > 0 else 0.0,
                             "near_over_white": near / ref if np.isfinite(near) and ref > 0 else float("nan"),
                             "solid_angle_sr": cand.solid_angle_sr, "elevation_deg": cand.elevation_deg,
                             "near_over_far": near / far if np.isfinite(near) and np.isfinite(far) and far > 0 else float("nan")}
    if fit is not None and fit.log_sky is not None and np.isfinite(near) and np.isfinite(far) and far > 0:
        # relative to what the fitted clear sky predicts on the same pixels (a photo sees only part of the rings)
        ring_ok = ok & (np.asarray(clip) < 0.5)

        def model_ring_median(lo: float, hi: float) -> float:  # the model on the ring's pixels only (cheap)
            m = ring_ok & (ang >= lo) & (ang < hi)
            if m.sum() < 5:
                return float("nan")
            az_m, _ = azimuth_elevation(d[m])
            return float(np.median(fit.model_luminance(el[m], (az_m - cand.azimuth_deg + 180.0) % 360.0 - 180.0)))

        m_near = model_ring_median(r_blob + 1.0, r_blob + 15.0)
        m_far = model_ring_median(45.0, 100.0)
        if np.isfinite(m_near) and np.isfinite(m_far) and m_far > 0 and m_near > 0:
            raw["falloff_vs_model"] = (near / far) / (m_near / m_far)
            info["falloff_vs_model"] = raw["falloff_vs_model"]
    if fit is not None:
        chroma = fit.sky_rgb / max(float(fit.sky_rgb.sum()), 1e-30)
        raw.update(sky_fraction=fit.sky_fraction, fit_spread=fit.spread, blue_minus_red=float(chroma[2] - chroma[0]))
        iso = isophote_match(fit, env, clip, alpha, cand.direction)
        if iso is not None:
            raw["isophote_iou"] = iso
    # a sky clipped far and wide around the blob (over-exposed) hides the sun's place and strength
    om = equirect_solid_angles(h, w)
    upper = ok & (el >= 3.0)
    seen_sky = float(np.sum(om * upper))
    clipped_elsewhere = float(np.sum(om * ((np.asarray(clip) > 0.02) & upper & ~cand.mask)))
    raw["clipped_sky_fraction_elsewhere"] = clipped_elsewhere / seen_sky if seen_sky > 0 else 1.0
    feats = sun_confidence_features(raw)
    conf = float(np.prod(list(feats.values())))
    # the glow's treatment is the glow's: judged at its centre's elevation where the sun's own pixels placed the sun
    # elsewhere (a glow centred 12 deg up over a sun 3 deg up is no low sun's glow to fill_glare)
    hazy_glow = hazy_glow_factor({**raw, "elevation_deg": float(azimuth_elevation(cand.glow_direction)[1])})
    frac = raw["clipped_sky_fraction_elsewhere"]
    info["raw"] = raw
    c_compact, c_el, c_falloff, c_sky, c_fit, c_blue, c_main = (feats[k] for k in (
        "compactness", "elevation", "circumsolar_falloff", "sky_fraction", "fit", "blue_sky", "sky_not_overexposed"))
    info["features"] = {"hazy_glow": hazy_glow, "compactness": c_compact, "elevation": c_el, "blue_sky": c_blue, "sky_not_overexposed": c_main,
                        "aureole_below_white": feats["aureole_below_white"],
                        "clipped_sky_fraction_elsewhere": frac,
                        "circumsolar_falloff": c_falloff, "sky_fraction": c_sky, "fit": c_fit,
                        "near_over_white": near / ref if np.isfinite(near) and ref > 0 else None,
                        "near_over_far": near / far if np.isfinite(near) and np.isfinite(far) and far > 0 else None}
    if fit is not None:
        info["fit"] = {"sky_model": fit.family, **fit.params, "spread_log": fit.spread,
                       "spread_log_per_model": fit.spreads, "sun_weight_per_model": fit.weights,
                       "sky_fraction": fit.sky_fraction, "pixels": fit.n_pixels,
                       "sky_chromaticity": [float(v) for v in fit.sky_rgb / max(float(fit.sky_rgb.sum()), 1e-30)]}
    return conf, info, fit, cand


def _cross_check_with_shadows(irr_rgb: np.ndarray, method: str, env_without_sun: np.ndarray, clip: np.ndarray,
                              alpha: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, str, dict[str, Any]]:
    """The sky-model irradiance held within :data:`SHADOW_AGREEMENT` of the ground's sunlit/shadow measurement
    (envmap/shadow.py) where the map has both; (irradiance, method, report facts)."""
    from .shadow import measure_sun_from_shadows

    check = measure_sun_from_shadows(env_without_sun, clip, alpha, direction)
    fit_lum = float(irr_rgb @ LUMA_709)
    rep: dict[str, Any] = {"method": "sunlit/shadow ratio of the ground", "used": False,
                           "facts": {k: v for k, v in check.facts.items() if not isinstance(v, np.ndarray)}}
    if check.irradiance_rgb is None:
        rep["reason"] = check.reason
        return irr_rgb, method, rep
    shadow_lum = float(check.irradiance_luminance or 0.0)
    rep.update(irradiance_luminance=shadow_lum, sky_fit_irradiance_luminance=fit_lum,
               sky_fit_over_shadow=fit_lum / shadow_lum if shadow_lum > 0 else None)
    if shadow_lum <= 0 or fit_lum <= 0:
        rep["reason"] = "no positive estimate to compare"
        return irr_rgb, method, rep
    lum = float(np.clip(fit_lum, shadow_lum / SHADOW_AGREEMENT, shadow_lum * SHADOW_AGREEMENT))
    if lum != fit_lum:
        rep["used"] = True
        method += f"; held within {SHADOW_AGREEMENT:g}x of the ground's sunlit/shadow ratio (sky fit was {fit_lum / shadow_lum:.2f}x it)"
    return irr_rgb * (lum / fit_lum), method, rep


def _red_glow(env: np.ndarray, clip: np.ndarray, alpha: np.ndarray, cand: Candidate, info: dict[str, Any]) -> bool:
    """A candidate below :data:`LOW_SUN_CAVEAT_DEG` in a red glow (:data:`HAZE_GLOW_BLUE_RED`); the reading goes to
    ``info["glow_blue_over_red"]``."""
    if cand.elevation_deg >= LOW_SUN_CAVEAT_DEG:
        return False
    glow_br = glow_blue_over_red(env, clip, alpha, cand.direction)
    info["glow_blue_over_red"] = glow_br
    return glow_br is not None and glow_br < HAZE_GLOW_BLUE_RED


def _hazy_sun_evidence(cinfo: dict[str, Any], cand: Candidate) -> bool:
    """A sun behind haze: its own pixels found in its glare (:func:`find_disc`), -1 to :data:`LOW_SUN_CAVEAT_DEG`
    up, in a seen sky that a sky model explains closely, its glare the sky's brightest part (:data:`HAZY_SUN_FACTORS`,
    :data:`HAZY_SUN_MAX_SPREAD`, :data:`HAZY_SUN_MIN_ISOPHOTE`; a hazy sky fails the blue-sky, elevation and
    compactness factors that a clear one passes)."""
    if "disc" not in cinfo.get("placement", {}) or not -1.0 <= cand.elevation_deg < LOW_SUN_CAVEAT_DEG:
        return False
    feats, raw = cinfo.get("features", {}), cinfo.get("raw", {})
    return (all(float(feats.get(k) or 0.0) >= 0.5 for k in HAZY_SUN_FACTORS)
            and float(raw.get("fit_spread", np.inf)) <= HAZY_SUN_MAX_SPREAD
            and float(raw.get("isophote_iou", 0.0)) >= HAZY_SUN_MIN_ISOPHOTE)


def hazy_sun_irradiance(env: np.ndarray, alpha: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """(irradiance RGB, facts) of a sun behind haze: :data:`HAZY_SUN_OVER_AUREOLE` x the map's light (luminance x
    solid angle) 1-10 deg from ``direction`` above the horizon, in the colour of the map 1-3 deg from it
    (:func:`recover_sun` gives it the clear-sky fit's sun colour where there is a fit)."""
    h, w = env.shape[:2]
    d, om, el = _geometry(h, w)
    ang = np.degrees(np.arccos(np.clip(d @ normalize(direction), -1, 1)))
    seen = (np.asarray(alpha) > 0.5) & (el > 0.0)
    ring = seen & (ang >= AUREOLE_DEG[0]) & (ang < AUREOLE_DEG[1])
    e_aureole = float(np.sum(luminance(env[ring]).astype(np.float64) * om[ring]))
    inner = seen & (ang >= AUREOLE_DEG[0]) & (ang < 3.0)
    colour = np.median(env[inner].astype(np.float64), axis=0) if inner.sum() >= 3 else np.ones(3)
    colour = np.clip(colour, 0.0, None)
    colour = colour / max(float(colour @ LUMA_709), 1e-30)
    irr = colour * HAZY_SUN_OVER_AUREOLE * e_aureole
    return irr, {"aureole_irradiance_luminance": e_aureole, "sun_over_aureole": HAZY_SUN_OVER_AUREOLE}


def _disc(base: np.ndarray, cand: Candidate, irr_rgb: np.ndarray, diameter_deg: float, white: float, conf: float,
          method: str, cross: dict[str, Any] | None, why_raised: str) -> tuple[np.ndarray, dict[str, Any]]:
    """(``base`` with the sun's disc, the report's ``sun``): the disc at least as bright as LDR white (it was clipped)."""
    sr = disc_solid_angle(diameter_deg)
    lum = float(irr_rgb @ LUMA_709)
    if lum < white * sr:
        irr_rgb = irr_rgb * (white * sr / max(lum, 1e-30)) if lum > 0 else np.full(3, white * sr)
        method += "; raised to LDR white" + why_raised
    out = place_sun(base, cand.direction, irr_rgb, diameter_deg)
    lum = float(irr_rgb @ LUMA_709)
    sun = {
        "direction": [float(v) for v in cand.direction],
        "direction_blender": [float(v) for v in to_blender(cand.direction)],
        "azimuth_deg": cand.azimuth_deg,
        "elevation_deg": cand.elevation_deg,
        "diameter_deg": float(diameter_deg),
        "solid_angle_sr": sr,
        "radiance_rgb": [float(v) for v in irr_rgb / sr],
        "irradiance_rgb": [float(v) for v in irr_rgb],
        "irradiance_luminance": lum,
        "radiance_luminance": lum / sr,
        "confidence": float(conf),
        "method": method,
        "clipped_region_sr": cand.solid_angle_sr,
        "cross_check": cross,
    }
    return out, sun


def _add_hazy_sun(env: np.ndarray, clip: np.ndarray, alpha: np.ndarray, white: float, cand: Candidate,
                  fit: SkyFit | None, conf: float, diameter_deg: float, notes: list[str], info: dict[str, Any],
                  glow: tuple[np.ndarray, np.ndarray] | None) -> SunRecovery:
    """The sun behind haze (:func:`hazy_sun_irradiance`, never above the clear-sky fit's) at its disc, added to the
    map the photo gets without it: ``glow`` (region, centre) a hazy low sun's glow whose colour :func:`fill_glare`
    continues from the sky, None: the reconstruction's."""
    base = fill_glare(env, glow[0], alpha, glow[1], white) if glow is not None else env.copy()
    if glow is not None:
        info["glow_colour"] = "continued from the sky around it (a hazy low sun's glow)"
    irr_rgb, facts = hazy_sun_irradiance(env, alpha, cand.direction)  # the reconstruction's glow, whatever its fill
    method = (f"haze prior: {HAZY_SUN_OVER_AUREOLE:g}x the glow's light {AUREOLE_DEG[0]:g}-{AUREOLE_DEG[1]:g} deg around "
              "the sun's own pixels")
    fit_lum = float(fit.sun_irradiance_rgb @ LUMA_709) if fit is not None else 0.0
    if fit_lum > 0:
        # the colour of the fitted clear sky's sun at this elevation (its path through the air reddens it; the glow
        # around it, mixed with skylight, is paler: on the README sample the glow's colour made a white disc in an
        # orange glow, B/G 0.45 where the truth's disc has none, the fit's 0.02)
        irr_rgb = fit.sun_irradiance_rgb * (float(irr_rgb @ LUMA_709) / fit_lum)
        method += ", in the colour of the clear-sky fit's sun"
    if fit is not None and fit_lum < float(irr_rgb @ LUMA_709):
        irr_rgb = fit.sun_irradiance_rgb
        method = f"clear-sky fit (under the haze prior): {fit.describe()}"
    irr_rgb, method, cross = _cross_check_with_shadows(np.clip(irr_rgb, 0, None), method, base, clip, alpha, cand.direction)
    out, sun = _disc(base, cand, irr_rgb, diameter_deg, white, conf, method, cross, "")
    info["hazy_sun"] = facts
    notes.append(f"the sun is {cand.elevation_deg:.1f} deg up behind haze (its own pixels show in a glow that is no clear "
                 f"sky's): its strength is a haze prior, {HAZY_SUN_OVER_AUREOLE:g}x its glow's light within "
                 f"{AUREOLE_DEG[1]:g} deg (within 2x of the truth on most training haze skies); set --sun-intensity "
                 "if you know it, or --sun off")
    return SunRecovery(out, base.astype(np.float32), sun, notes, info)


@dataclass
class SunRecovery:
    env: np.ndarray  # with the sun (or the input map when none)
    env_without_sun: np.ndarray
    sun: dict[str, Any] | None
    notes: list[str]
    assessment: dict[str, Any]


def recover_sun(env: np.ndarray, clip: np.ndarray, alpha: np.ndarray, white: float, mode: str = "auto",
                intensity: float | None = None, diameter_deg: float = SUN_DIAMETER_DEG,
                fallback_direction: np.ndarray | None = None, white_ref: float | None = None,
                ldr: np.ndarray | None = None) -> SunRecovery:
    """Find, assess and (by ``mode``) add the sun to an (H, W, 3) linear Rec.709 equirect ``env``.

    clip: (H, W) fraction of source LDR pixels saturated; alpha: (H, W) 1 = seen;
    white: the map value of LDR white (the reconstruction's exposure scale).
    intensity: luminance irradiance override (map units x sr; the sun's colour
    still comes from the fit, else white).  fallback_direction: where "on"
    puts the sun when nothing clipped is sun-like (the dominant light).
    white_ref: LDR white as the reconstruction maps it (envmap's measured
    gain; the aureole feature's reference), default ``white``.
    ldr: (H, W, 3) the input's encoded pixels (0..1) in the map's geometry: where the sun's own pixels show inside
    a wide glare (:func:`find_disc`); without it the glare's shape and the sky fit place the sun.
    Returns a :class:`SunRecovery`; ``sun`` follows the envmap contract.
    """
    notes: list[str] = []
    h, w = env.shape[:2]
    if mode == "off":
        return SunRecovery(env, env, None, notes, {"mode": "off"})
    info: dict[str, Any] = {"mode": mode}
    seen = np.asarray(alpha) > 0.5
    if seen.any() and float(np.mean(np.asarray(clip)[seen] > 0.5)) > 0.95:
        info["reason"] = "the input is clipped almost everywhere"
        notes.append("no sun added: the input is clipped almost everywhere, so nothing shows where or how bright a sun is")
        return SunRecovery(env, env, None, notes, info)
    cands, why = find_candidates(clip, alpha, keep=SCREENED_CANDIDATES)
    sample = None
    if cands:  # built once: screening and every candidate's placement use it
        sample = _SkySample(env, clip, alpha)
        cands, screened = screen_candidates(sample, cands)
        if screened:
            info["screening"] = screened
    if not cands:
        info["candidate"] = None
        info["reason"] = why
        if mode == "on" and fallback_direction is not None and azimuth_elevation(fallback_direction)[1] > -2.0:
            cands = [Candidate(normalize(fallback_direction), *[float(v) for v in azimuth_elevation(fallback_direction)],
                               0.0, 0.0, np.zeros((h, w), bool))]
            notes.append(f"sun on: {why}; the sun is put at the dominant light")
        else:
            notes.append(f"no sun added: {why}")
            return SunRecovery(env, env, None, notes, info)
    assessed = []
    considered = []
    for cand in cands:
        conf, cinfo, fit, cand = _assess(env, clip, alpha, white, cand, white_ref, sample, ldr)
        considered.append({"direction": [float(v) for v in cand.direction], "confidence": conf, "raw": cinfo["raw"],
                           "region": cand.region,
                           "fit_sun_irradiance_luminance": float(fit.sun_irradiance_rgb @ LUMA_709) if fit is not None else None,
                           "fit_model": fit.describe() if fit is not None else None})
        assessed.append((conf, cinfo, fit, cand))
    # the most confident; among near-ties (within 0.05) the one whose clear sky fits best (a sun's glare against a
    # clipped piece of bright horizon)
    top = max(a[0] for a in assessed)
    conf, cinfo, fit, cand = min((a for a in assessed if a[0] >= top - 0.05),
                                 key=lambda a: a[2].spread if a[2] is not None else np.inf)
    info.update(cinfo)
    info["considered"] = considered
    info["confidence"] = conf
    if len(cands) > 1:
        info["candidates_considered"] = len(cands)
    # a low sun whose own pixels show in its glare but whose sky is no clear sky's (or whose glow is red): a sun
    # behind haze, sized by the haze prior (HAZY_SUN_OVER_AUREOLE), not by the clear-sky fit
    hazy = None
    if intensity is None and (conf < AUTO_CONFIDENCE or _red_glow(env, clip, alpha, cand, info)):
        hazy = max((a for a in assessed if _hazy_sun_evidence(a[1], a[3])),
                   key=lambda a: a[1]["placement"]["disc"]["score"], default=None)
    if hazy is not None:
        # the glow is treated as it is with no sun (the most confident candidate's: a hazy low sun's glow takes the
        # sky's colour trend, any other glare keeps the reconstruction's); the sun is added to that map
        glow = (cand.whole_region, cand.glow_direction) if _wide_glare(cand) and cinfo["features"].get("hazy_glow", 0.0) >= 0.5 else None
        conf, cinfo, fit, cand = hazy
        info.update(cinfo)
        info["confidence"] = conf
        return _add_hazy_sun(env, clip, alpha, white, cand, fit, conf, diameter_deg, notes, info, glow)
    if mode == "auto" and conf < AUTO_CONFIDENCE:
        notes.append(f"no sun added: sun confidence {conf:.2f} is below {AUTO_CONFIDENCE} (the clipped light does not look like a sun "
                     "in a clear sky); use --sun on to add one anyway")
        if _wide_glare(cand) and cinfo["features"].get("hazy_glow", 0.0) >= 0.5:
            glow = fill_glare(env, cand.whole_region, alpha, cand.glow_direction, white)
            info["glow_colour"] = "continued from the sky around it (a hazy low sun's glow, sun not added)"
            notes.append("the clipped glow looks like a hazy low sun's: its colour is continued from the sky around it")
            return SunRecovery(glow, glow, None, notes, info)
        return SunRecovery(env, env, None, notes, info)
    if mode == "auto" and cand.elevation_deg < LOW_SUN_CAVEAT_DEG:
        glow_br = info.get("glow_blue_over_red")
        if glow_br is not None and glow_br < HAZE_GLOW_BLUE_RED:
            info["reason"] = "a low sun in a red glow (ground haze)"
            notes.append(f"no sun added: the sun is {cand.elevation_deg:.1f} deg up in a red glow (blue/red {glow_br:.2f} "
                         "10-20 deg from it): behind ground haze a low sun is many times weaker than the sky suggests; "
                         "use --sun on or --sun-intensity to add one anyway")
            if _wide_glare(cand):
                glow = fill_glare(env, cand.whole_region, alpha, cand.glow_direction, white)
                return SunRecovery(glow, glow, None, notes, info)
            return SunRecovery(env, env, None, notes, info)

    # the irradiance
    if intensity is not None:
        color = fit.sun_irradiance_rgb if fit is not None else np.ones(3)
        color = color / max(float(color @ LUMA_709), 1e-30)
        irr_rgb = color * float(intensity)
        method = "given intensity"
    elif fit is not None:
        irr_rgb = fit.sun_irradiance_rgb
        method = f"clear-sky fit: Blender 5.0 Sky Texture table, {fit.describe()}, scaled to {fit.n_pixels} unclipped sky pixels"
    else:
        # no sky to fit: the table's sun / horizontal-sky ratio at this elevation (aerosol 1, air 1) times the map's own sky
        tab = sky_table("MULTIPLE_SCATTERING")
        _, sun_irr, sky_h = tab.at(cand.elevation_deg)
        ia, ib = int(np.argmin(np.abs(tab.p1 - 1.0))), int(np.argmin(np.abs(tab.p2 - 1.0)))
        ratio = float(sun_irr[ia, ib] @ LUMA_709) / float(sky_h[ia, ib] @ LUMA_709)
        om = equirect_solid_angles(h, w)
        y, d = luminance(env).astype(np.float64), equirect_directions(h, w)
        e_h = float(np.sum(y * om * np.clip(d[..., 1], 0, None) * ~cand.mask))
        irr_rgb = np.ones(3) * ratio * e_h
        method = "table sun/sky ratio on the map's sky irradiance (no unclipped sky to fit)"
        notes.append("sun on: no unclipped sky to fit the sky model to; its intensity is a rough sun/sky ratio estimate")
    irr_rgb = np.clip(np.asarray(irr_rgb, np.float64), 0, None)
    if not cand.mask.any():
        base = env.copy()
    elif _wide_glare(cand):
        # a wide glare keeps the reconstruction's light, its colour continued from the sky around it
        base = fill_glare(env, cand.whole_region, alpha, cand.glow_direction, white)
    else:  # the sun's own clipped pixels: the disc replaces them
        base = remove_blob(env, cand.mask)
    cross = None
    if intensity is None:
        irr_rgb, method, cross = _cross_check_with_shadows(irr_rgb, method, base, clip, alpha, cand.direction)
    # the disc is at least as bright as LDR white (it was clipped)
    out, sun = _disc(base, cand, irr_rgb, diameter_deg, white, conf, method, cross,
                     " (the fit gave a sun dimmer than its clipped pixels)")
    if intensity is None and cand.elevation_deg < LOW_SUN_CAVEAT_DEG:
        notes.append(f"the sun is {cand.elevation_deg:.1f} deg up: ground haze can dim a low sun far more than the sky "
                     "shows (its strength may be several times too high); if the photo's sun looks dim, use --sun off "
                     "or set --sun-intensity")
    return SunRecovery(out, base.astype(np.float32), sun, notes, info)


__all__ = ["recover_sun", "find_candidate", "fit_sky", "sky_table", "sky_tables", "place_sun", "remove_blob", "fill_glare", "SunRecovery",
           "SUN_DIAMETER_DEG", "AUTO_CONFIDENCE", "SUN_MODES", "angle_between_deg"]
