"""A shot run: lock, then a bounded decode -> reconstruct -> write pipeline.

:func:`run_shot` takes a :class:`ShotJob` (built by the CLI from a sequence
pattern or a movie) and returns a :class:`ShotReport`.  The model is loaded
once; one thread decodes frames ahead, the calling thread runs the networks,
one thread writes EXRs, with queues of ``depth`` frames between them, so
memory stays bounded (about 2 * depth + 2 frames in flight) and decoding and
writing overlap inference.  A frame that fails (unreadable input, a write
error) is recorded and the run goes on; every output is written atomically,
so an interrupted run leaves only complete frames, and ``skip_existing``
keeps every complete frame made with the same lock.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import SingleHDRError
from .lock import DEFAULT_SAMPLES, ShotLock, check_compatible, estimate_lock, publish_sidecar, read_sidecar, sample_frames

#: EXR header attributes written on every frame of a shot run.
LOCK_ATTRIBUTE = "singlehdr:shot_lock"
FRAME_ATTRIBUTE = "singlehdr:frame"
_END = object()


@dataclass
class ShotJob:
    """Everything a shot run needs.

    source: a SequenceSource or MovieSource.  frames: the frames this run
    writes (a chunk).  shot_frames: the whole shot (the frames a pooled lock
    samples).  outputs: frame -> output path.  options: ReconstructOptions.
    lock_mode: "pooled" | "reference" | "per-frame"; crf_from: a sidecar to
    take the curve from; sidecar: where the lock is kept (None = nowhere).
    """

    source: Any
    frames: list[int]
    shot_frames: list[int]
    outputs: dict[int, Path]
    options: Any
    sidecar: Path | None
    lock_mode: str = "pooled"
    reference_frame: int | None = None
    samples: int = DEFAULT_SAMPLES
    crf_from: Path | None = None
    half: bool | None = None
    compression: str = "zip"
    overwrite: bool = False
    skip_existing: bool = False
    depth: int = 2


@dataclass
class ShotReport:
    frames: list[int]
    done: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    recomputed: list[int] = field(default_factory=list)  # existing but invalid/stale outputs written again
    lock: ShotLock | None = None
    sidecar: Path | None = None
    sidecar_written: bool = False
    seconds: float = 0.0
    lock_seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 3 if self.failed else 0

    def as_dict(self, job: ShotJob | None = None, chunk: str | None = None) -> dict[str, Any]:
        work = self.seconds - self.lock_seconds
        d: dict[str, Any] = {
            "status": "failed" if self.failed else "ok",
            "exit_code": self.exit_code,
            "source": job.source.display if job else None,
            "chunk": chunk,
            "frames_requested": len(self.frames),
            "first_frame": self.frames[0] if self.frames else None,
            "last_frame": self.frames[-1] if self.frames else None,
            "done": self.done,
            "skipped": self.skipped,
            "recomputed": self.recomputed,
            "failed": [{"frame": f, "input": str(job.source.input_path(f)) if job else None,
                        "output": str(job.outputs[f]) if job else None, "error": msg}
                       for f, msg in sorted(self.failed.items())],
            "sidecar": str(self.sidecar) if self.sidecar else None,
            "sidecar_written": self.sidecar_written,
            "lock": None,
            "seconds": round(self.seconds, 3),
            "frames_per_minute": round(60.0 * len(self.done) / work, 3) if work > 0 and self.done else None,
        }
        if self.lock is not None:
            d["lock"] = {"id": self.lock.id, "how": self.lock.how, "sampled_frames": self.lock.sampled_frames,
                         "exposure_scale": self.lock.exposure_scale, "crf_spread": self.lock.crf_spread}
        return d


# ------------------------------------------------------------------ outputs
def output_state(path: Path, lock_id: str | None) -> str:
    """"missing", "valid" (complete, readable, same lock), "stale" (other lock) or "invalid"."""
    if not path.exists():
        return "missing"
    try:
        from ..io import read_hdr

        hdr, meta = read_hdr(path, max_pixels=None)
    except Exception:
        return "invalid"
    if hdr.ndim != 3 or hdr.shape[0] < 1 or hdr.shape[1] < 1:
        return "invalid"
    if lock_id is not None:
        have = (meta.get("attributes") or {}).get(LOCK_ATTRIBUTE)
        if have is not None and str(have) != lock_id:
            return "stale"
    return "valid"


# ------------------------------------------------------------------ the lock
def resolve_lock(job: ShotJob, model_id: str) -> tuple[ShotLock | None, bool]:
    """The lock for this run: (lock or None for per-frame runs, whether this run wrote the sidecar)."""
    opts = job.options
    if job.lock_mode == "per-frame":
        return None, False
    given = None
    if job.crf_from is not None:
        given = read_sidecar(job.crf_from)
        if given.inverse_crf is None and opts.method == "singlehdr":
            raise SingleHDRError(f"sidecar {job.crf_from} holds no camera response (made with method {given.method!r})")
    if job.sidecar is not None and job.sidecar.exists() and not job.overwrite:
        lock = read_sidecar(job.sidecar)
        check_compatible(lock, opts.method, model_id, opts.exposure, f"sidecar {job.sidecar}")
        g_given, g_have = (given.curve() if given is not None else None), lock.curve()
        if g_given is not None and g_have is not None and not np.array_equal(g_given, g_have):
            raise SingleHDRError(f"sidecar {job.sidecar} already holds another curve than {job.crf_from}; "
                                 "delete it (or pass --overwrite) to use the new one")
        return lock, False
    if job.lock_mode == "reference":
        ref = job.reference_frame
        if ref is None or ref not in set(job.source.available_frames()):
            raise SingleHDRError(f"reference frame {ref} is not in {job.source.display}; pick a frame of the shot")
        sampled, how = [int(ref)], "reference"
    else:
        sampled, how = sample_frames(job.shot_frames, job.samples), "pooled"
    if given is not None:
        how = "from-file"
        if opts.exposure != "median":
            sampled = []
    lock = estimate_lock(job.source.read, sampled, opts, how=how, model_id=model_id,
                         given_curve=None if given is None else given.curve(), source=job.source.display,
                         shot_frames=job.shot_frames)
    if given is not None and opts.exposure == "median" and given.exposure_scale is not None \
            and given.exposure_mode == "median":
        lock.exposure_scale = given.exposure_scale
    if lock.is_empty or job.sidecar is None:
        return lock, False
    if job.overwrite and job.sidecar.exists():
        job.sidecar.unlink()
    published, wrote = publish_sidecar(job.sidecar, lock)
    return published, wrote


# ------------------------------------------------------------------ the run
def model_id_for(options: Any) -> str:
    from ..options import METHODS_CLASSICAL

    if options.method in METHODS_CLASSICAL:
        return f"classical:{options.method}"
    from ..api import get_reconstructor

    engine = get_reconstructor(options.model, options.device, options.precision, options.tile, options.tile_overlap)
    return str(engine.info.get("model_id", "unknown"))


def reconstruct_frame(ldr: Any, options: Any, lock: ShotLock | None) -> Any:
    """One frame through the public API with the shot's lock applied."""
    from ..api import reconstruct

    if lock is None:
        return reconstruct(ldr, options)
    curve = lock.curve()
    if lock.exposure_scale is None:
        return reconstruct(ldr, options, inverse_crf=curve)
    result = reconstruct(ldr, options.replace(exposure="relative"), inverse_crf=curve)
    s = np.float32(lock.exposure_scale)
    result.hdr_linear *= s  # linear colour conversions commute with a scale
    result.scale = float(lock.exposure_scale)
    result.metadata["exposure_mode"] = "median"
    result.metadata["exposure_scale"] = float(lock.exposure_scale)
    return result


