"""Names of the authors' TF variables -> our state_dict keys, and the import itself.

Source of the TF names: ../shared/REFERENCE.md "TF names" (read from the
authors' TF 1.10 release).  Layout conversions: conv kernels are HWIO in TF and
OIHW in torch (``transpose(3, 2, 0, 1)``); dense kernels are [in, out] in TF and
[out, in] in torch (``transpose``); BN gamma/beta/moving_mean/moving_variance
become weight/bias/running_mean/running_var.  Optimizer slots (Adam, Adam_1,
beta1_power, beta2_power, global_step, ...) are ignored.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ..errors import SingleHDRError
from .tf_checkpoint import TFCheckpoint

#: Variables that are training state, never weights.
SKIP_PATTERNS = (
    re.compile(r"(^|/)(Adam|Adam_\d+|Momentum|RMSProp|RMSProp_\d+)$"),
    re.compile(r"(^|/)(beta1_power|beta2_power|global_step|learning_rate)(_\d+)?$"),
    re.compile(r"ExponentialMovingAverage"),
)

#: TF scopes of each sub-network.
SCOPES = {
    "dequantize": ("Dequantization_Net/",),
    "linearize": ("crf_feature_net/", "ae_invcrf_decode_net/"),
    "hallucinate": ("Hallucination_Net/",),
    "refine": ("Refinement_Net/",),
}


@dataclass(frozen=True)
class MapEntry:
    key: str  # our state_dict key
    tf_name: str
    layout: str  # "conv" (HWIO -> OIHW), "dense" ([in,out] -> [out,in]) or "vector"


def is_training_state(name: str) -> bool:
    return any(p.search(name) for p in SKIP_PATTERNS)


def _conv(key: str, tf: str, w: str = "kernel", b: str | None = "bias") -> list[MapEntry]:
    out = [MapEntry(f"{key}.weight", f"{tf}/{w}", "conv")]
    if b is not None:
        out.append(MapEntry(f"{key}.bias", f"{tf}/{b}", "vector"))
    return out


def _bn(key: str, tf: str) -> list[MapEntry]:
    pairs = (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"), ("running_var", "moving_variance"))
    return [MapEntry(f"{key}.{ours}", f"{tf}/{theirs}", "vector") for ours, theirs in pairs]


def unet_map(prefix: str, scope: str) -> list[MapEntry]:
    """U-Net (Dequantization-/Refinement-Net): conv2d, conv2d_1 .. conv2d_18 in creation order."""
    order = ["stem.0", "stem.1"]
    order += [f"down.{i}.conv{j}" for i in range(4) for j in (1, 2)]
    order += [f"up.{i}.conv{j}" for i in range(4) for j in (1, 2)]
    order += ["head"]
    out = []
    for n, module in enumerate(order):
        out += _conv(f"{prefix}unet.{module}", f"{scope}conv2d" + (f"_{n}" if n else ""))
    return out


def linearization_map(prefix: str = "linearize.") -> list[MapEntry]:
    """crf_feature_net (ResNet-50 to res3b, caffe-tensorflow / slim names) + ae_invcrf_decode_net/dense."""
    s = "crf_feature_net/"
    out = _conv(f"{prefix}backbone.conv1", f"{s}conv1", "weights", "biases")
    out += _bn(f"{prefix}backbone.bn1", f"{s}bn_conv1/BatchNorm")
    for blk in ("2a", "2b", "2c", "3a", "3b"):
        m = f"{prefix}backbone.res{blk}"
        for i, br in enumerate("abc", start=1):
            out += _conv(f"{m}.conv{i}", f"{s}res{blk}_branch2{br}", "weights", None)
            out += _bn(f"{m}.bn{i}", f"{s}bn{blk}_branch2{br}/BatchNorm")
        if blk in ("2a", "3a"):
            out += _conv(f"{m}.proj", f"{s}res{blk}_branch1", "weights", None)
            out += _bn(f"{m}.proj_bn", f"{s}bn{blk}_branch1/BatchNorm")
    out += [
        MapEntry(f"{prefix}head.weight", "ae_invcrf_decode_net/dense/kernel", "dense"),
        MapEntry(f"{prefix}head.bias", "ae_invcrf_decode_net/dense/bias", "vector"),
    ]
    return out


def hallucination_map(prefix: str = "hallucinate.", n_convs: Iterable[int] = (2, 2, 3, 3, 3)) -> list[MapEntry]:
    """Hallucination-Net (TensorLayer names W_conv2d / b_conv2d, BN beta/gamma/moving_*)."""
    s = "Hallucination_Net/"
    out = []
    for st, n in enumerate(n_convs):
        for i in range(n):
            out += _conv(f"{prefix}encoder.stages.{st}.{i}", f"{s}encoder/h{st + 1}/conv_{i + 1}", "W_conv2d", "b_conv2d")
    out += _conv(f"{prefix}encoder.conv6", f"{s}encoder/h6/conv", "W_conv2d", "b_conv2d")
    out += _bn(f"{prefix}encoder.bn6", f"{s}encoder/h6/batch_norm")
    for i in range(5):
        out += _conv(f"{prefix}decoder.up.{i}.conv", f"{s}decoder/h{i + 1}/decon2d", "W_conv2d", "b_conv2d")
        out += _bn(f"{prefix}decoder.up.{i}.bn", f"{s}decoder/h{i + 1}/decon2d/batch_norm_dc")
    for i in range(6):
        out += _conv(f"{prefix}decoder.fuse.{i}", f"{s}decoder/h{i + 2}/fuse_skip_connection", "W_conv2d", "b_conv2d")
    out += _conv(f"{prefix}decoder.conv7", f"{s}decoder/h7/conv2d", "W_conv2d", "b_conv2d")
    out += _bn(f"{prefix}decoder.bn7", f"{s}decoder/h7/batch_norm")
    return out


def network_map(net: str) -> list[MapEntry]:
    """The map of one sub-network ("dequantize", "linearize", "hallucinate", "refine") with pipeline prefixes."""
    if net == "dequantize":
        return unet_map("dequantize.", "Dequantization_Net/")
    if net == "refine":
        return unet_map("refine.", "Refinement_Net/")
    if net == "linearize":
        return linearization_map()
    if net == "hallucinate":
        return hallucination_map()
    raise ValueError(net)


def to_torch_layout(value: np.ndarray, layout: str) -> np.ndarray:
    """TF array -> torch layout: conv HWIO -> OIHW, dense [in, out] -> [out, in], vectors unchanged."""
    if layout == "conv":
        return np.ascontiguousarray(value.transpose(3, 2, 0, 1))
    if layout == "dense":
        return np.ascontiguousarray(value.T)
    return value


def _few(names: Iterable[str], n: int = 3) -> str:
    names = sorted(names)
    more = f" and {len(names) - n} more" if len(names) > n else ""
    return ", ".join(names[:n]) + more


def has_network(ckpt: TFCheckpoint, net: str) -> bool:
    return any(n.startswith(SCOPES[net]) and not is_training_state(n) for n in ckpt.entries)


def read_network(ckpt: TFCheckpoint, net: str, expected: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Read one sub-network's tensors from ``ckpt`` into our keys and layouts (float32).

    expected: our state_dict key -> shape (from a model of the right config).
    Raises SingleHDRError listing a few names if tensors are missing, left over
    (inside the network's TF scopes, optimizer slots aside) or mis-shaped.
    """
    entries = network_map(net)
    wanted = {e.tf_name for e in entries}
    in_scope = {n for n in ckpt.entries if n.startswith(SCOPES[net]) and not is_training_state(n)}
    missing = wanted - set(ckpt.entries)
    extra = in_scope - wanted
    if missing:
        raise SingleHDRError(f"checkpoint {ckpt.prefix} lacks {len(missing)} {net} tensors (e.g. {_few(missing)}); is it the right checkpoint?")
    if extra:
        raise SingleHDRError(f"checkpoint {ckpt.prefix} has {len(extra)} unexpected {net} tensors (e.g. {_few(extra)}); not the authors' architecture?")
    out: dict[str, np.ndarray] = {}
    bad = []
    for e in entries:
        value = to_torch_layout(np.asarray(ckpt.read(e.tf_name), dtype=np.float32), e.layout)
        want = tuple(expected.get(e.key, ()))
        if tuple(value.shape) != want:
            bad.append(f"{e.tf_name} {tuple(ckpt.shape(e.tf_name))} (needs {want} as {e.key})")
        out[e.key] = value
    if bad:
        raise SingleHDRError(f"checkpoint {ckpt.prefix}: {len(bad)} {net} tensors have unexpected shapes: {_few(bad, 2)}")
    return out


