"""Make core/singlehdr/data/sample.jpg: an LDR "phone photo" from a CC0 HDRI.

Usage (any Python with bpy==5.0.1 and singlehdr installed, e.g. the test venv):

    python tools/make_sample.py [--hdri sunset.exr] [--out core/singlehdr/data/sample.jpg] [--overwrite]

Source: Blender's bundled studio-light HDRIs (datafiles/studiolights/world),
CC0, by Greg Zaal / Poly Haven; "sunset.exr" is the 1K version of
https://polyhaven.com/a/venice_sunset (a low sun over water: a small, very
bright light source, ~6000x the median, so highlight reconstruction matters).
It is one of the HDRIs held out of training (tools/render_training_hdrs.py).

The camera model applied here is a plain phone-like auto exposure:
1. scale the linear HDR so its median BT.709 luminance is 0.16 (auto exposure
   a little under middle grey, as phones protect highlights);
2. clip to [0, 1] (sensor saturation: the sun and its glitter clip);
3. encode with the sRGB OETF (IEC 61966-2-1) and quantise to 8 bits;
4. save as baseline JPEG, quality 92, 4:2:0 chroma subsampling.
No EXIF is written (the photo is synthetic; a made-up camera would mislead
--exposure absolute).  The result is the full 1024x512 equirectangular
panorama: a 360 "photo sphere" input.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIAN_TARGET = 0.16
JPEG_QUALITY = 92


def bundled_hdri(name: str) -> Path:
    """Path of one of Blender's bundled HDRIs (bpy with a throw-away user folder)."""
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="singlehdr-bpy-"))
    import bpy

    path = Path(bpy.utils.system_resource("DATAFILES", path="studiolights/world")) / name
    if not path.is_file():
        raise SystemExit(f"{path} not found: is bpy 5.0.1 installed?")
    return path


def phone_photo(hdr_linear):
    """(H, W, 3) linear HDR -> (H, W, 3) uint8 sRGB, median exposed to MEDIAN_TARGET, clipped."""
    import numpy as np

    from singlehdr.camera.transfer import linear_to_srgb
    from singlehdr.preview import luminance

    scale = MEDIAN_TARGET / float(np.median(luminance(hdr_linear)))
    ldr = linear_to_srgb(np.clip(hdr_linear * np.float32(scale), 0.0, 1.0))
    return np.round(ldr * 255.0).astype(np.uint8), scale


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hdri", default="sunset.exr", help="bundled HDRI file name (default sunset.exr)")
    ap.add_argument("--out", default=str(ROOT / "core/singlehdr/data/sample.jpg"))
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args(argv)

    import numpy as np

    from singlehdr.io import read_hdr, write_ldr

    hdr, _ = read_hdr(bundled_hdri(args.hdri))
    img, scale = phone_photo(hdr)
    out = write_ldr(args.out, img, quality=JPEG_QUALITY, overwrite=args.overwrite)
    clipped = float(np.mean((img >= 255).any(axis=2)))
    print(f"{out}: {img.shape[1]}x{img.shape[0]}, exposure x{scale:.4g}, {100 * clipped:.2f} % clipped pixels, "
          f"peak {hdr.max() * scale:.4g} x white, {out.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
