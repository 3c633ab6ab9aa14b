"""``singlehdr evaluate``: score models and methods on a folder of HDR images."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="score models / methods on HDR images with held-out synthetic cameras",
        description="For each .exr/.hdr in DIR: make an LDR input with a held-out camera (CRF, exposure, JPEG), "
        "reconstruct it with every method and write results.md, results.csv and contact_sheet.png.",
    )
    p.add_argument("--hdr", required=True, metavar="DIR", help="folder of ground-truth HDR images (.exr, .hdr)")
    p.add_argument("--model", action="append", default=[], metavar="M", help="a .safetensors model to evaluate (repeatable)")
    p.add_argument("--method", action="append", default=[], metavar="NAME",
                   help="singlehdr, inverse-srgb, akyuz, kovaleski or expandnet (repeatable)")
    p.add_argument("--expandnet-weights", metavar="PATH", help="hdr-expandnet's weights.pth (for --method expandnet)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="report folder")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="first N images only")
    p.add_argument("--size", type=int, default=512, help="long side in pixels the images are resized to (default 512)")
    p.add_argument("--seed", type=int, default=0, help="seed of the held-out cameras (default 0)")
    from ..options import add_reconstruct_arguments

    add_reconstruct_arguments(p, include=("device",))
    p.add_argument("--families", default="", metavar="LIST",
                   help="camera-curve families to test, comma-separated (srgb,gamma,film,phone,emor) or 'all'; "
                   "default: one held-out EMoR/named camera per image")
    p.add_argument("--draws", type=int, default=1, metavar="N", help="cameras per image and family (default 1)")
    p.add_argument("--no-jod", action="store_true", help="skip ColorVideoVDP (slow on CPU for large images)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import SingleHDRError
    from .evaluate import build_methods, evaluate, markdown_table, write_report

    if args.limit is not None and args.limit < 1:
        raise SingleHDRError("--limit must be at least 1")
    if args.size is not None and args.size < 32:
        raise SingleHDRError("--size must be at least 32 pixels")
    from ..camera.families import FAMILIES
    from .evaluate import family_table

    fams = list(FAMILIES) if args.families.strip() == "all" else [f.strip() for f in args.families.split(",") if f.strip()]
    bad = [f for f in fams if f not in FAMILIES]
    if bad:
        raise SingleHDRError(f"unknown curve family {bad[0]!r}; choose from {', '.join(FAMILIES)} or 'all'")
    if args.draws < 1:
        raise SingleHDRError("--draws must be at least 1")
    if fams and "inverse-srgb" not in args.method:
        args.method = list(args.method) + ["inverse-srgb"]  # the JPEG as is: every family row is compared with it
    methods = build_methods(args.method, args.model, expandnet_weights=args.expandnet_weights, device=args.device)
    report = evaluate(args.hdr, methods, limit=args.limit, size=args.size, seed=args.seed, jod=not args.no_jod,
                      families=fams, draws=args.draws)
    paths = write_report(report, args.output, overwrite=args.overwrite)
    print(markdown_table(report))
    if fams:
        print(family_table(report))
    print(f"wrote {paths['md']}, {paths['csv']}, {paths['sheet']}")
    return 0
