"""Colour inside the clipped regions of Blender's held-out HDRIs, per class of clipped channels (not a test).

    PYTHONPATH=core python bench/clipped_cast.py
    PYTHONPATH=core python bench/clipped_cast.py --spectral-k 0.48:1.68   # the shipped model + that policy key

The slow test ``test_no_pink_or_green_cast_in_clipped_regions`` in one table: each HDRI (512 wide) is photographed
at 0 EV by the tests' camera (average metering over the sphere, clip, sRGB, 8 bit), made into a 256-wide map by
``make_envmap`` (sun auto, ``hdr_without_sun``), and compared with the truth over the pixels that clipped.  Per class
of clipped channels (on the 256-wide resample of the photo) it prints the share of the clipped pixels, the
magenta-green chromaticity error ((r + b) / 2 - g of rgb / (r + g + b), map minus truth; the test's bound on the
mean is 0.03) and the median R/G, B/G and luminance of the truth and of the map.  ``--spectral-k`` writes a copy
of the model with ``highlight_spectral_k`` in its policy (build/clipped_cast/) and measures that instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LUMA = np.array([0.2126, 0.7152, 0.0722])
CLASSES = ("RGB", "RG", "GB", "RB", "R", "G", "B")


def magenta_green(x: np.ndarray) -> np.ndarray:
    c = x / np.maximum(x.sum(-1, keepdims=True), 1e-9)
    return 0.5 * (c[..., 0] + c[..., 2]) - c[..., 1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hdris", default="sunset,courtyard")
    ap.add_argument("--model", default=None, help="a model file (default: the shipped model)")
    ap.add_argument("--spectral-k", default=None, help="k_red:k_blue: measure the model with this policy key added")
    ap.add_argument("--ring", action="store_true", help="measure the model with highlight_ring_estimate added")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "bench"))
    from envmap_sun import load_hdri

    from singlehdr.camera.transfer import linear_to_srgb
    from singlehdr.envmap import EnvmapOptions, make_envmap
    from singlehdr.envmap.projections import equirect_solid_angles, resize_equirect
    from singlehdr.options import ReconstructOptions

    model = args.model
    if args.spectral_k or args.ring:
        from singlehdr.weights import load_model, save_model

        net, info = load_model(model, device="cpu")
        policy = dict(info.get("inference") or {})
        if args.spectral_k:
            policy["highlight_spectral_k"] = [float(v) for v in args.spectral_k.split(":")]
        if args.ring:
            policy["highlight_ring_estimate"] = True
        out = ROOT / "build" / "clipped_cast" / "spectral.safetensors"
        out.parent.mkdir(parents=True, exist_ok=True)
        model = str(save_model(out, net, provenance=dict(info["provenance"]), inference=policy))
    shown = model if model is None or not Path(model).is_relative_to(ROOT) else str(Path(model).relative_to(ROOT))
    added = f" + highlight_spectral_k {args.spectral_k}" if args.spectral_k else ""
    added += " + highlight_ring_estimate" if args.ring else ""
    print(f"model {shown or 'shipped'}{added}")
    print("| HDRI | clipped channels | share | cast | truth R/G | B/G | Y | map R/G | B/G | Y |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.hdris.split(","):
        src = load_hdri(name, 512)
        y = src @ LUMA
        s = 0.18 / (float(np.sum(y * equirect_solid_angles(*y.shape))) / (4 * np.pi))
        ldr = np.round(linear_to_srgb(np.clip(src * np.float32(s), 0.0, 1.0)) * 255.0).astype(np.uint8)
        clipped = resize_equirect((ldr.max(-1) >= 254).astype(np.float32)[..., None], 256)[..., 0] > 0.99
        res = make_envmap(ldr, EnvmapOptions(width=256, reconstruct=ReconstructOptions(method="singlehdr", model=model)))
        est, truth = res.hdr_without_sun, resize_equirect(src, 256) * s
        sat = resize_equirect(ldr.astype(np.float32), 256) >= 252.5
        err = magenta_green(est) - magenta_green(truth)

        def med(x: np.ndarray, m: np.ndarray) -> str:
            return (f"{np.median(x[m][:, 0] / x[m][:, 1]):.2f} | {np.median(x[m][:, 2] / x[m][:, 1]):.2f} | "
                    f"{np.median(x[m] @ LUMA):.2f}")

        print(f"| {name} | all | 1.00 | {np.mean(err[clipped]):+.3f} | {med(truth, clipped)} | {med(est, clipped)} |")
        for key in CLASSES:
            m = clipped & np.all(sat == np.array([c in key for c in "RGB"]), axis=-1)
            if m.sum() >= 5:
                print(f"| {name} | {key} | {m.sum() / clipped.sum():.2f} | {np.mean(err[m]):+.3f} | {med(truth, m)} | "
                      f"{med(est, m)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