def run_shot(job: ShotJob, on_frame: Callable[[int, Path, Any, float], None] | None = None,
             on_error: Callable[[int, str], None] | None = None) -> ShotReport:
    """Run a shot job; see the module doc.  Raises SingleHDRError only for
    problems of the whole run (bad sidecar, unreadable lock frames...)."""
    t_start = time.perf_counter()
    report = ShotReport(frames=list(job.frames))
    opts = job.options
    model_id = model_id_for(opts)
    lock, wrote = resolve_lock(job, model_id)
    report.lock, report.sidecar_written = lock, wrote
    report.sidecar = job.sidecar if (lock is not None and not lock.is_empty and job.sidecar is not None
                                     and job.sidecar.exists()) else None
    report.lock_seconds = time.perf_counter() - t_start
    lock_id = lock.id if lock is not None and not lock.is_empty else None

    todo: list[int] = []
    rewrite: set[int] = set()
    for f in job.frames:
        out = job.outputs[f]
        if job.skip_existing:
            state = output_state(out, lock_id)
            if state == "valid":
                report.skipped.append(f)
                continue
            if state in ("invalid", "stale"):
                rewrite.add(f)
        todo.append(f)
    report.recomputed = sorted(rewrite)

    inputs = sorted({job.source.input_path(f) for f in job.frames})
    q_in: queue.Queue = queue.Queue(maxsize=max(1, job.depth))
    q_out: queue.Queue = queue.Queue(maxsize=max(1, job.depth))
    stop = threading.Event()
    lock_attrs = {} if lock_id is None else {LOCK_ATTRIBUTE: lock_id}

    def put(q: queue.Queue, item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def decoder() -> None:
        try:
            for f, ldr, err in job.source.iter_frames(todo):
                if not put(q_in, (f, ldr, err)):
                    return
        except BaseException as exc:  # the source itself broke: fail what is left
            put(q_in, (None, None, exc))
        finally:
            put(q_in, _END)

    def fail(f: int, exc: BaseException | str) -> None:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if not isinstance(exc, (SingleHDRError, str)):
            msg = f"{type(exc).__name__}: {msg}"
        report.failed[f] = msg
        if on_error:
            on_error(f, msg)

    def writer() -> None:
        from ..io import write_result
        from ..colour import fits_half

        while True:
            item = q_out.get()
            if item is _END:
                return
            f, result, t0 = item
            out = job.outputs[f]
            try:
                half = job.half
                if half is None:
                    half = fits_half(result.hdr_linear)
                attrs: dict[str, Any] = dict(lock_attrs)
                attrs[FRAME_ATTRIBUTE] = int(f)
                write_result(out, result, half=half, compression=job.compression,
                             overwrite=job.overwrite or f in rewrite, inputs=inputs, attributes=attrs)
            except Exception as exc:
                fail(f, exc)
                continue
            report.done.append(f)
            if on_frame:
                on_frame(f, out, result, time.perf_counter() - t0)

    threads = [threading.Thread(target=decoder, name="shot-decode", daemon=True),
               threading.Thread(target=writer, name="shot-write", daemon=True)]
    for t in threads:
        t.start()
    interrupted = False
    try:
        while True:
            item = q_in.get()
            if item is _END:
                break
            f, ldr, err = item
            if f is None:  # the source failed as a whole
                for g in todo:
                    if g not in report.done and g not in report.failed:
                        fail(g, err)
                break
            if err is not None:
                fail(f, err)
                continue
            t0 = time.perf_counter()
            try:
                result = reconstruct_frame(ldr, opts, lock)
            except Exception as exc:
                fail(f, exc)
                continue
            del ldr
            q_out.put((f, result, t0))
    except BaseException:
        interrupted = True
        raise
    finally:
        if interrupted:  # the writer finishes the frame it holds; queued ones are dropped
            while True:
                try:
                    q_out.get_nowait()
                except queue.Empty:
                    break
        q_out.put(_END)
        threads[1].join()
        stop.set()  # unblocks the decoder
        threads[0].join(timeout=5)
    report.done.sort()
    report.seconds = time.perf_counter() - t_start
    return report

