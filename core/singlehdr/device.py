"""Device resolution shared by inference, weights loading and training (bottom layer).

"auto": CUDA, then Apple MPS, then the CPU.  Asking for a device PyTorch
cannot see is a user error (SingleHDRError with what to do instead).
"""

from __future__ import annotations

import torch

from .errors import SingleHDRError


def mps_available() -> bool:
    """Apple Metal (MPS) is built into this PyTorch and usable."""
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(device: str | torch.device | None = "auto", local_rank: int | None = None) -> torch.device:
    """Turn "auto" | "cpu" | "cuda" | "cuda:N" | "mps" into a usable torch.device.

    local_rank: a distributed (torchrun) worker's local rank; "auto" and a
        bare "cuda" then pick that worker's GPU (``local_rank % device_count``)
        instead of the current device.
    Raises SingleHDRError when the requested accelerator is not available.
    """
    name = str(device or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return _cuda(None, local_rank)
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SingleHDRError(
                "CUDA was requested but PyTorch sees no CUDA GPU (CPU-only build or no driver); "
                "use --device cpu or auto, or install a CUDA build of PyTorch"
            )
        return _cuda(torch.device(name).index, local_rank)
    if name == "mps":
        if not mps_available():
            raise SingleHDRError("Apple MPS was requested but is not available here; use --device cpu or auto")
        return torch.device("mps")
    raise SingleHDRError(f"unknown device {device!r}; choose one of: auto, cpu, cuda, mps")


def _cuda(index: int | None, local_rank: int | None) -> torch.device:
    count = torch.cuda.device_count()
    if index is None:
        index = local_rank % count if local_rank is not None else torch.cuda.current_device()
    if index >= count:
        raise SingleHDRError(f"CUDA device {index} does not exist; this machine has {count}")
    return torch.device("cuda", index)


__all__ = ["resolve_device", "mps_available"]
