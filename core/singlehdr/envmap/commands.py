"""``singlehdr envmap``: one LDR image -> an HDR equirect environment map (+ cube faces, preview, report).

    singlehdr envmap INPUT -o env.exr [--kind auto|equirect|ball|photo] [--width 1024]
        [--ball cx,cy,r] [--fov DEG --yaw DEG --pitch DEG]
        [--method M --model M --device D --precision P --tile N --exposure relative|absolute|median
         --exposure-target Y --colorspace CS ... (the reconstruct options, from ReconstructOptions)]
        [--sun auto|on|off] [--sun-intensity E] [--inject-sun (= --sun on)]
        [--cubemap] [--preview sheet.png] [--report light.json] [--without-sun env_nosun.exr] [--overwrite]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import SingleHDRError
from ..choices import ENVMAP_KINDS, SUN_MODES
from ..options import add_reconstruct_arguments

# ReconstructOptions fields without an envmap option, and why
NOT_FOR_ENVMAP = {"input_kind": "the map's geometry is --kind; make_envmap sets the input kind from it"}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "envmap",
        help="make an HDR environment map (equirect EXR) from a 360 photo, chrome-ball shot or ordinary photo",
        description="Reconstruct HDR from one LDR image and turn it into an equirectangular environment map for "
        "image-based lighting (Y up, -Z forward at the image centre; loads in Blender's Environment Texture "
        "with no rotation). Unseen parts are filled and marked 0 in the alpha channel.",
    )
    p.add_argument("input", help="the LDR image (JPEG/PNG/TIFF/HEIC ...), a camera RAW / DNG, or with --brackets the first bracket")
    p.add_argument("more", nargs="*", metavar="BRACKET", help="with --brackets: the other exposures (or give a folder / sequence)")
    p.add_argument("-o", "--output", required=True, help="the equirect map to write (.exr or .hdr)")
    p.add_argument("--kind", choices=ENVMAP_KINDS, default="auto",
                   help="input geometry (default auto: GPano XMP or 2:1 -> equirect, a found circle -> ball, else photo)")
    p.add_argument("--width", type=int, default=1024, help="output width in pixels; height = width / 2 (default 1024)")
    p.add_argument("--ball", default=None, metavar="CX,CY,R", help="chrome ball circle in input pixels (default: found automatically)")
    p.add_argument("--ball-reflectance", type=float, default=1.0, help="mirror ball reflectance (chrome ~0.65; default 1.0)")
    p.add_argument("--fov", type=float, default=None, help="photo's horizontal field of view in degrees (default: from EXIF FocalLengthIn35mmFilm)")
    p.add_argument("--yaw", type=float, default=None, help="photo's viewing direction, degrees to the right of the map centre (default 0, said so)")
    p.add_argument("--pitch", type=float, default=None, help="photo's viewing direction, degrees above the horizon (default 0, said so)")
    add_reconstruct_arguments(p, exclude=tuple(NOT_FOR_ENVMAP))  # the reconstruction: as in reconstruct
    p.add_argument("--sun", choices=SUN_MODES, default=None,
                   help="recover a clipped sun as a 0.53 degree disc sized by a clear-sky fit: auto (default: only when "
                        "confident), on (whenever a sun-like clipped light is found), off")
    p.add_argument("--inject-sun", action="store_true", help="the same as --sun on (kept for old scripts)")
    p.add_argument("--sun-intensity", type=float, default=None,
                   help="override the sun's irradiance at normal incidence (luminance, map units x sr); implies --sun on "
                        "unless --sun is given")
    p.add_argument("--cubemap", action="store_true", help="also write six cube faces <stem>_px/nx/py/ny/pz/nz (OpenGL orientation)")
    p.add_argument("--preview", default=None, metavar="PNG", help="write a preview sheet (tone map, brackets, false colour, spheres)")
    p.add_argument("--without-sun", default=None, metavar="EXR",
                   help="also write the map with the recovered sun disc painted out (for a separate sun lamp of the "
                        "report's sun irradiance_rgb); the map itself when no sun was added")
    p.add_argument("--report", default=None, metavar="JSON", help="write the lighting analysis (light direction, SH9, sun) as JSON")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    from ..merge.commands import add_arguments as add_merge_arguments

    add_merge_arguments(p)  # --brackets, --ev, ... and RAW inputs: singlehdr.merge
    p.set_defaults(func=run)


def _options(args: argparse.Namespace):  # noqa: ANN202
    from ..options import options_from_args
    from .detect import parse_ball
    from .make import EnvmapOptions

    exposure_target = args.exposure_target
    if args.exposure == "median" and exposure_target is None:
        exposure_target = 0.18
    rec = options_from_args(args, exposure_target=exposure_target)
    ball = None
    if args.ball:
        c = parse_ball(args.ball)
        ball = (c.cx, c.cy, c.r)
    return EnvmapOptions(kind=args.kind, width=args.width, reconstruct=rec, ball=ball, ball_reflectance=args.ball_reflectance,
                         fov=args.fov, yaw=args.yaw, pitch=args.pitch, sun=_sun_mode(args),
                         sun_intensity=args.sun_intensity)


def _sun_mode(args: argparse.Namespace) -> str:
    if args.inject_sun and args.sun not in (None, "on"):
        raise SingleHDRError(f"--inject-sun means --sun on; it contradicts --sun {args.sun}")
    if args.sun is not None:
        return args.sun
    if args.inject_sun or args.sun_intensity is not None:
        return "on"
    return "auto"


def run(args: argparse.Namespace) -> int:
    from ..io.atomic import check_output_path
    from .make import make_envmap
    from .output import cube_paths, write_envmap

    if args.sun_intensity is not None and args.sun == "off":
        raise SingleHDRError("--sun-intensity sizes the sun, but --sun off adds none; drop one of them")
    from ..merge.commands import envmap_input

    opts = _options(args)
    image, merge_options, inputs = envmap_input(args)  # one image, brackets or a RAW
    if merge_options is not None:
        opts = opts.replace(merge=merge_options)
    # fail before the (slow) reconstruction if an output is not writable
    outs = [args.output] + ([str(q) for q in cube_paths(args.output).values()] if args.cubemap else [])
    outs += [x for x in (args.preview, args.report, args.without_sun) if x]
    for o in outs:
        check_output_path(o, overwrite=args.overwrite, inputs=inputs)
    seen: set[str] = set()
    for o in outs:  # two outputs on one file would clobber each other (or fail half-way)
        key = os.path.normcase(os.path.abspath(o))
        if key in seen:
            raise SingleHDRError(f"{o} is named for two outputs; give the map, cube faces, --preview and --report different names")
        seen.add(key)
    if args.preview and Path(args.preview).suffix.lower() not in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"):
        raise SingleHDRError(f"cannot write the preview as {Path(args.preview).suffix or 'an extension-less file'}; "
                             "use .png, .jpg, .tif or .webp")
    result = make_envmap(image, opts)
    written = write_envmap(result, args.output, overwrite=args.overwrite, inputs=inputs, cubemap=args.cubemap,
                           preview=args.preview, report=args.report, without_sun=args.without_sun)
    li = result.light
    print(f"wrote {written['envmap']} ({result.hdr_linear.shape[1]}x{result.hdr_linear.shape[0]}, kind {result.kind}, "
          f"exposure {result.reconstruction.metadata.get('exposure_mode')} x{result.scale:.6g})")
    print(f"  dominant light: azimuth {li.azimuth_deg:.1f} deg, elevation {li.elevation_deg:.1f} deg, "
          f"{li.energy_fraction * 100:.1f}% of the energy" + (" (clipped in the input)" if li.clipped else ""))
    if result.sun:
        s = result.sun
        print(f"  sun: azimuth {s['azimuth_deg']:.1f} deg, elevation {s['elevation_deg']:.1f} deg, irradiance "
              f"{s['irradiance_luminance']:.4g}, confidence {s['confidence']:.2f} ({s['method']})")
    for note in result.notes:
        print(f"singlehdr envmap: {note}", file=sys.stderr)
    for k in ("cubemap", "preview", "report", "without_sun"):
        if k in written:
            v = written[k]
            print(f"  {k}: " + (", ".join(str(q) for q in v.values()) if isinstance(v, dict) else str(v)))
    return 0
