"""TorchScript export of the SingleHDR model for Nuke's Inference node.

Nuke's Inference node runs a ``.cat`` file that CatFileCreator makes from a
TorchScript ``.pt``.  Inference hands the model one float tensor (1, C, H, W)
holding the pixels as they are in Nuke's node graph -- that is the Read's
colour-managed *scene-linear* working space -- and expects one tensor back
(Foundry, ".cat File Creation Reference": "Tensor Sizes", "Pixel Ranges").

The networks, however, were trained on display-referred 8-bit photos
(sRGB-encoded, [0, 1]; Liu et al. 2020, sec. 3 and the authors' test script).
So the exported wrapper:

1. keeps the first three channels (rgb), clips to [0, 1];
2. when exported with ``input_encoding="linear"`` (the default, for Nuke),
   encodes linear Rec.709 to sRGB with the IEC 61966-2-1 curve; with
   ``"srgb"`` it expects pixels that are already sRGB-encoded (for example
   after an OCIOColorSpace linear -> sRGB node, needed when the working space
   is not linear Rec.709, e.g. ACEScg);
3. pads to the model's size multiple plus ``margin`` pixels of context on
   each side by numpy-'symmetric' mirroring (edge pixel repeated, abc|cba),
   as the authors' test script pads 32 px each side (REFERENCE.md,
   "Inference pre/post-processing");
4. runs the model and crops back to (1, 3, H, W) linear HDR (Rec.709
   primaries, LDR white ~ 1.0, no absolute scale).

The wrapper is compiled with ``torch.jit.script`` so that the padding
arithmetic follows the input size at run time; the model inside is scripted
when its code allows, else traced.  A trace can turn shapes the model's
Python reads (``int(x.shape[i])``) into constants, so ``export_torchscript``
checks a traced model at two other sizes against the eager model; when it
cannot follow them, the file is saved behind a guard that refuses other
sizes with a clear message, and ``"dynamic_shapes": false`` plus the
required size are written into its metadata (read it with
:func:`read_export_info`).  In Nuke: export at the plate's resolution
(``--size 1920x1080``) or Reformat to the exported size.

A trace also records the device of tensors the model creates (for example
``torch.arange(..., device=x.device)`` becomes ``device="cpu"``); such a
file only runs on the export device.  The metadata says so
(``"device_portable": false``): export with ``--device cuda`` for Nuke's
"Use GPU if available".
"""

from __future__ import annotations

import io
import json
import re
import warnings
import zipfile
from os import PathLike
from pathlib import Path
from typing import Any, Optional

import torch
from torch import Tensor, nn

from ..errors import SingleHDRError

INPUT_ENCODINGS = ("linear", "srgb")
EXTRA_FILE = "singlehdr.json"

# A stored version of the metadata layout inside the .pt (extra file).
EXPORT_FORMAT = 1


def srgb_encode(linear: Tensor) -> Tensor:
    """Linear [0, 1] -> sRGB-encoded [0, 1], IEC 61966-2-1:1999 (clipped).

    Piecewise: 12.92 * x for x <= 0.0031308, else 1.055 * x^(1/2.4) - 0.055.
    Same curve as :func:`singlehdr.camera.transfer.linear_to_srgb`, in torch.
    linear: (N, C, H, W) float.  Returns the same shape.
    """
    x = torch.clamp(linear, 0.0, 1.0)
    high = 1.055 * torch.pow(torch.clamp(x, min=0.0031308), 1.0 / 2.4) - 0.055
    return torch.where(x <= 0.0031308, x * 12.92, high)


def symmetric_indices(size: int, before: int, after: int, device: torch.device) -> Tensor:
    """Source indices for numpy-'symmetric' padding of one axis.

    Output position j (0 .. before + size + after - 1) reads input index
    i = j - before folded into [0, size) by mirroring *including* the edge
    sample (abc -> cba|abc|cba), i.e. numpy.pad(mode="symmetric"), also for
    pads larger than ``size`` (the fold is periodic with period 2 * size).
    Returns an int64 tensor of length before + size + after.
    """
    idx = torch.arange(-before, size + after, dtype=torch.long, device=device)
    idx = torch.remainder(idx, 2 * size)
    return torch.where(idx >= size, 2 * size - 1 - idx, idx)


