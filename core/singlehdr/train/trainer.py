"""Training SingleHDR: per stage (deq, lin, hal) and joint, one process or DDP.

Recipe (Liu et al., CVPR 2020; ../shared/REFERENCE.md "Training recipe"): Adam,
batch 8, 256^2 crops, lr 1e-4 per stage, 1e-5 for the joint fine-tune.

- ``deq``: Dequantization-Net on the LDR, L2 to the pre-quantisation LDR.
- ``lin``: Linearization-Net on the pre-quantisation LDR (what Deq hands it
  at test time), L2(g(x), clip(H t)) + 0.1 L2(g, g_true).
- ``hal``: Hallucination-Net on clip(H t), mu-law L1 + TV (+ VGG perceptual
  when --vgg-weights is given).
- ``joint``: the whole model with Refinement-Net on the LDR, L1 of the
  mu-law of the mean-normalised output vs H.

Per-stage runs train one sub-network (the others frozen); chain them with
``--init`` (deq -> lin -> hal -> joint) to build a complete model.

Distributed: started by ``torchrun`` (WORLD_SIZE > 1), each rank builds the
same model, wraps it in DistributedDataParallel (gloo on CPU, nccl on CUDA)
and reads its share of every step's batch from :class:`StepDistributedSampler`;
rank 0 alone logs and writes checkpoints.

Outputs in ``--out``: ``checkpoint.safetensors`` (model + Adam + step; every
--save-every steps and at the end), ``log.csv`` (step, losses, lr, speed),
TensorBoard events when torch.utils.tensorboard imports, and the final
``model.safetensors`` written by singlehdr.weights.save_model so
``singlehdr reconstruct --model OUT/model.safetensors`` works.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from ..device import resolve_device
from ..errors import SingleHDRError
from ..io.atomic import atomic_output
from . import losses as L
from .checkpoint import load_checkpoint, save_checkpoint
from . import STAGES
from .dataset import HDRFolderDataset

DEFAULT_LR = {"deq": 1e-4, "lin": 1e-4, "hal": 1e-4, "joint": 1e-5}
CHECKPOINT_NAME = "checkpoint.safetensors"
MODEL_NAME = "model.safetensors"


@dataclass
class TrainConfig:
    """Everything a training run needs (the CLI flags of ``singlehdr train``)."""

    stage: str
    data: str
    out: str
    config: str = "small"  # "small", "full" or a width multiplier like "0.125"
    steps: int = 1000
    batch: int = 8
    crop: int = 256
    lr: float | None = None
    resume: bool = False
    init: str | None = None
    seed: int = 0
    workers: int = 0
    vgg_weights: str | None = None
    save_every: int = 1000
    log_every: int = 10
    device: str = "auto"
    short_side: int = 512
    progress: bool = True
    lin_log_weight: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        if self.stage not in STAGES:
            raise SingleHDRError(f"unknown stage {self.stage!r}; choose one of: {', '.join(STAGES)}")
        for name in ("steps", "batch", "save_every", "log_every"):
            if getattr(self, name) < 1:
                raise SingleHDRError(f"--{name.replace('_', '-')} must be at least 1")
        if self.crop % 32:
            raise SingleHDRError(f"--crop must be a multiple of 32 (the networks' size multiple), got {self.crop}")
        if self.lr is not None and not self.lr > 0:
            raise SingleHDRError("--lr must be positive")
        if self.workers < 0:
            raise SingleHDRError("--workers must be >= 0")
        if not self.lin_log_weight >= 0:
            raise SingleHDRError("--lin-log-weight must be >= 0")

    @property
    def learning_rate(self) -> float:
        return float(self.lr if self.lr is not None else DEFAULT_LR[self.stage])


# ------------------------------------------------------------------ helpers
def model_config_from_name(name: str, stage: str):
    """"small" / "full" / a width float -> SingleHDRConfig.

    Only the joint stage builds Refinement-Net: a per-stage model exported
    without it runs deq -> lin -> hal at inference (the three-stage form).
    """
    from ..models.pipeline import SingleHDRConfig

    if name == "full":
        width = 1.0
    elif name == "small":
        width = SingleHDRConfig.small().width
    else:
        try:
            width = float(name)
        except ValueError:
            raise SingleHDRError(f"unknown --config {name!r}; choose small, full or a width multiplier such as 0.125") from None
        if not 0.01 <= width <= 4.0:
            raise SingleHDRError(f"--config width {width} out of range 0.01..4")
    return SingleHDRConfig(width=width, refine=stage == "joint")


class StepDistributedSampler(torch.utils.data.Sampler):
    """Batches of dataset indices, sharded by rank, resumable at any step.

    The distributed sampler of this trainer: epoch e is a permutation
    rng([seed, e]) of the n items, cut into steps of ``world * batch``
    (wrapping to fill the last step); rank r takes slot r of every step.
    Indices are virtual, ``e * n + i``, so the dataset draws fresh
    augmentations every epoch (HDRFolderDataset seeds by index).  Starting at
    ``start_step`` gives exactly the batches an uninterrupted run would have
    seen, which makes --resume exact.  Infinite: the trainer stops it.
    """

    def __init__(self, n: int, batch: int, rank: int = 0, world: int = 1, seed: int = 0, start_step: int = 0):
        self.n, self.batch, self.rank, self.world = int(n), int(batch), int(rank), int(world)
        self.seed, self.start_step = int(seed), int(start_step)
        self.per_step = self.batch * self.world
        self.steps_per_epoch = max(1, math.ceil(self.n / self.per_step))

    def batch_at(self, step: int) -> list[int]:
        """The indices rank ``rank`` trains on at global step ``step``."""
        epoch, k = divmod(step, self.steps_per_epoch)
        perm = np.random.default_rng([self.seed, epoch]).permutation(self.n)
        need = self.steps_per_epoch * self.per_step
        perm = np.resize(perm, need)
        lo = k * self.per_step + self.rank * self.batch
        return [int(epoch * self.n + i) for i in perm[lo : lo + self.batch]]

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while True:
            yield self.batch_at(step)
            step += 1

    def __len__(self) -> int:  # one epoch's worth (DataLoader asks)
        return self.steps_per_epoch


def trainable_module(model: Any, stage: str) -> nn.Module:
    """The sub-network a stage trains (the whole model for joint)."""
    return {"deq": model.dequantize, "lin": model.linearize, "hal": model.hallucinate, "joint": model}[stage]


class StageStep(nn.Module):
    """Wraps the model so DDP sees one forward: batch dict -> (loss, parts)."""

    def __init__(self, model: Any, stage: str, vgg: Any = None, lin_log_weight: float = 0.0):
        super().__init__()
        self.model: Any = model
        self.stage = stage
        self.vgg = vgg
        self.lin_log_weight = float(lin_log_weight)

    def forward(self, ldr: torch.Tensor, aux: torch.Tensor, target: torch.Tensor, g_true: torch.Tensor) -> torch.Tensor:
        from ..models.linearize import apply_inverse_crf

        m = self.model
        if self.stage == "deq":
            return L.deq_loss(m.dequantize(ldr), target)
        if self.stage == "lin":
            g = m.linearize(aux)
            return L.lin_loss(apply_inverse_crf(aux, g), target, g, g_true, self.lin_log_weight)
        if self.stage == "hal":
            return L.hal_loss(m.hallucinate(aux), target, self.vgg)
        out = m(ldr)
        return L.joint_loss(out, target)


def stage_tensors(batch: dict[str, torch.Tensor], stage: str, device: torch.device) -> tuple[torch.Tensor, ...]:
    """(ldr, aux input, target, g_true) for a stage from a dataset batch."""
    aux = {"deq": "ldr", "lin": "ldr_prequant", "hal": "linear_clipped", "joint": "ldr"}[stage]
    target = {"deq": "ldr_prequant", "lin": "linear_clipped", "hal": "exposed", "joint": "hdr"}[stage]
    keys = ("ldr", aux, target, "inverse_crf")
    return tuple(batch[k].to(device, non_blocking=True) for k in keys)


class RunLog:
    """CSV log (always) + TensorBoard (when importable); rank 0 only."""

    def __init__(self, out: Path, resume: bool):
        self.path = out / "log.csv"
        new = not (resume and self.path.exists())
        self.fh = open(self.path, "w" if new else "a", newline="")
        self.csv = csv.writer(self.fh)
        if new:
            self.csv.writerow(["step", "loss", "loss_avg", "lr", "images_per_s", "seconds"])
        self.tb = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(out / "tb"))
        except Exception:  # noqa: BLE001 - tensorboard is optional
            self.tb = None

    def write(self, step: int, loss: float, loss_avg: float, lr: float, ips: float, seconds: float) -> None:
        self.csv.writerow([step, f"{loss:.6g}", f"{loss_avg:.6g}", f"{lr:.3g}", f"{ips:.3f}", f"{seconds:.2f}"])
        self.fh.flush()
        if self.tb is not None:
            self.tb.add_scalar("loss", loss, step)
            self.tb.add_scalar("loss_avg", loss_avg, step)
            self.tb.add_scalar("images_per_s", ips, step)

    def close(self) -> None:
        self.fh.close()
        if self.tb is not None:
            self.tb.close()


def export_model(path: Path, model: nn.Module, provenance: dict[str, Any]) -> Path:
    """Write the inference model with singlehdr.weights.save_model."""
    from ..weights import save_model

    return Path(save_model(path, model, provenance=provenance) or path)


# ------------------------------------------------------------------ the run
def dist_env() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    return rank, world, local


def initial_model(cfg: TrainConfig) -> tuple[Any, dict[str, Any]]:
    """A fresh model from --config, or the --init model's weights and config."""
    from ..models.pipeline import SingleHDRModel

    if cfg.init:
        from ..weights import load_model

        model, info = load_model(cfg.init, device="cpu")
        model_cfg = model.config
        if cfg.stage == "joint" and getattr(model, "refine", None) is None:
            # the per-stage models carry no Refinement-Net: add a fresh one
            from ..models.pipeline import SingleHDRConfig

            full = SingleHDRModel(SingleHDRConfig(width=model_cfg.width, refine=True))
            full.load_state_dict(model.state_dict(), strict=False)
            model = full
        return model.train(), {"init": str(cfg.init), "init_model_id": info.get("model_id")}
    torch.manual_seed(cfg.seed)  # same initial weights on every rank
    return SingleHDRModel(model_config_from_name(cfg.config, cfg.stage)), {}


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Run a training; returns {"steps", "losses" (per logged step), "model_path", ...} on rank 0
    (other ranks return their final state too, for tests)."""
    cfg.check()
    rank, world, local = dist_env()
    device = resolve_device(cfg.device, local)
    distributed = world > 1
    if distributed and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    out = Path(cfg.out)
    is_main = rank == 0
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
    try:
        return _train(cfg, rank, world, device, out, is_main, distributed)
    finally:
        if distributed and dist.is_initialized():
            dist.destroy_process_group()


def _start(cfg: TrainConfig, out: Path) -> tuple[Any, dict[str, Any], int, dict[str, Any] | None]:
    """(model, provenance, first step, optimizer state or None): fresh, from --init, or --resume's checkpoint."""
    model, provenance = initial_model(cfg)
    if not cfg.resume:
        return model, provenance, 0, None
    ckpt_path = out / CHECKPOINT_NAME
    if not ckpt_path.exists():
        raise SingleHDRError(f"--resume: no {CHECKPOINT_NAME} in {out}; drop --resume to start a new run")
    sd, optim_state, meta = load_checkpoint(ckpt_path)
    from ..models.pipeline import SingleHDRConfig, SingleHDRModel

    model = SingleHDRModel(SingleHDRConfig.from_dict(meta["model_config"]))
    model.load_state_dict(sd)
    if meta.get("stage") != cfg.stage:
        raise SingleHDRError(f"--resume: the checkpoint in {out} is for stage {meta.get('stage')!r}, not {cfg.stage!r}")
    return model, meta.get("provenance", provenance), int(meta["step"]), optim_state


