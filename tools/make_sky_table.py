"""Render the clear-sky table that :mod:`singlehdr.envmap.sun` fits to a photo's sky.

Usage (any Python with bpy==5.0.1, e.g. the test venv; about 12 min on the 2-core CPU):

    python tools/make_sky_table.py --out core/singlehdr/data/sky_sun_table.npz --threads 2
    # one model again, the others copied from an existing table:
    python tools/make_sky_table.py --out new.npz --families PREETHAM --keep core/singlehdr/data/sky_sun_table.npz
    # (a stop 8-11 table, multiple scattering only, is read by --keep too)

For every sky model of :data:`FAMILIES` (Blender 5.0 Sky Texture types) and
every sun elevation x parameter of its grid, Cycles renders (ozone 1, altitude
100 m, ground albedo 0.3 where the model has them):

1. the sky without its sun disc as a 128 x 64 equirect panorama (8 AA
   samples), rolled so the sun is at azimuth 0, of which the upper hemisphere
   and one half (relative azimuth 0..180 deg, the sky is mirror-symmetric about
   the sun's vertical plane) is kept as Rec.709 luminance: ``<MODEL>__sky_lum``
   (n_el, n_p1, n_p2, 32, 64), and ``<MODEL>__sky_irr_h_rgb``, the sky's
   irradiance on a horizontal surface;
2. the sun's irradiance at normal incidence, ``<MODEL>__sun_irr_rgb``
   (n_el, n_p1, n_p2, 3): for the physical skies (multiple / single
   scattering: air x aerosol density) the disc alone (minus the sky behind it:
   a plane through the frame border) through a 2-degree perspective camera
   aimed at the sun (64 x 64 pixels, 0.03 deg each, Blender's default disc of
   0.545 deg), the integral of its radiance over its solid angle; the
   Preetham and Hosek-Wilkie textures have no sun (axis 1 is a dummy, axis 2
   the turbidity): theirs is the sky's horizontal irradiance times the ESRA
   clear-sky beam/diffuse ratio with Linke turbidity = the turbidity, coloured
   by Rayleigh + aerosol transmittance (:func:`analytic_sun_rgb`, the same
   relation as tools/make_sky_hdrs.py's skies; said so in bench/RESULTS.md).

Units are the Sky Texture's own; only ratios (sun / sky) are used.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ELEVATIONS = (0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 19.0, 25.0, 33.0, 45.0, 60.0, 90.0)
AIR = (1.0, 2.0, 4.0)
AEROSOL = (0.3, 1.0, 3.0, 8.0, 16.0)
#: Preetham / Hosek-Wilkie turbidity (2 = very clear, 10 = hazy)
TURBIDITY = (2.0, 2.5, 3.0, 4.0, 5.0, 6.5, 8.0, 10.0)
PANO_W, PANO_H = 128, 64
SUN_FOV_DEG, SUN_PX = 2.0, 64
LUMA = np.array([0.2126, 0.7152, 0.0722])


def _setup(threads: int):
    import bpy
    import addon_utils

    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    addon_utils.enable("cycles", default_set=True)
    sc = bpy.context.scene
    sc.render.engine = "CYCLES"
    sc.cycles.device = "CPU"
    sc.cycles.use_denoising = False
    sc.cycles.seed = 0
    sc.render.threads_mode = "FIXED"
    sc.render.threads = threads
    sc.render.resolution_percentage = 100
    sc.render.film_transparent = False
    sc.render.image_settings.file_format = "OPEN_EXR"
    sc.render.image_settings.color_depth = "32"
    sc.view_settings.view_transform = "Standard"
    w = bpy.data.worlds.new("sky")
    sc.world = w
    nt = w.node_tree
    nt.nodes.clear()
    sky = nt.nodes.new("ShaderNodeTexSky")
    bg = nt.nodes.new("ShaderNodeBackground")
    out = nt.nodes.new("ShaderNodeOutputWorld")
    nt.links.new(sky.outputs[0], bg.inputs[0])
    nt.links.new(bg.outputs[0], out.inputs[0])
    sky.sky_type = "MULTIPLE_SCATTERING"
    sky.sun_rotation = 0.0  # the sun then stands towards Blender +Y (checked: found by the circumsolar peak)
    sky.altitude = 100.0
    sky.ozone_density = 1.0
    sky.ground_albedo = 0.3
    pano = bpy.data.cameras.new("pano")
    pano.type = "PANO"
    pano.panorama_type = "EQUIRECTANGULAR"
    pano_obj = bpy.data.objects.new("pano", pano)
    pano_obj.rotation_euler = (math.pi / 2, 0.0, -math.pi / 2)  # look along Blender +X, Z up: our frame, no rotation
    narrow = bpy.data.cameras.new("narrow")
    narrow.type = "PERSP"
    narrow.sensor_fit = "HORIZONTAL"
    narrow.angle = math.radians(SUN_FOV_DEG)
    narrow_obj = bpy.data.objects.new("narrow", narrow)
    for o in (pano_obj, narrow_obj):
        sc.collection.objects.link(o)
    return bpy, sc, sky, pano_obj, narrow_obj


def _render(bpy, sc, path: str) -> np.ndarray:
    import OpenEXR

    sc.render.filepath = path
    bpy.ops.render.render(write_still=True)
    with OpenEXR.File(path) as f:
        ch = f.channels()
        px = ch["RGBA"].pixels if "RGBA" in ch else ch["RGB"].pixels
    return np.asarray(px, dtype=np.float64)[..., :3]


def _border_plane(img: np.ndarray) -> np.ndarray:
    """Least-squares plane a + b x + c y per channel through the 2-pixel frame border of ``img``."""
    n = img.shape[0]
    yy, xx = np.mgrid[0:n, 0:n] / (n - 1.0)
    border = np.zeros((n, n), bool)
    border[:2], border[-2:], border[:, :2], border[:, -2:] = True, True, True, True
    a = np.stack([np.ones(border.sum()), xx[border], yy[border]], axis=1)
    coef, *_ = np.linalg.lstsq(a, img[border], rcond=None)
    return np.stack([np.ones_like(xx), xx, yy], axis=-1) @ coef


def _equirect_omega(h: int, w: int) -> np.ndarray:
    el = (0.5 - (np.arange(h) + 0.5) / h) * np.pi
    return np.repeat((np.cos(el) * (np.pi / h) * (2 * np.pi / w))[:, None], w, axis=1)


def _persp_omega(n: int, fov_deg: float) -> np.ndarray:
    t = math.tan(math.radians(fov_deg) / 2)
    x = (np.arange(n) + 0.5) / n * 2 * t - t
    xx, yy = np.meshgrid(x, x)
    a = (2 * t / n) ** 2
    return a / (1 + xx**2 + yy**2) ** 1.5


#: The sky models of the table: Blender 5.0 Sky Texture type -> (name of the first and second parameter axes, their
#: values).  The physical skies (multiple / single scattering) have a sun disc of their own; Preetham and
#: Hosek-Wilkie are sky-only models (axis 1 is a dummy of one value).
FAMILIES = {
    "MULTIPLE_SCATTERING": (("air_density", AIR), ("aerosol_density", AEROSOL)),
    "SINGLE_SCATTERING": (("air_density", AIR), ("aerosol_density", AEROSOL)),
    "PREETHAM": (("none", (1.0,)), ("turbidity", TURBIDITY)),
    "HOSEK_WILKIE": (("none", (1.0,)), ("turbidity", TURBIDITY)),
}
ANALYTIC_SUN = ("PREETHAM", "HOSEK_WILKIE")


def analytic_sun_rgb(elevation_deg: float, turbidity: float, sky_irr_h_lum: float) -> np.ndarray:
    """The sun of a sky-only model (Preetham, Hosek-Wilkie), in the table's units: its normal irradiance is the
    sky's horizontal irradiance times the ESRA clear-sky beam / diffuse ratio at that elevation with Linke turbidity =
    the sky's turbidity, coloured by Rayleigh + Angstrom aerosol transmittance (tools/make_sky_hdrs.py
    ``analytic_sun``, the same relation)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import make_sky_hdrs as msh

    return np.asarray(msh.analytic_sun({"sun_elevation_deg": elevation_deg, "turbidity": turbidity}, sky_irr_h_lum))


