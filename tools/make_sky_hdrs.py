"""Physically based sky panoramas for the image-based-lighting evaluation (bench/ibl.py).

    python tools/make_sky_hdrs.py                      # all 24 skies -> build/ibl/skies/
    python tools/make_sky_hdrs.py --split heldout      # only the 8 held-out skies (what bench/ibl.py needs)
    python tools/make_sky_hdrs.py --count 48 --width 1024 --samples 128 --out DIR
    python tools/make_sky_hdrs.py --bank low --count 24 --out build/ibl/skies_low   # suns 1.5-8 deg (low_NNN)
    python tools/make_sky_hdrs.py --bank hazy --count 24 --width 1024 --out build/ibl/skies_hazy  # hazy sunsets
    python tools/make_sky_hdrs.py --bank haze --count 24 --width 1024 --out build/ibl/skies_haze  # suns behind ground haze
    python tools/make_sky_hdrs.py --bank hazec --count 24 --width 1024 --out build/ibl/skies_hazec  # ... coloured haze

Each sky is rendered by Cycles (bpy 5.0.1) through an equirectangular
panoramic camera and written as a float32 OpenEXR with singlehdr's own writer
(``singlehdr.io.write_hdr``; never ``Image.save``), lin Rec.709, in the
project's map convention: the image centre looks along Blender's +X, u = 0.25
along +Y, the top row is the zenith (= :mod:`singlehdr.envmap.projections`,
so a map loads as a Blender World with no rotation).

Parameters come from the sky's index ``i`` alone (same index -> same sky;
nothing random at run time):

* sky model by ``(i // 6) % 4``: MULTIPLE_SCATTERING, SINGLE_SCATTERING (both
  with Blender's physical sun disc, 0.53 deg), PREETHAM, HOSEK_WILKIE.  Blender's
  Preetham and Hosek-Wilkie textures are sky-only models (no disc), but a clear
  sky over a real place always has its sun: since recipe 2 they get one (see
  :func:`analytic_sun`): a 0.53 deg disc whose irradiance is the sky's own
  diffuse irradiance times the clear-sky beam/diffuse ratio of the ESRA model
  (Rigollier, Bauer & Wald 2000, Linke turbidity = the sky's turbidity), its
  colour from Rayleigh + Angstrom aerosol transmittance (Preetham et al. 1999,
  appendix); painted into the panorama (energy exact, whatever the pixel size)
  and, for the "ground" family, lighting the ground and buildings as a Blender
  Sun lamp of that irradiance and size.  This is independent of the physical
  table that singlehdr's sun recovery fits (tools/make_sky_table.py);
* sun elevation 2-70 deg and azimuth 0-360 deg from low-discrepancy
  sequences (golden ratio and plastic number), air 0.5-2, aerosol (dust)
  0.2-6, ozone 0-3 (physical skies), turbidity 2-7 (Preetham/Hosek-Wilkie),
  ground albedo 0.1-0.6;
* ``(i // 3) % 2 == 1``: "ground" family -- a ground plane of that albedo and
  3-6 boxes (buildings, 3-12 m tall, 10-40 m away, never within 35 deg of the
  sun's azimuth so the sun stays in view) rendered by path tracing under the
  sky, camera 1.6 m above the ground; otherwise "sky" family (the sky texture
  alone; the physical skies show their own dark ground below the horizon,
  Preetham and Hosek-Wilkie, which mirror the sky there, get a Lambertian
  ground of the ground albedo lit by the sky and sun above: :func:`lambertian_ground`).

**Split (fixed rule): a sky is held out iff ``i % 3 == 2``** (i = 2, 5, 8,
...); the others are for training.  The held-out skies plus Blender's
held-out bundled HDRIs ``courtyard.exr`` and ``sunset.exr`` are bench/ibl.py's
evaluation set.  ``manifest.json`` lists every sky's parameters, split,
family, the sun direction (house convention, +Y up, -Z forward, and Blender's
Z-up frame) and the SHA-256 of its file.  Existing files whose parameters
match the manifest are kept (re-running costs nothing).  Every sky is
checked: a sky whose brightest pixel lies more than 1 deg from the sun asked
for stops the run; the offset is in the manifest (``peak_offset_deg``).

Blender's sun direction (measured with Cycles, checked in
tests/hosts/test_ibl_render.py): a sky with ``sun_rotation`` r and
``sun_elevation`` e puts the sun at (sin r cos e, cos r cos e, sin e) in
Blender's frame (r = 0 towards +Y, r = 90 deg towards +X); Preetham and
Hosek-Wilkie take that vector as ``sun_direction``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "build" / "ibl" / "skies"
SKY_TYPES = ("MULTIPLE_SCATTERING", "SINGLE_SCATTERING", "PREETHAM", "HOSEK_WILKIE")
PHYSICAL = ("MULTIPLE_SCATTERING", "SINGLE_SCATTERING")
SUN_DIAMETER_DEG = 0.53
CAMERA_HEIGHT = 1.6
#: version of the recipe: bump when the rendering changes so cached files are redone
RECIPE = 2  # 2: Preetham / Hosek-Wilkie skies get their sun (analytic_sun)


def is_held_out(index: int) -> bool:
    """The fixed split rule: sky ``index`` is held out (evaluation only) iff index % 3 == 2."""
    return index % 3 == 2


def _frac(x: float) -> float:
    return x - math.floor(x)


#: The low-sun bank (``--bank low``): suns LOW_SUN_DEG high, the bottom of the main bank's 2-70 deg, where one
#: training sky in ten falls (stop 13: the main bank's 32 training skies have one sun below 6 deg).
LOW_SUN_DEG = (1.5, 8.0)
#: The hazy low-sun bank (``--bank hazy``, stop 15): suns HAZY_SUN_DEG high in the physical skies (multiple and
#: single scattering alternating by six) with air HAZY_AIR and aerosol HAZY_AEROSOL densities (log-uniform): the
#: dim, reddened sun in a wide glow of a hazy sunset or sunrise, which the main and low banks (aerosol 0.2-6, air
#: 0.5-2) never show.
HAZY_SUN_DEG = (1.0, 8.0)
HAZY_AIR = (1.0, 4.0)
HAZY_AEROSOL = (4.0, 16.0)
#: The haze-layer bank (``--bank haze``, stop 23): a low sun (HAZE_SUN_DEG) in a Preetham or Hosek-Wilkie sky seen
#: through a homogeneous haze layer (a Principled Volume slab HAZE_HEIGHT_M thick on a 60 km ground) rendered by
#: Cycles: the sun is dimmed by the layer's slant optical depth HAZE_DEPTH and its aureole comes from the layer's
#: forward scattering (Henyey-Greenstein anisotropy HAZE_ANISOTROPY, albedo HAZE_ALBEDO); depth 0 is a clear sky.
#: A ground haze dims a low sun far more than it changes the sky above it, which a sky-texture fit reads as clear:
#: held-out sunset.exr's sun is ~50x dimmer than the fitted sky says, and Blender's sky texture alone never shows
#: that (its aerosol thickens the whole sky), so this bank is where a hazy sun is measured (bench/haze_sun.py on
#: its training skies, bench/ibl.py --set haze on its held-out ones).
HAZE_SUN_DEG = (1.5, 8.0)
HAZE_DEPTH = (0.0, 5.0)
HAZE_HEIGHT_M = (300.0, 1500.0)
HAZE_ANISOTROPY = (0.65, 0.85)
HAZE_ALBEDO = (0.9, 0.98)
HAZE_EXTENT_M = 30000.0
HAZE_BELOW_GROUND_M = 10.0
HAZE_CLAMP_INDIRECT = 2.0
#: ``--bank hazec``: the same with a coloured haze, its extinction (550 nm / wavelength) ** HAZE_ANGSTROM (Angstrom's
#: exponent; real haze 0.5-1.5, the "haze" bank's grey 0) at the wavelengths HAZE_WAVELENGTHS_NM taken for R, G, B:
#: a hazy sun reddens beyond what the clear air does, a cue one photo may carry (its measured channels).
HAZE_ANGSTROM = (0.5, 1.5)
HAZE_WAVELENGTHS_NM = (610.0, 550.0, 465.0)
BANKS = ("main", "low", "hazy", "haze", "hazec")
BANK_SEEDS = {"main": 1000, "low": 7000, "hazy": 9000, "haze": 11000, "hazec": 13000}


def sky_params(index: int, bank: str = "main") -> dict:
    """Every parameter of sky ``index`` of ``bank`` (deterministic, see the module doc).  The "low" bank draws the
    sun's elevation from :data:`LOW_SUN_DEG` and its other parameters from its own seeds (names ``low_NNN``);
    the split rule is the same."""
    i = int(index)
    if bank not in BANKS:
        raise ValueError(f"unknown sky bank {bank!r} (one of {', '.join(BANKS)})")
    hazy_layer = bank in ("haze", "hazec")
    sky_type = PHYSICAL[(i // 6) % 2] if bank == "hazy" else SKY_TYPES[2 + i % 2] if hazy_layer else SKY_TYPES[(i // 6) % 4]
    family = "ground" if (i // 3) % 2 == 1 or hazy_layer else "sky"
    lo, hi = {"main": (2.0, 70.0), "low": LOW_SUN_DEG, "hazy": HAZY_SUN_DEG}.get(bank, HAZE_SUN_DEG)
    elevation = lo + (hi - lo) * _frac(0.5 + i * 0.6180339887498949)
    rotation = 360.0 * _frac(0.25 + i * 0.7548776662466927)
    rng = random.Random(BANK_SEEDS[bank] + i)
    p = {
        "index": i,
        "name": bank.replace("main", "sky") + f"_{i:03d}",
        "split": "heldout" if is_held_out(i) else "train",
        "family": family,
        "sky_type": sky_type,
        "sun_elevation_deg": round(elevation, 4),
        "sun_rotation_deg": round(rotation, 4),
        "sun_diameter_deg": SUN_DIAMETER_DEG,
        "air_density": round(rng.uniform(0.5, 2.0), 3),
        "aerosol_density": round(math.exp(rng.uniform(math.log(0.2), math.log(6.0))), 3),
        "ozone_density": round(rng.uniform(0.0, 3.0), 3),
        "turbidity": round(rng.uniform(2.0, 7.0), 3),
        "ground_albedo": round(rng.uniform(0.1, 0.6), 3),
        "recipe": RECIPE,
    }
    if bank == "hazy":
        p["air_density"] = round(math.exp(rng.uniform(*map(math.log, HAZY_AIR))), 3)
        p["aerosol_density"] = round(math.exp(rng.uniform(*map(math.log, HAZY_AEROSOL))), 3)
    if hazy_layer:
        p["turbidity"] = round(rng.uniform(2.0, 5.0), 3)
        p["haze"] = {"depth": round(rng.uniform(*HAZE_DEPTH), 3),
                     "height_m": round(math.exp(rng.uniform(*map(math.log, HAZE_HEIGHT_M))), 1),
                     "anisotropy": round(rng.uniform(*HAZE_ANISOTROPY), 3),
                     "albedo": round(rng.uniform(*HAZE_ALBEDO), 3), "below_ground_m": HAZE_BELOW_GROUND_M}
        if bank == "hazec":
            p["haze"]["angstrom"] = round(rng.uniform(*HAZE_ANGSTROM), 3)
    if family == "ground":
        sun_az = rotation
        boxes = []
        for _ in range(rng.randint(3, 6)):
            for _try in range(50):
                az = rng.uniform(0.0, 360.0)
                if abs((az - sun_az + 180.0) % 360.0 - 180.0) > 35.0:
                    break
            dist = rng.uniform(10.0, 40.0)
            boxes.append({
                "azimuth_deg": round(az, 3),  # measured like sun_rotation (0 = +Y, 90 = +X)
                "distance": round(dist, 3),
                "width": round(rng.uniform(3.0, 12.0), 3),
                "depth": round(rng.uniform(3.0, 10.0), 3),
                "height": round(rng.uniform(3.0, 12.0), 3),
                "albedo": [round(rng.uniform(0.15, 0.7), 3) for _ in range(3)],
                "spin_deg": round(rng.uniform(0.0, 90.0), 3),
            })
        p["boxes"] = boxes
    return p


def sun_direction_blender(rotation_deg: float, elevation_deg: float) -> list[float]:
    """Blender (Z up) unit vector of a sky's sun: (sin r cos e, cos r cos e, sin e)."""
    r, e = math.radians(rotation_deg), math.radians(elevation_deg)
    return [math.sin(r) * math.cos(e), math.cos(r) * math.cos(e), math.sin(e)]


