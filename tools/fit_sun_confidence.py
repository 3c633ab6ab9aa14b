"""Fit the sun confidence's smooth steps (envmap/sun.py ``CONFIDENCE_STEPS``) to dumped training candidates.

    PYTHONPATH=core python bench/sun_detection.py --skies build/ibl/skies48 --split train --evs=-1,-0.5,0,0.5 \\
        --dump build/sun_detection/train48.json
    PYTHONPATH=core python tools/fit_sun_confidence.py build/sun_detection/train48.json
    # with the low-sun bank (stop 13): python tools/make_sky_hdrs.py --bank low --count 24 --out build/ibl/skies_low,
    # then bench/sun_detection.py --skies build/ibl/skies_low --no-hdris --no-overcast --dump ..., both dumps here

Training split only (tools/make_sky_hdrs.py skies with i % 3 != 2, Blender's six training HDRIs).  Each record is one
scene at one exposure with every candidate's raw measurements (``considered``); a scene's detection is its most
confident candidate when that reaches ``AUTO_CONFIDENCE``.  Coordinate search over each step's (lo, hi) on a grid,
maximising  right - WRONG_COST * wrong - SUNLESS_COST * suns on sunless scenes,  where "right" is a sun added within
5 deg of the true one, "wrong" one more than 15 deg away (a near miss in between counts neither way).  The steps in FIXED are not searched.  Prints the
score of the current steps, the fitted ones, and what changed per sky model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

WRONG_COST = 2.0
SUNLESS_COST = 20.0
RIGHT_DEG = 5.0
#: A sun added within this angle but farther than RIGHT_DEG is a near miss: neither right nor wrong (its light and
#: energy are nearly right, its shadows a few degrees off).
NEAR_DEG = 15.0
#: Steps kept as they are: the elevation step (the search's higher ones, 3.5-14 deg, lose the training sunrise's sun
#: 8 deg up; tests/envmap/test_envmap_cli) and compactness (0.3-0.6 scores better here but put a sun 8 deg high inside
#: held-out sunset.exr's glow at 160x its strength, stops 10 and 11).  Stop 11 set blueness 0-0.05 and the aureole
#: step on this objective (envmap/sun.py, step 3); the other steps are stop 9's.
#: Stop 13: the elevation step stays although 0-4 deg scores better on the training skies with the low-sun bank
#: (all clear skies): the held-out sunset.exr's real sun 3.2 deg up is 84x dimmer than its clear-sky fit (envmap/sun.py,
#: step 3).  Stop 14: the steps in sun.py ALTERNATIVE_STEPS stand in for others on a clear sky (sun_confidence_features).
FIXED = ("blue_sky", "compactness", "elevation", "clear_sky", "low_sun")


KEYS = ("compactness", "isophote_iou", "elevation_deg", "falloff_vs_model", "near_over_far", "sky_fraction", "fit_spread",
        "blue_minus_red", "clipped_sky_fraction_elsewhere", "near_over_white")


def load(paths: list[str]) -> tuple[list[dict], dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """(records, raw measurement columns over all candidates, record index per candidate, right flag, sunless flag)."""
    recs = [r for p in paths for r in json.loads(Path(p).read_text())]
    cols: dict[str, list[float]] = {k: [] for k in KEYS}
    owner, right = [], []
    for i, r in enumerate(recs):
        for c in r["considered"]:
            for k in KEYS:
                cols[k].append(float(c["raw"].get(k, np.nan)))
            owner.append(i)
            ang = np.inf
            if r["sun"] is not None:
                ang = float(np.degrees(np.arccos(np.clip(np.dot(c["direction"], r["sun"]), -1, 1))))
            right.append(ang)
    sunless = np.array([r["sun"] is None for r in recs])
    return recs, {k: np.array(v) for k, v in cols.items()}, np.array(owner), np.array(right, dtype=float), sunless


def confidence(cols: dict[str, np.ndarray], steps: dict[str, tuple[str, float, float]]) -> np.ndarray:
    """Every candidate's confidence with ``steps`` (envmap/sun.py sun_confidence_features)."""
    from singlehdr.envmap.sun import sun_confidence_features

    return np.prod(np.stack(list(sun_confidence_features(cols, steps).values())), axis=0)


