"""Training checkpoints as safetensors (never pickle).

One file holds the model (``model.<name>`` tensors), the optimizer state
(``optim.<param index>.<key>`` tensors) and, in the safetensors metadata,
a JSON document with the step, the stage, the model config, the optimizer's
param groups and whatever else the trainer records.  Files are written
atomically (:func:`singlehdr.io.atomic.atomic_output`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..errors import SingleHDRError
from ..io.atomic import atomic_output

META_KEY = "singlehdr_checkpoint"


def optimizer_to_tensors(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors and a JSON-able rest.

    Tensor entries become ``optim.<pid>.<key>``; scalar entries and the
    param groups go to the returned JSON dict.
    """
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in state["state"].items():
        for key, val in st.items():
            if torch.is_tensor(val):
                tensors[f"optim.{pid}.{key}"] = val.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[key] = val
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def optimizer_from_tensors(tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`optimizer_to_tensors`: an ``optimizer.load_state_dict`` input."""
    state: dict[int, dict[str, Any]] = {}
    for name, val in tensors.items():
        if not name.startswith("optim."):
            continue
        _, pid, key = name.split(".", 2)
        state.setdefault(int(pid), {})[key] = val
    for pid, sc in info.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(sc)
    return {"state": state, "param_groups": info["param_groups"]}


def save_checkpoint(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None, meta: dict[str, Any]) -> Path:
    """Write model + optimizer + JSON ``meta`` to ``path`` atomically."""
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    doc = dict(meta)
    if optimizer is not None:
        ot, oinfo = optimizer_to_tensors(optimizer.state_dict())
        tensors.update(ot)
        doc["optimizer"] = oinfo
    with atomic_output(path, overwrite=True) as tmp:
        save_file(tensors, str(tmp), metadata={META_KEY: json.dumps(doc)})
    return path


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None, dict[str, Any]]:
    """Read a checkpoint: (model state dict, optimizer state dict or None, meta)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise SingleHDRError(f"no checkpoint at {path}; run without --resume to start fresh")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta_raw = (f.metadata() or {}).get(META_KEY)
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # noqa: BLE001
        raise SingleHDRError(f"cannot read checkpoint {path}: {exc}") from None
    if meta_raw is None:
        raise SingleHDRError(f"{path} is not a singlehdr training checkpoint")
    meta = json.loads(meta_raw)
    model_sd = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    optim = optimizer_from_tensors(tensors, meta.pop("optimizer")) if "optimizer" in meta else None
    return model_sd, optim, meta
