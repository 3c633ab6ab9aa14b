"""Sun detection on the sky panoramas of tools/make_sky_hdrs.py, one line per sky (not a test).

For each sky of a split: the bench's camera JPEG (bench/ibl.py make_ldr: 1 % clipped, sRGB, 8 bit, q90),
`make_envmap` with the default options (sun auto), and what the detector saw: sun added or not, angle to the
true sun, confidence and its features, the map's energy over the truth's.  Blender 5.0's Preetham and
Hosek-Wilkie skies have no sun disc ("disc=0"); its single/multiple-scattering skies have one ("disc=1").
Use it to tune the detector on the training split, never on the held-out one:

    python tools/make_sky_hdrs.py --split train
    PYTHONPATH=core python bench/sun_detection.py --split train
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _bench_ibl():
    spec = importlib.util.spec_from_file_location("bench_ibl", ROOT / "bench" / "ibl.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_ibl"] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skies", default=str(ROOT / "build" / "ibl" / "skies"), help="folder of tools/make_sky_hdrs.py")
    ap.add_argument("--split", choices=("train", "heldout"), default="train")
    ap.add_argument("--out", default=str(ROOT / "build" / "sun_detection"), help="where the camera JPEGs go")
    args = ap.parse_args(argv)

    from singlehdr.envmap import EnvmapOptions, make_envmap
    from singlehdr.envmap.projections import equirect_solid_angles
    from singlehdr.io import read_hdr

    bench = _bench_ibl()
    skies = Path(args.skies)
    manifest = json.loads((skies / "manifest.json").read_text())
    weights = np.array([0.2126, 0.7152, 0.0722], np.float32)  # BT.709 luminance
    hits = {0: [0, 0], 1: [0, 0]}
    for e in manifest:
        if e["split"] != args.split or not (skies / e["file"]).is_file():
            continue
        hdr, _ = read_hdr(skies / e["file"])
        hdr = bench.area_downsample(hdr, 512)
        ldr, t, _ = bench.make_ldr(hdr, Path(args.out) / f"{e['name']}.jpg")
        res = make_envmap(ldr, EnvmapOptions(width=512))
        disc = int(e["params"]["sky_type"] in ("MULTIPLE_SCATTERING", "SINGLE_SCATTERING"))
        om = equirect_solid_angles(*res.hdr_linear.shape[:2])
        energy = float(((res.hdr_linear @ weights) * om).sum() / (((hdr @ weights) * om).sum() * t))
        a = res.sun_assessment or {}
        feats = {k: v for k, v in (a.get("features") or {}).items() if isinstance(v, float)}
        angle = "-"
        if res.sun:
            cosang = float(np.clip(np.dot(res.sun["direction"], np.array(e["sun"]["house"])), -1, 1))
            angle = f"{np.degrees(np.arccos(cosang)):.1f}"
        hits[disc][0] += 1
        hits[disc][1] += int(res.sun is not None)
        print(f"{e['name']} {e['family']:6s} {e['params']['sky_type']:19s} el {e['params']['sun_elevation_deg']:5.1f} "
              f"disc={disc} sun={'yes' if res.sun else 'no '} angle={angle:>5s} conf={a.get('confidence', 0.0):.2f} "
              f"energy={energy:.2f} " + " ".join(f"{k}={v:.2f}" for k, v in feats.items() if k in (
                  "compactness", "elevation", "blue_sky", "circumsolar_falloff", "fit")), flush=True)
    print(f"\nsun added: {hits[1][1]}/{hits[1][0]} skies with a disc, {hits[0][1]}/{hits[0][0]} skies without one")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
