"""Make the README image of the bundled sample's clipped glow (numpy + Pillow + bpy for the HDRI path; ~30 s CPU).

    PYTHONPATH=core python docs/envmap/make_images.py [--out docs/envmap] [--model FILE]

Writes sample_glow.png: the region around the setting sun of the bundled sample (core/singlehdr/data/sample.jpg,
made by tools/make_sample.py from Blender's held-out CC0 HDRI sunset.exr), shown at 0, -2 and -4 EV with a plain
photographic display (exposure, clip, sRGB): left the JPEG decoded as is, middle `singlehdr envmap` with the
shipped model (default options), right the true HDR at the sample's exposure (median luminance 0.16).  At -2 and
-4 EV the JPEG is a flat grey patch, the truth a glow brightening towards the sun; whether the map has a hard-edged
dome or a smooth glow, and (since stop 24) its hazy sun where the truth has it, shows here.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)
CROP = (150, 290, 360, 760)  # rows, cols of the 1024x512 panorama around the sun's glow


def srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "envmap")
    ap.add_argument("--model", default=None, help="a model file (default: the shipped model)")
    args = ap.parse_args(argv)
    from PIL import Image, ImageDraw

    from singlehdr.camera.transfer import srgb_to_linear
    from singlehdr.data import sample_path
    from singlehdr.envmap import EnvmapOptions, make_envmap
    from singlehdr.io import read_hdr
    from singlehdr.options import ReconstructOptions

    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="singlehdr_bur_"))
    import bpy

    truth, _ = read_hdr(Path(bpy.utils.system_resource("DATAFILES", path="studiolights/world")) / "sunset.exr")
    truth = truth[..., :3] * (0.16 / float(np.median(truth[..., :3] @ LUMA)))  # tools/make_sample.py's exposure
    ldr = np.asarray(Image.open(sample_path()).convert("RGB"), np.float32) / 255.0
    opts = EnvmapOptions(width=ldr.shape[1], reconstruct=ReconstructOptions(method="singlehdr", model=args.model))
    ours = make_envmap((ldr * 255).round().astype(np.uint8), opts).hdr_linear[..., :3]
    y0, y1, x0, x1 = CROP
    cols = [srgb_to_linear(ldr), ours, truth]
    rows = []
    for ev in (0.0, -2.0, -4.0):
        k = 2.0 ** ev
        tiles = [srgb(c[y0:y1, x0:x1] * k) for c in cols]
        gap = np.ones((y1 - y0, 4, 3))
        rows.append(np.concatenate([tiles[0], gap, tiles[1], gap, tiles[2]], axis=1))
        rows.append(np.ones((4, rows[-1].shape[1], 3)))
    img = Image.fromarray((np.concatenate(rows[:-1], axis=0) * 255 + 0.5).astype(np.uint8))
    d = ImageDraw.Draw(img)
    for i, label in enumerate(("JPEG as is", "singlehdr envmap", "true HDR")):
        d.text((i * (x1 - x0 + 4) + 4, 2), label, fill=(255, 255, 255))
    for j, ev in enumerate(("0 EV", "-2 EV", "-4 EV")):
        d.text((4, j * (y1 - y0 + 4) + (y1 - y0) - 14), ev, fill=(255, 255, 255))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "sample_glow.png"
    img.save(path)
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
