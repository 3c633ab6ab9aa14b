"""Brackets and RAW vs one JPEG, measured by the light they cast (issue 16): envmaps lit into bench/ibl.py's
Cycles scene and scored with bench/ibl_metrics.py (not a test).

    python bench/brackets_ibl.py --threads 1                 # every held-out scene, maps 256x128
    python bench/brackets_ibl.py --threads 1 --scenes sky_002,sunset

Test set: bench/ibl.py's (``ibl.eval_scenes``): the held-out physical sky
panoramas of tools/make_sky_hdrs.py (families "sky" and "ground") and
Blender's held-out bundled HDRIs courtyard and sunset, 512x256 truths
area-averaged to the map width (default 256x128) for the World.

Captures of each truth (exposure t: the 99th percentile of the per-pixel max
channel -> 1.0, as ibl.make_ldr; the sun always clips at t):

- ``jpeg-as-is``: the single JPEG (ibl.make_ldr: sRGB, 8 bits, q90 4:4:4)
  through method inverse-srgb, sun off (bench/ibl.py's baseline row; the
  "render" and "sh9" targets are relative to it);
- ``jpeg+networks``: the same JPEG, the shipped networks, ``sun="auto"``
  (bench/ibl.py's ``singlehdr+sun``);
- ``brackets-3`` / ``brackets-5``: EV -2, 0, +2 / -4 .. +4 around t (2 EV
  apart), each frame the same JPEG camera, written as files and merged by
  ``make_envmap([...], EnvmapOptions(merge=MergeOptions(ev=..., fill="none")))``
  (response "auto": the shared EMoR curve fitted to the frames or sRGB,
  whichever makes the frames agree better; aligned; weighted merge): the
  merge's lower bound where the darkest frame clips, no sun recovery;
  ``+networks``: ``fill="networks"``, ``sun="auto"``: the networks and the sun
  recovery fill only what the darkest frame clips;
- ``raw-12`` / ``raw-14``: the sensor at t / 4 (saturates 2 stops above the
  JPEG's white), photon shot noise (full well 20,000 e-) + 3 e- read noise,
  RGGB, as-shot white balance (0.5, 1, 0.7), 12 / 14 bits, written as a DNG
  at twice the map width by tools/make_test_dng.py and read back by
  ``make_envmap(dng, ...)`` with rawpy / LibRaw in half-size mode; ``fill="none"``
  (sun off) and ``+networks`` (sun auto) as above.

Every map gets one global scale fitted on the well-exposed pixels of the
single JPEG (ibl_metrics.fit_scale, the same pixels for every row), then the
metrics of bench/ibl.py (render rel RMSE, log2 RMSE, shadow contrast, energy
ratio, dominant light angle, SH9 irradiance error; targets of issue 9 via
ibl.summarise).  Extra group "darkest clips": scenes where the darkest
bracket (EV -4) still clips.  Writes bench/out/brackets_ibl.md / .csv.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tools"))

import ibl  # noqa: E402
import ibl_metrics as M  # noqa: E402

WORK = ibl.BUILD / "brackets"
BRACKETS = {3: (-2.0, 0.0, 2.0), 5: (-4.0, -2.0, 0.0, 2.0, 4.0)}
RAW_BITS = (12, 14)
ROW_NAMES = ["jpeg-as-is", "jpeg+networks", "brackets-3", "brackets-3+networks", "brackets-5", "brackets-5+networks",
             "raw-12", "raw-12+networks", "raw-14", "raw-14+networks"]


def write_jpeg(lin01: np.ndarray, path: Path) -> Path:
    """An sRGB 8-bit JPEG (q90, 4:4:4: ibl.make_ldr's camera) of linear values already clipped to [0, 1]."""
    from PIL import Image

    from singlehdr.camera import forward
    from singlehdr.camera.transfer import linear_to_srgb

    u8 = forward.to_uint8(forward.quantize(linear_to_srgb(lin01.astype(np.float32))))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.jpg")
    Image.fromarray(u8, "RGB").save(tmp, format="JPEG", quality=ibl.JPEG_QUALITY, subsampling=0)
    os.replace(tmp, path)
    return path


def build_maps(truth512: np.ndarray, width: int, name: str, rows: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """{row: (map, facts)} and the scene's capture facts."""
    from make_test_dng import sensor_mosaic, write_dng

    from singlehdr import ReconstructOptions
    from singlehdr.envmap import EnvmapOptions, make_envmap
    from singlehdr.merge import MergeOptions

    truth = ibl.area_downsample(truth512, width)
    t = 1.0 / float(np.percentile(truth.max(axis=-1), ibl.CLIP_PERCENTILE))
    d = WORK / name
    d.mkdir(parents=True, exist_ok=True)
    jpeg = write_jpeg(np.clip(truth * t, 0, 1), d / "single.jpg")
    facts = {"exposure_t": t, "clipped_fraction": float(np.mean(truth.max(axis=-1) * t >= 1.0)),
             "darkest_clipped_fraction": {n: float(np.mean(truth.max(axis=-1) * t * 2.0 ** min(evs) >= 1.0)) for n, evs in BRACKETS.items()},
             "raw_clipped_fraction": float(np.mean(truth.max(axis=-1) * t / 4 >= 1.0))}
    rec = lambda m: ReconstructOptions(method=m, device="cpu")  # noqa: E731
    base = EnvmapOptions(kind="equirect", width=width, reconstruct=rec("singlehdr"))
    jobs: dict[str, Any] = {
        "jpeg-as-is": lambda: make_envmap(str(jpeg), base.replace(reconstruct=rec("inverse-srgb"), sun="off")),
        "jpeg+networks": lambda: make_envmap(str(jpeg), base.replace(sun="auto")),
    }
    for n, evs in BRACKETS.items():
        if not any(r.startswith(f"brackets-{n}") for r in rows):
            continue
        frames = [str(write_jpeg(np.clip(truth * t * 2.0**ev, 0, 1), d / f"b{n}_{i}.jpg")) for i, ev in enumerate(evs)]
        jobs[f"brackets-{n}"] = (lambda f=frames, e=evs: make_envmap(f, base.replace(sun="off", merge=MergeOptions(ev=e, fill="none"))))
        jobs[f"brackets-{n}+networks"] = (lambda f=frames, e=evs: make_envmap(f, base.replace(sun="auto", merge=MergeOptions(ev=e, fill="networks"))))
    for bits in RAW_BITS:
        if not any(r.startswith(f"raw-{bits}") for r in rows):
            continue
        src = truth512 if truth512.shape[1] == 2 * width else ibl.area_downsample(truth512, 2 * width)
        m, black, wl = sensor_mosaic(src, exposure=t / 4, bits=bits, full_well=20000.0, seed=bits)
        dng = write_dng(d / f"raw{bits}.dng", m, black, wl)
        jobs[f"raw-{bits}"] = (lambda p=dng: make_envmap(str(p), base.replace(sun="off", merge=MergeOptions(fill="none", raw_half=True))))
        jobs[f"raw-{bits}+networks"] = (lambda p=dng: make_envmap(str(p), base.replace(sun="auto", merge=MergeOptions(fill="networks", raw_half=True))))
    out = {}
    for r in rows:
        t0 = time.perf_counter()
        res = jobs[r]()
        out[r] = (np.asarray(res.hdr_linear, np.float32),
                  {"seconds": time.perf_counter() - t0, "sun": ibl._plain(res.sun),
                   "still_clipped": res.reconstruction.metadata.get("clipped_fraction")})
    facts["ldr"] = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(jpeg).convert("RGB"), np.float32) / 255.0
    facts["truth"] = truth
    return out, facts


def evaluate(sc: ibl.EvalScene, rows: list[str], width: int, renderer: ibl.Renderer, masks: dict, log) -> list[dict[str, Any]]:
    from singlehdr.io import read_hdr, write_hdr

    truth512, _ = read_hdr(sc.truth_path)
    maps, facts = build_maps(truth512, width, sc.name, rows)
    truth = facts["truth"]
    truth_path = write_hdr(WORK / sc.name / "truth.exr", truth, half=False, overwrite=True)
    well = M.well_exposed_mask(facts["ldr"])
    tr = ibl.render_truth(renderer, truth_path, truth, masks)
    shadow, lit, truth_all, c_truth, d_truth, clamp = tr.shadow, tr.lit, tr.with_spheres, tr.contrast, tr.light, tr.clamp
    out = []
    for row in rows:
        env, f = maps[row]
        s = M.fit_scale(env, truth, well)
        env = (env * np.float32(s)).astype(np.float32)
        path = write_hdr(WORK / sc.name / f"{row}.exr", env, half=False, overwrite=True)
        renderer.set_world_map(path)
        r_all = np.concatenate([renderer.render(y) for y in renderer.spec.yaws])
        rec = {
            "scene": sc.name, "family": sc.family, "row": row, "sky_type": sc.info.get("sky_type", ""),
            "render_rel_rmse": M.render_rel_rmse(r_all, truth_all, clamp=clamp),
            "render_log2_rmse": M.render_log2_rmse(r_all, truth_all),
            "shadow_contrast_truth": c_truth, "shadow_contrast": M.shadow_contrast(r_all, shadow, lit),
            "energy_ratio": M.energy_ratio(env, truth), "light_angle_deg": M.angle_deg(M.dominant_light(env), d_truth),
            "sh9_error": M.sh9_irradiance_error(env, truth), "scale": s, "exposure_t": facts["exposure_t"],
            "clipped_fraction": facts["clipped_fraction"], "darkest_clipped_fraction": facts["darkest_clipped_fraction"][5],
            "shadow_pixels": int(shadow.sum()), "lit_pixels": int(lit.sum()), "map_seconds": f["seconds"], "sun": f["sun"],
            "still_clipped": f["still_clipped"],
        }
        out.append(rec)
        log(f"  {sc.name:10s} {row:20s} relRMSE {rec['render_rel_rmse']:.3f} log2 {rec['render_log2_rmse']:.2f} "
            f"C {rec['shadow_contrast']:.2f}/{c_truth:.2f} E {rec['energy_ratio']:.2f} L {rec['light_angle_deg']:.1f} "
            f"SH {rec['sh9_error']:.3f} sun {'yes' if f['sun'] else 'no'} ({f['seconds']:.1f} s map)")
    jrow = next((r for r in out if r["row"] == ibl.JPEG_ROW), None)
    for rec in out:
        rec["targets"] = M.target_checks(rec, jrow)
    return out


def pair_table(records: list[dict[str, Any]]) -> str:
    """Per capture: on how many scenes (and on the mean) the networks + sun beat the same capture without them."""
    lines = ["| capture | scenes | darkest / sensor clips on | render rel RMSE without -> with networks (mean) | "
             "better with networks (render) | SH9 error without -> with | energy without -> with | suns added |",
             "|---|---:|---:|---|---:|---|---|---:|"]
    for cap in ("brackets-3", "brackets-5", "raw-12", "raw-14"):
        a = {r["scene"]: r for r in records if r["row"] == cap}
        b = {r["scene"]: r for r in records if r["row"] == cap + "+networks"}
        both = [s for s in a if s in b]
        if not both:
            continue
        clips = [s for s in both if b[s].get("still_clipped") and b[s]["still_clipped"] > 0]
        better = sum(1 for s in clips if b[s]["render_rel_rmse"] < a[s]["render_rel_rmse"])
        mean = lambda rs, k: float(np.mean([x[k] for x in rs]))  # noqa: E731
        ra, rb = [a[s] for s in clips], [b[s] for s in clips]
        if not clips:
            continue
        lines.append(f"| {cap} | {len(both)} | {len(clips)} | {mean(ra, 'render_rel_rmse'):.3f} -> {mean(rb, 'render_rel_rmse'):.3f} | "
                     f"{better}/{len(clips)} | {mean(ra, 'sh9_error'):.3f} -> {mean(rb, 'sh9_error'):.3f} | "
                     f"{mean(ra, 'energy_ratio'):.2f} -> {mean(rb, 'energy_ratio'):.2f} | {sum(1 for s in clips if b[s]['sun'])}/{len(clips)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--width", type=int, default=256, help="map width (default 256; the truths are area-averaged to it)")
    ap.add_argument("--render-width", type=int, default=160, help="render width (default 160, as bench/ibl.py); height 9/16")
    ap.add_argument("--samples", type=int, default=32, help="Cycles samples (default 32, as bench/ibl.py)")
    ap.add_argument("--scenes", default=None, help="comma-separated subset of scene names")
    ap.add_argument("--rows", default=None, help=f"comma-separated subset of: {', '.join(ROW_NAMES)}")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--work", type=Path, default=None, help="folder for frames, DNGs, maps and renders (default build/ibl/brackets)")
    args = ap.parse_args(argv)
    global WORK
    if args.work is not None:
        WORK = args.work.resolve()
    t_start = time.perf_counter()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)

    def log(s: str) -> None:
        print(s, file=sys.stderr, flush=True)

    rows = ROW_NAMES if not args.rows else [ibl.JPEG_ROW] + [r for r in args.rows.split(",") if r and r != ibl.JPEG_ROW]
    unknown = set(rows) - set(ROW_NAMES)
    if unknown:
        raise SystemExit(f"unknown rows {sorted(unknown)}")
    scenes = ibl.eval_scenes(False, args.threads, log)
    if args.scenes:
        want = {s.strip() for s in args.scenes.split(",")}
        scenes = [s for s in scenes if s.name in want]
    spec = ibl.SceneSpec(width=args.render_width, height=int(round(args.render_width * 9 / 16)), samples=args.samples,
                         threads=args.threads)
    renderer = ibl.Renderer(spec, WORK / "renders")
    masks = {y: renderer.ground_mask(y) for y in spec.yaws}
    records: list[dict[str, Any]] = []
    for sc in scenes:
        log(f"{sc.name} ({sc.family})")
        records += evaluate(sc, rows, args.width, renderer, masks, log)
    took = time.perf_counter() - t_start
    row_objs = [ibl.Row(r, "", {}) for r in rows]
    summary = ibl.summarise(records, row_objs)
    tables = ibl.markdown_tables(summary)
    cmd = " ".join(shlex.quote(a) for a in ["python", "bench/brackets_ibl.py", *(argv if argv is not None else sys.argv[1:])])
    header = [
        f"Command: `{cmd}`",
        f"Core measured: {ibl.core_description()}.",
        f"Device: {ibl.device_description(args.threads)}.",
        f"Scenes: {', '.join(f'{s.name} ({s.family})' for s in scenes)}; maps {args.width}x{args.width // 2}; "
        f"renders {spec.width}x{spec.height}, {spec.samples} samples, yaws {', '.join(f'{y:g}' for y in spec.yaws)} deg.",
        f"Run time {took:.0f} s wall, {ibl._cpu_seconds():.0f} s of CPU.",
    ]
    pairs = pair_table(records)
    text = "\n".join(["# Brackets and RAW vs one JPEG: IBL renders (bench/brackets_ibl.py)", "", *header, "",
                      "## Networks + sun on what the capture still clips vs the capture alone", "", pairs, "",
                      ibl.TARGETS_NOTE, "", tables, "## Per scene", "", ibl.scene_table(records)])
    args.out.mkdir(parents=True, exist_ok=True)
    ibl.write_atomic(args.out / "brackets_ibl.md", text)
    import csv
    import json

    keys = ["scene", "family", "row", "sky_type", *[k for k, _ in ibl.COLUMNS], "scale", "exposure_t", "clipped_fraction",
            "darkest_clipped_fraction", "still_clipped", "map_seconds", "sun"]
    tmp = args.out / "brackets_ibl.csv.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        for r in records:
            d = {k: r.get(k) for k in keys}
            d["sun"] = json.dumps(r["sun"]) if r.get("sun") else ""
            w.writerow(d)
    os.replace(tmp, args.out / "brackets_ibl.csv")
    print(pairs)
    print(tables)
    print(f"wrote {args.out / 'brackets_ibl.md'} and .csv ({took:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