def symmetric_pad(x: Tensor, top: int, bottom: int, left: int, right: int) -> Tensor:
    """Pad (N, C, H, W) like numpy.pad(mode="symmetric") on H and W.

    Returns (N, C, top + H + bottom, left + W + right).
    """
    h = x.shape[2]
    w = x.shape[3]
    x = torch.index_select(x, 2, symmetric_indices(h, top, bottom, x.device))
    return torch.index_select(x, 3, symmetric_indices(w, left, right, x.device))


def pad_amounts(size: int, multiple: int, margin: int) -> tuple[int, int]:
    """(before, after) padding so size + before + after is a multiple of
    ``multiple`` with at least ``margin`` pixels of context on each side.

    The extra pixels beyond the margins are split evenly (one more after).
    Example: size 100, multiple 64, margin 32 -> (46, 46): 100 + 92 = 192.
    """
    extra = (multiple - (size + 2 * margin) % multiple) % multiple
    before = margin + extra // 2
    return before, margin + extra - extra // 2


class NukeInferenceWrapper(nn.Module):
    """(1, 3+, H, W) float from Nuke -> (1, 3, H, W) linear HDR.

    See the module docstring for the colour handling and padding.
    model: maps (N, 3, H', W') sRGB [0, 1] with H', W' multiples of
        ``multiple`` to (N, 3, H', W') linear HDR.
    """

    def __init__(self, model: nn.Module, multiple: int, input_encoding: str = "linear", margin: int = 32):
        super().__init__()
        if input_encoding not in INPUT_ENCODINGS:
            raise SingleHDRError(f"unknown input encoding {input_encoding!r}; choose one of: {', '.join(INPUT_ENCODINGS)}")
        if multiple < 1 or margin < 0:
            raise SingleHDRError(f"size multiple must be >= 1 and margin >= 0, got {multiple} and {margin}")
        self.model = model
        self.multiple = int(multiple)
        self.margin = int(margin)
        self.encode_srgb = input_encoding == "linear"

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, 0:3]
        if self.encode_srgb:
            x = srgb_encode(x)
        else:
            x = torch.clamp(x, 0.0, 1.0)
        h = x.shape[2]
        w = x.shape[3]
        top, bottom = pad_amounts(h, self.multiple, self.margin)
        left, right = pad_amounts(w, self.multiple, self.margin)
        y = self.model(symmetric_pad(x, top, bottom, left, right))
        return y[:, :, top : top + h, left : left + w]


def _size_multiple(model: nn.Module, multiple: Optional[int]) -> int:
    if multiple is not None:
        return int(multiple)
    m = getattr(model, "multiple", None)
    if m is None:
        raise SingleHDRError("the model has no 'multiple' attribute; pass multiple= (its input size multiple)")
    return int(m)


def _compile_inner(model: nn.Module, example: Tensor, method: str) -> tuple[torch.jit.ScriptModule, str]:
    """Script the model if possible (method "auto"/"script"), else trace it."""
    if method in ("auto", "script"):
        try:
            return torch.jit.script(model), "script"
        except Exception as exc:  # the model's Python is not TorchScript-compatible
            if method == "script":
                raise SingleHDRError(f"the model cannot be compiled with torch.jit.script ({type(exc).__name__}); use --method trace") from None
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        return torch.jit.trace(model, example, check_trace=False), "trace"


class FixedSizeGuard(nn.Module):
    """Runs a fixed-size trace; any other input size raises a clear error.

    Nuke shows the message on the Inference node.
    """

    def __init__(self, traced: nn.Module, height: int, width: int):
        super().__init__()
        self.traced = traced
        self.height = int(height)
        self.width = int(width)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[2] != self.height or x.shape[3] != self.width:
            raise RuntimeError(
                "this SingleHDR TorchScript was exported for "
                + str(self.width) + "x" + str(self.height)
                + " images; Reformat to that size or export again with --size WIDTHxHEIGHT"
            )
        return self.traced(x)


