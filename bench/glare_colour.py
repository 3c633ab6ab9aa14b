"""Colour inside a sun's clipped glare: the map's chroma against the truth's (not a test; training split only).

    PYTHONPATH=core python bench/glare_colour.py --skies build/ibl/skies_low --evs 0,0.5
    PYTHONPATH=core python bench/glare_colour.py --skies build/ibl/skies_hazy --evs 0,0.5

Each training sky of a tools/make_sky_hdrs.py bank is photographed by bench/sun_detection.py's camera (bench/ibl.py's:
1 % of the pixels clip, sRGB, 8 bit, JPEG q90; shifted by ``--evs``) and made into a 512-wide map twice: ``envmap``
as shipped (sun auto: a wide glare around an added sun, or a hazy low sun's glow, takes the colour trend of the sky
around it, envmap/sun.py ``fill_glare``) and ``--sun off`` (the reconstruction's colour: the rim's, faded to white
inside).  The errors are the mean absolute differences of log(B/R), log(G/R) and log luminance from the truth's
over the pixels clipped in the photo (any channel), 1.5-40 deg from the true sun, above the horizon; only records whose glare is wider than the
sun's own pixels (inscribed radius >= 2 deg, where ``fill_glare`` applies) are listed.  Prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LUMA = np.array([0.2126, 0.7152, 0.0722])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skies", required=True, help="a folder of tools/make_sky_hdrs.py (manifest.json)")
    ap.add_argument("--evs", default="0,0.5", help="comma-separated exposure offsets (stops) from the 1 %% clip rule")
    ap.add_argument("--out", default=str(ROOT / "build" / "glare_colour"), help="where the camera JPEGs go")
    ap.add_argument("--model", default=None, help="a model file (default: the shipped model)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "bench"))
    import sun_detection as sd

    from singlehdr import ReconstructOptions
    from singlehdr.envmap import EnvmapOptions, make_envmap
    from singlehdr.envmap import sun as S
    from singlehdr.envmap.projections import azimuth_elevation, equirect_directions
    from singlehdr.io import read_hdr

    bench = sd._bench_ibl()
    skies = Path(args.skies)
    rows = []
    for e in json.loads((skies / "manifest.json").read_text()):
        if e["split"] != "train" or not (skies / e["file"]).is_file():
            continue
        hdr, _ = read_hdr(skies / e["file"])
        hdr = bench.area_downsample(hdr[..., :3], 512)
        sun = np.asarray(e["sun"]["house"], np.float64)
        h, w = hdr.shape[:2]
        d = equirect_directions(h, w)
        ang = np.degrees(np.arccos(np.clip(d @ sun, -1, 1)))
        el = azimuth_elevation(d)[1]
        for ev in [float(x) for x in args.evs.split(",") if x]:
            ldr, t = sd.camera_jpeg(bench, hdr, ev, Path(args.out) / f"{e['name']}_ev{ev:+.1f}.jpg")
            glare = (ldr.max(axis=-1) >= 0.99) & (ang > 1.5) & (ang < 40.0) & (el >= 0.0)
            rec_opts = ReconstructOptions(model=args.model)
            res = make_envmap(ldr, EnvmapOptions(width=w, reconstruct=rec_opts))
            cand = (res.sun_assessment or {}).get("candidate") or {}
            wide = cand.get("solid_angle_sr", 0.0) * cand.get("compactness", 0.0) >= S.disc_solid_angle(
                2.0 * S.SKY_FIT_PLACE_MIN_RADIUS_DEG)  # where fill_glare applies (sun._wide_glare)
            if glare.sum() < 20 or not wide:
                continue
            off = make_envmap(ldr, EnvmapOptions(width=w, sun="off", reconstruct=rec_opts)).hdr_linear

            def err(a: np.ndarray) -> tuple[float, float, float]:
                """Mean |error| over the glare of log(B/R), log(G/R) and log luminance (the disc excluded)."""
                lr = lambda x, i: np.log(np.maximum(x[..., i], 1e-6) / np.maximum(x[..., 0], 1e-6))  # noqa: E731
                ly = lambda x: np.log(np.maximum(x @ LUMA, 1e-6))  # noqa: E731
                return tuple(float(np.mean(np.abs(f(a) - f(hdr * t))[glare]))
                             for f in (lambda x: lr(x, 2), lambda x: lr(x, 1), ly))

            rows.append((e["name"], e["params"]["sky_type"], ev, int(glare.sum()), err(off), err(res.hdr_linear),
                         res.sun is not None))
            print(f"{e['name']:9s} {e['params']['sky_type']:19s} ev {ev:+.1f} glare {rows[-1][3]:5d} px  "
                  f"reconstruction B/R {rows[-1][4][0]:.3f} G/R {rows[-1][4][1]:.3f} Y {rows[-1][4][2]:.3f}  "
                  f"envmap B/R {rows[-1][5][0]:.3f} G/R {rows[-1][5][1]:.3f} Y {rows[-1][5][2]:.3f}  "
                  f"sun {'yes' if rows[-1][6] else 'no'}", flush=True)
    if not rows:
        print("no wide glares")
        return 0
    a, b = np.array([r[4] for r in rows]), np.array([r[5] for r in rows])
    print("\n| skies | records with a wide glare | error: reconstruction (--sun off) log(B/R) / log(G/R) / log Y | "
          "envmap (shipped) | envmap better / worse by > 0.02 (B/R) |")
    print("|---|---:|---:|---:|---|")
    print(f"| {skies.name} (training, EV {args.evs}) | {len(rows)} | {a[:, 0].mean():.3f} / {a[:, 1].mean():.3f} / "
          f"{a[:, 2].mean():.3f} | {b[:, 0].mean():.3f} / {b[:, 1].mean():.3f} / {b[:, 2].mean():.3f} | "
          f"{int(np.sum(b[:, 0] < a[:, 0] - 0.02))} / {int(np.sum(b[:, 0] > a[:, 0] + 0.02))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
