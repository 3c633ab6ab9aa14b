"""Model weights: safetensors files with a small JSON header, the shipped default,
and import of the authors' TensorFlow checkpoints (:mod:`.tf_checkpoint`, :mod:`.tf_map`).

A weight file is a plain ``.safetensors`` file (never a pickle): the model's
``state_dict`` (float32 or float16; BN ``num_batches_tracked`` counters left out)
plus string metadata: ``format`` = "singlehdr", ``config`` (JSON of
:class:`~singlehdr.models.pipeline.SingleHDRConfig`), ``provenance`` (JSON: where
the weights came from) and ``model_id``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ..errors import SingleHDRError
from ..io.atomic import atomic_output

WEIGHTS_DIR = Path(__file__).resolve().parent
DEFAULT_PATH = WEIGHTS_DIR / "default.safetensors"
FORMAT = "singlehdr"
_SKIP_SUFFIX = "num_batches_tracked"

# ---------------------------------------------------------------- validation
#: Accepted width multipliers of a model file's config (the authors' model is 1.0;
#: 2.0 is ~115 M parameters, 0.46 GB in float32).  Checked before anything is allocated.
MIN_WIDTH = 1.0 / 32
MAX_WIDTH = 2.0
#: Largest model file read (bytes), checked before reading.
MAX_WEIGHT_FILE_BYTES = 2 * 1024**3


def check_config(config, source: str = "model") -> None:
    """SingleHDRError unless the config's width is finite and within [MIN_WIDTH, MAX_WIDTH].

    Called by the loaders (``--model`` files and ``import-tf``) before a model of
    that config is built, so a header claiming width 4096 cannot allocate 841 GB."""
    import math

    width = getattr(config, "width", None)
    if not isinstance(width, (int, float)) or not math.isfinite(width) or not MIN_WIDTH <= width <= MAX_WIDTH:
        raise SingleHDRError(
            f"{source} declares a model of width {width!r}; singlehdr models have widths {MIN_WIDTH:g} to "
            f"{MAX_WIDTH:g} (the authors' model is 1) - the file is corrupt or not a singlehdr model")


def check_tensors(tensors: dict[str, Any], source: str = "model") -> None:
    """SingleHDRError if any float tensor holds NaN or Inf (a corrupt or tampered file)."""
    import torch

    bad = [k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise SingleHDRError(f"{source} has NaN or Inf weights in {len(bad)} tensors (e.g. {', '.join(sorted(bad)[:3])}); "
                             "the file is corrupt - re-export or re-download it")


def check_weight_file_size(path: Path) -> None:
    """SingleHDRError if ``path`` is larger than MAX_WEIGHT_FILE_BYTES (checked before reading)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SingleHDRError(f"cannot read {path}: {exc.strerror or exc}") from None
    if size > MAX_WEIGHT_FILE_BYTES:
        raise SingleHDRError(f"{path} is {size / 1024**3:.1f} GB, larger than any singlehdr model "
                             f"({MAX_WEIGHT_FILE_BYTES / 1024**3:.0f} GB limit); not a model file?")


def state_dict_for_saving(model) -> dict[str, Any]:
    """The model's tensors to store: state_dict without BN step counters, contiguous, detached, on CPU."""
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if not k.endswith(_SKIP_SUFFIX)}


def tensors_digest(tensors: dict[str, Any]) -> str:
    """sha256 over sorted names, dtypes, shapes and bytes of the tensors (hex)."""
    h = hashlib.sha256()
    for k in sorted(tensors):
        t = tensors[k]
        h.update(f"{k}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.float().numpy().tobytes() if t.is_floating_point() else t.numpy().tobytes())
    return h.hexdigest()


def save_model(path: str | os.PathLike, model, *, provenance: dict[str, Any], half: bool = False, overwrite: bool = True,
               inference: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (a SingleHDRModel) to a .safetensors file, atomically.

    provenance: JSON-able facts about the weights' origin (e.g. {"source":
    "authors' TF checkpoints", "name": "singlehdr-tf"}); ``provenance["name"]``
    (default "singlehdr") prefixes the model_id = name-<12 hex of the tensors' sha256>.
    half: store float tensors as float16 (loading casts back to float32).
    inference: how the engine should run the model (JSON-able, stored as metadata
        ``inference``; see singlehdr.infer.engine: ``linearization``, ``highlights``, ``gate``).
    Returns the path.
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise SingleHDRError(f"weights are saved as .safetensors; got {path.name!r}")
    if path.exists() and not overwrite:
        raise SingleHDRError(f"{path} exists; choose another name or allow overwriting")
    tensors = state_dict_for_saving(model)
    if half:
        tensors = {k: (v.half() if v.is_floating_point() else v) for k, v in tensors.items()}
    name = str(provenance.get("name", "singlehdr"))
    model_id = f"{name}-{tensors_digest(tensors)[:12]}"
    metadata = {
        "format": FORMAT,
        "config": json.dumps(model.config.to_dict(), sort_keys=True),
        "provenance": json.dumps(provenance, sort_keys=True, default=str),
        "model_id": model_id,
        "dtype": "float16" if half else "float32",
    }
    if inference:
        metadata["inference"] = json.dumps(inference, sort_keys=True)
    with atomic_output(path, overwrite=overwrite) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


