"""CLI side of brackets and RAW, dispatched from ``singlehdr reconstruct``.

    singlehdr reconstruct --brackets a.jpg b.jpg c.jpg -o out.exr            # EXIF exposure times
    singlehdr reconstruct --brackets shots/ --ev=-2,0,2 -o out.exr            # a folder, exposure values given
    singlehdr reconstruct --brackets pano.####.jpg --fill none -o merged.exr  # a sequence; no networks
    singlehdr reconstruct IMG_0001.dng -o out.exr                             # a RAW file (rawpy)
    singlehdr envmap --brackets a.jpg b.jpg c.jpg -o env.exr                  # the same flags for envmap
    singlehdr envmap pano.dng -o env.exr

:func:`add_arguments` adds the flags to the reconstruct parser;
:func:`wants` says whether a parsed command is ours; :func:`run` runs it
through :func:`singlehdr.merge.reconstruct_brackets` / ``reconstruct_raw``;
:func:`envmap_input` turns ``singlehdr envmap``'s parsed inputs into what
:func:`singlehdr.envmap.make_envmap` takes (brackets list, RAW path or image)
and its :class:`MergeOptions`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..errors import SingleHDRError
from .brackets import FILLS
from .combine import MERGES
from .response import RESPONSES


def _ev_list(values: list[str] | None) -> tuple[float, ...] | None:
    if not values:
        return None
    out = []
    for v in values:
        for part in str(v).replace(",", " ").split():
            try:
                out.append(float(part))
            except ValueError:
                raise SingleHDRError(f"--ev takes numbers of stops, e.g. --ev -2,0,2; got {part!r}") from None
    return tuple(out)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The bracket / RAW flags of ``singlehdr reconstruct``."""
    g = p.add_argument_group("brackets and RAW", "several exposures of one scene, or camera RAW / DNG files")
    g.add_argument("--brackets", action="store_true",
                   help="the INPUTs (files, a folder or a sequence) are exposure brackets of one scene: merge them "
                        "into one HDR; the networks fill only what the darkest frame still clips")
    g.add_argument("--ev", nargs="+", default=None, metavar="EV",
                   help="exposure value of each bracket in stops, in input order (e.g. --ev=-2,0,2, "
                        "or --ev -2 0 2 after the inputs); default: EXIF")
    g.add_argument("--response", choices=RESPONSES, default="auto",
                   help="camera response: auto (default: one curve fitted to the brackets, or sRGB when the fit does not "
                        "make the frames agree clearly better); emor (always the fitted curve); "
                        "debevec; robertson; or known (srgb, linear)")
    g.add_argument("--merge", choices=MERGES, default="weighted",
                   help="merge: weighted (default, rejects ghosts), debevec or robertson (OpenCV)")
    g.add_argument("--no-align", dest="align", action="store_false", help="do not align the brackets (tripod shots)")
    g.add_argument("--no-ghost", dest="ghost", action="store_false", help="keep moving objects (no ghost rejection)")
    g.add_argument("--fill", choices=FILLS, default="networks",
                   help="what fills the still-clipped region: networks (default, --method's) or none (the merge's lower bound)")
    g.add_argument("--raw-half", action="store_true",
                   help="RAW: one pixel per 2x2 Bayer quad (half size, no demosaic)")


def wants(args: argparse.Namespace) -> bool:
    """True when ``reconstruct`` should run here: --brackets, --ev (an error without --brackets), or any RAW input."""
    from ..io.raw import is_raw_path

    return bool(getattr(args, "brackets", False) or getattr(args, "ev", None)) or any(is_raw_path(i) for i in args.inputs)


