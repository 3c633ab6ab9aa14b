"""``singlehdr train``: the CLI over :mod:`singlehdr.train.trainer`.

Single process::

    singlehdr train --stage deq --data HDRS/ --config small --steps 2000 --out runs/deq

Several GPUs / nodes (DistributedDataParallel)::

    torchrun --nproc_per_node 4 -m singlehdr.cli train --stage hal --data HDRS/ --out runs/hal
"""

from __future__ import annotations

import argparse

from . import STAGES


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train a SingleHDR model (per stage or joint) on a folder of HDR images",
        description="Train SingleHDR on HDR images with the paper's synthetic camera pipeline. "
        "Stages: deq, lin, hal (one sub-network each) and joint (all with Refinement-Net); "
        "chain them with --init. Use torchrun for several GPUs.",
    )
    p.add_argument("--stage", required=True, choices=STAGES, help="which network to train")
    p.add_argument("--data", required=True, metavar="DIR", help="folder of .exr/.hdr images (searched recursively)")
    p.add_argument("--out", required=True, metavar="DIR", help="run folder: checkpoint, log.csv, model.safetensors")
    p.add_argument("--config", default="small", help="model size: small, full, or a width multiplier (default small)")
    p.add_argument("--steps", type=int, default=1000, help="total optimisation steps (default 1000)")
    p.add_argument("--batch", type=int, default=8, help="images per step per process (default 8)")
    p.add_argument("--crop", type=int, default=256, help="crop edge, a multiple of 32 (default 256)")
    p.add_argument("--short-side", type=int, default=512, help="resize every HDR so its short side is this (default 512)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 1e-4 per stage, 1e-5 joint)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.safetensors")
    p.add_argument("--init", metavar="MODEL", default=None, help="start from this .safetensors model (e.g. the previous stage's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=0, help="data-loading worker processes (default 0)")
    p.add_argument("--vgg-weights", metavar="FILE", default=None, help="ImageNet VGG16 weights for the Hal perceptual loss (else skipped)")
    p.add_argument("--lin-log-weight", type=float, default=0.0,
                   help="lin stage: weight of an extra L2 between log inverse CRFs (ours; default 0 = the paper's loss)")
    p.add_argument("--save-every", type=int, default=1000, help="checkpoint every N steps (default 1000)")
    p.add_argument("--log-every", type=int, default=10, help="log every N steps (default 10)")
    from ..options import DEVICES, add_reconstruct_arguments

    # training places one process per GPU itself (torchrun's local rank), so no cuda:N here
    add_reconstruct_arguments(p, include=("device",), changes={"device": {
        "type": None, "choices": DEVICES, "help": "compute device: auto (default), cpu, cuda (the local rank's GPU), mps"}})
    p.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .trainer import TrainConfig, train

    cfg = TrainConfig(
        stage=args.stage,
        data=args.data,
        out=args.out,
        config=args.config,
        steps=args.steps,
        batch=args.batch,
        crop=args.crop,
        short_side=args.short_side,
        lr=args.lr,
        resume=args.resume,
        init=args.init,
        seed=args.seed,
        workers=args.workers,
        vgg_weights=args.vgg_weights,
        save_every=args.save_every,
        log_every=args.log_every,
        device=args.device,
        progress=not args.no_progress,
        lin_log_weight=args.lin_log_weight,
    )
    result = train(cfg)
    if result.get("rank", 0) == 0:
        first = result["losses"][0][1] if result["losses"] else float("nan")
        last = result["losses"][-1][1] if result["losses"] else float("nan")
        print(f"trained {cfg.stage} for {result['steps']} steps: loss {first:.4g} -> {last:.4g}; model: {result['model_path']}")
    return 0
