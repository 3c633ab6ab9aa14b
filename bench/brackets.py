"""Brackets and RAW vs one JPEG: does merging (and the networks on what is still clipped) pay off?

    python bench/brackets.py --size 256 --curves srgb,filmic-s-strong

Held-out scenes: Blender's bundled ``courtyard.exr`` and ``sunset.exr``
(never trained on by the shipped model), equirect, resized to ``size`` x
``size / 2`` (area average); with ``--sky 15,40`` also Cycles renders of
bpy's MULTIPLE_SCATTERING Sky Texture (physical sun disc, ~1e5 x the median
sky) at those sun elevations, rendered at twice ``size``.  The single JPEG and the bracket middle frame
are exposed at e0 = 0.18 / median luminance.  Synthetic captures:

- single JPEG: e0, camera curve, 8-bit, JPEG q95, networks (singlehdr.reconstruct);
- brackets-3: EV -2, 0, +2; brackets-5: EV -4 .. +4 (2 EV apart), same camera,
  written as JPEG files and read back by singlehdr.merge.reconstruct_brackets
  (--ev given, response recovered from the frames, weighted merge);
  "+ networks" fills what the darkest frame clips;
- RAW-12 / RAW-14: e0 / 4 (the sensor saturates 2 stops above the JPEG
  white), photon shot noise (full well 20,000 e-) + read noise (3 e-),
  12/14-bit, RGGB, as-shot white balance (0.5, 1, 0.7), written at twice the
  size as DNG with tools/make_test_dng.py and read back with rawpy/LibRaw in
  half-size mode (one pixel per Bayer quad: the bench size, no demosaic error).

Metrics (prediction first scaled by the optimal log-luminance scale over all
pixels, as singlehdr evaluate does): PU21-PSNR over the image (reference
white 1/e0 -> 100 cd/m^2); in the region the row's own input still clips
("clip"; for the single JPEG: what the JPEG clips): log2 luminance RMSE
(stops) and energy ratio (sum of solid-angle-weighted luminance, prediction
/ reference); the same on the region the darkest frame of brackets-3 clips
("C3", common to all rows); SH9 irradiance relative error and dominant light
direction error (degrees): the IBL numbers of train/metrics.py.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))


def luminance(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64) @ np.array([0.2126, 0.7152, 0.0722])


def region_stats(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray, omega: np.ndarray) -> tuple[float, float]:
    """(log2 luminance RMSE in stops, energy ratio) over mask."""
    if not mask.any():
        return math.nan, math.nan
    yp, yr = luminance(pred)[mask], luminance(ref)[mask]
    rmse = float(np.sqrt(np.mean((np.log2(np.maximum(yp, 1e-6)) - np.log2(np.maximum(yr, 1e-6))) ** 2)))
    w = omega[mask]
    return rmse, float(np.sum(yp * w) / np.sum(yr * w))


def render_sky(path: Path, width: int, elevation_deg: float, rotation_deg: float = 30.0, samples: int = 64) -> Path:
    """An equirect of bpy 5.0's MULTIPLE_SCATTERING Sky Texture (physical sun disc) rendered by Cycles to an EXR."""
    import math

    import bpy  # benchmarks only; blender_hdri_dir() has set BLENDER_USER_RESOURCES

    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    sc = bpy.context.scene
    sc.render.engine = "CYCLES"
    sc.cycles.device = "CPU"
    sc.cycles.samples = samples
    sc.cycles.use_denoising = False
    sc.render.resolution_x, sc.render.resolution_y, sc.render.resolution_percentage = width, width // 2, 100
    cd = bpy.data.cameras.new("cam")
    cd.type = "PANO"
    cd.panorama_type = "EQUIRECTANGULAR"
    cam = bpy.data.objects.new("cam", cd)
    sc.collection.objects.link(cam)
    sc.camera = cam
    cam.rotation_euler = (math.pi / 2, 0.0, 0.0)
    world = bpy.data.worlds.new("sky")
    sc.world = world
    world.use_nodes = True
    nt = world.node_tree
    sky = nt.nodes.new("ShaderNodeTexSky")
    sky.sky_type = "MULTIPLE_SCATTERING"
    sky.sun_elevation = math.radians(elevation_deg)
    sky.sun_rotation = math.radians(rotation_deg)
    nt.links.new(sky.outputs["Color"], nt.nodes["Background"].inputs["Color"])
    sc.render.image_settings.file_format = "OPEN_EXR"
    sc.render.image_settings.color_depth = "32"
    sc.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256, help="equirect width (default 256)")
    ap.add_argument("--scenes", default="courtyard,sunset")
    ap.add_argument("--sky", default="", help="sun elevations (degrees) of extra bpy Sky Texture panoramas, e.g. 15,40")
    ap.add_argument("--curves", default="srgb,filmic-s-strong", help="camera curves (singlehdr.camera.crf.named_curves)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="folder for the tables (default bench/out)")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import cv2
    import torch

    torch.set_num_threads(args.threads)
    from common import OUT_DIR, machine_info, write_table
    from make_test_dng import sensor_mosaic, write_dng
    from quality import blender_hdri_dir

    from singlehdr import ReconstructOptions, reconstruct
    from singlehdr.camera.crf import apply_curve, named_curves
    from singlehdr.camera.forward import jpeg
    from singlehdr.envmap.projections import equirect_solid_angles
    from singlehdr.io import read_hdr, write_ldr
    from singlehdr.merge import MergeOptions, reconstruct_brackets, reconstruct_raw
    from singlehdr.train.metrics import light_direction_error, optimal_scale, pu21_psnr, sh9_relative_error, to_absolute

    hdri = blender_hdri_dir()
    curves = named_curves()
    opts = ReconstructOptions(device="cpu", input_kind="equirect")
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="singlehdr-bench-brackets-"))
    w = args.size - args.size % 2
    omega = equirect_solid_angles(w // 2, w)
    sources = [(name, hdri / f"{name}.exr") for name in args.scenes.split(",") if name]
    for el in [float(v) for v in args.sky.split(",") if v]:
        sources.append((f"sky{el:g}", render_sky(tmp / f"sky{el:g}.exr", 2 * w, el)))  # area-resized like the HDRIs
    for scene, src in sources:
        hdr, _ = read_hdr(src)
        ref = cv2.resize(hdr, (w, w // 2), interpolation=cv2.INTER_AREA).astype(np.float32)
        e0 = 0.18 / float(np.median(luminance(ref)))
        white = 1.0 / e0
        c3 = np.any(ref * (e0 / 4) >= 1.0, axis=-1)
        for curve_name in args.curves.split(","):
            f = curves[curve_name]

            def shoot(ev: float, name: str) -> Path:
                ldr = jpeg(apply_curve(np.clip(ref * e0 * 2.0**ev, 0, 1), f), 95)
                p = tmp / f"{scene}-{curve_name}-{name}.png"
                write_ldr(p, ldr, overwrite=True)  # PNG of the JPEG-decoded pixels (lossless carrier)
                return p

            cases: list[tuple[str, object, np.ndarray]] = []
            single = shoot(0.0, "single")
            cases.append(("single JPEG + networks", lambda: reconstruct(str(single), opts).hdr_linear,
                          np.any(ref * e0 >= 1.0, axis=-1)))
            for nb, evs in ((3, (-2.0, 0.0, 2.0)), (5, (-4.0, -2.0, 0.0, 2.0, 4.0))):
                paths = [shoot(ev, f"b{nb}_{i}") for i, ev in enumerate(evs)]
                clip = np.any(ref * e0 * 2.0 ** min(evs) >= 1.0, axis=-1)
                for fill in ("none", "networks"):
                    mo = MergeOptions(ev=evs, fill=fill)
                    label = f"brackets-{nb}" + (" + networks" if fill == "networks" else "")
                    cases.append((label, (lambda p=paths, m=mo: reconstruct_brackets(p, opts, m).hdr_linear), clip))
            if curve_name == args.curves.split(",")[0]:  # RAW has no camera curve: once per scene
                for bits in (12, 14):
                    ref2 = cv2.resize(hdr, (2 * w, w), interpolation=cv2.INTER_AREA).astype(np.float32)
                    m, black, wl = sensor_mosaic(ref2, exposure=e0 / 4, bits=bits, full_well=20000.0, seed=bits)
                    dng = write_dng(tmp / f"{scene}-raw{bits}.dng", m, black, wl)
                    clip = np.any(ref * e0 / 4 >= 1.0, axis=-1)
                    for fill in ("none", "networks"):
                        label = f"RAW-{bits}" + (" + networks" if fill == "networks" else "")
                        cases.append((label, (lambda d=dng, fl=fill: reconstruct_raw(d, opts, fill=fl, half_size=True).hdr_linear), clip))
            for label, fn, clip in cases:
                t0 = time.perf_counter()
                pred = fn()  # type: ignore[operator]
                sec = time.perf_counter() - t0
                s = optimal_scale(pred, ref)
                p = (pred * np.float32(s)).astype(np.float32)
                own_err, own_en = region_stats(p, ref, clip, omega)
                c3_err, c3_en = region_stats(p, ref, c3, omega)
                rows.append({
                    "scene": scene, "curve": curve_name if not label.startswith("RAW") else "(linear)", "input": label,
                    "pu21_psnr": pu21_psnr(to_absolute(p, white), to_absolute(ref, white)),
                    "clip_pct": 100 * float(clip.mean()), "clip_log2_rmse": own_err, "clip_energy": own_en,
                    "c3_log2_rmse": c3_err, "c3_energy": c3_en,
                    "sh9_rel_err": sh9_relative_error(p, ref), "light_deg": light_direction_error(p, ref),
                    "seconds": sec,
                })
                print(" | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in rows[-1].values()), flush=True)
    cols = ["scene", "curve", "input", "pu21_psnr", "clip_pct", "clip_log2_rmse", "clip_energy", "c3_log2_rmse",
            "c3_energy", "sh9_rel_err", "light_deg", "seconds"]
    out = Path(args.out) if args.out else OUT_DIR
    mi = machine_info()
    pre = (f"Command: `python bench/brackets.py {' '.join(argv if argv is not None else sys.argv[1:])}`. "
           f"Device: {mi['cpu']}, {args.threads} torch thread(s), torch {mi['torch']}, shipped default model.")
    text = write_table(rows, cols, out / "brackets.md", out / "brackets.csv", title="brackets.py", preamble=pre)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
