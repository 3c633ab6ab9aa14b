"""The main sub-commands: ``reconstruct``, ``info`` and ``preview``.

    singlehdr reconstruct photo.jpg -o photo.exr
    singlehdr reconstruct shots/plate.####.jpg --frames 1001-1100 -o hdr/
    singlehdr info photo.exr
    singlehdr preview photo.exr -o photo.png --exposure -2

Thin over :func:`singlehdr.reconstruct` and :mod:`singlehdr.io`; every user
error is a SingleHDRError (printed as one line by cli.main, exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .errors import SingleHDRError
from .options import add_reconstruct_arguments


def _human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def _max_pixels(text: str) -> int:
    """"200M", "50e6" or "12000000" -> pixels."""
    t = str(text).strip().upper().replace("MP", "M")
    try:
        value = float(t[:-1]) * 1e6 if t.endswith("M") else float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad pixel count {text!r}; use e.g. 300M or 300000000") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--max-pixels must be positive")
    return int(value)


# ------------------------------------------------------------------ reconstruct
def add_reconstruct_parser(sub: argparse._SubParsersAction) -> None:
    from .io.exr import COMPRESSIONS
    from .io.ldr import DEFAULT_MAX_PIXELS

    p = sub.add_parser(
        "reconstruct",
        help="LDR photo(s) in, linear HDR (EXR / .hdr) out",
        description="Reconstruct linear HDR images from LDR photos, plates or 360 panoramas. "
        "INPUT may be files, folders or sequences (plate.####.jpg, plate.%%04d.jpg, plate.1001-1100#.jpg).",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or sequence patterns")
    p.add_argument("-o", "--output", required=True,
                   help="output file (one input) or folder / pattern such as out.####.exr (several inputs)")
    p.add_argument("--frames", default=None, help="frames of a sequence pattern, e.g. 1001-1100, 1001-1100x2, 1,5,9")
    p.add_argument("--format", choices=("exr", "hdr"), default=None,
                   help="output format (default: from the output name, else exr)")
    depth = p.add_mutually_exclusive_group()
    depth.add_argument("--half", dest="half", action="store_const", const=True, default=None,
                       help="16-bit half EXR (default; 32-bit float when values exceed the half range, 65504)")
    depth.add_argument("--float", dest="half", action="store_const", const=False, help="32-bit float EXR")
    p.add_argument("--compression", choices=tuple(COMPRESSIONS), default="zip", help="EXR compression (default zip)")
    add_reconstruct_arguments(p)  # --method ... --highlights: one option per ReconstructOptions field
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (never an input)")
    p.add_argument("--max-pixels", type=_max_pixels, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse larger inputs (default {DEFAULT_MAX_PIXELS // 1_000_000}M)")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-image summary lines")
    from .shot.cli import add_shot_arguments

    add_shot_arguments(p)
    from .merge.commands import add_arguments as add_merge_arguments

    add_merge_arguments(p)  # --brackets, --ev, ... and RAW inputs: singlehdr.merge
    p.set_defaults(func=run_reconstruct)


def summary_line(out: Path, hdr_linear: Any, seconds: float) -> str:
    """'out.exr  1024x512  2.1 MB  peak 38.2  dynamic range 14.3 stops  1.20 s'."""
    from .preview.stats import hdr_stats

    st = hdr_stats(hdr_linear)
    size = _human_size(out.stat().st_size) if out.exists() else "?"
    return (f"{out}  {st['width']}x{st['height']}  {size}  peak {st['peak']:.4g}  "
            f"dynamic range {st['robust_range_stops']:.1f} stops  {seconds:.2f} s")


def run_reconstruct(args: argparse.Namespace) -> int:
    from .merge import commands as merge_commands

    if merge_commands.wants(args):  # exposure brackets or camera RAW files
        return merge_commands.run(args)
    from . import reconstruct
    from .io import read_ldr, write_result
    from .io.atomic import check_output_path
    from .io.sequence import expand_inputs, output_paths
    from .options import options_from_args
    from .shot.cli import is_shot_input, refuse_shot_flags, run_shot_command

    if is_shot_input(args.inputs):  # a sequence pattern or a movie: a shot-locked run (singlehdr.shot)
        return run_shot_command(args)
    refuse_shot_flags(args)
    items = expand_inputs(args.inputs, args.frames)
    fmt = args.format
    if fmt is None:
        suffix = Path(args.output).suffix.lower()
        fmt = "hdr" if suffix == ".hdr" else "exr"
    ext = "." + fmt
    outs = output_paths(items, args.output, ext)
    sources = [it.path for it in items]
    for out in outs:
        check_output_path(out, overwrite=args.overwrite, inputs=sources)
        if out.suffix.lower() != ext:
            raise SingleHDRError(f"output {out} does not end in {ext}; name it {out.with_suffix(ext).name} or pass --format")
    options = options_from_args(args)

    def one(src: Path, out: Path) -> str:
        t0 = time.perf_counter()
        ldr = read_ldr(src, max_pixels=args.max_pixels)
        result = reconstruct(ldr, options)
        half = args.half
        if half is None:  # default: half, unless that would clip (e.g. --exposure absolute in daylight)
            from .colour import fits_half

            half = fits_half(result.hdr_linear)
        write_result(out, result, half=half, compression=args.compression, overwrite=args.overwrite,
                     inputs=sources)
        line = summary_line(out, result.hdr_linear, time.perf_counter() - t0)
        if result.metadata.get("input_kind") == "equirect":
            line += ("\n  360 panorama: the same map as `singlehdr envmap --sun off` at this width; `singlehdr envmap` "
                     "also recovers a clipped sun for lighting")
        return line

    if len(items) > 1:
        return _run_batch(items, outs, one, quiet=args.quiet)
    line = one(items[0].path, outs[0])
    if not args.quiet:
        print(line)
    return 0


def _run_batch(items: list[Any], outs: list[Path], one: Any, *, quiet: bool) -> int:
    """Run ``one(src, out)`` for every input; a bad input does not stop the batch.

    Returns 0 when all succeeded, else 3 after listing every failure (and the
    count of outputs written) on stderr.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    failures: list[tuple[Path, str]] = []
    written = 0
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("reconstructing", total=len(items))
        for it, out in zip(items, outs):
            try:
                line = one(it.path, out)
            except SingleHDRError as exc:
                failures.append((it.path, str(exc)))
                msg = f"error: {it.path}: {exc}"
                progress.console.print(msg, markup=False, highlight=False, soft_wrap=True) \
                    if console.is_terminal else print(msg, file=sys.stderr)
            else:
                written += 1
                if not quiet:
                    progress.console.print(line, markup=False, highlight=False, soft_wrap=True) \
                        if console.is_terminal else print(line)
            progress.advance(task)
    if not failures:
        return 0
    print(f"error: {len(failures)} of {len(items)} inputs failed; {written} outputs written. Failed:", file=sys.stderr)
    for src, msg in failures:
        print(f"  {src}: {msg}", file=sys.stderr)
    return 3


