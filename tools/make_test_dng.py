"""Make a small Bayer (RGGB) DNG from an HDR image, for tests and benchmarks.

    python tools/make_test_dng.py in.exr -o small.dng --width 96 --bits 14 --exposure 0.5

The HDR (linear Rec.709) is scaled by ``exposure`` (1.0 -> sensor saturation),
given camera white-balance gains (camera RGB = linear sRGB * neutral, so the
file's AsShotNeutral undoes them), optional sensor noise (photon shot noise
for a ``full_well`` of electrons plus read noise), mosaicked RGGB, offset by
the black level, quantised to ``bits`` and clipped at the white level.
ColorMatrix1 is XYZ -> linear sRGB (IEC 61966-2-1, D65), so LibRaw's
camera -> sRGB matrix is the identity.  Written with tifffile (DNG 1.4 tags).
Source of the tags: Adobe DNG Specification 1.4.0.0 (2012).
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

#: XYZ (D65) -> linear sRGB (IEC 61966-2-1).
XYZ_TO_SRGB = np.array([[3.2404542, -1.5371385, -0.4985314],
                        [-0.9692660, 1.8760108, 0.0415560],
                        [0.0556434, -0.2040259, 1.0572252]])


def _srational(values, den: int = 10000):
    out = []
    for v in np.asarray(values, dtype=np.float64).ravel():
        f = Fraction(float(v)).limit_denominator(den)
        out += [f.numerator, f.denominator]
    return out


def mosaic_rggb(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (H, W) RGGB Bayer mosaic (H, W even)."""
    h, w, _ = rgb.shape
    m = np.empty((h, w), dtype=rgb.dtype)
    m[0::2, 0::2] = rgb[0::2, 0::2, 0]
    m[0::2, 1::2] = rgb[0::2, 1::2, 1]
    m[1::2, 0::2] = rgb[1::2, 0::2, 1]
    m[1::2, 1::2] = rgb[1::2, 1::2, 2]
    return m


def sensor_mosaic(hdr_linear: np.ndarray, *, exposure: float = 1.0, bits: int = 14, black: int | None = None,
                  neutral=(0.5, 1.0, 0.7), full_well: float | None = None, read_noise_e: float = 3.0,
                  seed: int = 0) -> tuple[np.ndarray, int, int]:
    """The uint16 mosaic a camera would record.  Returns (mosaic, black level, white level)."""
    rng = np.random.default_rng(seed)
    white = 2**bits - 1
    black = (2 ** (bits - 4)) if black is None else int(black)
    cam = np.asarray(hdr_linear, dtype=np.float64) * float(exposure) * np.asarray(neutral, dtype=np.float64)
    m = mosaic_rggb(cam)
    if full_well:
        electrons = np.clip(m, 0, 4) * full_well
        electrons = rng.poisson(electrons).astype(np.float64) + rng.normal(0, read_noise_e, m.shape)
        m = electrons / full_well
    dn = np.round(black + m * (white - black))
    return np.clip(dn, 0, white).astype(np.uint16), black, white


def write_dng(path: str | Path, mosaic: np.ndarray, black: int, white: int, *, neutral=(0.5, 1.0, 0.7),
              exposure_time: float | None = None, iso: float | None = None, f_number: float | None = None) -> Path:
    """Write a uint16 RGGB mosaic as a DNG 1.4 file."""
    import tifffile

    path = Path(path)
    tags = [
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern RGGB
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, "singlehdr test camera", True),  # UniqueCameraModel
        (50714, "I", 1, (int(black),), True),  # BlackLevel
        (50717, "I", 1, (int(white),), True),  # WhiteLevel
        (50721, "2i", 9, _srational(XYZ_TO_SRGB), True),  # ColorMatrix1
        (50778, "H", 1, (21,), True),  # CalibrationIlluminant1 = D65
        (50728, "2I", 3, _srational(neutral), True),  # AsShotNeutral
    ]
    if exposure_time:
        tags.append((33434, "2I", 1, _srational([exposure_time], 1000000), True))
    if f_number:
        tags.append((33437, "2I", 1, _srational([f_number]), True))
    if iso:
        tags.append((34855, "H", 1, (int(iso),), True))
    tifffile.imwrite(path, np.ascontiguousarray(mosaic, dtype=np.uint16), photometric=32803, subfiletype=0,
                     extratags=tags, metadata=None)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("hdr", help="an EXR / .hdr file")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--width", type=int, default=96, help="output width (even; height keeps the aspect, rounded even)")
    ap.add_argument("--bits", type=int, default=14)
    ap.add_argument("--exposure", type=float, default=1.0, help="HDR value that saturates the sensor = 1 / exposure")
    ap.add_argument("--full-well", type=float, default=None, help="electrons at saturation (adds shot + read noise)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
    import cv2

    from singlehdr.io import read_hdr

    hdr, _ = read_hdr(args.hdr)
    w = args.width - args.width % 2
    h = max(2, int(round(hdr.shape[0] * w / hdr.shape[1] / 2)) * 2)
    small = cv2.resize(hdr, (w, h), interpolation=cv2.INTER_AREA)
    m, black, white = sensor_mosaic(small, exposure=args.exposure, bits=args.bits, full_well=args.full_well)
    out = write_dng(args.output, m, black, white)
    print(f"{out}  {w}x{h}  {args.bits}-bit  black {black}  white {white}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
