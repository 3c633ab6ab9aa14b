"""``singlehdr import-tf``: convert the authors' TF checkpoints to a .safetensors model."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import SingleHDRError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "import-tf",
        help="convert the authors' TensorFlow checkpoints to a singlehdr .safetensors model",
        description=(
            "Convert the released TF checkpoints of Liu et al. (CVPR 2020) without TensorFlow. "
            "--joint ckpt_deq_lin_hal_ref gives the four-stage model with refinement; "
            "--deq/--lin/--hal give the three-stage model."
        ),
    )
    p.add_argument("--deq", metavar="DIR", help="Dequantization-Net checkpoint (ckpt_deq/ folder or prefix)")
    p.add_argument("--lin", metavar="DIR", help="Linearization-Net checkpoint (ckpt_lin/)")
    p.add_argument("--hal", metavar="DIR", help="Hallucination-Net checkpoint (ckpt_hal/)")
    p.add_argument("--joint", metavar="DIR", help="jointly fine-tuned checkpoint (ckpt_deq_lin_hal_ref/)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="output .safetensors file")
    p.add_argument("--half", action="store_true", help="store float16 tensors (half the size)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from . import save_model
    from .tf_map import import_tf

    out = Path(args.output)
    if out.suffix != ".safetensors":
        raise SingleHDRError(f"output must end in .safetensors, got {out.name!r}")
    if out.exists() and not args.overwrite:
        raise SingleHDRError(f"{out} exists; pass --overwrite or choose another name")
    model, provenance = import_tf(deq=args.deq, lin=args.lin, hal=args.hal, joint=args.joint)
    save_model(out, model, provenance=provenance, half=args.half)
    n = sum(p.numel() for p in model.parameters())
    stages = "deq+lin+hal+ref" if model.config.refine else "deq+lin+hal"
    print(f"wrote {out} ({stages}, width {model.config.width:g}, {n / 1e6:.1f}M parameters)")
    return 0
