"""The ``reconstruct`` command's sequence / movie mode (flags in singlehdr.commands).

    singlehdr reconstruct plate.####.jpg --frames 1001-1100 -o out/plate.####.exr
    singlehdr reconstruct plate.####.jpg --frames 1001-1100 --chunk 3/10 --skip-existing --json -o out/plate.####.exr
    singlehdr reconstruct clip.mov -o out/clip.####.exr

Exit status: 0 every frame done (or kept), 2 a user error before any frame
(printed as one line), 3 some frames failed (listed on stderr and in --json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import SingleHDRError

#: Flags that only make sense for a sequence or movie run (their argparse defaults).
SHOT_FLAGS = {"chunk": None, "skip_existing": False, "json": False, "crf_from": None,
              "crf_reference_frame": None, "per_frame": False, "crf_samples": None, "first_frame": None,
              "lock_only": False}


def add_shot_arguments(p: argparse.ArgumentParser) -> None:
    """The sequence / farm flags of ``singlehdr reconstruct``."""
    g = p.add_argument_group("sequences, movies and render farms (one sequence pattern or movie as INPUT)")
    g.add_argument("--chunk", default=None, metavar="K/N",
                   help="process only part K of N of the frames (contiguous; the N parts cover every frame once)")
    g.add_argument("--skip-existing", action="store_true",
                   help="keep outputs that are complete and made with the same shot lock; redo invalid or partial ones")
    g.add_argument("--json", action="store_true",
                   help="print a JSON summary (done, skipped, failed frames, sidecar) on stdout; frame lines go to stderr")
    lock = g.add_mutually_exclusive_group()
    lock.add_argument("--crf-from", default=None, metavar="SIDECAR.json",
                      help="take the camera response from this sidecar (e.g. another shot of the same camera)")
    lock.add_argument("--crf-reference-frame", type=int, default=None, metavar="N",
                      help="lock the shot to the camera response estimated on frame N")
    lock.add_argument("--per-frame", action="store_true",
                      help="no shot lock: estimate the camera response on every frame (flickers; for comparison)")
    g.add_argument("--crf-samples", type=int, default=None, metavar="K",
                   help="frames sampled over the shot for the pooled camera response (default 8)")
    g.add_argument("--first-frame", type=int, default=None, metavar="N",
                   help="number of a movie's first frame (default 1)")
    g.add_argument("--lock-only", action="store_true",
                   help="only estimate the shot lock and write the sidecar (a farm job's first task); no frames")


def is_shot_input(inputs: list[str]) -> bool:
    """One input that is a sequence pattern (not an existing file/folder) or a movie file."""
    from ..io.sequence import parse_pattern
    from .source import is_movie

    if len(inputs) != 1:
        return False
    p = Path(inputs[0])
    if p.is_dir():
        return False
    if p.exists():
        return is_movie(p)
    return is_movie(p) or parse_pattern(inputs[0]) is not None


def refuse_shot_flags(args: argparse.Namespace) -> None:
    """SingleHDRError when a sequence-only flag is given for other inputs."""
    used = [k for k, default in SHOT_FLAGS.items() if getattr(args, k, default) not in (default,)]
    if used:
        flag = "--" + used[0].replace("_", "-")
        raise SingleHDRError(f"{flag} works on one sequence (plate.####.jpg) or movie input; give one of those")


def build_job(args: argparse.Namespace) -> tuple[Any, str | None]:
    """argparse namespace -> (ShotJob, chunk text)."""
    from ..io.sequence import InputItem, SequencePattern, output_path, parse_frames, parse_pattern
    from ..options import options_from_args
    from .chunks import chunk_frames, parse_chunk
    from .lock import DEFAULT_SAMPLES, sidecar_path
    from .run import ShotJob
    from .source import MovieSource, SequenceSource, is_movie

    text = args.inputs[0]
    fmt = args.format or ("hdr" if Path(args.output).suffix.lower() == ".hdr" else "exr")
    ext = "." + fmt
    if is_movie(text):
        if args.first_frame is not None and args.first_frame < 0:
            raise SingleHDRError("--first-frame must be 0 or more")
        source: Any = MovieSource(text, first_frame=args.first_frame or 1, max_pixels=args.max_pixels)
        seq = SequencePattern(source.path.parent, source.path.stem + ".", ext, 4)  # names outputs in folders
        available = source.available_frames()
        embedded = None
    else:
        if args.first_frame is not None:
            raise SingleHDRError("--first-frame is for movie inputs; a sequence keeps its file numbers")
        parsed = parse_pattern(text)
        assert parsed is not None
        seq, embedded = parsed
        source = SequenceSource(seq, max_pixels=args.max_pixels)
        available = source.available_frames()
    if args.frames:
        shot = parse_frames(args.frames)
    elif embedded is not None:
        shot = embedded
    else:
        shot = available
    if not shot:
        raise SingleHDRError(f"no files match the sequence {source.display}")
    on_disk = set(available)
    if not any(f in on_disk for f in shot):
        raise SingleHDRError(f"none of the {len(shot)} requested frames of {source.display} exist "
                             f"(first: {source.input_path(shot[0]).name})")
    chunk_text = None
    frames = shot
    if args.chunk:
        k, n = parse_chunk(args.chunk)
        frames = chunk_frames(shot, k, n)
        chunk_text = f"{k}/{n}"
    out_arg = Path(args.output)
    out_seq = parse_pattern(out_arg) if not out_arg.is_dir() else None
    if out_seq is None and out_arg.suffix.lower() in (".exr", ".hdr"):
        raise SingleHDRError(f"a sequence needs an output folder or a pattern such as {out_arg.stem}.####{out_arg.suffix}, "
                             f"not the file {out_arg}")
    outputs = {f: output_path(InputItem(source.input_path(f), f, seq), args.output, ext, single=False) for f in frames}
    for f, out in outputs.items():
        if out.suffix.lower() != ext:
            raise SingleHDRError(f"output {out} does not end in {ext}; name it {out.with_suffix(ext).name} or pass --format")
    if out_seq is not None:
        side = sidecar_path(out_seq[0].prefix, out_seq[0].folder)
    else:
        side = sidecar_path(seq.prefix, out_arg)
    samples = args.crf_samples if args.crf_samples is not None else DEFAULT_SAMPLES
    if samples < 1:
        raise SingleHDRError("--crf-samples must be at least 1")
    options = options_from_args(args)
    lock_mode = "per-frame" if args.per_frame else ("reference" if args.crf_reference_frame is not None else "pooled")
    job = ShotJob(
        source=source, frames=frames, shot_frames=[f for f in shot if f in on_disk], outputs=outputs, options=options,
        sidecar=side, lock_mode=lock_mode, reference_frame=args.crf_reference_frame, samples=samples,
        crf_from=Path(args.crf_from) if args.crf_from else None, half=args.half, compression=args.compression,
        overwrite=args.overwrite, skip_existing=args.skip_existing,
    )
    return job, chunk_text


def check_outputs(job: Any) -> None:
    """Before any work: refuse outputs that are inputs, and existing ones without --overwrite/--skip-existing."""
    from ..io.atomic import check_output_path

    inputs = sorted({job.source.input_path(f) for f in job.frames})
    for f in job.frames:
        out = job.outputs[f]
        check_output_path(out, overwrite=True, inputs=inputs)
        if out.exists() and not (job.overwrite or job.skip_existing):
            raise SingleHDRError(f"output {out} already exists; pass --skip-existing to keep finished frames "
                                 "(or --overwrite to redo them)")


def lock_only(job: Any, args: argparse.Namespace) -> int:
    """Estimate (or read) the shot lock and write the sidecar; exit 0."""
    from .run import model_id_for, resolve_lock

    if job.lock_mode == "per-frame":
        raise SingleHDRError("--lock-only and --per-frame contradict each other; drop one")
    job.frames = []
    lock, wrote = resolve_lock(job, model_id_for(job.options))
    summary = {"status": "ok", "exit_code": 0, "sidecar": str(job.sidecar) if lock and not lock.is_empty else None,
               "sidecar_written": wrote, "lock": None}
    if lock is None or lock.is_empty:
        summary["sidecar"] = None
    else:
        summary["lock"] = {"id": lock.id, "how": lock.how, "sampled_frames": lock.sampled_frames,
                           "exposure_scale": lock.exposure_scale, "crf_spread": lock.crf_spread}
    if args.json:
        print(json.dumps(summary, indent=1))
    elif not args.quiet:
        if lock is None or lock.is_empty:
            print(f"nothing to lock for method {job.options.method!r} with --exposure {job.options.exposure}")
        else:
            print(f"shot lock {lock.id} ({lock.how}, frames {lock.sampled_frames}) "
                  f"{'written to' if wrote else 'already in'} {job.sidecar}")
    return 0


def run_shot_command(args: argparse.Namespace) -> int:
    from ..commands import summary_line
    from .run import run_shot

    job, chunk = build_job(args)
    if args.lock_only:
        return lock_only(job, args)
    check_outputs(job)
    on_disk = set(job.source.available_frames())
    missing = [f for f in job.frames if f not in on_disk]
    frame_out = sys.stderr if args.json else sys.stdout

    from ..io.native import emit  # these run beside the writer thread's EXR writes (native output captured)

    def on_frame(f: int, out: Path, result: Any, seconds: float) -> None:
        if not args.quiet:
            emit(summary_line(out, result.hdr_linear, seconds), file=frame_out)

    def on_error(f: int, msg: str) -> None:
        emit(f"error: frame {f}: {msg}")

    report = run_shot(job, on_frame=on_frame, on_error=on_error)
    for f in missing:  # the source reports them as failed already; keep the message precise
        report.failed[f] = f"input frame {job.source.input_path(f)} is missing"
    if report.sidecar_written and report.lock is not None and not args.quiet:
        print(f"shot lock {report.lock.id} ({report.lock.how}, frames {report.lock.sampled_frames}) -> {report.sidecar}",
              file=sys.stderr)
    if args.json:
        print(json.dumps(report.as_dict(job, chunk), indent=1))
    if report.failed:
        listed = ", ".join(str(f) for f in sorted(report.failed)[:50])
        more = "" if len(report.failed) <= 50 else f" (+{len(report.failed) - 50} more)"
        print(f"error: {len(report.failed)} of {len(job.frames)} frames failed: {listed}{more}", file=sys.stderr)
    elif not args.quiet and report.skipped:
        print(f"{len(report.skipped)} finished frames kept, {len(report.done)} written", file=sys.stderr)
    return report.exit_code