def outcome(conf: np.ndarray, owner: np.ndarray, right: np.ndarray, n: int, auto: float,
            spread: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per record: (added, right) with envmap/sun.py's choice: the most confident candidate, among near-ties (within
    0.05) the one whose clear sky fits best (smallest ``spread``)."""
    added = np.zeros(n, bool)
    ok = np.full(n, np.inf)  # the added sun's angle to the truth (inf: none added, or no true sun)
    sp = np.where(np.isfinite(spread), spread, np.inf) if spread is not None else np.zeros(len(conf))
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(n + 1))
    for i in range(n):
        idx = order[bounds[i]:bounds[i + 1]]
        if not len(idx):
            continue
        top = conf[idx].max()
        near = idx[conf[idx] >= top - 0.05]
        pick = near[np.argmin(sp[near])]
        added[i] = top >= auto
        if added[i]:
            ok[i] = right[pick]
    return added, ok


def objective(added: np.ndarray, angle: np.ndarray, sunless: np.ndarray) -> float:
    right = added & (angle <= RIGHT_DEG)
    wrong = added & (angle > NEAR_DEG) & ~sunless
    return float(right.sum() - WRONG_COST * wrong.sum() - SUNLESS_COST * (added & sunless).sum())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dumps", nargs="+")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
    from singlehdr.envmap.sun import AUTO_CONFIDENCE, CONFIDENCE_STEPS

    recs, cols, owner, right, sunless = load(args.dumps)
    n = len(recs)
    steps = {k: tuple(v) for k, v in CONFIDENCE_STEPS.items()}

    def score(s: dict) -> tuple[float, np.ndarray, np.ndarray]:
        added, ok = outcome(confidence(cols, s), owner, right, n, AUTO_CONFIDENCE, cols["fit_spread"])
        return objective(added, ok, sunless), added, ok

    def report(tag: str, s: dict) -> None:
        val, added, ok = score(s)
        kinds = sorted({r["kind"] for r in recs})
        parts = []
        for k in kinds:
            m = np.array([r["kind"] == k for r in recs])
            if k == "hdri":
                m &= ~sunless
            parts.append(f"{k}: {int((added & (ok <= RIGHT_DEG))[m].sum())}/{int(m.sum())} right, "
                         f"{int((added & (ok > RIGHT_DEG) & (ok <= NEAR_DEG))[m].sum())} near, "
                         f"{int((added & (ok > NEAR_DEG))[m].sum())} wrong")
        parts.append(f"sunless: {int((added & sunless).sum())}/{int(sunless.sum())} with a sun")
        print(f"{tag}: objective {val:.0f}; " + "; ".join(parts))

    report("current", steps)
    grids = {k: np.linspace(lo - (hi - lo), hi + (hi - lo), 13) for k, (_, lo, hi) in steps.items()}
    best = score(steps)[0]
    for _ in range(args.rounds):
        for k, (key, lo0, hi0) in list(steps.items()):
            if k in FIXED:
                continue
            for lo in grids[k]:
                for hi in grids[k]:
                    if (hi - lo) * (hi0 - lo0) <= 0:  # keep the step's direction
                        continue
                    trial = dict(steps)
                    trial[k] = (key, float(lo), float(hi))
                    v = score(trial)[0]
                    if v > best + 1e-9:  # the current value wins ties
                        best, steps = v, trial
    report("fitted ", steps)
    print("CONFIDENCE_STEPS = {")
    for k, (key, lo, hi) in steps.items():
        print(f'    "{k}": ("{key}", {lo:.3g}, {hi:.3g}),')
    print("}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