def infer_width(ckpt: TFCheckpoint) -> float:
    """The width multiplier of the checkpoint's networks (1.0 for the authors')."""
    for name, full in (("Dequantization_Net/conv2d/kernel", 16), ("crf_feature_net/conv1/weights", 64), ("Hallucination_Net/encoder/h1/conv_1/W_conv2d", 64), ("Refinement_Net/conv2d/kernel", 16)):
        if name in ckpt:
            return ckpt.shape(name)[-1] / full
    return 1.0


def import_tf(
    deq: str | os.PathLike | None = None,
    lin: str | os.PathLike | None = None,
    hal: str | os.PathLike | None = None,
    joint: str | os.PathLike | None = None,
):
    """Build a SingleHDRModel from the authors' TF checkpoints (no TensorFlow needed).

    joint: the jointly fine-tuned ckpt_deq_lin_hal_ref -> the four-stage model
    (refine=True); a network absent from it is taken from deq/lin/hal if given.
    Otherwise deq, lin and hal (separately trained) -> the three-stage model.
    Returns (model in eval mode, provenance dict).
    """
    from ..models.pipeline import SingleHDRConfig, SingleHDRModel

    sources = {"dequantize": deq, "linearize": lin, "hallucinate": hal}
    if joint is None and any(v is None for v in sources.values()):
        raise SingleHDRError("pass --joint DIR, or all of --deq DIR --lin DIR --hal DIR")
    ckpts: dict[str, TFCheckpoint] = {}
    joint_ckpt = TFCheckpoint(joint) if joint is not None else None
    nets = ["dequantize", "linearize", "hallucinate"] + (["refine"] if joint_ckpt is not None else [])
    opened: dict[str, TFCheckpoint] = {}
    for net in nets:
        if joint_ckpt is not None and has_network(joint_ckpt, net):
            ckpts[net] = joint_ckpt
            continue
        src = sources.get(net)
        if src is None:
            raise SingleHDRError(f"the joint checkpoint has no {net} network and no separate checkpoint was given for it")
        key = str(src)
        opened.setdefault(key, TFCheckpoint(src))
        ckpts[net] = opened[key]
    config = SingleHDRConfig(width=infer_width(ckpts["dequantize"]), refine=joint_ckpt is not None)
    from . import check_config

    check_config(config, "TF checkpoint")
    model = SingleHDRModel(config)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    import torch

    tensors = {}
    for net in nets:
        for k, v in read_network(ckpts[net], net, expected).items():
            tensors[k] = torch.from_numpy(v)
    from . import build_model

    model = build_model(config, tensors, source="TF checkpoints").eval()
    provenance = {
        "name": "singlehdr-tf",
        "source": "TensorFlow checkpoints of Liu et al., CVPR 2020",
        "checkpoints": {net: str(c.prefix) for net, c in ckpts.items()},
    }
    return model, provenance