def run(args: argparse.Namespace) -> int:
    """``singlehdr reconstruct`` for brackets or RAW files (one output per bracket set / per RAW)."""
    import numpy as np

    from ..commands import summary_line
    from ..io import write_result
    from ..io.atomic import check_output_path
    from ..colour import fits_half
    from ..io.raw import is_raw_path
    from ..io.sequence import expand_inputs, output_paths
    from ..options import options_from_args
    from .brackets import MergeOptions, reconstruct_brackets, reconstruct_raw

    items = expand_inputs(args.inputs, args.frames)
    fmt = args.format or ("hdr" if Path(args.output).suffix.lower() == ".hdr" else "exr")
    ext = "." + fmt
    sources = [it.path for it in items]
    options = options_from_args(args)  # every reconstruction option the command line has (one builder)
    if args.brackets:
        outs = [Path(args.output)]
        if outs[0].suffix.lower() != ext or outs[0].is_dir():
            raise SingleHDRError(f"--brackets writes one HDR file; name it like merged{ext}")
        jobs = [("brackets", sources, outs[0])]
    else:
        if args.ev:
            raise SingleHDRError("--ev applies to --brackets only; add --brackets to merge the inputs as exposures")
        raws = [s for s in sources if is_raw_path(s)]
        if len(raws) != len(sources):
            raise SingleHDRError("RAW files and other images cannot be mixed in one run; reconstruct them separately "
                                 "(or pass --brackets to merge exposures)")
        outs = output_paths(items, args.output, ext)
        jobs = [("raw", [s], o) for s, o in zip(sources, outs)]
    for _, _, out in jobs:
        check_output_path(out, overwrite=args.overwrite, inputs=sources)
        if out.suffix.lower() != ext:
            raise SingleHDRError(f"output {out} does not end in {ext}; name it {out.with_suffix(ext).name} or pass --format")
    mo = None
    if args.brackets:
        mo = MergeOptions(ev=_ev_list(args.ev), align=args.align, response=args.response, merge=args.merge,
                          ghost=args.ghost, fill=args.fill)
    for kind, srcs, out in jobs:
        t0 = time.perf_counter()
        if kind == "brackets":
            result = reconstruct_brackets(srcs, options, mo, max_pixels=args.max_pixels)
        else:
            result = reconstruct_raw(srcs[0], options, fill=args.fill, max_pixels=args.max_pixels, half_size=args.raw_half)
        half = args.half
        if half is None:
            half = fits_half(result.hdr_linear)
        write_result(out, result, half=half, compression=args.compression, overwrite=args.overwrite, inputs=sources)
        if not args.quiet:
            extra = f"  {result.metadata.get('brackets', 1)} frames" if kind == "brackets" else "  RAW"
            extra += f"  still clipped {100 * result.metadata.get('clipped_fraction', 0.0):.2f} %"
            print(summary_line(out, result.hdr_linear, time.perf_counter() - t0) + extra)
    return 0


def envmap_input(args: argparse.Namespace) -> tuple[Any, Any, list[str]]:
    """``singlehdr envmap``'s input: (what make_envmap takes, the MergeOptions or None, the input paths).

    args.input (one positional) and args.more (further positionals, brackets
    only); --brackets expands files, folders and sequence patterns; a RAW
    input (by extension) without --brackets is read as RAW.  One clear line
    (SingleHDRError) for several images without --brackets, --ev without
    --brackets, and RAW files among brackets.
    """
    from ..io.raw import is_raw_path
    from ..io.sequence import expand_inputs
    from .brackets import MergeOptions

    inputs = [str(args.input)] + [str(m) for m in (getattr(args, "more", None) or [])]
    if not getattr(args, "brackets", False):
        if getattr(args, "ev", None):
            raise SingleHDRError("--ev applies to --brackets only; add --brackets to merge the inputs as exposures")
        if len(inputs) > 1:
            raise SingleHDRError(f"singlehdr envmap makes one map from one image but got {len(inputs)} inputs; "
                                 "pass --brackets to merge them as exposures of one scene")
        if is_raw_path(inputs[0]):
            return inputs[0], MergeOptions(fill=args.fill, raw_half=args.raw_half), inputs
        return inputs[0], None, inputs
    sources = [str(it.path) for it in expand_inputs(inputs, None)]
    raws = [s for s in sources if is_raw_path(s)]
    if raws:
        raise SingleHDRError(f"--brackets merges LDR frames (JPEG, PNG, TIFF); {Path(raws[0]).name} is a camera RAW: "
                             "pass one RAW without --brackets (its 12-14 bits already hold the brackets' range)")
    mo = MergeOptions(ev=_ev_list(args.ev), align=args.align, response=args.response, merge=args.merge,
                      ghost=args.ghost, fill=args.fill)
    return sources, mo, sources
