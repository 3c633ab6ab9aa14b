"""Sun recovery in environment maps: energy, dominant light and SH9 irradiance against the true HDR (numpy only).

    PYTHONPATH=core python bench/envmap_sun.py [--method inverse-srgb] [--width 256] [--skies 6]

Inputs: Blender's eight bundled HDRIs and physical sky panoramas rendered with
bpy 5.0's Sky Texture (MULTIPLE_SCATTERING; sun elevations, air, aerosol and
ozone densities and ground albedo off the grid of the sun table, see
SKIES), each photographed through an sRGB camera that clips (average
metering at 0 and -2 EV, 8 bit).  The truth of a sky panorama is its
sky-only render plus its 0.545-degree sun disc, whose irradiance is measured
through a narrow camera aimed at it (as in tools/make_sky_table.py).

Rows: "jpeg" = the LDR decoded as is (sRGB -> linear), "off" = make_envmap
with sun="off", "auto" = the default (sun="auto").  Columns: energy ratio
(map / truth, luminance over the sphere), dominant-light angle (deg),
SH9 irradiance error (relative RMS over normals), sun added?, and for auto
the sun's irradiance / the truth's sun irradiance where known.
This is a quick numpy check; the Cycles IBL bench (bench/ibl.py) is the
render-based measurement.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

SKIES = [  # elevation deg, sun_rotation deg, air, aerosol, ozone, ground albedo
    (4.0, 30.0, 1.0, 1.5, 1.0, 0.3), (12.0, -60.0, 1.3, 0.6, 2.0, 0.2), (23.0, 100.0, 0.8, 2.0, 1.0, 0.4),
    (38.0, 170.0, 1.5, 4.0, 0.5, 0.3), (55.0, -140.0, 1.0, 0.8, 1.0, 0.3), (70.0, 10.0, 1.8, 1.2, 1.5, 0.5),
]
HDRIS = ["city", "courtyard", "sunrise", "sunset", "forest", "interior", "night", "studio"]
LUMA = np.array([0.2126, 0.7152, 0.0722])


def render_skies(n: int, width: int):
    """[(name, truth env (H, W, 3), sun direction, sun irradiance rgb)] from bpy."""
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="bench-sun-"))
    import make_sky_table as m

    from singlehdr.envmap.sun import place_sun

    bpy, sc, sky, pano_obj, narrow_obj = m._setup(1)
    tmp = tempfile.mkdtemp(prefix="bench-sun-")
    out = []
    for el, rot, air, aer, oz, alb in SKIES[:n]:
        sky.sun_elevation, sky.sun_rotation = math.radians(el), math.radians(rot)
        sky.air_density, sky.aerosol_density, sky.ozone_density, sky.ground_albedo = air, aer, oz, alb
        sky.sun_disc = False
        sc.camera = pano_obj
        sc.render.resolution_x, sc.render.resolution_y = width, width // 2
        sc.cycles.samples = 8
        pano = m._render(bpy, sc, os.path.join(tmp, "p.exr"))
        az, e = math.radians(-90.0 + rot), math.radians(el)  # sun_rotation r puts the sun at our azimuth r - 90 (measured)
        d = np.array([math.cos(e) * math.sin(az), math.sin(e), -math.cos(e) * math.cos(az)])
        db = np.array([-d[2], -d[0], d[1]])
        narrow_obj.rotation_euler = (math.pi / 2 + e, 0.0, math.atan2(db[1], db[0]) - math.pi / 2)
        sc.camera = narrow_obj
        sc.render.resolution_x = sc.render.resolution_y = m.SUN_PX
        sc.cycles.samples = 4
        sky.sun_disc = True
        on = m._render(bpy, sc, os.path.join(tmp, "on.exr"))
        irr = np.sum(np.clip(on - m._border_plane(on), 0, None) * m._persp_omega(m.SUN_PX, m.SUN_FOV_DEG)[..., None], axis=(0, 1))
        env = place_sun(pano.astype(np.float32), d, irr, math.degrees(sky.sun_size))
        out.append((f"sky el{el:g} aer{aer:g}", env, d, irr))
    return out


def load_hdri(name: str, width: int) -> np.ndarray:
    import OpenEXR

    import bpy  # noqa: F401  (for the data path)
    from singlehdr.envmap.projections import resize_equirect

    path = Path(bpy.utils.system_resource("DATAFILES", path="studiolights/world")) / f"{name}.exr"
    with OpenEXR.File(str(path)) as f:
        ch = f.channels()
        rgb = ch["RGB"].pixels if "RGB" in ch else np.stack([ch[c].pixels for c in "RGB"], axis=-1)
    env = np.clip(np.asarray(rgb, np.float32)[..., :3], 0, None)
    return env if env.shape[1] == width else resize_equirect(env, width)


def speed(threads: int) -> int:
    """make_envmap wall time on a 2048x1024 8-bit panorama, 1024x512 map, sun auto; torch on ``threads`` threads."""
    import torch

    torch.set_num_threads(threads)
    from singlehdr.camera.transfer import linear_to_srgb
    from singlehdr.envmap import EnvmapOptions, make_envmap
    from singlehdr.options import ReconstructOptions

    env = load_hdri("city", 2048)
    s = 0.18 / (float(np.mean(env @ LUMA)))
    ldr = np.round(linear_to_srgb(np.clip(env * s, 0, 1)) * 255).astype(np.uint8)
    print(f"make_envmap, 2048x1024 input -> 1024x512 map, torch threads {threads}, CPU: {os.cpu_count()} logical cores (shared)")
    print("| method | seconds (best of 2; the network: 1 run) | sun added |")
    print("|---|---|---|")
    for method in ("inverse-srgb", "singlehdr"):
        best, sun = float("inf"), None
        for _ in range(2 if method != "singlehdr" else 1):
            t = time.perf_counter()
            r = make_envmap(ldr, EnvmapOptions(width=1024, reconstruct=ReconstructOptions(method=method)))
            best = min(best, time.perf_counter() - t)
            sun = r.sun is not None
        print(f"| {method} | {best:.2f} | {'yes' if sun else 'no'} |", flush=True)
    # the README sample (a hazy low sun: its glare's colour filled, since stop 24 a haze-prior sun) resized to 2048x1024
    import cv2

    from singlehdr.data import sample_path

    pano = cv2.resize(cv2.cvtColor(cv2.imread(str(sample_path())), cv2.COLOR_BGR2RGB), (2048, 1024), interpolation=cv2.INTER_CUBIC)
    best, sun = float("inf"), None
    for _ in range(2):
        t = time.perf_counter()
        r = make_envmap(pano, EnvmapOptions(width=1024))
        best = min(best, time.perf_counter() - t)
        sun = r.sun is not None
    print(f"| singlehdr, README sample resized to 2048x1024 (best of 2) | {best:.2f} | {'yes' if sun else 'no'} |", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="inverse-srgb")
    ap.add_argument("--width", type=int, default=256, help="map width (inputs are twice as wide)")
    ap.add_argument("--skies", type=int, default=len(SKIES))
    ap.add_argument("--evs", default="0,-2")
    ap.add_argument("--speed", action="store_true",
                    help="instead: time make_envmap on a 2048x1024 panorama (city, 0 EV; and the README sample resized) -> 1024 wide map")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if args.speed:
        return speed(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from singlehdr.camera.transfer import linear_to_srgb, srgb_to_linear
    from singlehdr.envmap import EnvmapOptions, make_envmap
    from singlehdr.envmap.lighting import dominant_light, irradiance_error, sh9
    from singlehdr.envmap.projections import angle_between_deg, equirect_solid_angles, resize_equirect
    from singlehdr.options import ReconstructOptions

    w_in, w = 2 * args.width, args.width
    cases = [(n, load_hdri(n, w_in), None, None) for n in HDRIS]
    if args.skies:
        cases += render_skies(args.skies, w_in)

    def energy(e):
        return float(np.sum((e @ LUMA) * equirect_solid_angles(*e.shape[:2])))

    print(f"method {args.method}, map {w}x{w // 2}, input {w_in}x{w_in // 2}")
    print("| scene | EV | row | energy ratio | light angle (deg) | SH9 irr. error | sun added | sun irr. / true |")
    print("|---|---|---|---|---|---|---|---|")
    t0 = time.time()
    for name, env, sun_dir, sun_irr in cases:
        y = env @ LUMA
        mean = energy(env) / (4 * np.pi)
        truth = resize_equirect(env, w)
        gt_light = dominant_light(env)
        for ev in [float(v) for v in args.evs.split(",")]:
            s = 0.18 / mean * 2.0**ev
            ldr = np.round(linear_to_srgb(np.clip(env * s, 0, 1)) * 255).astype(np.uint8)
            ref_sh = sh9(truth * s)
            rows = {"jpeg": (resize_equirect(srgb_to_linear(ldr.astype(np.float32) / 255), w), None)}
            for mode in ("off", "auto"):
                r = make_envmap(ldr, EnvmapOptions(width=w, reconstruct=ReconstructOptions(method=args.method), sun=mode))
                rows[mode] = (r.hdr_linear, r.sun)
            for row, (m, sun) in rows.items():
                li = dominant_light(m)
                ratio = ""
                if sun is not None and sun_irr is not None:
                    ratio = f"{sun['irradiance_luminance'] / (float(sun_irr @ LUMA) * s):.2f}"
                added = "-" if row != "auto" else ("yes" if sun is not None else "no")
                print(f"| {name} | {ev:+g} | {row} | {energy(m) / (energy(truth) * s):.3f} | "
                      f"{angle_between_deg(li.direction, gt_light.direction):.1f} | {irradiance_error(sh9(m), ref_sh):.3f} | "
                      f"{added} | {ratio} |", flush=True)
    print(f"({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
