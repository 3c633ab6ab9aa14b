"""Fit the exponents of the clipped-channel estimate on the TRAINING split's photographed HDRIs (never the held-out ones).

A smooth spectrum is close to a power of the wavelength, so its log channel ratios are nearly proportional:
log(R/G) = k_red log(G/B), log(B/G) = k_blue log(G/R).  ``singlehdr.infer.highlights.clipped_channel_estimate`` uses
that to give a partly clipped pixel's clipped channel (only red, or only blue) a value from its two measured ones.
This tool fits k_red and k_blue, by least squares through the origin, on the pixels of Blender's six training
HDRIs (photographs: city, forest, interior, night, studio, sunrise; the held-out split is tools/train_default.py's)
that such a camera would clip in exactly that channel (>= 1 after average metering at -1, 0 and +1 EV, the other
two below 0.98 and not dark), and prints them per file and pooled.  The Cycles training renders are left out: their emitters have random RGB colours, not spectra.

    python tools/fit_spectral_k.py
    python tools/fit_spectral_k.py --skies build/ibl/skies_low --skies build/ibl/skies_hazy   # bpy's physical skies

``--skies`` fits instead on the training skies of tools/make_sky_hdrs.py banks (their upper half: Blender 5.0's
physically based Sky Texture, a real spectrum's colours): k_red 0.43 (low-sun bank), 0.52 (hazy bank), 0.41 (main
bank), in the range of the photographs' 0.33-0.67 (stop 18).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_default import HELD_OUT_HDRIS, bundled_hdri_dir  # noqa: E402  (the split and where Blender keeps them)

MEASURED_BELOW = 0.98


def samples(y: np.ndarray, channel: str) -> tuple[np.ndarray, np.ndarray]:
    """(log(C/G), log(G/O)) over the pixels of linear ``y`` where only ``channel`` ('R' or 'B') is at or above 1."""
    r, g, b = y[..., 0], y[..., 1], y[..., 2]
    c, o = (r, b) if channel == "R" else (b, r)
    m = (c >= 1.0) & (g < MEASURED_BELOW) & (o < MEASURED_BELOW) & (g > 0.05) & (o > 0.01)
    return np.log(c[m] / g[m]), np.log(g[m] / o[m])


def main(argv=None) -> int:
    from singlehdr.envmap.calibrate import luminance
    from singlehdr.envmap.projections import equirect_solid_angles
    from singlehdr.io import read_hdr

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hdri-dir", type=Path, default=None, help="Blender's studiolights/world (default: ask bpy)")
    ap.add_argument("--evs", default="-1,0,1")
    ap.add_argument("--skies", type=Path, action="append", default=[],
                    help="a tools/make_sky_hdrs.py bank: fit on its training skies' upper half instead")
    args = ap.parse_args(argv)
    if args.skies:
        import json

        training = [(bank / e["file"], True) for bank in args.skies
                    for e in json.loads((bank / "manifest.json").read_text())
                    if e["split"] == "train" and (bank / e["file"]).is_file()]
    else:
        root = args.hdri_dir or bundled_hdri_dir()
        training = [(p, False) for p in sorted(root.glob("*.exr")) if p.name not in HELD_OUT_HDRIS]
    pooled: dict[str, list] = {"R": [], "B": []}
    print("| HDRI | EV | red-only pixels | k_red | blue-only pixels | k_blue |\n|---|---:|---:|---:|---:|---:|")
    for path, upper in training:
        name = path.stem
        x, _ = read_hdr(path)
        x = x[..., :3]
        yl = luminance(x)
        mean = float(np.sum(yl * equirect_solid_angles(*yl.shape)) / (4 * np.pi))
        for ev in (float(v) for v in args.evs.split(",")):
            y = x * np.float32(0.18 / mean * 2.0**ev)
            if upper:  # the sky, not the bank's ground
                y = y[: y.shape[0] // 2]
            cells = []
            for ch in "RB":
                ly, lx = samples(y, ch)
                pooled[ch].append((ly, lx))
                k = float(np.sum(lx * ly) / np.sum(lx * lx)) if ly.size >= 50 else float("nan")
                cells += [str(ly.size), "-" if np.isnan(k) else f"{k:.2f}"]
            print(f"| {name} | {ev:+g} | " + " | ".join(cells) + " |")
    for ch, label in (("R", "k_red"), ("B", "k_blue")):
        ly = np.concatenate([a for a, _ in pooled[ch]])
        lx = np.concatenate([b for _, b in pooled[ch]])
        print(f"{label} = {float(np.sum(lx * ly) / np.sum(lx * lx)):.2f} (pooled, {ly.size} pixels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
