"""Sun detection on the training scenes, one line per scene and exposure (not a test; tune here, never on held-out).

Scenes: the sky panoramas of tools/make_sky_hdrs.py of one split (every one has a sun: since recipe 2 the
Preetham and Hosek-Wilkie skies get an analytic one) and, for the training split, four sunless CIE overcast skies
(b - r 0 to 0.12, tools/make_sky_hdrs.py cie_overcast; stop 11) and Blender's six TRAINING
bundled HDRIs (city and sunrise show the sun; forest, interior, night and studio must never get one).
Camera: bench/ibl.py's (exposure so 1 % of the pixels clip, sRGB, 8 bit, JPEG q90), shifted by ``--evs``.
Each scene goes through `make_envmap` with the default options (sun auto); the line gives what the detector
did: sun added or not, angle to the true sun, confidence and its factors, the map's energy over the truth's.

    python tools/make_sky_hdrs.py --split train
    PYTHONPATH=core python bench/sun_detection.py --split train --evs 0,1 --dump build/sun_detection/train.json
    PYTHONPATH=core python bench/sun_detection.py --rescore build/sun_detection/train.json   # no networks: the
        # dumped raw measurements of every candidate re-scored with the current sun_confidence_features

A detection counts as right when the added sun is within 5 deg of the true one.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: Blender's bundled HDRIs that are not held out (tools/train_default.py HELD_OUT_HDRIS = courtyard, sunset),
#: with whether the sun is in view (checked by eye and by the peak: city 47.6 deg up, sunrise 7.9 deg up).
TRAIN_HDRIS = {"city": True, "sunrise": True, "forest": False, "interior": False, "night": False, "studio": False}
RIGHT_DEG = 5.0
#: Chromaticities (b - r) of the sunless CIE overcast skies of the training split.
OVERCAST_TRAIN = (0.0, 0.04, 0.08, 0.12)


def _bench_ibl():
    spec = importlib.util.spec_from_file_location("bench_ibl", ROOT / "bench" / "ibl.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_ibl"] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def camera_jpeg(bench, hdr: np.ndarray, ev: float, path: Path) -> tuple[np.ndarray, float]:
    """bench/ibl.py's camera (1 % clipped) shifted by ``ev`` stops: (decoded sRGB float, exposure t)."""
    from PIL import Image

    from singlehdr.camera import forward
    from singlehdr.camera.transfer import linear_to_srgb

    t = 2.0 ** ev / float(np.percentile(hdr.max(axis=-1), bench.CLIP_PERCENTILE))
    u8 = forward.to_uint8(forward.quantize(linear_to_srgb(forward.clip01(forward.expose(hdr.astype(np.float32), t)))))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(u8, "RGB").save(path, format="JPEG", quality=bench.JPEG_QUALITY, subsampling=0)
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0, t


def scenes(args, bench):
    """[(name, kind, true sun direction (house) or None, hdr)] of the split."""
    from singlehdr.io import read_hdr

    skies = Path(args.skies)
    for e in json.loads((skies / "manifest.json").read_text()):
        if e["split"] == args.split and (skies / e["file"]).is_file():
            hdr, _ = read_hdr(skies / e["file"])
            yield e["name"], e["params"]["sky_type"], np.array(e["sun"]["house"]), bench.area_downsample(hdr[..., :3], 512)
    if args.split == "train" and not args.no_overcast:
        # sunless CIE overcast skies (tools/make_sky_hdrs.py cie_overcast), neutral to bluish; the tests use others
        sys.path.insert(0, str(ROOT / "tools"))
        from make_sky_hdrs import cie_overcast

        for bmr in OVERCAST_TRAIN:
            yield f"overcast_{bmr:.2f}", "overcast", None, cie_overcast(512, bmr, albedo=0.25)
    if args.split == "train" and not args.no_hdris:
        from singlehdr.envmap.projections import equirect_directions

        folder = bench.bundled_hdri_dir() if hasattr(bench, "bundled_hdri_dir") else None
        if folder is None:
            import os
            import tempfile

            os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="singlehdr_bur_"))
            import bpy

            folder = Path(bpy.utils.system_resource("DATAFILES", path="studiolights/world"))
        for name, has_sun in TRAIN_HDRIS.items():
            hdr, _ = read_hdr(Path(folder) / f"{name}.exr")
            hdr = bench.area_downsample(hdr[..., :3], 512)
            sun = None
            if has_sun:
                y = hdr @ np.array([0.2126, 0.7152, 0.0722], np.float32)
                i, j = np.unravel_index(int(np.argmax(y)), y.shape)
                sun = equirect_directions(*y.shape)[i, j]
            yield name, "hdri", sun, hdr


def true_sun_irradiance(hdr: np.ndarray, sun: np.ndarray) -> float:
    """The truth's sun: luminance within 1.5 deg of ``sun`` above the median of the 2-4 deg ring, integrated over
    solid angle (normal-incidence irradiance, the truth's units)."""
    from singlehdr.envmap.projections import equirect_directions, equirect_solid_angles

    h, w = hdr.shape[:2]
    ang = np.degrees(np.arccos(np.clip(equirect_directions(h, w) @ np.asarray(sun, np.float64), -1, 1)))
    y = hdr[..., :3].astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])
    ring = float(np.median(y[(ang > 2) & (ang < 4)]))
    disc = ang < 1.5
    return float(((y - ring) * equirect_solid_angles(h, w))[disc].sum())