def blender_to_house(d: list[float]) -> list[float]:
    """Blender (x_b, y_b, z_b) -> house (x, y, z) = (-y_b, z_b, -x_b) (inverse of projections.to_blender)."""
    return [-d[1], d[2], -d[0]]


def sun_direction(params: dict) -> dict:
    """The sun of a sky: Blender and house unit vectors, house azimuth/elevation in degrees."""
    db = sun_direction_blender(params["sun_rotation_deg"], params["sun_elevation_deg"])
    dh = blender_to_house(db)
    az = math.degrees(math.atan2(dh[0], -dh[2]))
    el = math.degrees(math.asin(max(-1.0, min(1.0, dh[1]))))
    return {"blender": db, "house": dh, "azimuth_deg": az, "elevation_deg": el}


#: ESRA clear-sky model constants (Rigollier, Bauer & Wald 2000, Solar Energy 68(1) 33-48)
SOLAR_CONSTANT = 1367.0  # W / m^2
#: wavelengths (micrometres) standing for linear Rec.709 R, G, B in the sun-colour transmittance
RGB_WAVELENGTHS_UM = (0.680, 0.550, 0.440)
LUMA = (0.2126, 0.7152, 0.0722)


def relative_air_mass(elevation_deg: float) -> float:
    """Kasten & Young (1989) air mass at the refraction-corrected solar elevation (sea level), as ESRA uses it."""
    h = math.radians(elevation_deg)
    h += 0.061359 * (0.1594 + 1.1230 * h + 0.065656 * h * h) / (1.0 + 28.9344 * h + 277.3971 * h * h)
    hd = math.degrees(h)
    return 1.0 / (math.sin(h) + 0.50572 * (hd + 6.07995) ** -1.6364)


