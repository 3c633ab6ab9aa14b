"""Parsers for the EMoR camera-response basis (Grossberg & Nayar).

Source: M. D. Grossberg, S. K. Nayar, "What is the space of camera response
functions?", CVPR 2003 / "Modeling the space of camera response functions",
IEEE TPAMI 26(10), 2004: the Empirical Model of Response, a mean curve plus
principal components fitted to the 201 curves of the DoRF database.

File format (``emor.txt`` / ``invemor.txt`` in :mod:`singlehdr.data`): 27
blocks, each a header line (``E =``, ``f0 =``, ``h(1)=`` .. ``h(25)=``; or
``B =``, ``g0 =``, ``hinv(1)=`` .. ``hinv(25)=``) followed by 256 lines of
4 numbers = 1024 samples on [0, 1].
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np

from ..errors import SingleHDRError

N_SAMPLES = 1024


def parse_emor_file(path: str | Path) -> dict[str, np.ndarray]:
    """Read an EMoR-format file into {header name: (1024,) float64}.

    Header names are stripped of spaces and the ``=``: "E", "f0", "h(1)", ...
    Raises SingleHDRError for a missing or malformed file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise SingleHDRError(f"cannot read EMoR file {path}: {exc.strerror}; reinstall singlehdr") from None
    blocks: dict[str, list[float]] = {}
    current: list[float] | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if "=" in line:
            name = line.split("=")[0].replace(" ", "")
            current = blocks.setdefault(name, [])
            rest = line.split("=", 1)[1].split()
            current.extend(float(v) for v in rest)
            continue
        if current is None:
            raise SingleHDRError(f"{path} is not an EMoR file (numbers before the first header)")
        current.extend(float(v) for v in line.split())
    out = {}
    for name, vals in blocks.items():
        if len(vals) != N_SAMPLES:
            raise SingleHDRError(f"{path}: block {name!r} has {len(vals)} samples, expected {N_SAMPLES}")
        out[name] = np.asarray(vals, dtype=np.float64)
    return out


def _basis(blocks: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    keys = sorted((k for k in blocks if re.fullmatch(rf"{prefix}\(\d+\)", k)), key=lambda k: int(k[len(prefix) + 1 : -1]))
    return np.stack([blocks[k] for k in keys]) if keys else np.zeros((0, N_SAMPLES))


@functools.lru_cache(maxsize=2)
def _load(path: str, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = parse_emor_file(path)
    axis, mean, prefix = ("E", "f0", "h") if kind == "emor" else ("B", "g0", "hinv")
    if axis not in b or mean not in b:
        raise SingleHDRError(f"{path} lacks the {axis!r}/{mean!r} blocks of an EMoR {kind} file")
    arrays = (b[axis], b[mean], _basis(b, prefix))
    for a in arrays:
        a.setflags(write=False)
    return arrays


def load_emor(path: str | Path | None = None) -> dict[str, np.ndarray]:
    """The forward EMoR model: {"E": (1024,) irradiance axis, "f0": (1024,) mean
    CRF, "h": (25, 1024) basis}.  Arrays are read-only float64."""
    from ..data import EMOR_PATH

    e, f0, h = _load(str(path or EMOR_PATH), "emor")
    return {"E": e, "f0": f0, "h": h}


def load_invemor(path: str | Path | None = None) -> dict[str, np.ndarray]:
    """The inverse EMoR model: {"B": (1024,) brightness axis, "g0": (1024,) mean
    inverse CRF, "hinv": (25, 1024) basis}.  Arrays are read-only float64."""
    from ..data import INVEMOR_PATH

    b, g0, hinv = _load(str(path or INVEMOR_PATH), "invemor")
    return {"B": b, "g0": g0, "hinv": hinv}
