"""One camera response (and exposure) per shot, kept in a sidecar JSON.

Per-frame reconstruction estimates the inverse camera response g (Liu et al.
2020, Sec. 3.2) and, with ``--exposure median``, an exposure scale for every
frame; small frame-to-frame changes in either make the linear output flicker
(every pixel of a frame moves together) and make the recovered highlight
energy pump.  A *shot lock* fixes both for the whole shot:

- ``inverse_crf``: the pointwise median of the curves estimated on
  ``samples`` frames spread evenly over the shot (a pointwise median of
  non-decreasing curves is non-decreasing, and one odd frame -- a flash, a
  black frame -- cannot move it), or the curve of one reference frame, or a
  curve read from another sidecar;
- ``exposure_scale`` (``--exposure median`` only): the median over the same
  sampled frames of each frame's median-exposure scale, computed on the
  frame reconstructed with the locked curve.  ``relative`` needs no lock;
  ``absolute`` stays per frame on purpose (it follows each frame's EXIF).

Every frame is then reconstructed with the locked curve, so the highlight
expansion (Hallucination-Net works on g(C)) sees the same response in every
frame.  The lock is written beside the outputs as ``<name>.shot.json``; the
next chunk of the same shot (another machine, a resumed run) reads it instead
of estimating again.  Parallel chunks that find no sidecar all sample the same
frames of the same shot, so they compute the same lock; the first to finish
publishes it (an exclusive hard link) and the others adopt the published one.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import SingleHDRError
from ..io.atomic import atomic_output

SIDECAR_KIND = "singlehdr-shot-lock"
SIDECAR_VERSION = 1
#: Frames sampled for a pooled lock when none is given.
DEFAULT_SAMPLES = 8


@dataclass
class ShotLock:
    """What is held fixed over a shot.

    inverse_crf: (1024,) list of floats (g at x = i / 1023), or None for the
        training-free methods (their curve is fixed anyway).
    exposure_mode / exposure_scale: the locked scale for "median" mode, else None.
    how: "pooled" | "reference" | "from-file".
    """

    method: str
    model_id: str
    inverse_crf: list[float] | None
    exposure_mode: str
    exposure_scale: float | None
    how: str
    sampled_frames: list[int]
    source: str = ""
    shot_frames: list[int] = field(default_factory=list)  # [first, last, count]
    exposure_target: float | None = None
    crf_spread: float | None = None  # max |g_i - g| over the sampled frames (how much per-frame curves differed)
    created: str = ""
    singlehdr_version: str = ""
    kind: str = SIDECAR_KIND
    version: int = SIDECAR_VERSION

    @property
    def id(self) -> str:
        """12 hex digits naming what the lock fixes (curve, scale, model): stored in every output frame."""
        h = hashlib.sha256()
        h.update(f"{self.method}|{self.model_id}|{self.exposure_mode}|{self.exposure_scale!r}".encode())
        if self.inverse_crf is not None:
            h.update(np.asarray(self.inverse_crf, dtype=np.float32).tobytes())
        return h.hexdigest()[:12]

    @property
    def is_empty(self) -> bool:
        """Nothing to lock (training-free method, relative/absolute exposure)."""
        return self.inverse_crf is None and self.exposure_scale is None

    def curve(self) -> np.ndarray | None:
        return None if self.inverse_crf is None else np.asarray(self.inverse_crf, dtype=np.float32)

    def to_json(self) -> str:
        """Readable JSON: one field a line, the lists (curve, frames) each on one line."""
        d = asdict(self)
        d["id"] = self.id
        lines = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in d.items()]
        return "{\n" + ",\n".join(lines) + "\n}"

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "sidecar") -> "ShotLock":
        if not isinstance(d, dict) or d.get("kind") != SIDECAR_KIND:
            raise SingleHDRError(f"{where} is not a singlehdr shot sidecar (no \"kind\": \"{SIDECAR_KIND}\")")
        if int(d.get("version", 0)) > SIDECAR_VERSION:
            raise SingleHDRError(f"{where} was written by a newer singlehdr (sidecar version {d.get('version')}); upgrade singlehdr")
        names = {f for f in cls.__dataclass_fields__}
        try:
            lock = cls(**{k: v for k, v in d.items() if k in names})
        except TypeError as exc:
            raise SingleHDRError(f"{where} is incomplete ({exc}); delete it to estimate the shot again") from None
        g = lock.inverse_crf
        if g is not None:
            a = np.asarray(g, dtype=np.float64)
            if a.shape != (1024,) or not np.all(np.isfinite(a)) or np.any(np.diff(a) < -1e-6):
                raise SingleHDRError(f"{where} has no valid inverse CRF (1024 non-decreasing finite numbers); delete it or fix it")
        if lock.exposure_scale is not None and not (np.isfinite(lock.exposure_scale) and lock.exposure_scale > 0):
            raise SingleHDRError(f"{where} has a bad exposure scale {lock.exposure_scale!r}")
        return lock


# ------------------------------------------------------------------ sidecar files
def sidecar_path(output_pattern_prefix: str, folder: Path) -> Path:
    """``folder / <prefix without trailing . _ ->.shot.json`` (``plate.####.exr`` -> ``plate.shot.json``)."""
    base = output_pattern_prefix.rstrip("._- ")
    return folder / (f"{base}.shot.json" if base else "shot.json")


def read_sidecar(path: str | Path) -> ShotLock:
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SingleHDRError(f"sidecar {p} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SingleHDRError(f"cannot read sidecar {p}: {exc}; delete it to estimate the shot again") from None
    return ShotLock.from_dict(d, where=f"sidecar {p}")


def publish_sidecar(path: str | Path, lock: ShotLock) -> tuple[ShotLock, bool]:
    """Write ``lock`` to ``path`` unless a sidecar is already there.

    Atomic and exclusive (:func:`singlehdr.io.atomic.atomic_output` without
    overwrite: a hard link that fails if the name exists), so concurrent chunks
    never see a half file and never replace each other's lock.  Returns (the
    lock now at path, whether this call wrote it).
    """
    p = Path(path)
    if p.is_file():
        return read_sidecar(p), False
    try:
        with atomic_output(p) as tmp:
            tmp.write_text(lock.to_json() + "\n", encoding="utf-8")
        return lock, True
    except SingleHDRError:
        if p.is_file():  # another chunk published its sidecar first
            return read_sidecar(p), False
        raise


def check_compatible(lock: ShotLock, method: str, model_id: str, exposure_mode: str, where: str) -> None:
    """SingleHDRError when a sidecar was made for another model, method or exposure mode."""
    problems = []
    if lock.method != method:
        problems.append(f"method {lock.method!r}, not {method!r}")
    if lock.model_id != model_id:
        problems.append(f"model {lock.model_id}, not {model_id}")
    if lock.exposure_mode != exposure_mode and "median" in (lock.exposure_mode, exposure_mode):
        problems.append(f"--exposure {lock.exposure_mode}, not {exposure_mode}")
    if problems:
        raise SingleHDRError(
            f"{where} was made with {', '.join(problems)}; use the same settings, delete it to lock the shot again, "
            "or write to another output folder"
        )


# ------------------------------------------------------------------ estimation
def sample_frames(frames: list[int], count: int) -> list[int]:
    """``count`` frames spread evenly over ``frames`` (first and last included), in order."""
    if not frames:
        return []
    n = min(max(1, int(count)), len(frames))
    if n == 1:
        return [frames[len(frames) // 2]]
    idx = np.round(np.linspace(0, len(frames) - 1, n)).astype(int)
    return sorted({frames[i] for i in idx})


def pool_curves(curves: list[np.ndarray]) -> np.ndarray:
    """Pointwise median of inverse CRFs -> (1024,) float32, non-decreasing, in [0, 1]."""
    if not curves:
        raise SingleHDRError("no frame could be read to estimate the camera response")
    g = np.median(np.stack([np.asarray(c, dtype=np.float64) for c in curves]), axis=0)
    g = np.maximum.accumulate(np.clip(g, 0.0, 1.0))
    return g.astype(np.float32)


def estimate_lock(
    read: Callable[[int], Any],
    sampled: list[int],
    options: Any,
    *,
    how: str,
    model_id: str,
    given_curve: np.ndarray | None = None,
    source: str = "",
    shot_frames: list[int] | None = None,
) -> ShotLock:
    """Estimate a lock from the ``sampled`` frames (``read(frame) -> LDRImage``).

    options: the run's ReconstructOptions.  given_curve: a curve to use
    instead of estimating one (``--crf-from``); the exposure lock is still
    computed from the sampled frames when the mode is "median".
    """
    from .. import __version__
    from ..api import estimate_inverse_crf, reconstruct
    from ..exposure import exposure_scale
    from ..options import METHODS_CLASSICAL

    network = options.method not in METHODS_CLASSICAL
    errors: dict[int, str] = {}

    def frames_read():  # one frame in memory at a time; an unreadable one is left out (it fails on its own later)
        for f in sampled:
            if f in errors:
                continue
            try:
                yield f, read(f)
            except SingleHDRError as exc:
                errors[f] = str(exc)

    def none_readable() -> SingleHDRError:
        f, msg = next(iter(errors.items())) if errors else (None, "no frames")
        return SingleHDRError(f"none of the frames sampled for the shot lock can be read (frame {f}: {msg})")

    curve: np.ndarray | None = None
    spread = None
    if network:
        if given_curve is not None:
            curve = np.asarray(given_curve, dtype=np.float32)
        else:
            curves = [estimate_inverse_crf(ldr, options) for _, ldr in frames_read()]
            if not curves:
                raise none_readable()
            curve = pool_curves(curves)
            spread = float(max(np.abs(c - curve).max() for c in curves))
    scale = None
    if options.exposure == "median":
        scales = []
        rel = options.replace(exposure="relative", colorspace="lin_rec709")
        for _, ldr in frames_read():
            hdr = reconstruct(ldr, rel, inverse_crf=curve).hdr_linear
            scales.append(exposure_scale(hdr, ldr, "median", options.exposure_target))
        if not scales:
            raise none_readable()
        scale = float(np.median(scales))
    sampled = [f for f in sampled if f not in errors]
    frames = shot_frames or []
    return ShotLock(
        method=options.method, model_id=model_id,
        inverse_crf=None if curve is None else [round(float(v), 7) for v in curve],
        exposure_mode=options.exposure, exposure_scale=scale,
        exposure_target=options.exposure_target if options.exposure == "median" else None,
        how=how, sampled_frames=list(sampled), source=source,
        shot_frames=[frames[0], frames[-1], len(frames)] if frames else [],
        crf_spread=None if spread is None else round(spread, 6),
        created=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        singlehdr_version=__version__,
    )
