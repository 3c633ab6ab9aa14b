"""Quality benchmark on Blender's bundled HDRIs (not a test).

    python bench/quality.py [--model M.safetensors]... [--size 512] [--limit N] [--seed 0] [--no-jod]

Runs :func:`singlehdr.train.evaluate.evaluate` on the equirectangular world
HDRIs that ship with Blender (``studiolights/world/*.exr``, found through
``bpy.utils.system_resource``; BLENDER_USER_RESOURCES points to a temporary
folder first so no user configuration is read) and compares: the LDR as is
(inverse-srgb), Akyuz, Kovaleski, the ExpandNet peer (weights from the
shared peers folder beside the checkout, if present; never shipped) and every
model given with --model.  Writes bench/out/quality.md plus the full report
(results.csv, contact_sheet.png) under bench/out/quality/.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPANDNET_WEIGHTS = HERE.parent / ".." / "shared" / "peers" / "hdr-expandnet" / "weights.pth"


def blender_hdri_dir() -> Path:
    """The folder of Blender's bundled world HDRIs (via bpy; user resources isolated)."""
    os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="singlehdr-bench-bpy-")
    import bpy  # noqa: PLC0415  (benchmarks only; core never imports bpy)

    path = bpy.utils.system_resource("DATAFILES", path="studiolights/world")
    if not path or not Path(path).is_dir():
        raise SystemExit("Blender's studiolights/world folder was not found (is bpy 5.0 installed?)")
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", default=[], help="a .safetensors model to include (repeatable)")
    ap.add_argument("--method", action="append", default=[], help="extra method names (e.g. singlehdr for the shipped default)")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--no-jod", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    from singlehdr.train.evaluate import build_methods, evaluate, markdown_report, markdown_table, write_report, write_text

    hdr_dir = blender_hdri_dir()
    names = ["inverse-srgb", "akyuz", "kovaleski"]
    weights = EXPANDNET_WEIGHTS.resolve()
    if weights.is_file():
        names.append("expandnet")
    else:
        print(f"note: ExpandNet weights not found at {weights}; skipping the peer", file=sys.stderr)
    names += [m for m in args.method if m not in names]
    methods = build_methods(names, args.model, expandnet_weights=weights if weights.is_file() else None, device=args.device)
    t0 = time.perf_counter()
    report = evaluate(hdr_dir, methods, limit=args.limit, size=args.size, seed=args.seed, jod=not args.no_jod)
    took = time.perf_counter() - t0
    write_report(report, args.out / "quality", overwrite=True, title="Quality on Blender's bundled HDRIs")
    text = markdown_report(report, title="Quality on Blender's bundled HDRIs")
    text += f"\nImages: {', '.join(report.images)}. Total run time {took:.0f} s, torch threads {torch.get_num_threads()}.\n"
    text += "Per-image rows: `bench/out/quality/results.csv`; contact sheet: `bench/out/quality/contact_sheet.png`.\n"
    write_text(args.out / "quality.md", text, overwrite=True)
    print(markdown_table(report))
    print(f"wrote {args.out / 'quality.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
