"""Relative exposures of a bracket: from EXIF or from ``--ev`` values.

A frame's photographic exposure is proportional to t * S / N^2 (exposure
time t, ISO S, f-number N; ISO 2720 / APEX).  Brackets normally vary t only;
N and S enter when every frame has them.  ``--ev`` values are exposure
compensations in stops: exposure proportional to 2^ev.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..errors import SingleHDRError


def exif_relative_exposure(exif: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(t, N, S) of one frame from its EXIF dict; None where missing."""
    from ..exposure import exif_exposure

    n, t, s = exif_exposure(exif or {})
    return t, n, s


def frame_exposures(exifs: Sequence[dict[str, Any]], names: Sequence[str], ev: Sequence[float] | None = None) -> np.ndarray:
    """Relative exposures (n,) float64 of n frames, the largest-free scale arbitrary.

    ev: one exposure value (stops) per frame; overrides EXIF.  Without it,
    every frame needs EXIF ExposureTime (or ShutterSpeedValue); FNumber and
    ISO are used when all frames have them.
    Raises SingleHDRError (one line) for a missing value, a wrong count or
    frames that all share one exposure.
    """
    n = len(names)
    if ev is not None:
        ev = [float(v) for v in ev]
        if len(ev) != n:
            raise SingleHDRError(f"--ev has {len(ev)} values for {n} brackets; give one exposure value per frame, in the same order")
        if not all(math.isfinite(v) for v in ev):
            raise SingleHDRError("--ev values must be finite numbers of stops")
        e = np.power(2.0, np.asarray(ev, dtype=np.float64))
    else:
        ts, ns, ss = [], [], []
        for exif, name in zip(exifs, names):
            t, fn, s = exif_relative_exposure(exif)
            if t is None:
                raise SingleHDRError(
                    f"{name} has no EXIF exposure time; pass --ev with one value per frame (e.g. --ev -2 0 2)"
                )
            ts.append(t)
            ns.append(fn)
            ss.append(s)
        e = np.asarray(ts, dtype=np.float64)
        if all(v is not None for v in ns):
            e = e / np.asarray(ns, dtype=np.float64) ** 2
        if all(v is not None for v in ss):
            e = e * np.asarray(ss, dtype=np.float64)
    if np.ptp(np.log2(e)) < 0.25:
        raise SingleHDRError(
            "the brackets all have the same exposure (within 1/4 stop); shoot frames 1-3 stops apart or pass --ev"
        )
    return e
