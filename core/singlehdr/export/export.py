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
   as the authors' test script pads 32 px each side (../shared/REFERENCE.md,
   "Inference pre/post-processing"); the index maps are
   :mod:`singlehdr.geometry.padding`'s, the engine's too;
4. runs the model and crops back to (1, 3, H, W) linear HDR (Rec.709
   primaries, LDR white ~ 1.0, no absolute scale).

The wrapper is compiled with ``torch.jit.script`` so that the padding
arithmetic follows the input size at run time.  A SingleHDRModel's four
sub-networks are traced one by one under :func:`compat_trace_ops` (only
operators that Nuke 13's PyTorch 1.6 knows; no dtype frozen, so the file
also runs in half precision; Hallucination-Net as its
:func:`~singlehdr.models.hallucinate.fold_for_half` copy, whose activations
and constants fit float16 where the authors' overflow it) and composed in script
(:class:`StagedSingleHDR`); other models are scripted when their code
allows, else traced.  The wrapper's ``exposure``, ``input_is_srgb`` and
``margin`` attributes are the Inference node's custom knobs (see
:class:`NukeInferenceWrapper`); ``NUKE_TARGETS`` lists the Nuke releases
and the PyTorch each loads TorchScript with.  A trace can turn shapes the model's
Python reads (``int(x.shape[i])``) into constants, so ``export_torchscript``
checks a traced model at two other sizes against the eager model; when it
cannot follow them, the wrapper's size guard (``fixed_height``/``fixed_width``) refuses other
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

import contextlib
import io
import json
import re
import warnings
import zipfile
from os import PathLike
from pathlib import Path
from typing import Any, Iterator, List, Optional

import torch
from torch import Tensor, nn

from ..errors import SingleHDRError
from ..geometry.padding import pad_amounts, symmetric_pad  # scripted into the wrapper
from ..models.linearize import apply_inverse_crf
from ..models.hallucinate import half_safe

INPUT_ENCODINGS = ("linear", "srgb")
EXTRA_FILE = "singlehdr.json"

# A stored version of the metadata layout inside the .pt (extra file).
EXPORT_FORMAT = 1


def srgb_encode(linear: Tensor) -> Tensor:
    """Linear [0, 1] -> sRGB-encoded [0, 1], IEC 61966-2-1:1999 (clipped).

    Piecewise: 12.92 * x for x <= 0.0031308, else 1.055 * x^(1/2.4) - 0.055.
    Same curve as :func:`singlehdr.colour.linear_to_srgb`, in torch.
    linear: (N, C, H, W) float.  Returns the same shape.
    """
    x = torch.clamp(linear, 0.0, 1.0)
    high = 1.055 * torch.pow(torch.clamp(x, min=0.0031308), 1.0 / 2.4) - 0.055
    return torch.where(x <= 0.0031308, x * 12.92, high)


class NukeInferenceWrapper(nn.Module):
    """(1, 3+, H, W) float from Nuke -> (1, 3, H, W) linear HDR.

    See the module docstring for the colour handling and padding.
    model: maps (N, 3, H', W') sRGB [0, 1] with H', W' multiples of
        ``multiple`` to (N, 3, H', W') linear HDR.

    Knobs.  Foundry's Cattery guide ("Custom Knobs"): a CatFileCreator
    knob whose name equals a module attribute (int, float, bool) sets that
    attribute from the Inference node.  The attributes are:

    - ``exposure`` (float, stops): the output is multiplied by 2**exposure;
    - ``input_is_srgb`` (bool): False = the input is scene-linear Rec.709
      and is encoded to sRGB inside; True = the input is already
      sRGB-encoded (after an OCIOColorSpace working space -> sRGB);
    - ``margin`` (int): mirrored context pixels on each side.

    Precision: the input is cast to the dtype of the module's weights
    (``self.dtype_probe``, a buffer that ``.half()`` converts too), so
    Inference's *Optimise for speed and memory* (the module in half
    precision) works whatever dtype the pixels arrive in; the result is
    returned in the input's dtype.
    """

    # (attribute types are inferred by TorchScript from the values set in __init__)

    def __init__(self, model: nn.Module, multiple: int, input_encoding: str = "linear", margin: int = 32, exposure: float = 0.0):
        super().__init__()
        if input_encoding not in INPUT_ENCODINGS:
            raise SingleHDRError(f"unknown input encoding {input_encoding!r}; choose one of: {', '.join(INPUT_ENCODINGS)}")
        if multiple < 1 or margin < 0:
            raise SingleHDRError(f"size multiple must be >= 1 and margin >= 0, got {multiple} and {margin}")
        self.model = model
        self.multiple = int(multiple)
        self.margin = int(margin)
        self.input_is_srgb = input_encoding == "srgb"
        self.exposure = float(exposure)
        self.fixed_height = 0  # > 0: the inner trace only fits this size
        self.fixed_width = 0
        self.register_buffer("dtype_probe", torch.zeros(1), persistent=True)

    def forward(self, x: Tensor) -> Tensor:
        if self.fixed_height > 0 and (x.shape[2] != self.fixed_height or x.shape[3] != self.fixed_width):
            raise RuntimeError(
                "this SingleHDR TorchScript was exported for "
                + str(self.fixed_width) + "x" + str(self.fixed_height)
                + " images; Reformat to that size or export again with --size WIDTHxHEIGHT"
            )
        in_dtype = x.dtype
        x = x[:, 0:3].to(self.dtype_probe.dtype)
        if self.input_is_srgb:
            x = torch.clamp(x, 0.0, 1.0)
        else:
            x = srgb_encode(x)
        h = x.shape[2]
        w = x.shape[3]
        margin = max(self.margin, 0)
        top, bottom = pad_amounts(h, self.multiple, margin)
        left, right = pad_amounts(w, self.multiple, margin)
        y = self.model(symmetric_pad(x, top, bottom, left, right))
        y = y[:, :, top : top + h, left : left + w]
        if self.exposure != 0.0:
            y = y * (2.0 ** self.exposure)
        return y.to(in_dtype)


