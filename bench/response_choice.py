"""How the constants of the bracket response "auto" were chosen (EMOR_PRIOR, AUTO_MARGIN), on TRAINING scenes only.

    python bench/response_choice.py                          # 3 brackets, priors 0.001 .. 0.1
    python bench/response_choice.py --brackets 5 --priors 0.01

Scenes: tools/make_sky_hdrs.py's training skies (build/ibl/skies, index % 3 != 2; run bench/ibl.py or that tool
first) and Blender's bundled training HDRIs city, forest, interior, night, studio, sunrise (courtyard and sunset are
held out), area-averaged to 256x128 and exposed as bench/brackets_ibl.py does (99th percentile of the max channel ->
1.0 in the middle frame).  Each is shot as JPEG brackets (q90, 4:4:4, EV -2, 0, +2 or -4 .. +4) through camera
curves: sRGB, gamma 2.2 / 2.6, filmic S, the EMoR mean, log-10 ("realistic"), and three random forward-EMoR draws
(crf.sample_emor_curve; the 8-component inverse basis cannot represent them: its best fit is 0.9-1.1 stops off).
Per case: the fitted shared curve's error (max |log2(g / g_true)| over codes 0.05-0.95 where g_true >= 2^-10) and
the consistency scores of it and of sRGB on the held-out half of the sample pixels; then, per (prior, margin), the
error of the curve "auto" would choose and how often sRGB frames picked the fit (and other curves kept sRGB).
Prints tables; writes nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TRAIN_HDRIS = ("city", "forest", "interior", "night", "studio", "sunrise")


def _area(hdr: np.ndarray, width: int) -> np.ndarray:
    k = hdr.shape[1] // width
    h, w = hdr.shape[:2]
    return hdr[: h // k * k, : w // k * k].reshape(h // k, k, w // k, k, 3).mean(axis=(1, 3))


def _jpeg(v01: np.ndarray) -> np.ndarray:
    from PIL import Image

    u8 = np.round(np.clip(v01, 0, 1) * 255).astype(np.uint8)
    b = io.BytesIO()
    Image.fromarray(u8).save(b, format="JPEG", quality=90, subsampling=0)
    return np.asarray(Image.open(b), np.float32) / 255


def training_scenes(skies: Path) -> list[tuple[str, np.ndarray]]:
    from singlehdr.io import read_hdr

    man = json.loads((skies / "manifest.json").read_text())
    out = [(r["name"], read_hdr(skies / r["file"])[0]) for r in man if r["params"]["index"] % 3 != 2]
    import bpy

    d = Path(bpy.utils.system_resource("DATAFILES", path="studiolights/world"))
    out += [(n, read_hdr(d / f"{n}.exr")[0]) for n in TRAIN_HDRIS]
    return out


def camera_curves() -> dict[str, np.ndarray]:
    from singlehdr.camera.crf import named_curves, sample_emor_curve

    nc = named_curves()
    cs = {n: nc[n] for n in ("srgb", "gamma-2.2", "gamma-2.6", "filmic-s", "emor-mean", "log-10")}
    rng = np.random.default_rng(7)
    for i in range(3):
        cs[f"emor-draw{i}"] = sample_emor_curve(rng)
    return cs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brackets", type=int, choices=(3, 5), default=3)
    ap.add_argument("--priors", default="0.001,0.003,0.01,0.03,0.1")
    ap.add_argument("--margins", default="0.1,0.2,0.3")
    ap.add_argument("--skies", type=Path, default=ROOT / "build" / "ibl" / "skies")
    args = ap.parse_args(argv)
    from singlehdr.camera.crf import apply_curve, invert_curve
    from singlehdr.merge import response as R

    priors = [float(x) for x in args.priors.split(",")]
    margins = [float(x) for x in args.margins.split(",")]
    evs = (-2.0, 0.0, 2.0) if args.brackets == 3 else (-4.0, -2.0, 0.0, 2.0, 4.0)
    e = 2.0 ** np.array(evs)
    srgb = R.known_response("srgb")

    def err(g: np.ndarray, gt: np.ndarray) -> float:
        sel = (R.Z > 0.05) & (R.Z < 0.95) & (gt >= 2.0**-10)
        return float(np.abs(np.log2(np.maximum(g[:, sel], 1e-9)) - np.log2(gt[sel])).max())

    recs = []
    scenes = training_scenes(args.skies)
    for cname, f in camera_curves().items():
        gt = invert_curve(f).astype(np.float64)
        for sname, hdr in scenes:
            tr = _area(hdr, 256)
            t = 1.0 / np.percentile(tr.max(axis=-1), 99)
            frames = [_jpeg(apply_curve(np.clip(tr * t * 2.0**ev, 0, 1).astype(np.float32), f)) for ev in evs]
            s = R.sample_pixels(frames, 800)
            fit, held = s[0::2], s[1::2]  # as auto_response
            rec = {"curve": cname, "scene": sname, "srgb_err": err(srgb, gt), "srgb_score": R.consistency_score(held, e, srgb)}
            for pr in priors:
                g = R.solve_emor_shared(fit, e, prior=pr)
                rec[("err", pr)], rec[("score", pr)] = err(g, gt), R.consistency_score(held, e, g)
            recs.append(rec)
    curves = list(dict.fromkeys(r["curve"] for r in recs))
    print(f"{len(scenes)} training scenes x {len(curves)} curves, {args.brackets} brackets\n")
    print("Fitted shared curve, max log2 error: mean / median / worst per camera curve\n")
    print("| prior | " + " | ".join(curves) + " |")
    print("|---:|" + "---|" * len(curves))
    for pr in priors:
        cells = []
        for c in curves:
            v = np.array([r[("err", pr)] for r in recs if r["curve"] == c])
            cells.append(f"{v.mean():.2f} / {np.median(v):.2f} / {v.max():.1f}")
        print(f"| {pr:g} | " + " | ".join(cells) + " |")
    print("\nThe curve auto chooses: error (realistic curves: all but the EMoR draws), and wrong picks (all curves)\n")
    print("| prior | margin | mean error | median | cases > 0.5 stop | sRGB frames -> fit | other curves -> sRGB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for pr in priors:
        for mg in margins:
            errs, to_fit, to_srgb, n_s, n_o = [], 0, 0, 0, 0
            for r in recs:
                pick = r[("score", pr)] < (1 - mg) * r["srgb_score"]
                if not r["curve"].startswith("emor-draw"):
                    errs.append(r[("err", pr)] if pick else r["srgb_err"])
                if r["curve"] == "srgb":
                    n_s += 1
                    to_fit += pick
                else:
                    n_o += 1
                    to_srgb += not pick
            v = np.array(errs)
            print(f"| {pr:g} | {mg:g} | {v.mean():.3f} | {np.median(v):.3f} | {int((v > 0.5).sum())}/{v.size} | "
                  f"{to_fit}/{n_s} | {to_srgb}/{n_o} |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "core"))
    sys.exit(main())
