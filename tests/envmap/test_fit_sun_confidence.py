"""tools/fit_sun_confidence.py replays recover_sun's choice on dumped candidates (most confident; near ties by the sky
fit) and scores it; checked on a hand-made dump."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import fit_sun_confidence as F  # noqa: E402

SUN = [0.0, 0.5, -np.sqrt(0.75)]  # 30 deg up
RAW_GOOD = {"compactness": 0.9, "elevation_deg": 30.0, "falloff_vs_model": 1.0, "sky_fraction": 0.5, "fit_spread": 0.05,
            "blue_minus_red": 0.2, "clipped_sky_fraction_elsewhere": 0.0, "near_over_white": 0.45}


def _dir(el_deg: float, az_deg: float = 0.0) -> list[float]:
    el, az = np.radians(el_deg), np.radians(az_deg)
    return [float(np.cos(el) * np.sin(az)), float(np.sin(el)), float(-np.cos(el) * np.cos(az))]


def _dump(tmp_path: Path) -> Path:
    recs = [
        # the right candidate and a near-tie 10 deg off whose sky fits worse: the right one is chosen
        {"name": "a", "kind": "K", "ev": 0.0, "sun": SUN, "considered": [
            {"direction": _dir(40.0), "raw": {**RAW_GOOD, "fit_spread": 0.09}},
            {"direction": _dir(30.0), "raw": RAW_GOOD}]},
        # a wide, non-compact glow 20 deg off: no sun at all with the shipped steps
        {"name": "b", "kind": "K", "ev": 0.0, "sun": SUN, "considered": [
            {"direction": _dir(10.0), "raw": {**RAW_GOOD, "compactness": 0.3}}]},
        # a sunless scene with a sun-like candidate: the expensive mistake
        {"name": "c", "kind": "hdri", "ev": 0.0, "sun": None, "considered": [{"direction": _dir(30.0), "raw": RAW_GOOD}]},
    ]
    p = tmp_path / "dump.json"
    p.write_text(json.dumps(recs))
    return p


def test_replay_and_objective(tmp_path):
    from singlehdr.envmap.sun import AUTO_CONFIDENCE, CONFIDENCE_STEPS

    recs, cols, owner, angle, sunless = F.load([str(_dump(tmp_path))])
    conf = F.confidence(cols, CONFIDENCE_STEPS)
    np.testing.assert_allclose(conf[:2], 1.0)  # both candidates of "a" are fully confident: a near tie
    assert conf[2] < AUTO_CONFIDENCE  # compactness 0.3 is below the step
    added, ang = F.outcome(conf, owner, angle, len(recs), AUTO_CONFIDENCE, cols["fit_spread"])
    assert added.tolist() == [True, False, True]
    assert ang[0] < 1e-6  # the near tie went to the better sky fit, the right one
    # one right sun (+1), a sun on a sunless scene (-SUNLESS_COST)
    assert F.objective(added, ang, sunless) == 1.0 - F.SUNLESS_COST