class NoRefinement(nn.Module):
    """Stand-in for a model without Refinement-Net: returns the hallucinated image."""

    def forward(self, hallucinated: Tensor, linear: Tensor, dequantized: Tensor) -> Tensor:
        return hallucinated


class StagedSingleHDR(nn.Module):
    """SingleHDRModel.forward, composed from its (traced) sub-networks.

    Deq -> Lin -> g(C) -> Hal -> Ref, exactly as
    :meth:`singlehdr.models.pipeline.SingleHDRModel.forward`; the inverse
    CRF is applied by the model's own ``apply_inverse_crf`` (scripted here,
    so its ``.to(x.dtype)`` follows half precision at run time instead of
    being frozen into a trace).
    """

    def __init__(self, dequantize: nn.Module, linearize: nn.Module, hallucinate: nn.Module, refine: nn.Module):
        super().__init__()
        self.dequantize = dequantize
        self.linearize = linearize
        self.hallucinate = hallucinate
        self.refine = refine

    def forward(self, ldr: Tensor) -> Tensor:
        c = self.dequantize(ldr)
        g = self.linearize(c)
        b = apply_inverse_crf(c, g)
        a = self.hallucinate(b)
        return self.refine(a, b, c)


# ------------------------------------------------------------ Nuke targets

#: Nuke releases with the Inference node and the PyTorch each loads TorchScript
#: with.  Sources: Foundry, ".cat File Creation Reference" 14.0 and 15.0,
#: "Introduction" (Nuke 13.x: PyTorch 1.6; Nuke 14 "now uses PyTorch 1.12";
#: the 15.0 guide says the same).  Nuke 16: not stated on the Foundry pages
#: read for this project; third-party notes say PyTorch 2.1, and the export is
#: checked against the 1.12 operator list, whose operators 2.1 still has.
NUKE_TARGETS: dict[str, dict[str, str]] = {
    "nuke13": {"torch": "1.6", "ops": "torch-1.6", "min_nuke": "13.0",
               "source": "Foundry .cat File Creation Reference 14.0/15.0, Introduction: Nuke 13.x uses PyTorch 1.6"},
    "nuke14": {"torch": "1.12", "ops": "torch-1.12", "min_nuke": "14.0",
               "source": "Foundry .cat File Creation Reference 14.0, Introduction: Nuke 14 uses PyTorch 1.12"},
    "nuke15": {"torch": "1.12", "ops": "torch-1.12", "min_nuke": "15.0",
               "source": "Foundry .cat File Creation Reference 15.0, Introduction: PyTorch 1.12"},
    "nuke16": {"torch": "2.1", "ops": "torch-1.12", "min_nuke": "16.0",
               "source": "not confirmed from Foundry's pages here (third-party: PyTorch 2.1); checked against the 1.12 operator list"},
}
DEFAULT_TARGET = "nuke14"


def _pair(v: Any) -> List[int]:
    if isinstance(v, (tuple, list)):
        return [int(i) for i in v]
    return [int(v), int(v)]


_SCRIPTED: dict[str, Any] = {}


