"""ReconstructOptions: the one frozen dataclass every caller passes.

Its fields also define the command line: each field with CLI meaning carries
``metadata["cli"]`` (flag, help, choices, type), and
:func:`add_reconstruct_arguments` / :func:`options_from_args` turn that into
argparse options and back, for every command (reconstruct, envmap, evaluate,
train).  The choice lists live in :mod:`singlehdr.choices` (imports nothing),
which the Blender and Nuke menus use too.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from typing import Any, Callable, Iterable

from .choices import (  # noqa: F401 (re-exported: callers import the lists from here)
    COLORSPACES,
    DEVICES,
    EXPOSURE_MODES,
    HIGHLIGHTS,
    INPUT_KINDS,
    LINEARIZATIONS,
    METHODS,
    METHODS_CLASSICAL,
    METHODS_NETWORK,
    PRECISIONS,
    RESIZE_MODES,
)
from .errors import SingleHDRError

_CUDA_INDEX = re.compile(r"cuda:\d+")


def parse_device(text: str) -> str:
    """argparse type of --device: auto, cpu, cuda, cuda:N or mps (case-insensitive)."""
    t = str(text).strip().lower()
    if t in DEVICES or _CUDA_INDEX.fullmatch(t):
        return t
    raise argparse.ArgumentTypeError(f"unknown device {text!r}; choose {', '.join(DEVICES[:-1])}, cuda:N or {DEVICES[-1]}")


def parse_tile(text: str) -> int | None:
    """argparse type of --tile: a number of pixels, 0 (off) or auto."""
    if str(text).lower() in ("auto", "none"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad tile size {text!r}; use a number of pixels, 0 (off) or auto") from None


def _cli(help: str, *, choices: tuple[str, ...] | None = None, type: Callable[[str], Any] | None = None,
         metavar: str | None = None, hidden: bool = False) -> dict[str, Any]:
    """metadata["cli"] of a field: what its command-line option looks like (flag = --field-name)."""
    return {"cli": {"help": help, "choices": choices, "type": type, "metavar": metavar, "hidden": hidden}}


def _opt(default: Any, help: str, **cli: Any) -> Any:
    return field(default=default, metadata=_cli(help, **cli))


@dataclass(frozen=True)
class ReconstructOptions:
    """How to reconstruct.  All fields have safe defaults.

    method: "singlehdr" (the networks) or a training-free operator
        ("inverse-srgb", "akyuz", "kovaleski").
    model: path to a .safetensors model; None = the shipped default model.
    device: "auto" picks cuda, then mps, then cpu; "cuda:N" picks GPU N.
    precision: "auto" = bf16 autocast on CUDA when supported, fp32 elsewhere.
    tile: tile edge in pixels for the convolutional nets; None = chosen from
        free memory, 0 = never tile.
    tile_overlap: overlap between tiles in pixels (blended smoothly).
    input_kind: "equirect" wraps horizontally so the 360 seam stays
        continuous; "auto" treats 2:1 images as equirect.
    resize_mode: "pad" (ours: pad to the nets' multiple) or "reference"
        (the authors' bicubic resize to a multiple of 64, for comparisons).
    exposure: "relative" (LDR white = 1.0), "absolute" (EXIF EV100 -> cd/m^2),
        or "median" (scale so the median luminance equals exposure_target).
    exposure_target: the target for "median" mode.
    colorspace: output colour space key (see singlehdr.io.colorspace).
    linearization: how the input is linearised: "model" (what the model file
        says; the shipped default: the sRGB prior), "learned" (the paper's
        Linearization-Net curve per image), "srgb" (the exact inverse sRGB
        curve), "gated" (learned only when trained and confident, else sRGB).
    highlights: "model" (what the model file says; the shipped default:
        colour), "network" (the network's output as is) or "colour"
        (luminance from the network, hue from the unclipped rim).

    Each field's ``metadata["cli"]`` describes its command-line option
    (see :func:`add_reconstruct_arguments`).
    """

    method: str = _opt("singlehdr", "'singlehdr' (the networks, default) or a training-free operator",
                       choices=METHODS)
    model: str | None = _opt(None, "model .safetensors (default: the shipped model)", metavar="MODEL")
    device: str = _opt("auto", "compute device: auto (default), cpu, cuda, cuda:N (one GPU of several), mps",
                       type=parse_device)
    precision: str = _opt("auto", "network precision (default auto)", choices=PRECISIONS)
    tile: int | None = _opt(None, "tile edge in pixels, 0 = never tile, auto (default)", type=parse_tile)
    tile_overlap: int = _opt(64, "tile overlap in pixels (default 64)", type=int)
    input_kind: str = _opt("auto", "'equirect' keeps the 360 seam continuous; auto treats 2:1 images as equirect",
                           choices=INPUT_KINDS)
    resize_mode: str = _opt("pad", "pad (default) or the authors' bicubic 'reference' resize", choices=RESIZE_MODES,
                            hidden=True)
    exposure: str = _opt("relative", "relative (LDR white = 1.0, default), absolute (EXIF -> cd/m^2) or median",
                         choices=EXPOSURE_MODES)
    exposure_target: float | None = _opt(None, "target median luminance for --exposure median (default 0.18)",
                                         type=float)
    colorspace: str = _opt("lin_rec709", "output colour space (default lin_rec709)", choices=COLORSPACES)
    linearization: str = _opt("model", "how the photo is linearised: model (what the model file says, default), "
                              "learned (the paper's per-image curve), srgb, gated", choices=LINEARIZATIONS)
    highlights: str = _opt("model", "clipped highlights: model (what the model file says, default), network "
                           "(the network as is) or colour (hue from the unclipped rim)", choices=HIGHLIGHTS)

    def __post_init__(self) -> None:
        def check(name: str, value: Any, allowed: tuple[str, ...]) -> None:
            if value not in allowed:
                raise SingleHDRError(f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}")

        check("method", self.method, METHODS)
        if not (isinstance(self.device, str) and _CUDA_INDEX.fullmatch(self.device)):  # cuda:N = one GPU of several
            check("device", self.device, DEVICES)
        check("precision", self.precision, PRECISIONS)
        check("input kind", self.input_kind, INPUT_KINDS)
        check("resize mode", self.resize_mode, RESIZE_MODES)
        check("exposure mode", self.exposure, EXPOSURE_MODES)
        check("linearization", self.linearization, LINEARIZATIONS)
        check("highlights", self.highlights, HIGHLIGHTS)
        if self.tile is not None and (self.tile < 0 or (0 < self.tile < 128)):
            raise SingleHDRError(f"tile size must be 0 (off) or at least 128 pixels, got {self.tile}")
        if self.tile_overlap < 0:
            raise SingleHDRError(f"tile overlap must be >= 0, got {self.tile_overlap}")
        # None = the default target (0.18, see singlehdr.exposure.exposure_scale)
        if self.exposure == "median" and self.exposure_target is not None and not self.exposure_target > 0:
            raise SingleHDRError("exposure mode 'median' needs a positive exposure target")
        check("colour space", self.colorspace, COLORSPACES)

    def replace(self, **changes: Any) -> "ReconstructOptions":
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# ---------------------------------------------------------------------------- the command line


def cli_fields() -> tuple[Field, ...]:
    """The ReconstructOptions fields that have a command-line option, in declaration order."""
    return tuple(f for f in fields(ReconstructOptions) if "cli" in f.metadata)


def cli_flag(name: str) -> str:
    """'tile_overlap' -> '--tile-overlap'."""
    return "--" + name.replace("_", "-")


def add_reconstruct_arguments(
    parser: argparse.ArgumentParser | Any,
    include: Iterable[str] | None = None,
    *,
    exclude: Iterable[str] = (),
    changes: dict[str, dict[str, Any]] | None = None,
) -> list[argparse.Action]:
    """Add the options of ReconstructOptions' fields to ``parser`` (or an argument group).

    include: field names (default: every field with CLI meaning); exclude:
    names to leave out.  The flag is --field-name, the default the field's,
    help/choices/type from the field's ``metadata["cli"]``.  changes: per
    field, argparse keywords that differ in this command (e.g. train's
    devices without cuda:N).  Returns the actions added.
    """
    by_name = {f.name: f for f in cli_fields()}
    names = list(by_name) if include is None else list(include)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"ReconstructOptions has no command-line field {unknown[0]!r}")
    skip = set(exclude)
    actions = []
    for name in names:
        if name in skip:
            continue
        f = by_name[name]
        cli = f.metadata["cli"]
        kwargs: dict[str, Any] = {"dest": name, "default": f.default if f.default is not MISSING else None,
                                  "help": argparse.SUPPRESS if cli["hidden"] else cli["help"]}
        for key in ("choices", "type", "metavar"):
            if cli[key] is not None:
                kwargs[key] = cli[key]
        kwargs.update((changes or {}).get(name, {}))
        actions.append(parser.add_argument(cli_flag(name), **kwargs))
    return actions


def options_from_args(args: argparse.Namespace, **changes: Any) -> ReconstructOptions:
    """The ReconstructOptions of parsed arguments: each CLI field the namespace has (others keep
    their defaults), then ``changes``.  Invalid combinations raise SingleHDRError (one line, exit 2)."""
    values = {f.name: getattr(args, f.name) for f in cli_fields() if hasattr(args, f.name)}
    values.update(changes)
    return ReconstructOptions(**values)