def _max_error(a: Tensor, b: Tensor) -> float:
    if a.shape != b.shape:
        return float("inf")
    return float((a - b).abs().max())


def _within(err: float, ref: Tensor, tolerance: float) -> bool:
    return err <= tolerance * max(1.0, float(ref.abs().max()))


def export_torchscript(
    model: nn.Module,
    path: str | PathLike[str],
    *,
    example_size: tuple[int, int] = (512, 512),
    input_encoding: str = "linear",
    margin: int = 32,
    multiple: Optional[int] = None,
    method: str = "auto",
    info: Optional[dict[str, Any]] = None,
    check: bool = True,
    tolerance: float = 1e-4,
    overwrite: bool = False,
) -> Path:
    """Write ``model`` wrapped for Nuke's Inference node as TorchScript.

    model: SingleHDRModel-like nn.Module with ``.multiple`` (or pass
        ``multiple``); mapping sRGB [0, 1] (N, 3, H, W) -> linear HDR.
    path: the .pt file to write (atomic: temp file + rename).
    example_size: (H, W) used to trace (and to check).
    input_encoding: "linear" (Nuke's scene-linear Rec.709; encoded to sRGB
        inside) or "srgb" (already display-encoded input).
    margin: mirrored context pixels on each side (authors: 32).
    method: "auto" (script, else trace), "script" or "trace".
    info: provenance (model_id, ...) stored in the file's ``singlehdr.json``.
    check: compare against the eager wrapper at example_size (error if it
        differs by more than ``tolerance``, relative to max(1, |ref|)) and,
        for a traced model, at a different size: a trace that cannot follow
        other sizes (one that turned shapes into constants) is saved as a
        fixed-size file that refuses other sizes with a clear message.
        Without ``check`` a traced model is always saved as fixed-size.
    Returns the written path.  Metadata: see :func:`read_export_info`.
    """
    if method not in ("auto", "script", "trace"):
        raise SingleHDRError(f"unknown export method {method!r}; choose one of: auto, script, trace")
    h, w = (int(example_size[0]), int(example_size[1]))
    if h < 1 or w < 1:
        raise SingleHDRError(f"example size must be positive, got {h}x{w}")
    from ..io.atomic import atomic_output, check_output_path

    out = check_output_path(path, overwrite=overwrite)
    mult = _size_multiple(model, multiple)
    model = model.eval().float()
    device = next(iter(model.parameters()), torch.empty(0)).device

    gen = torch.Generator().manual_seed(0)
    example = torch.rand(1, 3, h, w, generator=gen).to(device)
    eager = NukeInferenceWrapper(model, mult, input_encoding, margin).eval()
    top, bottom = pad_amounts(h, mult, margin)
    left, right = pad_amounts(w, mult, margin)
    inner, used = _compile_inner(model, symmetric_pad(example, top, bottom, left, right), method)
    wrapper: nn.Module = torch.jit.script(NukeInferenceWrapper(inner, mult, input_encoding, margin).eval())
    dynamic = used == "script"
    checks: dict[str, Any] = {}
    with torch.no_grad():
        if check:
            # two other sizes whose padded sizes differ from the example's in
            # both dimensions: one larger, one smaller (or larger still)
            others = [(h + mult + 7, w + 2 * mult + 3)]
            if h > mult + 1 and w > mult + 1:
                others.append((h - mult - 1, w - mult - 1))
            else:
                others.append((h + 3 * mult + 1, w + mult + 9))
            errors = []
            ok = True
            for oh, ow in others:
                other = torch.rand(1, 3, oh, ow, generator=gen).to(device)
                ref_other = eager(other)
                try:
                    err = _max_error(wrapper(other), ref_other)
                except Exception:  # a trace that baked in its sizes may fail outright
                    err = float("inf")
                errors.append(err)
                ok = ok and _within(err, ref_other, tolerance)
                if not ok:
                    break
            checks["other_sizes"] = [list(o) for o in others[: len(errors)]]
            checks["other_sizes_max_abs_error"] = errors
            if used == "script" and not ok:
                raise RuntimeError(f"scripted TorchScript export differs from the eager model by {max(errors):.3g} at another size")
            dynamic = ok
        if not dynamic:  # the scripted padding still follows x; the traced model only fits this size
            wrapper = torch.jit.script(FixedSizeGuard(wrapper, h, w))
            used = f"{used}, fixed size"
        if check:
            ref = eager(example)
            err = _max_error(wrapper(example), ref)
            checks["example_max_abs_error"] = err
            if not _within(err, ref, tolerance):
                raise RuntimeError(f"TorchScript export differs from the eager model by {err:.3g}")

    meta: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "input_encoding": input_encoding,
        "input": "(1, 3 or more, H, W) float32; rgb used; "
        + ("scene-linear Rec.709, encoded to sRGB inside" if input_encoding == "linear" else "sRGB-encoded [0, 1]"),
        "output": "(1, 3, H, W) float32 scene-linear Rec.709 HDR, LDR white ~ 1.0",
        "multiple": mult,
        "margin": margin,
        "padding": "numpy symmetric",
        "compiled_with": used,
        "example_size": [h, w],
        "dynamic_shapes": dynamic,
        "checks": checks,
        "torch_version": torch.__version__,
    }
    if not dynamic:
        meta["constraint"] = f"input must be exactly {w}x{h} (WIDTHxHEIGHT); Reformat to this size before the Inference node"
    model_info = {k: v for k, v in (info or {}).items() if isinstance(v, (str, int, float, bool)) or v is None}
    if model_info:
        meta["model"] = model_info

    # Saved through memory: the archive's inner folder gets a neutral name, and
    # its TorchScript code can be checked for devices baked in by a trace.
    baked = sorted(_baked_devices(_save_bytes(wrapper, {})))
    meta["device"] = str(device)
    meta["device_portable"] = not baked
    if baked:
        meta["device_note"] = (
            f"the traced model creates tensors on {', '.join(baked)}: run the file on that device only "
            f"(export again with --device cuda for Nuke's 'Use GPU if available')"
        )
    data = _save_bytes(wrapper, {EXTRA_FILE: json.dumps(meta, indent=1, sort_keys=True)})
    with atomic_output(out, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return out


def _save_bytes(module: nn.Module, extra_files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    torch.jit.save(module, buf, _extra_files=extra_files)
    return buf.getvalue()


def _baked_devices(archive: bytes) -> set[str]:
    """Devices written as constants into a TorchScript archive's code
    (``torch.device("cpu")``): a trace records the device tensors were made
    on, so such a file cannot move to another device."""
    found: set[str] = set()
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        for name in z.namelist():
            if name.endswith(".py") and "/code/" in name:
                found.update(re.findall(r'torch\.device\("([a-z]+)', z.read(name).decode("utf-8", "replace")))
    return found


def read_export_info(path: str | PathLike[str]) -> dict[str, Any]:
    """The metadata stored by :func:`export_torchscript` in a .pt file."""
    p = Path(path)
    if not p.is_file():
        raise SingleHDRError(f"no TorchScript file at {p}; export one with: singlehdr export-torchscript -o {p.name}")
    extra = {EXTRA_FILE: ""}
    try:
        torch.jit.load(str(p), map_location="cpu", _extra_files=extra)
    except Exception as exc:
        raise SingleHDRError(f"{p} is not a TorchScript file ({type(exc).__name__}); export it again") from None
    if not extra[EXTRA_FILE]:
        raise SingleHDRError(f"{p} was not written by singlehdr export-torchscript (no {EXTRA_FILE} inside)")
    return dict(json.loads(extra[EXTRA_FILE]))