def esra_clear_sky(elevation_deg: float, linke_turbidity: float) -> tuple[float, float]:
    """(beam normal, diffuse horizontal) irradiance in W/m^2 of the ESRA clear-sky model.

    Hand-written (13 lines): pvlib, the field library, has no ESRA model and its
    current release pulls pandas 3, which needs numpy 2 (bpy 5.0.1 pins numpy < 2).
    """
    t = float(linke_turbidity)
    m = relative_air_mass(elevation_deg)
    if m <= 20.0:  # Rayleigh optical thickness (Kasten 1996)
        d_r = 1.0 / (6.62960 + 1.75130 * m - 0.12020 * m ** 2 + 0.00650 * m ** 3 - 0.00013 * m ** 4)
    else:
        d_r = 1.0 / (10.4 + 0.718 * m)
    beam = SOLAR_CONSTANT * math.exp(-0.8662 * t * m * d_r)
    trd = -1.5843e-2 + 3.0543e-2 * t + 3.797e-4 * t * t
    a0 = 2.6463e-1 - 6.1581e-2 * t + 3.1408e-3 * t * t
    if a0 * trd < 2e-3:
        a0 = 2e-3 / trd
    a1 = 2.0402 + 1.8945e-2 * t - 1.1161e-2 * t * t
    a2 = -1.3025 + 3.9231e-2 * t + 8.5079e-3 * t * t
    sh = math.sin(math.radians(elevation_deg))
    diffuse = SOLAR_CONSTANT * trd * (a0 + a1 * sh + a2 * sh * sh)
    return beam, diffuse


