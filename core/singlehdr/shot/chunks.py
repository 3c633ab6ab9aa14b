"""Splitting a shot's frames between farm tasks.

``--chunk K/N`` gives task K (1-based) of N a contiguous run of the shot's
frames; the N chunks cover every frame exactly once and their sizes differ by
at most one (the first ``len % N`` chunks get the extra frame).
"""

from __future__ import annotations

import re

from ..errors import SingleHDRError


def parse_chunk(text: str) -> tuple[int, int]:
    """"K/N" -> (K, N) with 1 <= K <= N; SingleHDRError otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not m:
        raise SingleHDRError(f"bad chunk {text!r}; use K/N, e.g. --chunk 3/8 for the third of eight parts")
    k, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= k <= n:
        raise SingleHDRError(f"bad chunk {text!r}: K must be between 1 and N (chunks are numbered from 1)")
    return k, n


def chunk_bounds(count: int, k: int, n: int) -> tuple[int, int]:
    """[start, stop) indices of chunk k (1-based) of n over ``count`` items."""
    if n < 1 or not 1 <= k <= n:
        raise SingleHDRError(f"chunk {k}/{n} does not exist; K must be between 1 and N")
    base, extra = divmod(count, n)
    i = k - 1
    start = i * base + min(i, extra)
    return start, start + base + (1 if i < extra else 0)


def chunk_frames(frames: list[int], k: int, n: int) -> list[int]:
    """The frames of chunk k of n (contiguous, in order; empty when n > len(frames) for the last ones)."""
    start, stop = chunk_bounds(len(frames), k, n)
    return list(frames[start:stop])