def _optimizer(model: Any, cfg: TrainConfig, optim_state: dict[str, Any] | None) -> torch.optim.Optimizer:
    """Freeze all but the trained sub-network (frozen parts in eval mode); Adam over the rest."""
    model.requires_grad_(False)
    model.eval()
    trained = trainable_module(model, cfg.stage)
    trained.requires_grad_(True)
    trained.train()
    params = [p for p in trained.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=cfg.learning_rate)
    if optim_state is not None:
        optimizer.load_state_dict(optim_state)
        for g in optimizer.param_groups:
            g["lr"] = cfg.learning_rate
    return optimizer


def _step_module(model: Any, cfg: TrainConfig, device: torch.device, is_main: bool, distributed: bool) -> nn.Module:
    """The loss of one batch for the stage (with VGG for Hal when given), wrapped in DDP when distributed."""
    vgg = None
    if cfg.stage == "hal":
        if cfg.vgg_weights:
            vgg = L.load_vgg16(cfg.vgg_weights).to(device)
        elif is_main:
            print("note: no --vgg-weights given: the perceptual term of the Hal loss is skipped")
    step_module: nn.Module = StageStep(model, cfg.stage, vgg, cfg.lin_log_weight)
    if distributed:
        from torch.nn.parallel import DistributedDataParallel as DDP

        step_module = DDP(step_module, device_ids=[device.index] if device.type == "cuda" else None)
    return step_module