def sun_colour(elevation_deg: float, turbidity: float) -> list[float]:
    """Linear Rec.709 colour (luminance 1) of the direct sun: a white sun outside the atmosphere through
    Rayleigh (0.008735 lambda^-4.08) and Angstrom aerosol (beta = 0.04608 T - 0.04586, alpha 1.3) optical
    depths times the air mass (Preetham, Shirley & Smits 1999, appendix)."""
    m = relative_air_mass(elevation_deg)
    beta = max(0.04608 * turbidity - 0.04586, 0.0)
    rgb = [math.exp(-m * (0.008735 * lam ** -4.08 + beta * lam ** -1.3)) for lam in RGB_WAVELENGTHS_UM]
    y = sum(c * w for c, w in zip(rgb, LUMA))
    return [c / y for c in rgb]


def horizontal_irradiance(hdr) -> "np.ndarray":
    """Per-channel irradiance on a horizontal surface from the upper hemisphere of an equirect:
    sum of L sin(elevation) d omega, d omega = (2 pi / W)(pi / H) cos(elevation) per pixel."""
    import numpy as np

    h, w = hdr.shape[:2]
    el = (0.5 - (np.arange(h) + 0.5) / h) * np.pi
    weight = np.where(el > 0, (2 * np.pi / w) * (np.pi / h) * np.cos(el) * np.sin(el), 0.0)
    return np.einsum("hwc,h->c", hdr.astype(np.float64), weight)


def analytic_sun(params: dict, sky_irradiance_lum: float) -> list[float]:
    """Normal-incidence irradiance (linear Rec.709, map units) of the sun of a Preetham / Hosek-Wilkie sky
    whose own (sun-less) horizontal irradiance has luminance ``sky_irradiance_lum``: ESRA's beam/diffuse
    ratio at the sun's elevation with Linke turbidity = the sky's turbidity, coloured by :func:`sun_colour`."""
    beam, diffuse = esra_clear_sky(params["sun_elevation_deg"], params["turbidity"])
    e = sky_irradiance_lum * beam / diffuse
    return [c * e for c in sun_colour(params["sun_elevation_deg"], params["turbidity"])]


def paint_sun_disc(hdr, direction_house, irradiance_rgb):
    """Add a sun of normal irradiance ``irradiance_rgb`` at ``direction_house`` to an equirect (a copy).

    The disc (0.53 deg) is smaller than a pixel at these sizes: its energy is split bilinearly over the four
    pixels around its centre, each getting E w_k / omega_k, so the map integrates to exactly E there."""
    import numpy as np

    out = np.array(hdr, dtype=np.float32, copy=True)
    h, w = out.shape[:2]
    x, y, z = (float(c) for c in direction_house)
    az, el = math.atan2(x, -z), math.asin(max(-1.0, min(1.0, y)))
    fx, fy = (az / (2 * math.pi) + 0.5) * w - 0.5, (0.5 - el / math.pi) * h - 0.5
    j0, i0 = math.floor(fx), math.floor(fy)
    tx, ty = fx - j0, fy - i0
    for di, wy in ((0, 1 - ty), (1, ty)):
        i = min(max(i0 + di, 0), h - 1)
        omega = (2 * math.pi / w) * (math.pi / h) * math.cos((0.5 - (i + 0.5) / h) * math.pi)
        for dj, wx in ((0, 1 - tx), (1, tx)):
            j = (j0 + dj) % w
            out[i, j] += (np.asarray(irradiance_rgb, np.float64) * (wx * wy) / omega).astype(np.float32)
    return out


def _import_bpy():
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="singlehdr_bur_"))
    import bpy  # noqa: PLC0415  (tools only; core never imports bpy)

    return bpy


