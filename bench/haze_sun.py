"""What the sun recovery does with low suns behind ground haze (issue 9; a measurement, not a test).

    python tools/make_sky_hdrs.py --bank haze --count 24 --width 1024 --out build/ibl/skies_haze   # ~35 min, 2 cores
    PYTHONPATH=core python bench/haze_sun.py --skies build/ibl/skies_haze --split train
    PYTHONPATH=core python bench/haze_sun.py --skies build/ibl/skies_low build/ibl/skies48 --split train  # clear low suns
    PYTHONPATH=core python bench/haze_sun.py --skies build/ibl/skies_haze --split train --width 512  # bench/ibl.py's size

For each sky of ``--split`` with its sun below ``--max-elevation``: the sky's JPEG as bench/ibl.py makes it (1 % of the
pixels clip, sRGB, quality 90), ``make_envmap`` on it with the default ``sun="auto"``, and a table row: the sun's
confidence, how far it was placed from the true sun, how its strength was set (``clear`` the clear-sky fit, ``haze``
the haze prior of envmap/sun.py, ``-`` no sun), the added sun's irradiance over the truth's (the disc in the EXR
header for Preetham / Hosek-Wilkie skies, dimmed by the haze; the disc integrated over the panorama for the physical
skies), the clear-sky fit's sun over the truth (the fit envmap/sun.py made for the chosen candidate, captured from
``fit_sky``), the truth over the reconstruction's light 1-10 deg around the true sun (the map as ``recover_sun``
receives it; ``HAZY_SUN_OVER_AUREOLE`` is its median over the training haze skies whose sun gets the prior), and the glow's colour: the median blue / red of the photo's own
unclipped pixels (sRGB decoded) 10-20 deg from the true sun above the horizon (a haze's aureole is the reddened
sun's light scattered; a clear sky's circumsolar region is mixed with its blue).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
LUMA = np.array([0.2126, 0.7152, 0.0722])


def true_sun(hdr: np.ndarray, attrs: dict, direction: np.ndarray, exposure: float) -> float:
    """The true sun's luminance irradiance at the JPEG's exposure (see the module doc)."""
    from singlehdr.envmap.projections import equirect_directions, equirect_solid_angles

    s = attrs.get("singlehdr:sky:sun_irradiance_rgb")
    if s:
        return float(np.dot(json.loads(s), LUMA)) * exposure
    y = (hdr.astype(np.float64) @ LUMA) * exposure
    h, w = y.shape
    ang = np.degrees(np.arccos(np.clip(equirect_directions(h, w) @ direction, -1, 1)))
    bg = float(np.median(y[(ang > 1.2) & (ang < 2.0)]))
    m = ang < 1.0
    return float(np.sum((y[m] - bg) * equirect_solid_angles(h, w)[m]))


def glow_blue_over_red(u8: np.ndarray, sun_dir: np.ndarray) -> float | None:
    """envmap/sun.py's glow_blue_over_red (the red-glow rule's reading) on the photo itself: sRGB decoded, its
    clipped pixels left out, 10-20 deg from the true sun ``sun_dir``."""
    from singlehdr.camera.transfer import srgb_to_linear
    from singlehdr.envmap.sun import glow_blue_over_red as reading

    clip = (u8 >= 253).any(axis=-1).astype(np.float32)
    return reading(srgb_to_linear(u8.astype(np.float64) / 255.0), clip, np.ones_like(clip), sun_dir)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skies", type=Path, nargs="+", required=True, help="sky folders (tools/make_sky_hdrs.py --out)")
    ap.add_argument("--split", choices=("train", "heldout", "all"), default="train")
    ap.add_argument("--max-elevation", type=float, default=12.0)
    ap.add_argument("--width", type=int, default=None,
                    help="area-average each sky to this width first (bench/ibl.py's maps are 512 wide; default: as stored)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import ibl  # noqa: PLC0415  (bench/ibl.py: the same JPEG)
    from PIL import Image

    import singlehdr.envmap.sun as sunmod
    from singlehdr.envmap import EnvmapOptions, make_envmap
    from singlehdr.io import read_hdr
    from singlehdr.options import ReconstructOptions

    fits: list = []
    plain = sunmod.fit_sky

    def capture(env, use, sun_dir, *a, **k):
        fit = plain(env, use, sun_dir, *a, **k)
        fits.append((np.asarray(sun_dir, np.float64), fit))
        return fit

    sunmod.fit_sky = capture
    maps: dict = {}
    plain_recover = sunmod.recover_sun

    def recover(env, *a, **k):  # the map as envmap/sun.py receives it (the reconstruction's glow, before any fill)
        maps["env"] = env
        return plain_recover(env, *a, **k)

    import singlehdr.envmap.make as make_module

    make_module.sunmod.recover_sun = recover
    print("| sky | sky model | haze depth | sun el (deg) | confidence | sun placed off by (deg) | strength from | added sun / truth | fitted sun / truth | truth / aureole 1-10 deg | glow B/R |")
    print("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    added, over = [], []
    with tempfile.TemporaryDirectory(prefix="singlehdr_haze_") as tmp:
        for folder in args.skies:
            for r in json.loads((folder / "manifest.json").read_text()):
                if (args.split != "all" and r["split"] != args.split) or r["params"]["sun_elevation_deg"] >= args.max_elevation:
                    continue
                hdr, meta = read_hdr(folder / r["file"])
                if args.width and args.width < hdr.shape[1]:
                    hdr = ibl.area_downsample(hdr[..., :3], args.width)
                jpeg = Path(tmp) / f"{r['name']}.jpg"
                _, t, _ = ibl.make_ldr(hdr[..., :3], jpeg)
                with Image.open(jpeg) as im:
                    u8 = np.asarray(im.convert("RGB"))
                sun_dir = np.asarray(r["sun"]["house"], np.float64)
                truth = true_sun(hdr[..., :3], meta["attributes"], sun_dir, t)
                fits.clear()
                res = make_envmap(u8, EnvmapOptions(width=u8.shape[1], reconstruct=ReconstructOptions(method="singlehdr")))
                aureole = sunmod.hazy_sun_irradiance(maps["env"], res.alpha, sun_dir)[1]["aureole_irradiance_luminance"]
                depth = (r["params"].get("haze") or {}).get("depth", 0.0)
                glow = glow_blue_over_red(u8, sun_dir)
                sun = res.sun
                head = (f"| {r['name']} | {r['params']['sky_type'].title().replace('_', '-')} | {depth:.2f} | "
                        f"{r['params']['sun_elevation_deg']:.1f} | ")
                tail = f"{truth / aureole:.3g} | {'-' if glow is None else f'{glow:.2f}'} |"
                if sun is None:
                    fit = fits[-1][1] if fits else None
                    fitted = f"{float(fit.sun_irradiance_rgb @ LUMA) / truth:.3g}" if fit is not None else "-"
                    print(head + f"- | - | - | - | {fitted} | " + tail, flush=True)
                    continue
                d = np.asarray(sun["direction"])
                fit = max(fits, key=lambda f: float(f[0] @ d))[1] if fits else None
                kind = "haze" if sun["method"].startswith("haze prior") or "under the haze prior" in sun["method"] else "clear"
                ratio = sun["irradiance_luminance"] / truth
                if kind == "haze":
                    over.append(truth / aureole)
                added.append(ratio)
                fitted = f"{float(fit.sun_irradiance_rgb @ LUMA) / truth:.3g}" if fit is not None else "-"
                print(head + f"{sun['confidence']:.2f} | {sunmod.angle_between_deg(d, sun_dir):.1f} | {kind} | {ratio:.3g} | "
                      f"{fitted} | " + tail, flush=True)
    if added:
        lr = np.abs(np.log(added))
        print(f"\n{len(added)} suns added; added / truth: median {np.median(added):.3g}, range {min(added):.3g}-{max(added):.3g}, "
              f"mean |ln| {lr.mean():.2f}")
    if over:
        print(f"truth / aureole where the sun got the haze prior: median {np.median(over):.3g} over {len(over)} skies, "
              f"range {min(over):.3g}-{max(over):.3g} (HAZY_SUN_OVER_AUREOLE = {sunmod.HAZY_SUN_OVER_AUREOLE:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