def _loader(cfg: TrainConfig, rank: int, world: int, start_step: int, device: torch.device) -> torch.utils.data.DataLoader:
    dataset = HDRFolderDataset(cfg.data, crop=cfg.crop, short_side=cfg.short_side, seed=cfg.seed)
    sampler = StepDistributedSampler(len(dataset), cfg.batch, rank, world, cfg.seed, start_step)
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=cfg.workers,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
    )


def _run_provenance(cfg: TrainConfig, provenance: dict[str, Any], world: int) -> dict[str, Any]:
    return {
        **provenance,
        "name": f"singlehdr-{cfg.stage}",
        "trained_by": "singlehdr train",
        "stage": cfg.stage,
        "data": str(cfg.data),
        "seed": cfg.seed,
        "batch": cfg.batch,
        "crop": cfg.crop,
        "lr": cfg.learning_rate,
        "world_size": world,
        **({"lin_log_weight": cfg.lin_log_weight} if cfg.stage == "lin" and cfg.lin_log_weight else {}),
    }


def _progress_bar(cfg: TrainConfig, start_step: int) -> tuple[Any, Any]:
    """(rich Progress, its task), started."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn(f"[bold]{cfg.stage}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4g}  {task.fields[ips]:.1f} img/s"), TimeRemainingColumn(),
    )
    task = progress.add_task("train", total=cfg.steps, completed=start_step, loss=float("nan"), ips=0.0)
    progress.start()
    return progress, task


def _steps(cfg: TrainConfig, world: int, device: torch.device, loader: Any, step_module: nn.Module,
           optimizer: torch.optim.Optimizer, start_step: int, t_start: float, save: Any, report: Any) -> int:
    """The optimisation from ``start_step`` to ``cfg.steps``; returns the last step.

    Every ``log_every`` steps (and the last): ``report(step, loss, running mean, images/s, now)``;
    every ``save_every`` steps before the last: ``save(step)``.
    """
    t_last, n_last = t_start, 0
    running = None
    step = start_step
    data_iter = iter(loader)
    try:
        while step < cfg.steps:
            batch = next(data_iter)
            ldr, aux, target, g_true = stage_tensors(batch, cfg.stage, device)
            loss = step_module(ldr, aux, target, g_true)
            if not torch.isfinite(loss):
                raise SingleHDRError(f"training diverged at step {step} (loss {loss.item()}); lower --lr or check the data")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            n_last += cfg.batch * world
            lv = float(loss.detach())
            running = lv if running is None else 0.9 * running + 0.1 * lv
            if step % cfg.log_every == 0 or step == cfg.steps:
                now = time.perf_counter()
                ips = n_last / max(now - t_last, 1e-9)
                t_last, n_last = now, 0
                report(step, lv, running, ips, now)
            if step % cfg.save_every == 0 and step < cfg.steps:
                save(step)
    finally:
        del data_iter
    return step


def _train(cfg: TrainConfig, rank: int, world: int, device: torch.device, out: Path, is_main: bool, distributed: bool) -> dict[str, Any]:
    model, provenance, start_step, optim_state = _start(cfg, out)
    ckpt_path = out / CHECKPOINT_NAME
    model.to(device)
    optimizer = _optimizer(model, cfg, optim_state)
    step_module = _step_module(model, cfg, device, is_main, distributed)
    loader = _loader(cfg, rank, world, start_step, device)
    run_meta = {
        "stage": cfg.stage,
        "model_config": model.config.to_dict(),
        "train_config": {k: v for k, v in asdict(cfg).items() if k != "extra"},
        "world_size": world,
    }
    provenance = _run_provenance(cfg, provenance, world)
    log = RunLog(out, cfg.resume) if is_main else None
    losses: list[tuple[int, float]] = []
    progress, task = _progress_bar(cfg, start_step) if is_main and cfg.progress else (None, None)

    def save(step: int) -> None:
        if is_main:
            save_checkpoint(ckpt_path, model, optimizer, {**run_meta, "step": step, "provenance": provenance})
        if distributed:
            dist.barrier()

    def report(step: int, loss: float, running: float, ips: float, now: float) -> None:
        losses.append((step, loss))
        if log is not None:
            log.write(step, loss, running, cfg.learning_rate, ips, now - t_start)
        if progress is not None:
            progress.update(task, completed=step, loss=running, ips=ips)

    t_start = time.perf_counter()
    try:
        step = _steps(cfg, world, device, loader, step_module, optimizer, start_step, t_start, save, report)
        save(step)
        model_path = None
        if is_main:
            model.eval()
            model_path = export_model(out / MODEL_NAME, model, {**provenance, "steps": step})
    finally:
        if progress is not None:
            progress.stop()
        if log is not None:
            log.close()
    result = {
        "steps": step,
        "losses": losses,
        "model_path": str(model_path) if model_path else None,
        "checkpoint": str(ckpt_path),
        "rank": rank,
        "world_size": world,
        "seconds": time.perf_counter() - t_start,
        "model": model,
    }
    if is_main:
        with atomic_output(out / "summary.json", overwrite=True) as tmp:
            tmp.write_text(json.dumps({k: v for k, v in result.items() if k != "model"}, indent=1))
    return result