# ------------------------------------------------------------------ info
def add_info_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="describe an image: size, channels, colour space, luminance, dynamic range",
                       description="Print facts about an LDR or HDR image file.")
    p.add_argument("file", help="an image (EXR, .hdr, JPEG, PNG, TIFF, ...)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--max-pixels", type=_max_pixels, default=None, help="refuse larger files (default 200M)")
    p.set_defaults(func=run_info)


def image_info(path: str | Path, max_pixels: int | None = None) -> dict[str, Any]:
    """Facts about an image file as a plain dict (what ``singlehdr info`` prints)."""
    from .camera.transfer import srgb_to_linear
    from .io import read_hdr, read_ldr
    from .io.ldr import DEFAULT_MAX_PIXELS, FORMAT_NAMES, check_format
    from .preview.stats import clipped_fraction, hdr_stats

    p = Path(path)
    cap = max_pixels or DEFAULT_MAX_PIXELS
    fmt = check_format(p, tuple(FORMAT_NAMES))
    info: dict[str, Any] = {"file": str(p), "format": FORMAT_NAMES.get(fmt, fmt), "bytes": p.stat().st_size}
    if fmt in ("exr", "radiance"):
        hdr, meta = read_hdr(p, max_pixels=cap, allow_nonfinite=True)
        info.update(
            kind="hdr", width=meta["width"], height=meta["height"], channels=meta["channels"],
            pixel_type=meta["pixel_type"], compression=meta["compression"], colorspace=meta["colorspace"] or "unknown",
            alpha=meta["alpha"] is not None,
        )
        info["attributes"] = {k: v for k, v in meta["attributes"].items() if str(k).startswith("singlehdr:")}
        st = hdr_stats(hdr)
    else:
        ldr = read_ldr(p, max_pixels=cap)
        h, w = ldr.shape
        info.update(kind="ldr", width=w, height=h, channels=["R", "G", "B"] + (["A"] if ldr.alpha is not None else []),
                    pixel_type=f"uint{ldr.bit_depth}", bit_depth=ldr.bit_depth, transfer=ldr.transfer,
                    alpha=ldr.alpha is not None)
        info["clipped_fraction"] = clipped_fraction(ldr.pixels, ldr.bit_depth)
        if ldr.exif:
            info["exif"] = ldr.exif
        if ldr.xmp:
            info["xmp"] = ldr.xmp
        st = hdr_stats(srgb_to_linear(ldr.pixels))
    for key in ("min_luminance", "median_luminance", "max_luminance", "peak", "dynamic_range_stops",
                "robust_range_stops", "nonfinite", "negative_fraction"):
        info[key] = st[key]
    return info


