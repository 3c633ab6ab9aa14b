"""Choose the highlight treatment of the default model on the TRAINING split (never the held-out one).

For every training HDR and camera-curve family, score: the JPEG as is, the
paper pipeline (learned curve, network highlights), the sRGB prior with the
network's highlights, and the sRGB prior with colour-true highlights at several
luminance-ramp lengths; prints the per-family table.  The network runs once per
input; the highlight treatments are applied to its output.

    python tools/choose_highlights.py --hdr build/default/train --size 256 --draws 2
    python tools/choose_highlights.py --hdr build/default/train --size 256 --draws 2 --ramps "" --no-paper --slope-cap
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv=None) -> int:
    import torch

    torch.set_num_threads(1)
    from singlehdr.api import get_reconstructor
    from singlehdr.camera.transfer import srgb_to_linear
    from singlehdr.infer.engine import srgb_inverse_crf
    from singlehdr.infer.highlights import colour_true_highlights
    from singlehdr.train.evaluate import Method, evaluate, family_table, markdown_table

    ap = argparse.ArgumentParser()
    ap.add_argument("--hdr", required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--draws", type=int, default=2)
    ap.add_argument("--ramps", default="0,0.01,0.02,0.05")
    ap.add_argument("--families", default="srgb,gamma,film,phone,emor")
    ap.add_argument("--growths", default="", help="comma-separated growth values tried at ramp 0.02 (colour-true)")
    ap.add_argument("--no-paper", action="store_true", help="skip the paper-pipeline row")
    ap.add_argument("--slope-cap", action="store_true",
                    help="also the shipped treatment (ramp 0.02, growth 0.25) without and with the rim-slope cap")
    ap.add_argument("--slope-gains", default="1", help="comma-separated rim-slope multipliers tried with --slope-cap")
    ap.add_argument("--unsaturated-gains", default="",
                    help="comma-separated caps on the expansion of unclipped pixels tried with the shipped treatment "
                         "(ramp 0.02, growth 0.25; 0 = no cap)")
    ap.add_argument("--chroma-bounds", default="",
                    help="comma-separated bounds on a clipped channel over the largest measured one (with the 2x cap on "
                         "unclipped pixels; 0 = none)")
    args = ap.parse_args(argv)

    net = get_reconstructor(args.model, "cpu", "fp32", None, 64, "srgb", "network")
    paper = get_reconstructor(args.model, "cpu", "fp32", None, 64, "learned", "network")
    cache: dict[bytes, np.ndarray] = {}

    def net_out(ldr: np.ndarray) -> np.ndarray:
        key = ldr.tobytes()[:4096] + bytes(str(ldr.shape), "ascii") + np.float64(ldr.sum()).tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = net.run(ldr)
        return cache[key]

    methods = [Method("inverse-srgb", srgb_to_linear)] + ([] if args.no_paper else [Method("paper-learned-network", paper.run)])
    methods.append(Method("srgb-network", net_out))
    for r in [float(x) for x in args.ramps.split(",") if x]:
        methods.append(Method(f"srgb-colour-ramp{r:g}", lambda ldr, r=r: colour_true_highlights(ldr, net_out(ldr), srgb_inverse_crf(), ramp=r)))
    for gr in [float(x) for x in args.growths.split(",") if x]:
        methods.append(Method(f"srgb-colour-ramp0.02-growth{gr:g}",
                              lambda ldr, gr=gr: colour_true_highlights(ldr, net_out(ldr), srgb_inverse_crf(), ramp=0.02, growth=gr)))
    if args.slope_cap:
        for cap, gain in ((False, 1.0), *((True, float(g)) for g in args.slope_gains.split(","))):
            methods.append(Method(f"srgb-colour-ramp0.02-growth0.25-slopecap{int(cap)}" + (f"-gain{gain:g}" if cap else ""),
                                  lambda ldr, cap=cap, gain=gain: colour_true_highlights(
                                      ldr, net_out(ldr), srgb_inverse_crf(), ramp=0.02, growth=0.25, slope_cap=cap, slope_gain=gain)))
    if args.unsaturated_gains:
        for k in (0.0, *(float(x) for x in args.unsaturated_gains.split(","))):
            methods.append(Method(f"srgb-colour-ramp0.02-growth0.25-unsatcap{k:g}",
                                  lambda ldr, k=k: colour_true_highlights(ldr, net_out(ldr), srgb_inverse_crf(), ramp=0.02,
                                                                          growth=0.25, unsaturated_gain=k)))
    if args.chroma_bounds:
        for c in (0.0, *(float(x) for x in args.chroma_bounds.split(","))):
            methods.append(Method(f"srgb-colour-ramp0.02-growth0.25-unsatcap2-chroma{c:g}",
                                  lambda ldr, c=c: colour_true_highlights(ldr, net_out(ldr), srgb_inverse_crf(), ramp=0.02,
                                                                          growth=0.25, unsaturated_gain=2.0, chroma_bound=c)))
    rep = evaluate(args.hdr, methods, size=args.size, jod=False, families=args.families.split(","), draws=args.draws, log=None)
    print(markdown_table(rep))
    print()
    print(family_table(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