def render_family(bpy, sc, sky, pano_obj, narrow_obj, family: str, tmp: str) -> dict[str, np.ndarray]:
    """Every (elevation, axis 1, axis 2) entry of one sky model (module doc)."""
    (n1, v1), (n2, v2) = FAMILIES[family]
    ne, na, nb = len(ELEVATIONS), len(v1), len(v2)
    sky_lum = np.zeros((ne, na, nb, PANO_H // 2, PANO_W // 2), np.float32)
    sun_irr = np.zeros((ne, na, nb, 3), np.float64)
    sky_irr_h = np.zeros((ne, na, nb, 3), np.float64)
    om = _equirect_omega(PANO_H, PANO_W)
    el_rows = (0.5 - (np.arange(PANO_H) + 0.5) / PANO_H) * np.pi
    om_n = _persp_omega(SUN_PX, SUN_FOV_DEG)
    sky.sky_type = family
    t0 = time.time()
    for ie, el in enumerate(ELEVATIONS):
        for ia, a in enumerate(v1):
            for ib, b in enumerate(v2):
                e = math.radians(el)
                sky.sun_elevation = e
                sky.sun_direction = (0.0, math.cos(e), math.sin(e))  # = sun_rotation 0 (Blender +Y)
                if family in ANALYTIC_SUN:
                    sky.turbidity = b
                else:
                    sky.air_density = a
                    sky.aerosol_density = b
                    sky.sun_disc = False
                # 1. the sky, no disc, panorama
                sc.camera = pano_obj
                sc.render.resolution_x, sc.render.resolution_y = PANO_W, PANO_H
                sc.cycles.samples = 8
                pano = _render(bpy, sc, os.path.join(tmp, "pano.exr"))
                # sun_rotation 0 puts the sun at our azimuth -90 deg (column PANO_W / 4): roll it to the centre
                pano = np.roll(pano, PANO_W // 4, axis=1)
                lum = pano @ LUMA
                up = lum[: PANO_H // 2]
                sky_lum[ie, ia, ib] = 0.5 * (up[:, PANO_W // 2:] + up[:, : PANO_W // 2][:, ::-1])  # rel. azimuth 0..180
                sky_irr_h[ie, ia, ib] = np.sum(pano[: PANO_H // 2] * (om * np.sin(el_rows)[:, None])[: PANO_H // 2, :, None], axis=(0, 1))
                if family in ANALYTIC_SUN:
                    sun_irr[ie, ia, ib] = analytic_sun_rgb(el, b, float(sky_irr_h[ie, ia, ib] @ LUMA))
                else:
                    # 2. the disc alone through the narrow camera aimed at it (Blender +Y azimuth)
                    narrow_obj.rotation_euler = (math.pi / 2 + e, 0.0, 0.0)  # look along (0, cos e, sin e)
                    sc.camera = narrow_obj
                    sc.render.resolution_x = sc.render.resolution_y = SUN_PX
                    sc.cycles.samples = 4
                    sky.sun_disc = True
                    on = _render(bpy, sc, os.path.join(tmp, "on.exr"))
                    # the sky behind the disc: a plane fitted to the frame border (the sky is smooth over 2 deg)
                    diff = np.clip(on - _border_plane(on), 0, None)
                    sun_irr[ie, ia, ib] = np.sum(diff * om_n[..., None], axis=(0, 1))
                print(f"{family} el {el:5.1f} {n1} {a:.1f} {n2} {b:.1f}: sun {sun_irr[ie, ia, ib] @ LUMA:10.4g}  "
                      f"sky_h {sky_irr_h[ie, ia, ib] @ LUMA:9.4g}  ({time.time() - t0:.0f} s)", flush=True)
    return {"sky_lum": sky_lum.astype(np.float16), "sun_irr_rgb": sun_irr.astype(np.float32),
            "sky_irr_h_rgb": sky_irr_h.astype(np.float32), "p1": np.array(v1, np.float32),
            "p2": np.array(v2, np.float32), "p1_name": np.array(n1), "p2_name": np.array(n2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--families", default=",".join(FAMILIES),
                    help="comma-separated Sky Texture types to render (default: all)")
    ap.add_argument("--keep", default=None,
                    help="an existing table whose families not rendered now are copied into --out")
    args = ap.parse_args(argv)
    fams = [f.strip().upper() for f in args.families.split(",") if f.strip()]
    for f in fams:
        if f not in FAMILIES:
            ap.error(f"unknown sky family {f!r}; known: {', '.join(FAMILIES)}")
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="skytable-"))
    bpy, sc, sky, pano_obj, narrow_obj = _setup(args.threads)
    tmp = tempfile.mkdtemp(prefix="skytable-")
    arrays: dict[str, np.ndarray] = {}
    if args.keep:
        with np.load(args.keep) as z:
            if "sky_lum" in z.files:  # a table of stops 8-11: multiple scattering only, unprefixed keys
                old = {"sky_lum": "sky_lum", "sun_irr_rgb": "sun_irr_rgb", "sky_irr_h_rgb": "sky_irr_h_rgb",
                       "air_density": "p1", "aerosol_density": "p2"}
                if "MULTIPLE_SCATTERING" not in fams:
                    for k, v in old.items():
                        arrays[f"MULTIPLE_SCATTERING__{v}"] = z[k]
                    arrays["MULTIPLE_SCATTERING__p1_name"] = np.array("air_density")
                    arrays["MULTIPLE_SCATTERING__p2_name"] = np.array("aerosol_density")
            for k in z.files:
                if k.split("__")[0] in FAMILIES and k.split("__")[0] not in fams:
                    arrays[k] = z[k]
    for f in fams:
        for k, v in render_family(bpy, sc, sky, pano_obj, narrow_obj, f, tmp).items():
            arrays[f"{f}__{k}"] = v
    have = [f for f in FAMILIES if f"{f}__sky_lum" in arrays]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out, families=np.array(have), elevations_deg=np.array(ELEVATIONS, np.float32),
        sun_diameter_deg=np.float32(math.degrees(sky.sun_size)),
        info=np.array("Blender 5.0 Sky Texture (multiple / single scattering: ozone 1, altitude 100 m; Hosek-Wilkie: "
                      "ground albedo 0.3); made by tools/make_sky_table.py"), **arrays)
    print(f"wrote {out} ({out.stat().st_size} bytes): {', '.join(have)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
