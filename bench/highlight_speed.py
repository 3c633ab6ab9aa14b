"""Seconds of the default model's highlight pass (infer/highlights.py ``colour_true_highlights``, numpy, CPU).

    PYTHONPATH=core python bench/highlight_speed.py [--sizes 1,4] [--rounds 2]

On a GPU this pass is most of a reconstruction's time (bench/RESULTS.md, stop 22: 4.3 of 4.6 s at 4 MP on an H200).
Input: bench/speed.py's synthetic 8-bit test image; the network's output stands in as the linearised input lifted
up to 4x where it nears the clip and tinted (the pass's time does not depend on the values).  Policy: the shipped
model's (read from its file).  Rows per size: the pass as shipped, and the same with the curve applied by
``np.interp`` over every pixel (stop 21's way; ``highlights.apply_curve`` uses a 256-entry table for 8-bit input and
gives the same values bit for bit).  Seconds: each round's, rounds alternating.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "core"))
sys.path.insert(0, str(ROOT / "bench"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,4", help="comma-separated megapixels")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    import singlehdr.infer.highlights as H
    from singlehdr.infer.engine import srgb_inverse_crf
    from singlehdr.weights import load_model
    from speed import make_image

    _, info = load_model(None, device="cpu")
    pol = info.get("inference") or {}
    kw = dict(ramp=float(pol.get("highlight_ramp", 0.02)), growth=float(pol.get("highlight_growth", 0.0)),
              unsaturated_gain=float(pol.get("highlight_unsaturated_gain", 0.0)),
              chroma_bound=float(pol.get("highlight_chroma_bound", 0.0)), size_cap=float(pol.get("highlight_size_cap", 0.0)),
              size_cap_dome=float(pol.get("highlight_size_cap_dome", 0.0)),
              keep_measured=bool(pol.get("highlight_keep_measured", False)),
              channel_ramp=bool(pol.get("highlight_channel_ramp", False)),
              ring_estimate=bool(pol.get("highlight_ring_estimate", False)),
              edge_fade=bool(pol.get("highlight_edge_fade", False)),
              measured_chroma=bool(pol.get("highlight_measured_chroma", False)))
    shipped = H.apply_curve

    def interp(x, curve):  # stop 21's way: np.interp over every pixel
        g = np.asarray(curve, np.float32).reshape(-1)
        return np.interp(x, np.linspace(0.0, 1.0, g.size, dtype=np.float32), g).astype(np.float32)

    g = srgb_inverse_crf()
    print("| MP | curve | seconds per round |")
    print("|---:|---|---|")
    for mp in (float(v) for v in args.sizes.split(",")):
        ldr = make_image(mp)
        b = shipped(ldr, g)
        net = (b * (1 + 3 * H.transition_weight(ldr)[..., None]) * np.array([1.1, 1.0, 0.9], np.float32)).astype(np.float32)
        times: dict[str, list[float]] = {"table (shipped)": [], "np.interp": []}
        for _ in range(args.rounds):
            for name, f in (("np.interp", interp), ("table (shipped)", shipped)):
                H.apply_curve = f
                t = time.perf_counter()
                H.colour_true_highlights(ldr, net, g, **kw)
                times[name].append(time.perf_counter() - t)
        H.apply_curve = shipped
        for name, ts in times.items():
            print(f"| {ldr.shape[0] * ldr.shape[1] / 1e6:.1f} | {name} | {' / '.join(f'{t:.2f}' for t in ts)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
