"""Flicker benchmark: per-frame vs shot-locked reconstruction of LDR plates.

Each test shot is a synthetic camera pan over an HDR panorama -- Blender's
bundled HDRIs (held out from the shipped model's training) and a Cycles
render of a procedural scene (tools/render_training_hdrs.py's scene builder,
rendered through an equirectangular camera) -- with an exposure ramp of
``--ramp-ev`` stops over the shot.  Each frame is pushed through the
project's camera model (singlehdr.camera.forward: exposure, sensor noise
drawn per frame, clipping, one held-out camera response curve for the whole
shot, 8-bit quantisation) and written as a JPEG sequence (quality 95).  The
sequence is then reconstructed with the real CLI, ``singlehdr reconstruct
shot.####.jpg -o out/shot.####.exr``, once with ``--per-frame`` (a camera
response, and for ``--exposure median`` an exposure scale, estimated on every
frame) and once shot-locked (the default: one pooled response per shot).

Metrics (truth = the exposed scene radiance before clipping, the quantity a
relative reconstruction estimates, LDR white = 1):

- *mean log luminance*: m_t = mean of log2(Y + 1e-4) over the frame's
  well-exposed pixels (LDR codes 9..249: the clipped ones are scored by the
  second metric, where a missing sun would swamp the mean); the error
  series d_t = m_out(t) - m_true(t); **excess flicker** = RMS over t of
  d_(t+1) - d_t, in stops.  A constant error (a wrong but steady curve or
  scale) is no flicker; the true pan and ramp are subtracted out.  **Jitter**
  = RMS of the second difference d_(t+1) - 2 d_t + d_(t-1): what is left
  after removing a smooth drift of the error (e.g. a wrong curve seen at a
  slowly changing exposure), i.e. the frame-to-frame flicker proper.
- *clipped-region energy*: E_t = sum of Y over the pixels clipped in the LDR
  frame (any channel >= 250/255); e_t = log2(E_out / E_true); excess flicker =
  RMS of e_(t+1) - e_t over consecutive frames that both have clipped pixels
  (and its jitter, the second difference, likewise).

Run (CPU; ~10 min on 2 shared cores):

    python bench/flicker.py --model runs/lin/model.safetensors --model default

Writes bench/out/flicker/flicker.md and .csv and prints the table.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT_DIR, machine_info, write_table  # noqa: E402

LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
CLIP_CODE = 250

RENDER_SCRIPT = r"""
import math, os, sys, tempfile
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="singlehdr_bur_"))
sys.path.insert(0, sys.argv[1])
import bpy
from render_training_hdrs import build_scene
seed, out, w, h, samples = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
scene, info = build_scene(seed, w, h, samples)
cam = scene.camera
for c in list(cam.constraints):
    cam.constraints.remove(c)
