"""Device, precision and memory choices for the engine.

- Device: :func:`singlehdr.device.resolve_device` ("auto": CUDA, then Apple
  MPS, then CPU; a device PyTorch cannot see is a user error).
- Precision "auto": bf16 autocast on a CUDA GPU that supports bf16, else
  fp32.  fp16/bf16 on the CPU fall back to fp32 with a note (CPU autocast is
  slow or inexact on most CPUs and buys no memory worth having here).
- Free memory: ``torch.cuda.mem_get_info`` on CUDA; on the CPU ``psutil`` if
  installed, else ``MemAvailable`` from /proc/meminfo, else
  ``os.sysconf('SC_AVPHYS_PAGES') * SC_PAGE_SIZE``.
"""

from __future__ import annotations

import contextlib
import os
import platform

import torch

from ..device import resolve_device  # noqa: F401 - re-exported (singlehdr.infer.resolve_device)
from ..errors import SingleHDRError


def resolve_precision(precision: str, device: torch.device) -> tuple[str, str | None]:
    """Pick the compute precision for ``device``.

    precision: "auto" | "fp32" | "fp16" | "bf16".
    Returns: (effective precision, note or None); the note says why a request
    was not honoured.
    """
    p = str(precision or "auto").lower()
    if p not in ("auto", "fp32", "fp16", "bf16"):
        raise SingleHDRError(f"unknown precision {precision!r}; choose one of: auto, fp32, fp16, bf16")
    if device.type == "cuda":
        if p == "auto":
            return ("bf16", None) if torch.cuda.is_bf16_supported() else ("fp32", None)
        if p == "bf16" and not torch.cuda.is_bf16_supported():
            return "fp16", "this GPU has no bf16 support; using fp16 autocast instead"
        return p, None
    if device.type == "mps":
        if p in ("auto", "fp32"):
            return "fp32", None
        return p, None
    if p in ("auto", "fp32"):
        return "fp32", None
    return "fp32", f"{p} was requested on the CPU; computing in fp32 (reduced precision is for GPUs)"


def autocast_context(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """An autocast context for fp16/bf16 on an accelerator, else a no-op."""
    if precision == "fp32" or device.type == "cpu":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def available_memory_bytes(device: torch.device) -> int:
    """Free memory on ``device`` in bytes (the RAM available to new allocations on the CPU)."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type == "mps":
        # MPS shares system RAM; recommended_max_memory exists on newer torch.
        rec = getattr(getattr(torch, "mps", None), "recommended_max_memory", None)
        if callable(rec):
            try:
                return int(rec()) - int(torch.mps.current_allocated_memory())
            except Exception:  # pragma: no cover - platform specific
                pass
    return cpu_available_memory_bytes()


def cpu_available_memory_bytes() -> int:
    """RAM available without swapping, in bytes."""
    try:
        import psutil  # type: ignore[import-not-found]

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 4 << 30


def cpu_model_name() -> str:
    """The CPU's marketing name (from /proc/cpuinfo on Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def describe_device(device: torch.device) -> str:
    """A human-readable device name, e.g. 'cuda:0 (NVIDIA H100 80GB HBM3)'."""
    if device.type == "cuda":
        return f"cuda:{device.index or 0} ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({cpu_model_name()}, {torch.get_num_threads()} threads)"