def _diffuse(bpy, name: str, rgb) -> object:
    mat = bpy.data.materials.new(name)
    if mat.node_tree is None:
        mat.use_nodes = True
    bsdf = next(n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED")
    bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
    bsdf.inputs["Roughness"].default_value = 1.0
    bsdf.inputs["Specular IOR Level"].default_value = 0.0
    return mat


def empty_material(bpy, name: str):
    """A new material with only its output node: (material, node tree, output node); bench/ibl.py's too."""
    mat = bpy.data.materials.new(name)
    if mat.node_tree is None:
        mat.use_nodes = True
    nt = mat.node_tree
    for n in list(nt.nodes):
        if n.type != "OUTPUT_MATERIAL":
            nt.nodes.remove(n)
    return mat, nt, next(n for n in nt.nodes if n.type == "OUTPUT_MATERIAL")


def add_sky_world(bpy, scene, params: dict, strength: float = 1.0):
    """A World whose Background is Blender's Sky Texture with ``params``; returns the sky node."""
    world = bpy.data.worlds.new(params.get("name", "sky"))
    scene.world = world
    nt = world.node_tree
    bg = next(n for n in nt.nodes if n.type == "BACKGROUND")
    bg.inputs["Strength"].default_value = strength
    sky = nt.nodes.new("ShaderNodeTexSky")
    sky.sky_type = params["sky_type"]
    sky.sun_elevation = math.radians(params["sun_elevation_deg"])
    sky.sun_rotation = math.radians(params["sun_rotation_deg"])
    sky.sun_direction = sun_direction_blender(params["sun_rotation_deg"], params["sun_elevation_deg"])
    if params["sky_type"] in PHYSICAL:
        sky.sun_disc = True
        sky.sun_size = math.radians(SUN_DIAMETER_DEG)
        sky.sun_intensity = 1.0
        sky.air_density = params["air_density"]
        sky.aerosol_density = params["aerosol_density"]
        sky.ozone_density = params["ozone_density"]
    else:
        sky.turbidity = params["turbidity"]
        sky.ground_albedo = params["ground_albedo"]
    nt.links.new(sky.outputs["Color"], bg.inputs["Color"])
    return sky


def setup_cycles(scene, width: int, height: int, samples: int, threads: int = 0, seed: int = 0) -> None:
    """Deterministic Cycles CPU settings: fixed seed, no denoiser, no clamping, float EXR output."""
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.seed = seed
    scene.cycles.use_animated_seed = False
    scene.cycles.use_denoising = False
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.sample_clamp_direct = 0.0
    scene.cycles.sample_clamp_indirect = 0.0
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = False
    scene.render.image_settings.file_format = "OPEN_EXR"
    scene.render.image_settings.color_depth = "32"
    scene.render.image_settings.exr_codec = "ZIP"
    if threads:
        scene.render.threads_mode = "FIXED"
        scene.render.threads = threads


def add_pano_camera(bpy, scene, height: float = 0.0):
    """An equirect panoramic camera looking along Blender +X, Z up: the house map convention."""
    cam = bpy.data.cameras.new("pano")
    cam.type = "PANO"
    cam.panorama_type = "EQUIRECTANGULAR"
    obj = bpy.data.objects.new("pano", cam)
    scene.collection.objects.link(obj)
    obj.location = (0.0, 0.0, height)
    obj.rotation_euler = (math.pi / 2, 0.0, -math.pi / 2)
    scene.camera = obj
    return obj


def add_sun_lamp(bpy, scene, params: dict, irradiance_rgb) -> object:
    """A Blender Sun lamp (0.53 deg, invisible to the camera) of normal irradiance ``irradiance_rgb`` at the sky's sun."""
    from mathutils import Vector  # noqa: PLC0415

    peak = max(irradiance_rgb)
    lamp = bpy.data.lights.new("sun", "SUN")
    lamp.angle = math.radians(SUN_DIAMETER_DEG)
    lamp.color = [c / peak for c in irradiance_rgb]
    lamp.energy = peak  # Sun strength = irradiance at normal incidence, in the World's radiance units x sr
    obj = bpy.data.objects.new("sun", lamp)
    scene.collection.objects.link(obj)
    d = Vector(sun_direction_blender(params["sun_rotation_deg"], params["sun_elevation_deg"]))
    obj.rotation_euler = d.to_track_quat("Z", "Y").to_euler()  # the lamp shines along its -Z, away from the sun
    obj.visible_camera = False  # the disc is painted into the panorama instead (exact energy)
    return obj


def haze_path_m(params: dict) -> float:
    """Length (m) of the path from the camera to the sun through the haze slab (its top or its side)."""
    e = math.radians(params["sun_elevation_deg"])
    return min(params["haze"]["height_m"] / math.sin(e), HAZE_EXTENT_M / math.cos(e))


def haze_extinction(params: dict) -> list[float]:
    """The haze's extinction in R, G, B relative to green's: (550 nm / wavelength) ** angstrom (1, 1, 1: grey)."""
    a = (params.get("haze") or {}).get("angstrom", 0.0)
    return [(550.0 / lam) ** a for lam in HAZE_WAVELENGTHS_NM]


def haze_transmittance(params: dict) -> list[float]:
    """The haze layer's transmittance towards the sun in R, G, B (1 without a layer): exp(-depth x extinction)."""
    if not params.get("haze"):
        return [1.0, 1.0, 1.0]
    return [math.exp(-params["haze"]["depth"] * k) for k in haze_extinction(params)]


def add_haze_layer(bpy, scene, params: dict) -> object:
    """The homogeneous haze slab around the camera: density = depth / the path to the sun through it."""
    hz = params["haze"]
    s, top = HAZE_EXTENT_M, hz["height_m"]
    mesh = bpy.data.meshes.new("haze")
    # the slab reaches under the ground (a face coplanar with the ground makes Cycles unsure on which side a ground
    # point lies: half of the ground rendered lit through the haze, half not)
    faces = [(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)]
    verts = [(x, y, z) for z in (-HAZE_BELOW_GROUND_M, top) for (x, y) in ((-s, -s), (s, -s), (s, s), (-s, s))]
    mesh.from_pydata(verts, [], faces)
    obj = bpy.data.objects.new("haze", mesh)
    scene.collection.objects.link(obj)
    mat, nt, out = empty_material(bpy, "haze")
    density, a = hz["depth"] / haze_path_m(params), hz["albedo"]
    if "angstrom" not in hz:  # grey
        vol = nt.nodes.new("ShaderNodeVolumePrincipled")
        vol.inputs["Density"].default_value = density
        vol.inputs["Anisotropy"].default_value = hz["anisotropy"]
        vol.inputs["Color"].default_value = (a, a, a, 1.0)
        nt.links.new(vol.outputs["Volume"], out.inputs["Volume"])
    else:  # coloured: Cycles scatters density x colour and absorbs density x (1 - colour), per channel
        k = haze_extinction(params)
        scatter = nt.nodes.new("ShaderNodeVolumeScatter")
        scatter.inputs["Density"].default_value = density
        scatter.inputs["Anisotropy"].default_value = hz["anisotropy"]
        scatter.inputs["Color"].default_value = (*[c * a for c in k], 1.0)
        absorb = nt.nodes.new("ShaderNodeVolumeAbsorption")
        absorb.inputs["Density"].default_value = density
        absorb.inputs["Color"].default_value = (*[1.0 - c * (1.0 - a) for c in k], 1.0)
        both = nt.nodes.new("ShaderNodeAddShader")
        nt.links.new(scatter.outputs["Volume"], both.inputs[0])
        nt.links.new(absorb.outputs["Volume"], both.inputs[1])
        nt.links.new(both.outputs["Shader"], out.inputs["Volume"])
    obj.data.materials.append(mat)
    scene.cycles.volume_bounces = 2
    # light scattered more than once in kilometres of haze comes as rare, very bright samples (white specks all
    # over the sky at 64 samples): indirect light is clamped at HAZE_CLAMP_INDIRECT (in the World's radiance units,
    # the sky ~0.1-1 here)
    scene.cycles.sample_clamp_indirect = HAZE_CLAMP_INDIRECT
    # and the rest of the volume's grain (64 samples) is denoised (OpenImageDenoise, Cycles' CPU denoiser)
    scene.cycles.use_denoising = True
    scene.cycles.denoiser = "OPENIMAGEDENOISE"
    return obj


def build_sky_scene(params: dict, width: int, height: int, samples: int, threads: int = 0, sun_rgb=None):
    """Reset bpy and build the panorama scene of one sky (world, optional ground + boxes, pano camera);
    ``sun_rgb``: the normal irradiance of an analytic sky's sun lamp (ground family; None = no lamp)."""
    bpy = _import_bpy()
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    scene = bpy.context.scene
    setup_cycles(scene, width, height, samples, threads, seed=params["index"])
    scene.view_settings.view_transform = "Standard"
    add_sky_world(bpy, scene, params)
    cam_h = 0.0
    if params["family"] == "ground":
        cam_h = CAMERA_HEIGHT
        a = params["ground_albedo"]
        mesh = bpy.data.meshes.new("ground")
        s = 2000.0 if not params.get("haze") else 2.0 * HAZE_EXTENT_M
        mesh.from_pydata([(-s, -s, 0), (s, -s, 0), (s, s, 0), (-s, s, 0)], [], [(0, 1, 2, 3)])
        ground = bpy.data.objects.new("ground", mesh)
        scene.collection.objects.link(ground)
        ground.data.materials.append(_diffuse(bpy, "ground", (a, a * 0.95, a * 0.85)))
        for k, b in enumerate(params["boxes"]):
            r = math.radians(b["azimuth_deg"])
            cx, cy = b["distance"] * math.sin(r), b["distance"] * math.cos(r)
            w2, d2, h = b["width"] / 2, b["depth"] / 2, b["height"]
            verts = [(x, y, z) for z in (0.0, h) for (x, y) in ((-w2, -d2), (w2, -d2), (w2, d2), (-w2, d2))]
            faces = [(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)]
            m = bpy.data.meshes.new(f"box{k}")
            m.from_pydata(verts, [], faces)
            obj = bpy.data.objects.new(f"box{k}", m)
            obj.location = (cx, cy, 0.0)
            obj.rotation_euler = (0.0, 0.0, math.radians(b["spin_deg"]))
            scene.collection.objects.link(obj)
            obj.data.materials.append(_diffuse(bpy, f"box{k}", b["albedo"]))
        if sun_rgb is not None:
            add_sun_lamp(bpy, scene, params, sun_rgb)
        if params.get("haze"):
            add_haze_layer(bpy, scene, params)
    cam = add_pano_camera(bpy, scene, cam_h)
    if params.get("haze"):
        # a camera ray ends at clip_end (100 m by default) and shows the World beyond it: through a haze layer
        # kilometres deep the sky would be seen unhazed (the other banks keep the default, as their files were
        # made: their ground beyond 100 m, the 2-3 rows under the horizon at 1024 wide, shows the World)
        cam.data.clip_end = 4.0 * HAZE_EXTENT_M
    return bpy, scene


def lambertian_ground(hdr, albedo: float):
    """Replace the lower hemisphere of an equirect by a Lambertian ground of ``albedo`` lit by the upper one.

    Blender's Preetham and Hosek-Wilkie skies show a mirrored sky below the
    horizon (brighter than the sky itself); a real ground has radiance
    albedo * E / pi with E the horizontal irradiance of the upper hemisphere
    (:func:`horizontal_irradiance`, sun disc included when painted first).
    """
    import numpy as np

    h = hdr.shape[0]
    up = (0.5 - (np.arange(h) + 0.5) / h) > 0
    out = hdr.copy()
    out[~up] = (albedo * horizontal_irradiance(hdr) / np.pi).astype(np.float32)
    return out


def cie_overcast(width: int, blue_minus_red: float, albedo: float = 0.3, zenith: float = 1.0):
    """A sunless sky for the "never invent a sun" checks: the CIE standard overcast sky (Moon & Spencer 1942,
    luminance ``zenith`` (1 + 2 sin(elevation)) / 3, brightest at the zenith, azimuth-free), of chromaticity
    b - r = ``blue_minus_red`` (0: neutral grey; real overcast skies read 0-0.1 after a camera's white balance), over
    a Lambertian ground of ``albedo`` (:func:`lambertian_ground`).  (width / 2, width, 3) float32, numpy only."""
    import numpy as np

    h = width // 2
    el = (0.5 - (np.arange(h) + 0.5) / h) * np.pi
    lum = zenith * (1.0 + 2.0 * np.sin(np.clip(el, 0.0, None))) / 3.0
    a = 1.5 * float(blue_minus_red)  # rgb = (1 - a, 1, 1 + a): chromaticity b - r = 2 a / 3
    rgb = np.array([1.0 - a, 1.0, 1.0 + a])
    rgb = rgb / float(rgb @ np.array(LUMA))
    hdr = np.broadcast_to((lum[:, None, None] * rgb[None, None, :]), (h, width, 3)).astype(np.float32).copy()
    return lambertian_ground(hdr, albedo)


def _render(bpy, scene):
    """Render the scene's camera and read the float EXR back (non-finite -> 0, negatives -> 0)."""
    import numpy as np

    from singlehdr.io import read_hdr

    with tempfile.TemporaryDirectory(prefix="singlehdr_sky_") as tmp:
        raw = Path(tmp) / "raw.exr"
        scene.render.filepath = str(raw)
        bpy.ops.render.render(write_still=True)
        hdr, _ = read_hdr(raw, allow_nonfinite=True)
    return np.clip(np.nan_to_num(hdr, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None).astype(np.float32)


def sky_irradiance(params: dict, threads: int = 0) -> float:
    """Luminance of the horizontal irradiance of a sky texture alone (no ground, no sun), from a 256x128 render."""
    bpy, scene = build_sky_scene(dict(params, family="sky"), 256, 128, 16, threads)
    return float(sum(c * w for c, w in zip(horizontal_irradiance(_render(bpy, scene)), LUMA)))


def render_sky(params: dict, path: Path, width: int, height: int, samples: int, threads: int = 0) -> Path:
    """Render one sky panorama and write it (float32 EXR, singlehdr's writer) to ``path``.

    Preetham / Hosek-Wilkie skies get their sun (:func:`analytic_sun`); its irradiance is in the EXR header
    (``singlehdr:sky:sun_irradiance_rgb``)."""
    from singlehdr.io import write_hdr

    analytic = params["sky_type"] not in PHYSICAL
    sun_rgb = analytic_sun(params, sky_irradiance(params, threads)) if analytic else None
    bpy, scene = build_sky_scene(params, width, height, samples, threads,
                                 sun_rgb=sun_rgb if params["family"] == "ground" else None)
    hdr = _render(bpy, scene)
    if analytic:
        # the disc as seen from the camera: dimmed by the haze layer where there is one (the lamp lights the scene
        # through the volume, Cycles attenuates and scatters it there)
        sun_rgb = [c * t for c, t in zip(sun_rgb, haze_transmittance(params))]
        hdr = paint_sun_disc(hdr, sun_direction(params)["house"], sun_rgb)
        if params["family"] == "sky":  # after the disc: the ground sees sky + sun
            hdr = lambertian_ground(hdr, params["ground_albedo"])
    attrs = {f"singlehdr:sky:{k}": (json.dumps(v) if isinstance(v, (list, dict)) else v)
             for k, v in params.items() if v is not None}
    if sun_rgb is not None:
        attrs["singlehdr:sky:sun_irradiance_rgb"] = json.dumps([round(c, 6) for c in sun_rgb])
    return write_hdr(path, hdr, half=False, attributes=attrs, overwrite=True)


#: a sky's brightest pixel must lie within this angle of its sun (one 512-px pixel is 0.7 deg)
SUN_CHECK_DEG = 1.0


def peak_offset_deg(path: Path, sun_house) -> float:
    """Angle in degrees between the centre of a map's brightest pixel (luminance) and the sun direction."""
    import numpy as np

    from singlehdr.io import read_hdr

    hdr, _ = read_hdr(path)
    y = hdr.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])
    h, w = y.shape
    i, j = np.unravel_index(int(np.argmax(y)), y.shape)
    az, el = ((j + 0.5) / w - 0.5) * 2 * np.pi, (0.5 - (i + 0.5) / h) * np.pi
    d = np.array([np.cos(el) * np.sin(az), np.sin(el), -np.cos(el) * np.cos(az)])
    return float(np.degrees(np.arccos(np.clip(d @ np.asarray(sun_house, dtype=np.float64), -1.0, 1.0))))