def format_info(info: dict[str, Any]) -> str:
    """The text form of :func:`image_info`."""
    lines = [
        f"file:           {info['file']}",
        f"format:         {info['format']} ({_human_size(info['bytes'])})",
        f"resolution:     {info['width']} x {info['height']} ({info['width'] * info['height'] / 1e6:.2f} MP)",
        f"channels:       {', '.join(info['channels'])}",
        f"pixel type:     {info['pixel_type']}",
    ]
    if info["kind"] == "hdr":
        lines += [f"compression:    {info['compression']}", f"colour space:   {info['colorspace']}"]
    else:
        lines += [f"transfer:       {info['transfer']}", f"clipped:        {100 * info['clipped_fraction']:.2f} % of pixels"]
    lines += [
        f"luminance:      min {info['min_luminance']:.4g}  median {info['median_luminance']:.4g}  max {info['max_luminance']:.4g}"
        + ("  (linearised from sRGB)" if info["kind"] == "ldr" else ""),
        f"dynamic range:  {info['dynamic_range_stops']:.1f} stops (0.1-99.9 %: {info['robust_range_stops']:.1f} stops)",
    ]
    if info.get("nonfinite"):
        lines.append(f"WARNING:        {info['nonfinite']} pixels are NaN or Inf")
    extra = [(k, v) for k, v in (info.get("attributes") or {}).items()]
    extra += [("exif " + k, v) for k, v in (info.get("exif") or {}).items()]
    extra += list((info.get("xmp") or {}).items())
    width = max([16] + [len(k) + 2 for k, _ in extra])
    for key, val in extra:
        lines.append(f"{key + ':':<{width}}{val}")
    return "\n".join(lines)


def run_info(args: argparse.Namespace) -> int:
    info = image_info(args.file, args.max_pixels)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
    else:
        print(format_info(info))
    return 0


# ------------------------------------------------------------------ preview
def add_preview_parser(sub: argparse._SubParsersAction) -> None:
    from .preview import OPERATORS

    p = sub.add_parser("preview", help="tone-mapped PNG/JPEG preview of an HDR image",
                       description="Write a tone-mapped (or false-colour) preview of an EXR / .hdr image.")
    p.add_argument("file", help="the HDR image (EXR or .hdr)")
    p.add_argument("-o", "--output", required=True, help="the PNG or JPEG to write")
    p.add_argument("--exposure", default="0", help="exposure in EV stops, or 'auto' (default 0)")
    p.add_argument("--operator", choices=OPERATORS, default="reinhard", help="tone-map operator (default reinhard)")
    p.add_argument("--false-colour", "--false-color", dest="false_colour", action="store_true",
                   help="false-colour luminance in stops with a legend instead of a tone map")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.set_defaults(func=run_preview)


def run_preview(args: argparse.Namespace) -> int:
    from .io import read_hdr
    from .preview import auto_exposure, write_preview

    hdr, meta = read_hdr(args.file)
    if meta.get("colorspace") not in (None, "lin_rec709"):
        from .io.colorspace import convert_linear

        hdr = convert_linear(hdr, meta["colorspace"], "lin_rec709")
    if str(args.exposure).lower() == "auto":
        ev = auto_exposure(hdr)
    else:
        try:
            ev = float(args.exposure)
        except ValueError:
            raise SingleHDRError(f"--exposure must be a number of stops or 'auto', got {args.exposure!r}") from None
        if ev != ev or abs(ev) == float("inf"):
            raise SingleHDRError(f"--exposure must be a finite number of stops or 'auto', got {args.exposure!r}")
    out = write_preview(args.output, hdr, ev, args.operator, false_colour_map=args.false_colour,
                        overwrite=args.overwrite, inputs=[args.file])
    print(f"{out}  exposure {ev:+.2f} EV  {'false colour' if args.false_colour else args.operator}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``reconstruct``, ``info`` and ``preview`` to the ``singlehdr`` CLI."""
    add_reconstruct_parser(subparsers)
    add_info_parser(subparsers)
    add_preview_parser(subparsers)


if __name__ == "__main__":  # pragma: no cover
    from .cli import main

    sys.exit(main())