def _scripted_helpers() -> dict[str, Any]:
    """TorchScript functions that stand in for ops an old libtorch lacks.

    Compiled once, on first use (not at import).  ``pad``: constant padding
    through ``aten::constant_pad_nd`` and reflect padding by slicing
    (``narrow`` + ``flip``), never ``aten::pad`` (a native op only since
    PyTorch 1.12's native_functions.yaml); sizes stay symbolic because the
    slices are computed from ``x.size()`` at run time.  ``conv2d``: a call to
    ``aten::conv2d`` (7 arguments since 1.x) instead of the
    ``aten::_convolution`` a trace records, whose 13-argument form (with
    ``allow_tf32``) PyTorch 1.6 does not have.
    """
    if _SCRIPTED:
        return _SCRIPTED

    def pad(x: Tensor, pad: List[int], mode: str = "constant", value: Optional[float] = None) -> Tensor:
        if mode == "constant":
            fill = 0.0
            if value is not None:
                fill = value
            return torch.constant_pad_nd(x, pad, fill)
        if mode != "reflect":
            raise RuntimeError("singlehdr export: padding mode " + mode + " is not supported")
        for i in range(len(pad) // 2):
            dim = x.dim() - 1 - i
            before = pad[2 * i]
            after = pad[2 * i + 1]
            size = x.size(dim)
            parts: List[Tensor] = []
            if before > 0:
                parts.append(torch.flip(x.narrow(dim, 1, before), [dim]))
            parts.append(x)
            if after > 0:
                parts.append(torch.flip(x.narrow(dim, size - 1 - after, after), [dim]))
            x = torch.cat(parts, dim)
        return x

    def conv2d(x: Tensor, weight: Tensor, bias: Optional[Tensor], stride: List[int], padding: List[int],
               dilation: List[int], groups: int) -> Tensor:
        return torch.conv2d(x, weight, bias, stride, padding, dilation, groups)

    _SCRIPTED["pad"] = torch.jit.script(pad)
    _SCRIPTED["conv2d"] = torch.jit.script(conv2d)
    return _SCRIPTED


@contextlib.contextmanager
def compat_trace_ops() -> Iterator[None]:
    """While tracing, record only operators that old Nuke libtorches know.

    Active only inside :func:`export_torchscript`'s trace of the
    sub-networks and restored afterwards; the networks' own code is not
    changed.  Replaced for the trace:

    - ``torch.nn.functional.pad`` -> the scripted ``pad`` above (no ``aten::pad``);
    - ``torch.nn.functional.conv2d`` -> the scripted ``conv2d`` above
      (``aten::conv2d``, not ``aten::_convolution``);
    - ``Tensor.amax(dim)`` -> ``Tensor.max(dim).values`` (``aten::amax`` is
      newer than PyTorch 1.6);
    - ``Tensor.repeat_interleave(int, dim)`` -> unsqueeze/expand/flatten (the
      4-argument ``aten::repeat_interleave`` a 2.x trace records is newer
      than 1.6's 3-argument form);
    - ``Tensor.to(dtype)`` when the tensor already has that dtype -> the
      tensor itself: a trace would otherwise freeze the dtype of the
      example (float32) into the graph, and a module converted to half
      precision would cast back to float32 and fail
      (``Input type (torch.FloatTensor) and weight type (torch.HalfTensor)``).
    """
    import torch.nn.functional as F

    helpers = _scripted_helpers()
    orig_pad, orig_conv, orig_amax, orig_to = F.pad, F.conv2d, torch.Tensor.amax, torch.Tensor.to
    orig_repeat = torch.Tensor.repeat_interleave

    def pad(x: Tensor, pad: Any, mode: str = "constant", value: Optional[float] = None) -> Tensor:
        return helpers["pad"](x, [int(p) for p in pad], mode, None if value is None else float(value))

    def conv2d(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Any = 1, padding: Any = 0,
               dilation: Any = 1, groups: int = 1) -> Tensor:
        if isinstance(padding, str):
            return orig_conv(x, weight, bias, stride, padding, dilation, groups)
        return helpers["conv2d"](x, weight, bias, _pair(stride), _pair(padding), _pair(dilation), int(groups))

    def amax(self: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
        dims = [dim] if isinstance(dim, int) else list(dim)
        if not dims:
            dims = list(range(self.dim()))
        out = self
        for d in sorted((d % self.dim() for d in dims), reverse=True):
            out = out.max(dim=d, keepdim=True).values
        if not keepdim:
            for d in sorted((d % self.dim() for d in dims), reverse=True):
                out = out.squeeze(d)
        return out

    def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if len(args) == 1 and not kwargs and isinstance(args[0], torch.dtype) and args[0] == self.dtype:
            return self
        return orig_to(self, *args, **kwargs)

    def repeat_interleave(self: Tensor, repeats: Any, dim: Optional[int] = None, *args: Any, **kwargs: Any) -> Tensor:
        if isinstance(repeats, int) and dim is not None and not args and not kwargs:
            d = dim % self.dim()
            sizes = [-1] * (self.dim() + 1)
            sizes[d + 1] = repeats
            return self.unsqueeze(d + 1).expand(sizes).flatten(d, d + 1)
        return orig_repeat(self, repeats, dim, *args, **kwargs)

    F.pad, F.conv2d = pad, conv2d  # type: ignore[assignment]
    torch.Tensor.repeat_interleave = repeat_interleave  # type: ignore[method-assign,assignment]
    torch.Tensor.amax = amax  # type: ignore[method-assign,assignment]
    torch.Tensor.to = to  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        F.pad, F.conv2d = orig_pad, orig_conv  # type: ignore[assignment]
        torch.Tensor.amax = orig_amax  # type: ignore[method-assign]
        torch.Tensor.repeat_interleave = orig_repeat  # type: ignore[method-assign]
        torch.Tensor.to = orig_to  # type: ignore[method-assign]


def _is_staged_model(model: nn.Module) -> bool:
    return all(hasattr(model, n) for n in ("dequantize", "linearize", "hallucinate", "refine"))


def _compile_staged(model: nn.Module, example: Tensor) -> nn.Module:
    """Trace each sub-network of a SingleHDRModel under :func:`compat_trace_ops`
    and compose them in the scripted :class:`StagedSingleHDR`."""
    refine = getattr(model, "refine")
    with torch.no_grad(), warnings.catch_warnings(), compat_trace_ops():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        deq = torch.jit.trace(getattr(model, "dequantize"), example, check_trace=False)
        c = getattr(model, "dequantize")(example)
        lin = torch.jit.trace(getattr(model, "linearize"), c, check_trace=False)
        b = apply_inverse_crf(c, getattr(model, "linearize")(c))
        # the folded copy: the same function in fp32, and in range when Nuke runs the module in half precision
        hal_net = half_safe(getattr(model, "hallucinate"))
        hal = torch.jit.trace(hal_net, b, check_trace=False)
        a = hal_net(b)
        ref: nn.Module = NoRefinement() if refine is None else torch.jit.trace(refine, (a, b, c), check_trace=False)
    return StagedSingleHDR(deq, lin, hal, ref)


def graph_operators(module: Any) -> dict[str, int]:
    """Every operator a TorchScript module's forward runs, with the most
    inputs any call passes: {"aten::conv2d": 7, "prim::Constant": 0, ...}.

    Submodule calls and called functions are inlined
    (``module.inlined_graph``), nested blocks (if/loop) included.
    """
    found: dict[str, int] = {}

    def walk(block: Any) -> None:
        for node in block.nodes():
            kind = node.kind()
            if kind == "prim::CallFunction":  # a scripted helper not inlined: look inside
                fn = node.inputsAt(0).type()
                graph = getattr(fn, "graph", None)
                if graph is not None:
                    walk(graph)
            n_in = len(list(node.inputs()))
            found[kind] = max(found.get(kind, 0), n_in)
            for sub in node.blocks():
                walk(sub)

    walk(module.inlined_graph)
    return found


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
    target: str = DEFAULT_TARGET,
    exposure: float = 0.0,
) -> Path:
    """Write ``model`` wrapped for Nuke's Inference node as TorchScript.

    model: SingleHDRModel-like nn.Module with ``.multiple`` (or pass
        ``multiple``); mapping sRGB [0, 1] (N, 3, H, W) -> linear HDR.
    path: the .pt file to write (atomic: temp file + rename).
    example_size: (H, W) used to trace (and to check).
    input_encoding: "linear" (Nuke's scene-linear Rec.709; encoded to sRGB
        inside) or "srgb" (already display-encoded input).
    margin: mirrored context pixels on each side (authors: 32).
    method: "auto" (a SingleHDRModel: its sub-networks traced with
        :func:`compat_trace_ops` and composed in script; other models:
        script, else trace), "script" or "trace".
    target: the Nuke release the file is for (:data:`NUKE_TARGETS`); its
        PyTorch version and the smallest Nuke that loads the file are
        written into the metadata.  The operators of every export are
        limited to what PyTorch 1.6 knows (tests/export check the graph
        against each target's operator list).
    exposure: default of the ``exposure`` knob (stops).
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
    if target not in NUKE_TARGETS:
        raise SingleHDRError(f"unknown Nuke target {target!r}; choose one of: {', '.join(NUKE_TARGETS)}")
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
    eager = NukeInferenceWrapper(model, mult, input_encoding, margin, exposure).eval()
    top, bottom = pad_amounts(h, mult, margin)
    left, right = pad_amounts(w, mult, margin)
    padded = symmetric_pad(example, top, bottom, left, right)
    inner: nn.Module
    if method == "auto" and _is_staged_model(model):
        inner, used = _compile_staged(model, padded), "staged trace"
    else:
        inner, used = _compile_inner(model, padded, method)
    wrapper_eager = NukeInferenceWrapper(inner, mult, input_encoding, margin, exposure).eval().to(device)
    wrapper: Any = torch.jit.script(wrapper_eager)
    dynamic = used == "script"
    checks: dict[str, Any] = {}
    with torch.no_grad():
        if check:
            ok, checks = _check_other_sizes(eager, wrapper, h, w, mult, gen, device, tolerance)
            errors = checks["other_sizes_max_abs_error"]
            if used == "script" and not ok:
                raise RuntimeError(f"scripted TorchScript export differs from the eager model by {max(errors):.3g} at another size")
            dynamic = ok
        if not dynamic:  # the scripted padding still follows x; the traced model only fits this size
            wrapper_eager.fixed_height, wrapper_eager.fixed_width = h, w
            wrapper = torch.jit.script(wrapper_eager)
            used = f"{used}, fixed size"
        if check:
            ref = eager(example)
            err = _max_error(wrapper(example), ref)
            checks["example_max_abs_error"] = err
            if not _within(err, ref, tolerance):
                raise RuntimeError(f"TorchScript export differs from the eager model by {err:.3g}")

    meta = _export_meta(input_encoding=input_encoding, mult=mult, margin=margin, used=used, size=(h, w), dynamic=dynamic,
                        checks=checks, target=target, info=info)
    meta.update(_device_info(wrapper, device))
    data = _save_bytes(wrapper, {EXTRA_FILE: json.dumps(meta, indent=1, sort_keys=True)})
    with atomic_output(out, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return out


def _check_other_sizes(eager: nn.Module, wrapper: Any, h: int, w: int, mult: int, gen: torch.Generator,
                       device: torch.device, tolerance: float) -> tuple[bool, dict[str, Any]]:
    """Run the compiled wrapper at two other sizes against the eager one: (all within tolerance, checks).

    The sizes' padded sizes differ from the example's in both dimensions: one
    larger, one smaller (or, for a small example, larger still).  Stops at the
    first size that fails (a trace that baked in its sizes may fail outright).
    """
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
    return ok, {"other_sizes": [list(o) for o in others[: len(errors)]], "other_sizes_max_abs_error": errors}


def _export_meta(*, input_encoding: str, mult: int, margin: int, used: str, size: tuple[int, int], dynamic: bool,
                 checks: dict[str, Any], target: str, info: Optional[dict[str, Any]]) -> dict[str, Any]:
    """The ``singlehdr.json`` metadata of an export (see :func:`read_export_info`), without the device fields."""
    h, w = size
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
        "target": target,
        "target_torch": NUKE_TARGETS[target]["torch"],
        "min_nuke": NUKE_TARGETS[target]["min_nuke"],
        "knobs": {"exposure": "float, stops", "input_is_srgb": "bool", "margin": "int"},
        "precision": "float32 or half (the module's dtype; .half() converts it)",
    }
    if not dynamic:
        meta["constraint"] = f"input must be exactly {w}x{h} (WIDTHxHEIGHT); Reformat to this size before the Inference node"
    model_info = {k: v for k, v in (info or {}).items() if isinstance(v, (str, int, float, bool)) or v is None}
    if model_info:
        meta["model"] = model_info
    return meta


def _device_info(wrapper: Any, device: torch.device) -> dict[str, Any]:
    """device / device_portable (/ device_note) metadata.

    Saved through memory: the archive's inner folder gets a neutral name, and
    its TorchScript code can be checked for devices baked in by a trace.
    """
    baked = sorted(_baked_devices(_save_bytes(wrapper, {})))
    out: dict[str, Any] = {"device": str(device), "device_portable": not baked}
    if baked:
        out["device_note"] = (
            f"the traced model creates tensors on {', '.join(baked)}: run the file on that device only "
            f"(export again with --device cuda for Nuke's 'Use GPU if available')"
        )
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