def make_skies(out: Path = DEFAULT_OUT, count: int = 24, split: str = "all", width: int = 512, height: int = 256,
               samples: int = 64, threads: int = 0, log=print, bank: str = "main") -> list[dict]:
    """Render (or keep) skies 0..count-1 of ``split`` ("all", "train", "heldout"); write manifest.json; return records."""
    out.mkdir(parents=True, exist_ok=True)
    index = out / "manifest.json"
    known = {r["name"]: r for r in json.loads(index.read_text())} if index.is_file() else {}
    records = []
    for i in range(count):
        p = sky_params(i, bank)
        if split != "all" and p["split"] != split:
            if p["name"] in known:
                records.append(known[p["name"]])
            continue
        path = out / f"{p['name']}.exr"
        settings = {"width": width, "height": height, "samples": samples}
        old = known.get(p["name"])
        fresh = (old is not None and path.is_file() and old.get("params") == p and old.get("render") == settings
                 and old.get("sha256") == hashlib.sha256(path.read_bytes()).hexdigest())
        if not fresh:
            t0 = time.perf_counter()
            render_sky(p, path, width, height, samples, threads)
            log(f"{path.name}: {p['sky_type']} {p['family']} sun el {p['sun_elevation_deg']:.1f} "
                f"rot {p['sun_rotation_deg']:.1f} ({time.perf_counter() - t0:.1f} s)")
        sun = sun_direction(p)
        offset = peak_offset_deg(path, sun["house"])
        if offset > SUN_CHECK_DEG:
            raise SystemExit(f"{path.name}: the brightest pixel is {offset:.2f} deg from the sun that was asked for "
                             f"(more than {SUN_CHECK_DEG} deg); the sky or the camera convention is wrong")
        rec = {"name": p["name"], "file": path.name, "split": p["split"], "family": p["family"], "params": p,
               "render": settings, "sun": sun, "peak_offset_deg": round(offset, 3),
               "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        records.append(rec)
        _write_manifest(index, records, known)  # after every sky: an interrupted run keeps what it rendered
    _write_manifest(index, records, {})
    return sorted(records, key=lambda r: r["params"]["index"])


def _write_manifest(index: Path, records: list[dict], earlier: dict) -> None:
    """manifest.json (atomically): ``records`` and, while a run is under way, the earlier records it has not redone."""
    done = {r["name"] for r in records}
    rows = sorted(records + [r for name, r in earlier.items() if name not in done], key=lambda r: r["params"]["index"])
    tmp = index.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    os.replace(tmp, index)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--count", type=int, default=24, help="skies 0..COUNT-1 (default 24: 16 train, 8 held out)")
    ap.add_argument("--split", choices=("all", "train", "heldout"), default="all")
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--height", type=int, default=None, help="default width / 2")
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0, help="Cycles threads (0 = all)")
    ap.add_argument("--bank", choices=BANKS, default="main",
                    help="main: suns 2-70 deg (sky_NNN); low: suns %g-%g deg (low_NNN); hazy: suns %g-%g deg, aerosol %g-%g, "
                         "air %g-%g (hazy_NNN); haze: suns %g-%g deg behind a haze layer of slant optical depth %g-%g "
                         "(haze_NNN); hazec: the same with a coloured haze, Angstrom exponent %g-%g (hazec_NNN)"
                         % (*LOW_SUN_DEG, *HAZY_SUN_DEG, *HAZY_AEROSOL, *HAZY_AIR, *HAZE_SUN_DEG, *HAZE_DEPTH, *HAZE_ANGSTROM))
    args = ap.parse_args(argv)
    recs = make_skies(args.out, args.count, args.split, args.width, args.height or args.width // 2, args.samples, args.threads,
                      log=lambda s: print(s, file=sys.stderr, flush=True), bank=args.bank)
    print(f"{len(recs)} skies in {args.out} (manifest.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
