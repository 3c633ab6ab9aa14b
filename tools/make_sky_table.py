"""Render the clear-sky table that :mod:`singlehdr.envmap.sun` fits to a photo's sky.

Usage (any Python with bpy==5.0.1, e.g. the test venv; about 15 min on one CPU core):

    python tools/make_sky_table.py --out core/singlehdr/data/sky_sun_table.npz

For every sun elevation x air density x aerosol density of the grid below,
Cycles renders Blender 5.0's physical Sky Texture (``MULTIPLE_SCATTERING``,
ozone 1, altitude 100 m, ground albedo 0.3):

1. the sky without its sun disc as a 128 x 64 equirect panorama (8 AA
   samples), rolled so the sun is at azimuth 0, of which the upper hemisphere
   and one half (relative azimuth 0..180 deg, the sky is mirror-symmetric about
   the sun's vertical plane) is kept as Rec.709 luminance: ``sky_lum``
   (n_el, n_air, n_aer, 32, 64);
2. the sun disc alone (minus the sky behind it: a plane through the frame border) through a 2-degree perspective
   camera aimed at the sun (64 x 64 pixels, 0.03 deg each, Blender's default
   disc of 0.545 deg): its irradiance at normal incidence, the integral of its
   radiance over its solid angle, ``sun_irr_rgb`` (n_el, n_air, n_aer, 3), and
   ``sky_irr_h_rgb``, the sky's irradiance on a horizontal surface.

Units are the Sky Texture's own; only ratios (sun / sky) are used.  The sun
of the texture has a physical radiance (extinction along its path through the
same atmosphere), which is what makes the table a sun/sky ratio model.
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
AIR = (1.0, 2.0)
AEROSOL = (0.3, 1.0, 3.0, 8.0)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="skytable-"))
    bpy, sc, sky, pano_obj, narrow_obj = _setup(args.threads)
    tmp = tempfile.mkdtemp(prefix="skytable-")
    ne, na, nb = len(ELEVATIONS), len(AIR), len(AEROSOL)
    sky_lum = np.zeros((ne, na, nb, PANO_H // 2, PANO_W // 2), np.float32)
    sun_irr = np.zeros((ne, na, nb, 3), np.float64)
    sky_irr_h = np.zeros((ne, na, nb, 3), np.float64)
    sun_col = np.zeros((ne, na, nb), np.float64)
    om = _equirect_omega(PANO_H, PANO_W)
    el_rows = (0.5 - (np.arange(PANO_H) + 0.5) / PANO_H) * np.pi
    om_n = _persp_omega(SUN_PX, SUN_FOV_DEG)
    t0 = time.time()
    for ie, el in enumerate(ELEVATIONS):
        for ia, air in enumerate(AIR):
            for ib, aer in enumerate(AEROSOL):
                sky.sun_elevation = math.radians(el)
                sky.air_density = air
                sky.aerosol_density = aer
                # 1. the sky, no disc, panorama
                sky.sun_disc = False
                sc.camera = pano_obj
                sc.render.resolution_x, sc.render.resolution_y = PANO_W, PANO_H
                sc.cycles.samples = 8
                pano = _render(bpy, sc, os.path.join(tmp, "pano.exr"))
                # sun_rotation 0 puts the sun at our azimuth -90 deg (column PANO_W / 4): roll it to the centre
                pano = np.roll(pano, PANO_W // 4, axis=1)
                lum = pano @ LUMA
                up = lum[: PANO_H // 2]
                half = 0.5 * (up[:, PANO_W // 2:] + up[:, : PANO_W // 2][:, ::-1])  # relative azimuth 0..180
                sky_lum[ie, ia, ib] = half
                row = int(np.argmax(lum[PANO_H // 2 - 1]))
                sun_col[ie, ia, ib] = row
                sky_irr_h[ie, ia, ib] = np.sum(pano[: PANO_H // 2] * (om * np.sin(el_rows)[:, None])[: PANO_H // 2, :, None], axis=(0, 1))
                # 2. the disc alone through the narrow camera aimed at it (Blender +Y azimuth)
                e = math.radians(el)
                narrow_obj.rotation_euler = (math.pi / 2 + e, 0.0, 0.0)  # look along (0, cos e, sin e)
                sc.camera = narrow_obj
                sc.render.resolution_x = sc.render.resolution_y = SUN_PX
                sc.cycles.samples = 4
                sky.sun_disc = True
                on = _render(bpy, sc, os.path.join(tmp, "on.exr"))
                # the sky behind the disc: a plane fitted to the frame border (the sky is smooth over 2 deg)
                off = _border_plane(on)
                diff = np.clip(on - off, 0, None)
                sun_irr[ie, ia, ib] = np.sum(diff * om_n[..., None], axis=(0, 1))
                edge = np.concatenate([diff[0], diff[-1], diff[:, 0], diff[:, -1]]).max()
                print(f"el {el:5.1f} air {air:.1f} aer {aer:.1f}: sun {sun_irr[ie, ia, ib] @ LUMA:10.4g}  sky_h {sky_irr_h[ie, ia, ib] @ LUMA:9.4g}"
                      f"  peak col {row}  disc at frame edge {edge:.3g}  ({time.time() - t0:.0f} s)", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        elevations_deg=np.array(ELEVATIONS, np.float32),
        air_density=np.array(AIR, np.float32),
        aerosol_density=np.array(AEROSOL, np.float32),
        sky_lum=sky_lum.astype(np.float16),
        sun_irr_rgb=sun_irr.astype(np.float32),
        sky_irr_h_rgb=sky_irr_h.astype(np.float32),
        sun_diameter_deg=np.float32(math.degrees(sky.sun_size)),
        info=np.array("Blender 5.0 Sky Texture MULTIPLE_SCATTERING, ozone 1, altitude 100 m; made by tools/make_sky_table.py"),
    )
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
