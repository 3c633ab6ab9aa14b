"""Padding index maps shared by the engine (numpy tiles) and the TorchScript export.

Bottom layer (imports torch only).  Written in TorchScript-compilable torch so
the exported Nuke wrapper scripts these very functions (its padding follows the
input size at run time); the engine takes the same maps as numpy arrays
(:mod:`singlehdr.infer.padding`).

- symmetric: numpy ``np.pad(mode="symmetric")`` (``abc|cba``, the edge pixel
  repeated), the padding of the authors' test script (Liu et al., CVPR 2020,
  ``test_real.py``: ``np.pad(ldr, 32, 'symmetric')``); PyTorch's ``reflect``
  (``abc|ba``) is a different thing and is not used;
- circular: ``np.pad(mode="wrap")`` (an equirect panorama is periodic in longitude).
"""

from __future__ import annotations

import torch
from torch import Tensor


def pad_amounts(size: int, multiple: int, margin: int) -> tuple[int, int]:
    """(before, after) padding so size + before + after is a multiple of
    ``multiple`` with at least ``margin`` pixels of context on each side.

    The extra pixels beyond the margins are split evenly (one more after).
    Example: size 100, multiple 64, margin 32 -> (46, 46): 100 + 92 = 192.
    """
    extra = (multiple - (size + 2 * margin) % multiple) % multiple
    before = margin + extra // 2
    return before, margin + extra - extra // 2


def symmetric_indices(size: int, before: int, after: int, device: torch.device) -> Tensor:
    """Source indices for numpy-'symmetric' padding of one axis.

    Output position j (0 .. before + size + after - 1) reads input index
    i = j - before folded into [0, size) by mirroring *including* the edge
    sample (abc -> cba|abc|cba), i.e. numpy.pad(mode="symmetric"), also for
    pads larger than ``size`` (the fold is periodic with period 2 * size).
    Returns an int64 tensor of length before + size + after.
    Example: size 3, before 2, after 2 -> [1, 0, 0, 1, 2, 2, 1].
    """
    idx = torch.arange(-before, size + after, dtype=torch.long, device=device)
    idx = torch.remainder(idx, 2 * size)
    return torch.where(idx >= size, 2 * size - 1 - idx, idx)


def circular_indices(size: int, before: int, after: int, device: torch.device) -> Tensor:
    """Source indices for circular padding of one axis (``np.pad(mode="wrap")``).

    Example: size 3, before 2, after 2 -> [1, 2, 0, 1, 2, 0, 1].
    """
    return torch.remainder(torch.arange(-before, size + after, dtype=torch.long, device=device), size)


def symmetric_pad(x: Tensor, top: int, bottom: int, left: int, right: int) -> Tensor:
    """Pad (N, C, H, W) like numpy.pad(mode="symmetric") on H and W.

    Returns (N, C, top + H + bottom, left + W + right).
    """
    h = x.shape[2]
    w = x.shape[3]
    x = torch.index_select(x, 2, symmetric_indices(h, top, bottom, x.device))
    return torch.index_select(x, 3, symmetric_indices(w, left, right, x.device))


__all__ = ["pad_amounts", "symmetric_indices", "circular_indices", "symmetric_pad"]