def read_weights(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, str]]:
    """(tensors as float32 torch tensors on CPU, metadata) of a singlehdr .safetensors file.

    Never unpickles.  Raises SingleHDRError for a missing, truncated or foreign file.
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise SingleHDRError(f"model file {path} not found; pass an existing .safetensors file")
    if path.suffix in (".index", ".meta") or path.name.startswith("model.ckpt") or path.is_dir():
        raise SingleHDRError(f"{path} looks like a TensorFlow checkpoint; convert it first with `singlehdr import-tf`")
    check_weight_file_size(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise SingleHDRError(f"{path} is not a readable .safetensors weight file ({exc}); re-export or re-download it") from None
    if metadata.get("format") != FORMAT or "config" not in metadata:
        raise SingleHDRError(f"{path} is a .safetensors file but not a singlehdr model (no singlehdr metadata)")
    tensors = {k: (v.float() if v.is_floating_point() else v) for k, v in tensors.items()}
    return tensors, metadata


def build_model(config, tensors: dict[str, Any], source: str = "weights"):
    """A SingleHDRModel with ``tensors`` loaded strictly (BN step counters may be absent)."""
    from ..models.pipeline import SingleHDRModel

    check_config(config, source)
    check_tensors(tensors, source)
    model = SingleHDRModel(config)
    expected = {k for k in model.state_dict() if not k.endswith(_SKIP_SUFFIX)}
    missing = sorted(expected - set(tensors))
    extra = sorted(set(tensors) - set(model.state_dict()))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
        if extra:
            parts.append(f"{len(extra)} unexpected (e.g. {', '.join(extra[:3])})")
        raise SingleHDRError(f"{source} does not match the model config {config}: " + "; ".join(parts))
    ref = model.state_dict()
    bad = [f"{k} {tuple(v.shape)} vs {tuple(ref[k].shape)}" for k, v in tensors.items() if tuple(v.shape) != tuple(ref[k].shape)]
    if bad:
        raise SingleHDRError(f"{source}: {len(bad)} tensors have the wrong shape (e.g. {'; '.join(bad[:3])})")
    model.load_state_dict(tensors, strict=False)
    return model


def load_model(spec: str | os.PathLike | None = None, device: str = "auto"):
    """Load a model for inference: (model in eval mode on ``device``, info dict).

    spec: None for the shipped default (``weights/default.safetensors``) or the
    path of a .safetensors file written by :func:`save_model`.
    info: {"model_id", "config" (dict), "provenance" (dict), "path", "dtype", "device"}.
    Raises SingleHDRError if no default is shipped, the file is missing/foreign,
    or its tensors do not match its config.
    """
    from ..models.pipeline import SingleHDRConfig

    if spec is None or str(spec) in ("", "default"):
        if not DEFAULT_PATH.is_file():
            raise SingleHDRError("no default model is shipped yet; pass --model FILE or --method inverse-srgb|akyuz|kovaleski")
        path = DEFAULT_PATH
    else:
        path = Path(spec).expanduser()
    tensors, metadata = read_weights(path)
    try:
        config = SingleHDRConfig.from_dict(json.loads(metadata["config"]))
        provenance = json.loads(metadata.get("provenance", "{}"))
        inference = json.loads(metadata.get("inference", "{}"))
    except (ValueError, TypeError, AttributeError) as exc:
        raise SingleHDRError(f"{path} has a corrupt singlehdr header ({exc}); re-export the model") from None
    check_config(config, str(path))
    model = build_model(config, tensors, source=str(path))
    from ..device import resolve_device

    dev = str(resolve_device(device))
    model = model.to(dev).eval()
    info = {
        "model_id": metadata.get("model_id") or f"singlehdr-{tensors_digest(tensors)[:12]}",
        "config": config.to_dict(),
        "provenance": provenance,
        "path": str(path),
        "dtype": metadata.get("dtype", "float32"),
        "device": dev,
        "inference": inference,
    }
    return model, info


__all__ = ["DEFAULT_PATH", "load_model", "save_model", "read_weights", "build_model"]
