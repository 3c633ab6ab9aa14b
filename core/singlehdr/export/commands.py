"""``singlehdr export-torchscript``: the model as TorchScript for Nuke.

    singlehdr export-torchscript [--model M] -o singlehdr.pt [--size 512x512]
        [--target nuke13|nuke14|nuke15|nuke16] [--exposure STOPS]

Then in NukeX: CatFileCreator (Torchscript File = singlehdr.pt, Channels In
= rgb, Channels Out = rgb, Output Scale = 1) -> Create .cat file, and use the
.cat in an Inference node.  See nuke_gizmo/README.md.
"""

from __future__ import annotations

import argparse
import re

from ..errors import SingleHDRError
# The same as singlehdr.export.export.INPUT_ENCODINGS / NUKE_TARGETS (kept here: no torch import).
INPUT_ENCODINGS = ("linear", "srgb")
TARGETS = ("nuke13", "nuke14", "nuke15", "nuke16")


def parse_size(text: str) -> tuple[int, int]:
    """"WIDTHxHEIGHT" (as in 1920x1080) -> (height, width)."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX*]\s*(\d+)\s*", text)
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise SingleHDRError(f"size {text!r} is not WIDTHxHEIGHT, for example 512x512 or 1920x1080")
    return int(m.group(2)), int(m.group(1))


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export-torchscript",
        help="write the model as TorchScript (.pt) for Nuke's CatFileCreator / Inference node",
        description="Write the model wrapped for Nuke's Inference node as a TorchScript .pt file "
        "(convert it to .cat with NukeX's CatFileCreator node).",
    )
    p.add_argument("--model", default=None, help="model .safetensors (default: the shipped model)")
    p.add_argument("-o", "--output", required=True, help="the .pt file to write")
    p.add_argument("--size", default="512x512", help="WIDTHxHEIGHT to trace and check at (default 512x512)")
    p.add_argument(
        "--input",
        dest="input_encoding",
        choices=INPUT_ENCODINGS,
        default="linear",
        help="what Nuke feeds the node: 'linear' (scene-linear Rec.709 working space, encoded to sRGB inside; "
        "default) or 'srgb' (already sRGB-encoded, e.g. after an OCIOColorSpace)",
    )
    p.add_argument(
        "--target",
        choices=TARGETS,
        default="nuke14",
        help="the Nuke release the .pt is for (its PyTorch: nuke13 1.6, nuke14/nuke15 1.12, nuke16 2.x); "
        "make the .cat with that release's CatFileCreator (default nuke14)",
    )
    p.add_argument("--exposure", type=float, default=0.0, help="default of the 'exposure' knob, in stops (default 0)")
    p.add_argument("--margin", type=int, default=32, help="mirrored context pixels on each side (default 32)")
    p.add_argument("--method", choices=("auto", "script", "trace"), default="auto", help="how to compile the model")
    from ..options import add_reconstruct_arguments

    add_reconstruct_arguments(p, include=("device",), changes={"device": {
        "default": "cpu", "help": "device to export on: cpu (default; Nuke moves it itself), cuda, cuda:N, mps, auto"}})
    p.add_argument("--no-check", dest="check", action="store_false", help="skip comparing the file with the eager model")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..weights import load_model
    from .export import export_torchscript, read_export_info

    size = parse_size(args.size)
    if not str(args.output).lower().endswith(".pt"):
        raise SingleHDRError(f"output {args.output} should end in .pt (CatFileCreator reads TorchScript .pt files)")
    model, info = load_model(args.model, device=args.device)
    path = export_torchscript(
        model,
        args.output,
        example_size=size,
        input_encoding=args.input_encoding,
        margin=args.margin,
        method=args.method,
        info=info,
        check=args.check,
        overwrite=args.overwrite,
        target=args.target,
        exposure=args.exposure,
    )
    meta = read_export_info(path)
    print(f"wrote {path}")
    print(f"  model: {info.get('model_id', 'unknown')}; compiled with {meta['compiled_with']}; input {args.input_encoding}")
    print(f"  for {args.target} (PyTorch {meta['target_torch']}): make the .cat with Nuke {meta['min_nuke']}'s CatFileCreator")
    print("  knobs (CatFileCreator custom knobs of the same name): exposure (float), input_is_srgb (bool), margin (int)")
    if meta.get("dynamic_shapes", True):
        print("  any input size works (padded inside to a multiple of %d)" % meta["multiple"])
    else:
        print(f"  {meta['constraint']}")
    if not meta.get("device_portable", True):
        print(f"  note: {meta['device_note']}")
    print("  NukeX: CatFileCreator -> Torchscript File = this file, Channels In = rgb, Channels Out = rgb, Output Scale = 1")
    return 0