def score(record: dict, pick_conf) -> tuple[bool, bool]:
    """(sun added, right) for one dumped record, with ``pick_conf(raw) -> confidence``."""
    from singlehdr.envmap.sun import AUTO_CONFIDENCE

    best = None
    for c in record["considered"]:
        conf = pick_conf(c["raw"])
        if best is None or conf > best[0]:
            best = (conf, c)
    if best is None or best[0] < AUTO_CONFIDENCE:
        return False, record["sun"] is None
    if record["sun"] is None:
        return True, False
    ang = float(np.degrees(np.arccos(np.clip(np.dot(best[1]["direction"], record["sun"]), -1, 1))))
    return True, ang <= RIGHT_DEG


def summary(records: list[dict], pick_conf) -> str:
    rows: dict[str, list[int]] = {}
    for r in records:
        added, right = score(r, pick_conf)
        key = r["kind"] if r["sun"] is not None else "no sun"
        v = rows.setdefault(key, [0, 0, 0])
        v[0] += 1
        v[1] += int(added)
        v[2] += int(right)
    return "; ".join(f"{k}: added {v[1]}/{v[0]}, right {v[2]}/{v[0]}" for k, v in sorted(rows.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skies", default=str(ROOT / "build" / "ibl" / "skies"), help="folder of tools/make_sky_hdrs.py")
    ap.add_argument("--split", choices=("train", "heldout"), default="train")
    ap.add_argument("--evs", default="0", help="comma-separated exposure offsets (stops) from the 1 %% clip rule")
    ap.add_argument("--no-hdris", action="store_true", help="skies only")
    ap.add_argument("--no-overcast", action="store_true", help="without the sunless CIE overcast skies")
    ap.add_argument("--out", default=str(ROOT / "build" / "sun_detection"), help="where the camera JPEGs go")
    ap.add_argument("--dump", default=None, help="write every candidate's raw measurements here (JSON)")
    ap.add_argument("--rescore", default=None, help="re-score a dump with the current confidence (no networks)")
    args = ap.parse_args(argv)

    from singlehdr.envmap.sun import sun_confidence_features

    def conf_now(raw: dict) -> float:
        return float(np.prod(list(sun_confidence_features(raw).values())))

    if args.rescore:
        records = json.loads(Path(args.rescore).read_text())
        for r in records:
            added, right = score(r, conf_now)
            print(f"{r['name']:9s} {r['kind']:19s} ev {r['ev']:+.1f} sun={'yes' if added else 'no '} right={right}")
        print("\n" + summary(records, conf_now))
        return 0

    from singlehdr.envmap import EnvmapOptions, make_envmap
    from singlehdr.envmap.projections import equirect_solid_angles

    bench = _bench_ibl()
    weights = np.array([0.2126, 0.7152, 0.0722], np.float32)  # BT.709 luminance
    records = []
    for name, kind, sun, hdr in scenes(args, bench):
        for ev in [float(x) for x in args.evs.split(",") if x]:
            ldr, t = camera_jpeg(bench, hdr, ev, Path(args.out) / f"{name}_ev{ev:+.1f}.jpg")
            res = make_envmap(ldr, EnvmapOptions(width=512))
            om = equirect_solid_angles(*res.hdr_linear.shape[:2])
            energy = float(((res.hdr_linear @ weights) * om).sum() / (((hdr @ weights) * om).sum() * t))
            a = res.sun_assessment or {}
            rec = {"name": name, "kind": kind, "ev": ev, "sun": None if sun is None else [float(v) for v in sun],
                   "considered": a.get("considered", []), "energy": energy,
                   "sun_irradiance_truth": None if sun is None else true_sun_irradiance(hdr, sun) * t,
                   "sun_irradiance_map": res.sun["irradiance_luminance"] if res.sun else None,
                   "cross_check": res.sun.get("cross_check") if res.sun else None}
            records.append(rec)
            angle = "-"
            if res.sun and sun is not None:
                angle = f"{np.degrees(np.arccos(float(np.clip(np.dot(res.sun['direction'], sun), -1, 1)))):.1f}"
            feats = a.get("features") or {}
            raw = a.get("raw") or {}
            print(f"{name:9s} {kind:19s} ev {ev:+.1f} truth={'sun' if sun is not None else 'none'} "
                  f"added={'yes' if res.sun else 'no '} angle={angle:>5s} conf={a.get('confidence', 0.0):.2f} "
                  f"energy={energy:.2f} " + " ".join(f"{k}={v:.2f}" for k, v in feats.items() if isinstance(v, float) and k in (
                      "compactness", "elevation", "blue_sky", "circumsolar_falloff", "fit", "sky_fraction", "sky_not_overexposed"))
                  + " | raw " + " ".join(f"{k}={v:.3g}" for k, v in raw.items() if isinstance(v, float))
                  + ("" if a.get("candidate") else f" reason={a.get('reason', '')!r}"), flush=True)
    print("\n" + summary(records, conf_now))
    if args.dump:
        Path(args.dump).parent.mkdir(parents=True, exist_ok=True)
        Path(args.dump).write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