cam.data.type = "PANO"
cam.data.panorama_type = "EQUIRECTANGULAR"
cam.location = (0.0, 0.0, 1.6)
cam.rotation_euler = (math.pi / 2, 0.0, 0.0)
scene.render.filepath = out
bpy.ops.render.render(write_still=True)
"""


def bundled_hdri(name: str) -> Path:
    import bpy  # noqa: F401  (only to find Blender's data files)

    return Path(bpy.utils.system_resource("DATAFILES", path="studiolights/world")) / f"{name}.exr"


def cycles_panorama(seed: int, cache: Path, width: int = 512, samples: int = 32) -> Path:
    """An equirect Cycles render of the procedural scene of ``seed`` (cached)."""
    out = cache / f"cycles_{seed}_{width}.exr"
    if out.is_file():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    tools = Path(__file__).resolve().parent.parent / "tools"
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(RENDER_SCRIPT)
        script = fh.name
    try:
        subprocess.run([sys.executable, script, str(tools), str(seed), str(out), str(width), str(width // 2), str(samples)],
                       check=True, capture_output=True, timeout=1200)
    finally:
        os.unlink(script)
    return out


def render_pan(env: np.ndarray, frames: int, size: tuple[int, int], *, yaw0: float, yaw_step: float, pitch: float,
               hfov: float, ss: int = 2) -> list[np.ndarray]:
    """Perspective views of an equirect HDR panning in yaw; box-filtered ``ss`` x ``ss`` supersampling."""
    from singlehdr.envmap.projections import perspective_directions, sample_equirect

    w, h = size
    views = []
    for t in range(frames):
        d = perspective_directions(h * ss, w * ss, hfov, yaw_deg=yaw0 + yaw_step * t, pitch_deg=pitch)
        img = sample_equirect(env, d).astype(np.float32)
        views.append(img.reshape(h, ss, w, ss, 3).mean(axis=(1, 3)))
    return views


def make_shot(views: list[np.ndarray], folder: Path, crf, *, ramp_ev: float, key: float, seed: int) -> list[np.ndarray]:
    """Expose (ramp), add noise, clip, apply the CRF, quantise, write JPEGs; returns the truth frames."""
    from PIL import Image

    from singlehdr.camera.forward import add_noise, apply_crf, clip01, quantize, to_uint8

    rng = np.random.default_rng(seed)
    mid = views[len(views) // 2]
    base = key / float(np.median(mid @ LUMA))
    folder.mkdir(parents=True, exist_ok=True)
    truths = []
    n = len(views)
    for t, v in enumerate(views):
        ev = -ramp_ev / 2 + ramp_ev * t / max(1, n - 1)
        exposed = (v * np.float32(base * 2.0**ev)).astype(np.float32)
        noise = rng.standard_normal(exposed.shape, dtype=np.float32)
        noisy = clip01(add_noise(exposed, (0.004,) * 3, (0.002,) * 3, noise))
        q8 = quantize(apply_crf(noisy, crf.f))
        Image.fromarray(to_uint8(q8)).save(folder / f"shot.{1001 + t:04d}.jpg", quality=95, subsampling=0)
        truths.append(exposed)
    return truths


def reconstruct_shot(folder: Path, out: Path, model: str | None, *, per_frame: bool, exposure: str) -> None:
    from singlehdr.cli import main

    argv = ["reconstruct", str(folder / "shot.####.jpg"), "-o", str(out / "shot.####.exr"), "--device", "cpu", "-q",
            "--float", "--exposure", exposure]
    if model:
        argv += ["--model", model]
    if per_frame:
        argv.append("--per-frame")
    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    if rc != 0:
        raise SystemExit(f"reconstruct failed (exit {rc}): {' '.join(argv)}")


def flicker_metrics(outs: list[np.ndarray], truths: list[np.ndarray], ldr_codes: list[np.ndarray]) -> dict[str, float]:
    """Excess flicker (RMS frame-to-frame change of the error against the truth, stops) of the mean log
    luminance of the well-exposed pixels and of the energy in the clipped pixels (module doc)."""
    m_err, e_err = [], []
    for o, g, c in zip(outs, truths, ldr_codes):
        yo, yg = o @ LUMA, g @ LUMA
        clipped = c.max(axis=2) >= CLIP_CODE
        well = (~clipped) & (c.max(axis=2) > 8)
        m_err.append(float(np.mean(np.log2(yo[well] + 1e-4)) - np.mean(np.log2(yg[well] + 1e-4))))
        e_err.append(float(np.log2(yo[clipped].sum() / yg[clipped].sum())) if clipped.sum() >= 4 else np.nan)
    m = np.asarray(m_err)
    e = np.asarray(e_err)
    return {
        "mean_log_flicker": _rms(np.diff(m)),
        "mean_log_jitter": _rms(np.diff(m, 2)),
        "clip_energy_flicker": _rms(np.diff(e)),
        "clip_energy_jitter": _rms(np.diff(e, 2)),
        "clipped_pct": 100.0 * float(np.mean([np.mean(c.max(axis=2) >= CLIP_CODE) for c in ldr_codes])),
    }


def _rms(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.sqrt(np.mean(x**2))) if x.size else float("nan")


def make_stress_model(path: Path, sigma: float = 0.06, seed: int = 0) -> Path:
    """The shipped model with a random Linearization-Net head (weights N(0, sigma^2), torch seed ``seed``):
    a Lin-Net whose curve changes from frame to frame, to show what the shot lock removes.  Not a
    model for real use."""
    import torch

    from singlehdr.weights import load_model, save_model

    model, _ = load_model(None, device="cpu")
    torch.manual_seed(seed)
    with torch.no_grad():
        w = model.linearize.head.weight
        w.copy_(torch.randn_like(w) * sigma)
    return save_model(path, model, provenance={
        "name": f"stress{sigma}", "source": f"shipped default, Linearization-Net head weights N(0, {sigma}^2), seed {seed}; "
        "flicker stress model (bench/flicker.py --make-stress-model), not for real use"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", default=None,
                    help="model .safetensors or 'default' (repeatable; default: the shipped model)")
    ap.add_argument("--hdri", action="append", default=None, help="bundled HDRI names (default courtyard, sunset)")
    ap.add_argument("--cycles-seed", type=int, action="append", default=None,
                    help="seeds of Cycles-rendered panoramas (default 1032; -1 for none)")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--size", default="320x180")
    ap.add_argument("--ramp-ev", type=float, default=2.0, help="exposure ramp over the shot, stops (default 2)")
    ap.add_argument("--yaw-step", type=float, default=2.0, help="pan per frame, degrees (default 2)")
    ap.add_argument("--crf", default=None, help="camera curve name from the held-out (test) bank (default: the first)")
    ap.add_argument("--exposure", action="append", default=None, help="exposure modes (default relative, median)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the machine is shared)")
    ap.add_argument("--out", type=Path, default=OUT_DIR / "flicker")
    ap.add_argument("--make-stress-model", type=Path, default=None, metavar="FILE",
                    help="write the stress model (see make_stress_model) to FILE and exit")
    args = ap.parse_args(argv)
    if args.make_stress_model is not None:
        print(make_stress_model(args.make_stress_model))
        return 0

    import torch

    torch.set_num_threads(args.threads)
    from singlehdr.camera.crf import crf_bank
    from singlehdr.io import read_hdr

    w, h = (int(v) for v in args.size.lower().split("x"))
    models = args.model or ["default"]
    exposures = args.exposure or ["relative", "median"]
    bank = crf_bank("test")
    crf = next((c for c in bank if c.name == args.crf), None) if args.crf else bank[0]
    if crf is None:
        raise SystemExit(f"no curve {args.crf!r} in the test bank: {', '.join(c.name for c in bank[:12])} ...")
    scenes: list[tuple[str, Path]] = [(n, bundled_hdri(n)) for n in (args.hdri or ["courtyard", "sunset"])]
    for seed in (args.cycles_seed or [1032]):
        if seed >= 0:
            scenes.append((f"cycles-{seed}", cycles_panorama(seed, args.out / "cache")))

    rows = []
    t_start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="singlehdr_flicker_"))
    for si, (name, path) in enumerate(scenes):
        env, _ = read_hdr(path)
        views = render_pan(env, args.frames, (w, h), yaw0=40.0 * si, yaw_step=args.yaw_step, pitch=8.0, hfov=60.0)
        shot = work / name / "ldr"
        truths = make_shot(views, shot, crf, ramp_ev=args.ramp_ev, key=0.18, seed=100 + si)
        from PIL import Image

        codes = [np.asarray(Image.open(shot / f"shot.{1001 + t:04d}.jpg").convert("RGB")) for t in range(args.frames)]
        for model in models:
            mpath = None if model == "default" else model
            for exposure in exposures:
                res = {}
                for mode in ("per-frame", "shot-locked"):
                    out = work / name / f"{Path(model).stem}-{exposure}-{mode}"
                    reconstruct_shot(shot, out, mpath, per_frame=mode == "per-frame", exposure=exposure)
                    outs = [read_hdr(out / f"shot.{1001 + t:04d}.exr")[0] for t in range(args.frames)]
                    res[mode] = flicker_metrics(outs, truths, codes)
                    if mode == "shot-locked":
                        side = json.loads((out / "shot.shot.json").read_text())
                        res[mode]["crf_spread"] = side.get("crf_spread")
                pf, sl = res["per-frame"], res["shot-locked"]
                row = {"scene": name, "model": Path(model).stem, "exposure": exposure,
                       "clipped %": f"{pf['clipped_pct']:.1f}",
                       "CRF spread": "-" if sl.get("crf_spread") is None else f"{sl['crf_spread']:.4f}"}
                for key, label in (("mean_log_flicker", "mean-log flicker"), ("mean_log_jitter", "mean-log jitter"),
                                   ("clip_energy_flicker", "clip-energy flicker"), ("clip_energy_jitter", "clip-energy jitter")):
                    a, b = pf[key], sl[key]
                    row[f"{label} per-frame"] = f"{a:.4f}"
                    row[f"{label} locked"] = f"{b:.4f}"
                    row[f"{label} ratio"] = f"{b / a:.2f}" if a > 0 else "-"
                rows.append(row)
                print(json.dumps(row), flush=True)
    cols = list(rows[0].keys())
    info = machine_info()
    pre = (f"Device: CPU ({info['cpu']}, {info['cpu_cores']} cores shared with other jobs), torch {info['torch']}.  "
           f"{args.frames} frames of {w}x{h} per shot, pan {args.yaw_step} deg/frame, exposure ramp {args.ramp_ev} EV, "
           f"held-out camera curve {crf.name}, JPEG q95.  Flicker = RMS frame-to-frame change of the error against "
           f"the truth, in stops (0 = no excess flicker); jitter = RMS second difference (smooth drift removed).  "
           f"ratio = locked / per-frame (<= 0.5 halves it).  CRF spread = max |g_frame - g_locked| over the sampled frames.  "
           f"Wall time {time.perf_counter() - t_start:.0f} s.\n\nCommand: python bench/flicker.py "
           + " ".join(sys.argv[1:] if argv is None else argv))
    text = write_table(rows, cols, args.out / "flicker.md", args.out / "flicker.csv", title="Flicker: per-frame vs shot-locked",
                       preamble=pre)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
