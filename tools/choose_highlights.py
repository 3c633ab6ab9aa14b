"""Choose the highlight treatment of the default model on the TRAINING split (never the held-out one).

For every training HDR and camera-curve family, score: the JPEG as is, the
paper pipeline (learned curve, network highlights), the sRGB prior with the
network's highlights, and the sRGB prior with colour-true highlights at several
luminance-ramp lengths; prints the per-family table.  The network runs once per
input; the highlight treatments are applied to its output.

    python tools/choose_highlights.py --hdr build/default/train --size 256 --draws 2
    python tools/choose_highlights.py --hdr build/default/train --size 256 --draws 2 --ramps "" --no-paper --slope-cap
    python tools/choose_highlights.py --hdr build/hl/train --size 256 --draws 2 --ramps "" --no-paper --size-caps 2,4,8,16 --per-input
    python tools/choose_highlights.py --hdr build/hl/train --size 256 --draws 2 --ramps "" --no-paper --size-cap-domes 0.5,1 --per-input
    python tools/choose_highlights.py --hdr build/hl/train --size 256 --draws 2 --ramps "" --no-paper --shipped-unsaturated-gains 1.1,1.25 --per-input
    python tools/choose_highlights.py --hdr build/hl/train --size 256 --draws 2 --ramps "" --no-paper --keep-measured --per-input
    python tools/choose_highlights.py --hdr build/hl/train --size 256 --draws 2 --ramps "" --no-paper --keep-measured --spectral-k 0.48:1.68 --per-input
    python tools/choose_highlights.py --hdr build/hl/train --size 256 --draws 2 --ramps "" --no-paper --channel-ramp --per-input
    python tools/choose_highlights.py --hdr build/hl/train --size 256 --draws 2 --ramps "" --no-paper --ring --per-input
    python tools/choose_highlights.py --hdr build/hl/train --size 256 --draws 2 --ramps "" --no-paper --inner-fades 0.5,0.25,0 --per-input
    python tools/choose_highlights.py --hdr build/hl/train --size 256 --draws 2 --ramps "" --no-paper --edge-fade --per-input
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
    ap.add_argument("--size-caps", default="",
                    help="comma-separated region size caps tried with growth 0 and the 2x / 4x bounds (0 = none)")
    ap.add_argument("--size-cap-domes", default="",
                    help="comma-separated dome fractions tried with the shipped treatment (size cap 2; 0 = plateau)")
    ap.add_argument("--shipped-unsaturated-gains", default="",
                    help="comma-separated caps on the expansion of unclipped pixels tried with the stop-11 shipped treatment "
                         "(ramp 0.02, growth 0, chroma 4, size cap 2, dome 1; the shipped 2 is always a row)")
    ap.add_argument("--keep-measured", action="store_true",
                    help="also the shipped treatment with a partly clipped pixel's measured channels kept "
                         "(highlights.keep_measured_channels), beside the shipped one")
    ap.add_argument("--spectral-k", default="",
                    help="comma-separated k_red:k_blue pairs tried with the shipped treatment (a partly clipped pixel's "
                         "clipped channels from its measured ones: highlights.clipped_channel_estimate)")
    ap.add_argument("--channel-ramp", action="store_true",
                    help="also the shipped treatment with each clipped channel's rise ramped from where that channel "
                         "clips (highlights.channel_ramp_limit), beside the shipped one")
    ap.add_argument("--ring", action="store_true",
                    help="also the stop-18 shipped treatment (channel ramp) with a partly clipped pixel's clipped channel "
                         "estimated from the measured ring around its region (highlights.ring_channel_estimate), beside it")
    ap.add_argument("--inner-fades", default="",
                    help="comma-separated fades of the rim's chroma towards the input's own deep inside a clipped region "
                         "tried with the stop-19 shipped treatment (ring estimate; the module's INNER_FADE is always a row)")
    ap.add_argument("--edge-fade", action="store_true",
                    help="the shipped treatment beside it with edge_fade, measured_chroma and both (stop 22)")
    ap.add_argument("--per-input", action="store_true",
                    help="also print, per method, how many inputs it makes worse than the JPEG as is (PU21)")
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
    if args.size_caps:
        for c in (0.0, *(float(x) for x in args.size_caps.split(","))):
            methods.append(Method(f"srgb-colour-ramp0.02-growth0-unsatcap2-chroma4-sizecap{c:g}",
                                  lambda ldr, c=c: colour_true_highlights(ldr, net_out(ldr), srgb_inverse_crf(), ramp=0.02,
                                                                          growth=0.0, unsaturated_gain=2.0, chroma_bound=4.0,
                                                                          size_cap=c)))
    if args.size_cap_domes:
        for f in (0.0, *(float(x) for x in args.size_cap_domes.split(","))):
            methods.append(Method(f"srgb-colour-ramp0.02-growth0-unsatcap2-chroma4-sizecap2-dome{f:g}",
                                  lambda ldr, f=f: colour_true_highlights(ldr, net_out(ldr), srgb_inverse_crf(), ramp=0.02,
                                                                          growth=0.0, unsaturated_gain=2.0, chroma_bound=4.0,
                                                                          size_cap=2.0, size_cap_dome=f)))
    if args.shipped_unsaturated_gains:
        for k in dict.fromkeys((2.0, *(float(x) for x in args.shipped_unsaturated_gains.split(",")))):
            methods.append(Method(f"srgb-colour-shipped-unsatcap{k:g}",
                                  lambda ldr, k=k: colour_true_highlights(ldr, net_out(ldr), srgb_inverse_crf(), ramp=0.02,
                                                                          growth=0.0, unsaturated_gain=k, chroma_bound=4.0,
                                                                          size_cap=2.0, size_cap_dome=1.0)))
    def shipped(name: str, **extra) -> Method:
        """The stop-16 shipped treatment (tools/train_default.py INFERENCE then) with ``extra`` keywords."""
        kw = dict(ramp=0.02, growth=0.0, unsaturated_gain=1.1, chroma_bound=4.0, size_cap=2.0, size_cap_dome=1.0,
                  keep_measured=True) | extra
        return Method(name, lambda ldr: colour_true_highlights(ldr, net_out(ldr), srgb_inverse_crf(), **kw))

    if args.keep_measured:
        methods += [shipped("srgb-colour-shipped", keep_measured=False), shipped("srgb-colour-shipped-keepmeasured")]
    if args.spectral_k:
        for pair in args.spectral_k.split(","):
            kr, kb = (float(x) for x in pair.split(":"))
            methods.append(shipped(f"srgb-colour-shipped-spectral{kr:g}:{kb:g}", spectral_k=(kr, kb)))
    if args.channel_ramp:  # beside the stop-16/17 shipped treatment (measured channels kept)
        methods += [shipped("srgb-colour-shipped-keepmeasured"), shipped("srgb-colour-shipped-channelramp", channel_ramp=True)]
    if args.ring:
        methods += [shipped("srgb-colour-shipped-channelramp", channel_ramp=True),
                    shipped("srgb-colour-shipped-channelramp-ring", channel_ramp=True, ring_estimate=True)]
    if args.edge_fade:  # stop 22: the shipped treatment, its measured pixels' rise faded at clipped regions' edges
        ring = dict(channel_ramp=True, ring_estimate=True)
        methods += [shipped("srgb-colour-shipped-channelramp-ring", **ring),
                    shipped("srgb-colour-shipped-ring-edgefade", edge_fade=True, **ring),
                    shipped("srgb-colour-shipped-ring-measuredchroma", measured_chroma=True, **ring),
                    shipped("srgb-colour-shipped-ring-edgefade-measuredchroma", edge_fade=True, measured_chroma=True, **ring)]
    if args.inner_fades:
        from singlehdr.infer.highlights import INNER_FADE

        for f in dict.fromkeys((INNER_FADE, *(float(x) for x in args.inner_fades.split(",")))):
            methods.append(shipped(f"srgb-colour-shipped-ring-innerfade{f:g}", channel_ramp=True, ring_estimate=True,
                                   inner_fade=f))
    labels: set[str] = set()
    methods = [m for m in methods if m.label not in labels and not labels.add(m.label)]  # flags may share a row
    rep = evaluate(args.hdr, methods, size=args.size, jod=False, families=args.families.split(","), draws=args.draws, log=None)
    print(markdown_table(rep))
    print()
    print(family_table(rep))
    if args.per_input:
        print()
        print(harm_table(rep))
    return 0


def harm_table(rep) -> str:
    """Per method: PU21 minus the JPEG as is's over every input (same image, family, exposure): mean, how many inputs
    are more than 1 / 3 dB worse, the 10th percentile and the worst."""
    from collections import defaultdict

    rows = rep["rows"] if isinstance(rep, dict) else rep.rows
    by: dict = defaultdict(dict)
    for r in rows:
        by[(r["image"], r["family"], r["log2_exposure"])][r["method"]] = float(r["pu21_psnr"])
    methods = [m for m in dict.fromkeys(r["method"] for r in rows) if m != "inverse-srgb"]
    out = ["| method | inputs | mean (dB) | > 1 dB worse | > 3 dB worse | 10th percentile | worst |", "|---|---:|---:|---:|---:|---:|---:|"]
    for m in methods:
        d = np.array([v[m] - v["inverse-srgb"] for v in by.values() if m in v and "inverse-srgb" in v])
        out.append(f"| {m} | {len(d)} | {d.mean():+.2f} | {int((d < -1).sum())} | {int((d < -3).sum())} | "
                   f"{np.percentile(d, 10):+.2f} | {d.min():+.2f} |")
    worse = []
    for m in methods:
        for (image, family, ev), v in sorted(by.items()):
            if m in v and "inverse-srgb" in v and v[m] - v["inverse-srgb"] < -1:
                worse.append(f"- {m}: {image} {family} {ev:+.2f} EV: {v[m] - v['inverse-srgb']:+.2f} dB")
    return "\n".join(out + ([""] + worse if worse else []))


if __name__ == "__main__":
    sys.exit(main())
