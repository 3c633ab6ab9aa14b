"""Where the sun is placed inside a wide clipped glare, on the training split (not a test; stop 12's table).

    python tools/make_sky_hdrs.py --split train --out build/ibl/skies48 --count 48
    PYTHONPATH=core python bench/sun_detection.py --skies build/ibl/skies48 --split train --evs=-1,-0.5,0,0.5
    PYTHONPATH=core python bench/sun_placement.py            # reads the camera JPEGs that run left in build/sun_detection

Every training sky JPEG goes through `make_envmap` with the training-free inverse-sRGB reconstruction (the clip mask
and the unclipped sky are what placement reads); of its sun candidates, the one nearest the true sun whose glare is
wider than 2 deg (inscribed cap) and within 25 deg of it is placed by the glow fit (`refine_direction`) and then by
the sky fit (`place_by_sky_fit`) with several settings.  One line per setting: candidates within 2 / 5 deg of the
true sun, mean and largest error, how many the sky fit made more than 1 deg worse, seconds per candidate.

``--tau``: instead, the sun strength of `fit_sky` at the true sun place on every training JPEG for several
``MODEL_AVERAGE_TAU`` (the model average; the truth's sun is its disc above the 2-4 deg ring in the truth HDR, scaled
by the median map / truth ratio on unclipped pixels): the share within 0.8-1.25x of the truth, per sky model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def captured(skies: Path, jpegs: Path):
    """[(env, clip, alpha, true sun)] of every training JPEG, as recover_sun receives them."""
    from PIL import Image

    import singlehdr.envmap.make as mk
    from singlehdr.envmap import EnvmapOptions, make_envmap
    from singlehdr.options import ReconstructOptions

    seen: dict = {}
    real = mk.sunmod.recover_sun

    def spy(env, clip, alpha, white, mode="auto", *a, **k):
        seen.update(env=env, clip=clip, alpha=alpha)
        return real(env, clip, alpha, white, "off", *a, **k)

    mk.sunmod.recover_sun = spy
    try:
        for e in json.loads((skies / "manifest.json").read_text()):
            if e["split"] != "train":
                continue
            for p in sorted(jpegs.glob(f"{e['name']}_ev[+-]?.?.jpg")):
                ldr = np.asarray(Image.open(p).convert("RGB"), np.float32) / 255.0
                make_envmap(ldr, EnvmapOptions(width=512, reconstruct=ReconstructOptions(method="inverse-srgb")))
                yield p.stem, seen["env"], seen["clip"], seen["alpha"], np.asarray(e["sun"]["house"], np.float64)
    finally:
        mk.sunmod.recover_sun = real


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skies", default=str(ROOT / "build" / "ibl" / "skies48"))
    ap.add_argument("--jpegs", default=str(ROOT / "build" / "sun_detection"))
    ap.add_argument("--tau", action="store_true", help="the model-average table instead (module doc)")
    args = ap.parse_args(argv)
    from singlehdr.envmap import sun as S
    from singlehdr.envmap.projections import angle_between_deg

    if args.tau:
        return tau_table(Path(args.skies), Path(args.jpegs))

    data = []
    for name, env, clip, alpha, sun in captured(Path(args.skies), Path(args.jpegs)):
        cands, _ = S.find_candidates(clip, alpha)
        if not cands:
            continue
        c = min(cands, key=lambda c: angle_between_deg(c.direction, sun))
        wide = c.solid_angle_sr * c.compactness >= S.disc_solid_angle(2.0 * S.SKY_FIT_PLACE_MIN_RADIUS_DEG)
        if angle_between_deg(c.direction, sun) > 25 or not wide:
            continue
        c1, _ = S.refine_direction(env, clip, alpha, c)
        data.append((env, clip, alpha, sun, c1))
    if not data:
        print("no training JPEGs found: run bench/sun_detection.py first (see the module doc)")
        return 1
    a1 = np.array([angle_between_deg(x[4].direction, x[3]) for x in data])
    print(f"| placement | within 2 deg | within 5 deg | mean (deg) | max (deg) | worse by > 1 deg | s / candidate |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| glow fit | {np.sum(a1 <= 2)} | {np.sum(a1 <= 5)} | {a1.mean():.2f} | {a1.max():.1f} | - | - |")
    for steps, trials, fine in ((1, 40, 24), (2, 40, 24), (2, 24, 16)):
        t0, a2 = time.time(), []
        for env, clip, alpha, sun, c1 in data:
            c2, _ = S.place_by_sky_fit(env, clip, alpha, c1, trials=trials, fine=fine, steps=steps)
            a2.append(angle_between_deg(c2.direction, sun))
        a2 = np.array(a2)
        dt = (time.time() - t0) / len(data)
        print(f"| + sky fit, steps {steps}, {trials} + {fine} places | {np.sum(a2 <= 2)} | {np.sum(a2 <= 5)} | "
              f"{a2.mean():.2f} | {a2.max():.1f} | {np.sum(a2 > a1 + 1)} | {dt:.2f} |")
    print(f"({len(data)} candidates)")
    return 0


def tau_table(skies: Path, jpegs: Path) -> int:
    from singlehdr.colour import LUMA_709
    from singlehdr.envmap import sun as S
    from singlehdr.io import read_hdr

    luma = np.asarray(LUMA_709, np.float64)
    man = {e["name"]: e for e in json.loads((skies / "manifest.json").read_text())}
    taus = (0.02, 0.1, 0.25, 0.5)
    ratios: dict[float, list[float]] = {t: [] for t in taus}
    kinds, truths = [], {}
    keep = S.MODEL_AVERAGE_TAU
    try:
        for name, env, clip, alpha, sun in captured(skies, jpegs):
            sky = name.split("_ev")[0]
            if sky not in truths:
                hdr = read_hdr(skies / man[sky]["file"])[0][..., :3].astype(np.float64)
                d, om = S.equirect_directions(*hdr.shape[:2]), S.equirect_solid_angles(*hdr.shape[:2])
                ang, y = np.degrees(np.arccos(np.clip(d @ sun, -1, 1))), hdr @ luma
                ring = float(np.median(y[(ang > 2) & (ang < 4)]))
                truths[sky] = (float(((y - ring) * om)[ang < 1.5].sum()), y)
            t_sun, y_true = truths[sky]
            if y_true.shape != env.shape[:2]:
                continue
            y_map = env.astype(np.float64) @ luma
            ok = (clip < 0.01) & (y_true > 0) & (y_map > 0.02)
            scale = float(np.median(y_map[ok] / y_true[ok]))
            use = S.sky_pixels(env, alpha, clip, sun)
            for t in taus:
                S.MODEL_AVERAGE_TAU = t
                fit = S.fit_sky(env, use, sun)
                ratios[t].append(float(fit.sun_irradiance_rgb @ luma) / (t_sun * scale))
            kinds.append(man[sky]["params"]["sky_type"])
    finally:
        S.MODEL_AVERAGE_TAU = keep
    k = np.array(kinds)
    names = sorted(set(kinds))
    print("| MODEL_AVERAGE_TAU | within 0.8-1.25x | " + " | ".join(names) + " |")
    print("|---:|---:|" + "---:|" * len(names))
    for t in taus:
        v = np.array(ratios[t])
        inside = (v >= 0.8) & (v <= 1.25)
        print(f"| {t:g} | {inside.mean():.0%} | " + " | ".join(f"{inside[k == n].mean():.0%}" for n in names) + " |")
    print(f"({len(k)} inputs)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "core"))
    raise SystemExit(main())
