"""Reconstructor: runs a SingleHDR model on an image of any size.

What it adds around ``SingleHDRModel.forward``:

- Padding instead of resizing: the image is padded 'symmetric' (abc|cba) by at
  least ``border`` = 32 px and up to the nets' multiple, run, and cropped back
  (the authors pad 32 px the same way; see :mod:`.padding`).
  ``resize_mode="reference"`` reproduces the authors' ``test_real.py`` exactly:
  bicubic (cv2 INTER_CUBIC) resize up to multiples of 64 when needed, 32 px
  symmetric pad, run, crop, bicubic resize back (see :mod:`.resize`).
- The inverse CRF g (one global curve per image, Liu et al. Sec. 3.2) is
  estimated ONCE per image, in fp32, on a bounded copy (the padded canvas when
  its long side is <= ``crf_max_side``, else an area-downsampled copy) and
  passed to every tile: ``model.forward(tile, inverse_crf=g)``.
- Tiling for large images: the fully convolutional nets run on overlapping
  tiles aligned to the nets' pooling grid, blended with raised-cosine ramps
  (see :mod:`.tiling`); tiles are gathered straight from the unpadded input
  and accumulated into the output, so memory stays bounded by the tile size
  plus the input and output images.
- 360 panoramas (``wrap_x=True``): horizontal padding is circular, so the
  left/right seam is interior content for the nets and tiles wrap across it.
- Device choice, fp16/bf16 autocast on GPUs, channels_last, inference_mode,
  memory-aware tile size, and a float32, finite, non-negative output.
- Linearization policy (``linearization``): "learned" (the paper: Linearization-Net's
  curve, per image), "srgb" (the exact inverse sRGB curve as the prior: no CRF pass),
  "gated" (the learned curve only when the model file says Linearization-Net was
  trained and the curve passes a consistency gate, else the sRGB prior), or "model"
  (whatever the model file's ``inference`` metadata says; "learned" when it says nothing,
  so the authors' checkpoints run the faithful pipeline).
- Exact identities skipped: a Dequantization-Net or Refinement-Net whose output conv
  is all zeros is an exact identity (C = clip(x) = x; out = relu(A) = A); it is
  verified from the weights at load time and not run (``info["skipped_stages"]``).
- Colour-true highlights (``highlights="colour"``, see :mod:`.highlights`): the
  network's expansion of clipped regions keeps only its luminance; the chroma comes
  from a smooth inpainting of the unclipped rim, with a smooth blend over the
  transition and never below the input's own linear value.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from ..colour import HALF_MAX
from ..errors import SingleHDRError
from .device import autocast_context, available_memory_bytes, describe_device, resolve_device, resolve_precision
from .padding import PadPlan, gather, plan_padding
from .resize import bicubic_resize, downsample_to_long_side
from .tiling import axis_weights, tile_starts

#: Activation memory per canvas pixel of one fp32 forward pass of the full-width
#: model, with margin (measured peak-RSS growth on CPU, 512^2 input: 2590 B/px
#: at width 1.0, 1470 B/px at width 0.25; the fixed 102-channel Linearization-Net
#: features keep small models from scaling down with width).  A model may
#: override it with an ``activation_bytes_per_pixel`` attribute.
DEFAULT_BYTES_PER_PIXEL = 3000


def default_bytes_per_pixel(model: torch.nn.Module) -> float:
    """Activation bytes per canvas pixel (fp32): the model's own figure, else from its width.

    Linear fit through the measurements above with ~15% margin:
    1200 + 1800 * width  (width 0.25 -> 1650, width 1.0 -> 3000).
    """
    bpp = getattr(model, "activation_bytes_per_pixel", None)
    if bpp:
        return float(bpp)
    width = getattr(getattr(model, "config", None), "width", None)
    if isinstance(width, (int, float)) and width > 0:
        return 1200.0 + 1800.0 * float(width)
    return float(DEFAULT_BYTES_PER_PIXEL)
#: Largest automatic tile edge on the CPU.  Smaller tiles run faster there (cache
#: locality): bench/speed.py, small config, 4 MP, 1 thread: 5.6 CPU-s/MP with
#: 512 px tiles, 8.8 with 1024 px tiles, 12.5 untiled.
CPU_TILE_CAP = 512
#: Largest value written for +inf (the largest finite float16, so a half EXR stays finite).
POSINF_VALUE = HALF_MAX

RESIZE_MODES = ("pad", "reference")
#: Linearization policies (see the module docstring).
LINEARIZATIONS = ("model", "learned", "srgb", "gated")
#: Highlight treatments: "network" (the network's output as is), "colour" (colour-true).
HIGHLIGHTS = ("model", "network", "colour")


def srgb_inverse_crf() -> np.ndarray:
    """The exact inverse sRGB EOTF (IEC 61966-2-1) sampled at x = i / 1023: (1024,) float32, g(0) = 0, g(1) = 1."""
    from ..colour import srgb_to_linear

    return srgb_to_linear(np.linspace(0.0, 1.0, 1024, dtype=np.float32))


def identity_stages(model: torch.nn.Module) -> list[str]:
    """Stages of a SingleHDRModel that are exact identities by their weights.

    Dequantization-Net: C = clip(x + tanh(head(.)), 0, 1) = x for x in [0, 1] when its
    head conv's weight and bias are all zero; Refinement-Net: relu(A + head(.)) = A
    (A >= 0) likewise.  Returns a sublist of ["dequantize", "refine"].
    """
    out = []
    for name in ("dequantize", "refine"):
        sub = getattr(model, name, None)
        head = getattr(getattr(sub, "unet", None), "head", None)
        if head is None:
            continue
        if all(float(p.detach().abs().max()) == 0.0 for p in (head.weight, head.bias) if p is not None):
            out.append(name)
    return out


def _lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)


class Reconstructor:
    """Run a SingleHDR model on (H, W, 3) sRGB images of any size.

    model: an nn.Module with ``multiple`` (input sides must be multiples of it),
        ``estimate_inverse_crf(ldr (N,3,H,W)) -> (N,1024)`` and
        ``forward(ldr, inverse_crf=None) -> (N,3,H,W)`` linear HDR.
    info: facts about the model (``model_id``, ``config``...), kept in ``.info``.
    device: "auto" | "cpu" | "cuda" | "cuda:N" | "mps".
    precision: "auto" | "fp32" | "fp16" | "bf16" (autocast on GPUs only).
    tile: tile edge in pixels (rounded down to the nets' multiple); None = chosen
        from free memory (at most CPU_TILE_CAP = 512 on the CPU, where small tiles
        are faster; at most 4096 on GPUs); 0 = never tile.
    tile_overlap: overlap between neighbouring tiles in pixels.
    border: minimum symmetric padding on every side (the authors use 32).
    wrap_margin: minimum circular padding left and right for 360 inputs.
    crf_max_side: long side of the copy the inverse CRF is estimated on when tiling.
    channels_last: use channels_last memory format (None = on CUDA only).
    memory_fraction: share of the free memory the activations may use.
    linearization: "model" | "learned" | "srgb" | "gated" (see the module docstring).
    highlights: "model" | "network" | "colour" (see the module docstring).
    skip_identities: skip stages that are exact identities by their weights.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        info: dict[str, Any] | None = None,
        device: str | torch.device = "auto",
        precision: str = "auto",
        tile: int | None = None,
        tile_overlap: int = 64,
        border: int = 32,
        wrap_margin: int = 64,
        crf_max_side: int = 1024,
        channels_last: bool | None = None,
        memory_fraction: float = 0.5,
        linearization: str = "model",
        highlights: str = "model",
        skip_identities: bool = True,
    ) -> None:
        self.device = resolve_device(device)
        self.precision, note = resolve_precision(precision, self.device)
        self.notes: list[str] = []
        if note:
            self.notes.append(note)
            warnings.warn(note, RuntimeWarning, stacklevel=2)
        if tile is not None and tile < 0:
            raise SingleHDRError(f"tile size must be 0 (off) or a positive number of pixels, got {tile}")
        if tile_overlap < 0:
            raise SingleHDRError(f"tile overlap must be >= 0, got {tile_overlap}")
        self.multiple = int(getattr(model, "multiple", 1) or 1)
        self.tile = tile
        self.tile_overlap = int(tile_overlap)
        self.border = int(border)
        self.wrap_margin = int(wrap_margin)
        self.crf_max_side = int(crf_max_side)
        self.memory_fraction = float(memory_fraction)
        self.channels_last = (self.device.type == "cuda") if channels_last is None else bool(channels_last)
        self.model = model.to(self.device).eval()
        if self.precision == "fp16":
            # float16 overflows the authors' Hallucination-Net (activations ~2e6): its folded copy computes the same
            # in range (models.hallucinate.fold_for_half); the caller's model is not changed
            from ..models.hallucinate import half_safe

            self.model = half_safe(self.model)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.device_name = describe_device(self.device)
        self.bytes_per_pixel = default_bytes_per_pixel(model)
        if self.precision in ("fp16", "bf16"):
            self.bytes_per_pixel *= 0.6
        self.info: dict[str, Any] = dict(info or {})
        policy = dict(self.info.get("inference") or {})
        self.policy = policy
        if linearization not in LINEARIZATIONS:
            raise SingleHDRError(f"unknown linearization {linearization!r}; choose one of: {', '.join(LINEARIZATIONS)}")
        if highlights not in HIGHLIGHTS:
            raise SingleHDRError(f"unknown highlights mode {highlights!r}; choose one of: {', '.join(HIGHLIGHTS)}")
        self.linearization = str(policy.get("linearization", "learned")) if linearization == "model" else linearization
        if self.linearization not in LINEARIZATIONS[1:]:
            raise SingleHDRError(f"the model file asks for linearization {self.linearization!r}, which this version does not know; update singlehdr")
        self.highlights = str(policy.get("highlights", "network")) if highlights == "model" else highlights
        if self.highlights not in HIGHLIGHTS[1:]:
            raise SingleHDRError(f"the model file asks for highlights {self.highlights!r}, which this version does not know; update singlehdr")
        self.gate: dict[str, Any] = dict(policy.get("gate") or {})
        self.skipped_stages = identity_stages(self.model) if skip_identities else []
        self._g_fixed: torch.Tensor | None = None
        self._curves: list[np.ndarray] = []
        #: run Hallucination-Net only on tiles with a highlight (exact; see _hallucinate_lit)
        self.skip_unlit_tiles = True
        self.tiles_run = 0
        self.tiles_skipped = 0
        self.last_linearization = ""
        self.info.update({"device": self.device_name, "precision": self.precision, "linearization": self.linearization,
                          "highlights": self.highlights, "skipped_stages": list(self.skipped_stages)})
        if self.notes:
            self.info["notes"] = list(self.notes)

    # ------------------------------------------------------------------ public

    def run(self, ldr_srgb: np.ndarray, wrap_x: bool = False, resize_mode: str = "pad", inverse_crf: np.ndarray | None = None) -> np.ndarray:
        """Reconstruct one image.

        ldr_srgb: (H, W, 3) float32 in [0, 1], sRGB-encoded (uint8/uint16 are scaled).
        wrap_x: treat the image as a 360 equirectangular panorama (circular in x).
        resize_mode: "pad" (ours) or "reference" (the authors' bicubic resize).
        inverse_crf: a precomputed (1024,) inverse CRF (e.g. from
            :meth:`estimate_inverse_crf` on another frame of a shot) used instead of
            estimating one from this image; None = the linearization policy decides.
        Returns: hdr_linear (H, W, 3) float32, finite, >= 0.
        """
        return self.run_batch([ldr_srgb], wrap_x=wrap_x, resize_mode=resize_mode, inverse_crf=inverse_crf)[0]

    def estimate_inverse_crf(self, ldr_srgb: np.ndarray, wrap_x: bool = False) -> np.ndarray:
        """The inverse CRF this engine would use for ``ldr_srgb``: (1024,) float32, monotone, g(0) = 0, g(1) = 1.

        "srgb": the exact inverse sRGB curve (no network pass); "learned": Linearization-Net
        on the image (on a copy of long side ``crf_max_side`` when larger); "gated": the
        learned curve when it passes the gate, else the sRGB curve.
        """
        ldr = _check_image(ldr_srgb)
        h, w = ldr.shape[:2]
        pad = plan_padding(h, w, self.multiple, self.border, wrap_x=wrap_x, wrap_margin=self.wrap_margin)
        return self._crf_for_tiling(ldr, pad, self.multiple, wrap_x=wrap_x)[0].cpu().numpy().astype(np.float32)

    def run_batch(self, images: Sequence[np.ndarray], wrap_x: bool = False, resize_mode: str = "pad", inverse_crf: np.ndarray | None = None) -> list[np.ndarray]:
        """Reconstruct several same-size images; untiled ones go through the nets as one batch.

        images: a sequence of (H, W, 3) arrays of one size.
        inverse_crf: None, or one (1024,) curve used for every image.
        Returns: a list of hdr_linear (H, W, 3) float32, in order.
        """
        if resize_mode not in RESIZE_MODES:
            raise SingleHDRError(f"unknown resize mode {resize_mode!r}; choose one of: {', '.join(RESIZE_MODES)}")
        ldrs = [_check_image(im) for im in images]
        if not ldrs:
            return []
        g_fixed = None if inverse_crf is None else _check_curve(inverse_crf)
        shape = ldrs[0].shape
        if any(im.shape != shape for im in ldrs):
            raise SingleHDRError("run_batch needs images of one size; run them one by one instead")
        h, w = shape[:2]
        resized = resize_mode == "reference" and (h % 64 or w % 64)
        if resized:
            h64, w64 = -(-h // 64) * 64, -(-w // 64) * 64
            ldrs = [bicubic_resize(im, h64, w64) for im in ldrs]
        multiple = _lcm(64, self.multiple) if resize_mode == "reference" else self.multiple
        border = 32 if resize_mode == "reference" else self.border
        if g_fixed is not None:
            self.last_linearization = "given"
        elif self.linearization == "srgb":
            g_fixed = srgb_inverse_crf()
            self.last_linearization = "srgb"
        self._g_fixed = None if g_fixed is None else torch.from_numpy(g_fixed)[None].to(self.device)
        self._curves = []
        try:
            outs = self._run_same_size(ldrs, wrap_x=wrap_x, multiple=multiple, border=border)
        finally:
            g_used = self._curves
            self._g_fixed, self._curves = None, []
        if resized:
            outs = [bicubic_resize(o, h, w) for o in outs]
            ldrs = [_check_image(im) for im in images]
        outs = [_finalise(o) for o in outs]
        if self.highlights == "colour":
            from .highlights import colour_true_highlights

            ramp = float(self.policy.get("highlight_ramp", 0.02))
            growth = float(self.policy.get("highlight_growth", 0.0))
            slope_cap = bool(self.policy.get("highlight_slope_cap", False))
            unsaturated_gain = float(self.policy.get("highlight_unsaturated_gain", 0.0))
            chroma_bound = float(self.policy.get("highlight_chroma_bound", 0.0))
            size_cap = float(self.policy.get("highlight_size_cap", 0.0))
            size_cap_dome = float(self.policy.get("highlight_size_cap_dome", 0.0))
            keep_measured = bool(self.policy.get("highlight_keep_measured", False))
            spectral_k = self.policy.get("highlight_spectral_k")
            spectral_k = None if spectral_k is None else (float(spectral_k[0]), float(spectral_k[1]))
            channel_ramp = bool(self.policy.get("highlight_channel_ramp", False))
            ring_estimate = bool(self.policy.get("highlight_ring_estimate", False))
            edge_fade = bool(self.policy.get("highlight_edge_fade", False))
            measured_chroma = bool(self.policy.get("highlight_measured_chroma", False))
            outs = [colour_true_highlights(ldr, o, g_used[min(k, len(g_used) - 1)], wrap_x=wrap_x, ramp=ramp, growth=growth,
                                           slope_cap=slope_cap, unsaturated_gain=unsaturated_gain,
                                           chroma_bound=chroma_bound, size_cap=size_cap, size_cap_dome=size_cap_dome,
                                           keep_measured=keep_measured, spectral_k=spectral_k, channel_ramp=channel_ramp,
                                           ring_estimate=ring_estimate, edge_fade=edge_fade,
                                           measured_chroma=measured_chroma)
                    for k, (ldr, o) in enumerate(zip(ldrs, outs))]
        return outs

    def plan(self, h: int, w: int, *, wrap_x: bool = False, resize_mode: str = "pad") -> dict[str, Any]:
        """What a run on an (h, w) image would do: canvas size, tile size, tile count."""
        if resize_mode == "reference" and (h % 64 or w % 64):
            h, w = -(-h // 64) * 64, -(-w // 64) * 64
        multiple = _lcm(64, self.multiple) if resize_mode == "reference" else self.multiple
        border = 32 if resize_mode == "reference" else self.border
        pad = plan_padding(h, w, multiple, border, wrap_x=wrap_x, wrap_margin=self.wrap_margin)
        hp, wp = pad.canvas_shape
        tile = self._choose_tile(hp, wp, h * w)
        if tile == 0:
            return {"canvas": (hp, wp), "tile": 0, "tiles": 1}
        ny = len(tile_starts(hp, tile, self._overlap(tile), multiple))
        nx = len(tile_starts(wp, tile, self._overlap(tile), multiple))
        return {"canvas": (hp, wp), "tile": tile, "tiles": ny * nx}

    # ---------------------------------------------------------------- internals

    def _run_same_size(self, ldrs: list[np.ndarray], *, wrap_x: bool, multiple: int, border: int) -> list[np.ndarray]:
        h, w = ldrs[0].shape[:2]
        pad = plan_padding(h, w, multiple, border, wrap_x=wrap_x, wrap_margin=self.wrap_margin)
        hp, wp = pad.canvas_shape
        tile = self._choose_tile(hp, wp, h * w * len(ldrs))
        if tile == 0:
            return self._run_untiled(ldrs, pad)
        return [self._run_tiled(ldr, pad, tile, multiple, wrap_x=wrap_x) for ldr in ldrs]

    def _run_untiled(self, ldrs: list[np.ndarray], pad: PadPlan) -> list[np.ndarray]:
        hp, wp = pad.canvas_shape
        budget_px = max(1, int(self._budget_bytes(pad.h * pad.w * len(ldrs)) // self.bytes_per_pixel))
        per_batch = max(1, min(len(ldrs), budget_px // (hp * wp)))
        outs: list[np.ndarray] = []
        for i in range(0, len(ldrs), per_batch):
            canvases = np.stack([gather(im, pad.rows, pad.cols) for im in ldrs[i : i + per_batch]])
            x = self._to_tensor(canvases)
            g = self._estimate_crf(x) if self._g_fixed is None else self._g_fixed.expand(x.shape[0], -1)
            self._curves.extend(g.cpu().numpy())
            y = self._forward(x, g)
            for k in range(y.shape[0]):
                outs.append(np.ascontiguousarray(y[k, pad.top : pad.top + pad.h, pad.left : pad.left + pad.w]))
        return outs

    def _run_tiled(self, ldr: np.ndarray, pad: PadPlan, tile: int, multiple: int, *, wrap_x: bool) -> np.ndarray:
        hp, wp = pad.canvas_shape
        g = self._crf_for_tiling(ldr, pad, multiple, wrap_x=wrap_x) if self._g_fixed is None else self._g_fixed
        self._curves.extend(g.cpu().numpy())
        overlap = self._overlap(tile)
        th, tw = min(tile, hp), min(tile, wp)
        ys = tile_starts(hp, tile, overlap, multiple)
        xs = tile_starts(wp, tile, overlap, multiple)
        wy = axis_weights(hp, ys, tile, overlap)
        wx = axis_weights(wp, xs, tile, overlap)
        out = np.zeros((pad.h, pad.w, 3), dtype=np.float32)
        jobs = []
        for iy, y0 in enumerate(ys):
            r0, r1 = max(y0, pad.top), min(y0 + th, pad.top + pad.h)
            if r0 >= r1:
                continue
            for ix, x0 in enumerate(xs):
                c0, c1 = max(x0, pad.left), min(x0 + tw, pad.left + pad.w)
                if c0 >= c1:
                    continue
                jobs.append((y0, x0, r0, r1, c0, c1, wy[iy], wx[ix]))
        per_batch = self._tiles_per_batch(th * tw)
        for batch in _chunks(jobs, per_batch):
            tiles = np.stack([gather(ldr, pad.rows[y0 : y0 + th], pad.cols[x0 : x0 + tw]) for (y0, x0, *_r) in batch])
            x = self._to_tensor(tiles)
            y = self._forward(x, g.expand(x.shape[0], -1))
            for k, (y0, x0, r0, r1, c0, c1, wyi, wxj) in enumerate(batch):
                weight = wyi[r0 - y0 : r1 - y0, None] * wxj[None, c0 - x0 : c1 - x0]
                piece = y[k, r0 - y0 : r1 - y0, c0 - x0 : c1 - x0]
                out[r0 - pad.top : r1 - pad.top, c0 - pad.left : c1 - pad.left] += piece * weight[..., None]
        return out

    def _crf_for_tiling(self, ldr: np.ndarray, pad: PadPlan, multiple: int, *, wrap_x: bool) -> torch.Tensor:
        """The image's inverse CRF (1, 1024), estimated on the image itself when its padded
        canvas fits in crf_max_side, else on a copy shrunk to long side crf_max_side."""
        hp, wp = pad.canvas_shape
        if max(hp, wp) <= self.crf_max_side:
            canvas = gather(ldr, pad.rows, pad.cols)
        else:
            small = downsample_to_long_side(ldr, self.crf_max_side)
            sp = plan_padding(small.shape[0], small.shape[1], multiple, self.border, wrap_x=wrap_x, wrap_margin=self.wrap_margin)
            canvas = gather(small, sp.rows, sp.cols)
        return self._estimate_crf(self._to_tensor(canvas[None]))

    def _to_tensor(self, batch: np.ndarray) -> torch.Tensor:
        """(N, H, W, 3) numpy -> (N, 3, H, W) float32 tensor on the device, clipped to [0, 1]."""
        t = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.device)
        t = t.permute(0, 3, 1, 2).clamp_(0.0, 1.0)
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        return t.contiguous(memory_format=fmt)

    def _estimate_crf(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse CRF (N, 1024) in fp32 (outside autocast: a 1024-sample curve is cheap and precision-sensitive).

        "srgb": the sRGB curve; "learned": the network's; "gated": the network's where
        :meth:`_gate_passes`, else the sRGB curve."""
        if self.linearization == "srgb":
            self.last_linearization = "srgb"
            return torch.from_numpy(srgb_inverse_crf())[None].to(self.device).expand(x.shape[0], -1)
        with torch.inference_mode():
            if "dequantize" in self.skipped_stages and hasattr(self.model, "linearize"):
                g = self.model.linearize(x)  # type: ignore[operator]
            else:
                g = self.model.estimate_inverse_crf(x)  # type: ignore[operator]
        g = g.float()
        if self.linearization == "gated":
            prior = torch.from_numpy(srgb_inverse_crf()).to(g.device)
            ok = self._gate_passes(x, g)
            g = torch.where(ok[:, None], g, prior[None].expand_as(g))
            self.last_linearization = "learned" if bool(ok.all()) else ("srgb" if not bool(ok.any()) else "mixed")
        else:
            self.last_linearization = "learned"
        return g

    def _gate_passes(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """(N,) bool: use the learned curve?  Only when the model file says Linearization-Net
        was trained (``gate.lin_trained``) and the curve is consistent: its estimate on the
        mirrored image differs from g by at most ``gate.max_log_spread`` (RMS of log g over
        x in [1/64, 1], chosen on the training split), and it is no further from the sRGB
        prior than ``gate.max_log_from_prior`` (when given)."""
        n = g.shape[0]
        if not self.gate.get("lin_trained", False):
            return torch.zeros(n, dtype=torch.bool, device=g.device)
        with torch.inference_mode():
            g2 = self.model.linearize(x.flip(-1)).float()  # type: ignore[operator]
        lo = 16
        spread = (torch.log(g[:, lo:] + 1e-4) - torch.log(g2[:, lo:] + 1e-4)).pow(2).mean(dim=1).sqrt()
        ok = spread <= float(self.gate.get("max_log_spread", 0.05))
        if "max_log_from_prior" in self.gate:
            prior = torch.from_numpy(srgb_inverse_crf()).to(g.device)[None]
            dist = (torch.log(g[:, lo:] + 1e-4) - torch.log(prior[:, lo:] + 1e-4)).pow(2).mean(dim=1).sqrt()
            ok = ok & (dist <= float(self.gate["max_log_from_prior"]))
        return ok

    def _forward(self, x: torch.Tensor, g: torch.Tensor) -> np.ndarray:
        """Run the nets: (N, 3, H, W) -> (N, H, W, 3) float32 numpy.  Stages that are exact
        identities by their weights (``skipped_stages``) are not run."""
        with torch.inference_mode(), autocast_context(self.device, self.precision):
            m = self.model
            if self.skipped_stages and hasattr(m, "hallucinate"):
                from ..models.linearize import apply_inverse_crf

                c = x if "dequantize" in self.skipped_stages else m.dequantize(x)  # type: ignore[operator]
                b = apply_inverse_crf(c, g)
                if getattr(m, "refine", None) is not None and "refine" not in self.skipped_stages:
                    y = m.refine(m.hallucinate(b), b, c)  # type: ignore[operator]
                else:
                    y = self._hallucinate_lit(b)
            else:
                y = m(x, inverse_crf=g)
        return y.float().permute(0, 2, 3, 1).cpu().numpy()

    def _hallucinate_lit(self, b: torch.Tensor) -> torch.Tensor:
        """Hallucination-Net on the images/tiles of ``b`` that have a highlight, ``b`` itself on the others.

        Exact, not an approximation: the net's output is ``b + mask(b) * relu(residual)``
        (Liu et al. Eq. 6), so where the 0.12 highlight mask is zero over a whole tile the
        output is ``b``.  Most tiles of a photo have no clipped pixel; the net is skipped there
        (``skip_unlit_tiles = False`` runs it everywhere, for comparisons)."""
        from ..models.hallucinate import highlight_mask

        m = self.model
        if not self.skip_unlit_tiles:
            return m.hallucinate(b)  # type: ignore[operator]
        lit = highlight_mask(b).flatten(1).amax(dim=1) > 0
        self.tiles_run += int(lit.sum())
        self.tiles_skipped += int((~lit).sum())
        if bool(lit.all()):
            return m.hallucinate(b)  # type: ignore[operator]
        y = b.clone()
        if bool(lit.any()):
            y[lit] = m.hallucinate(b[lit]).to(y.dtype)  # type: ignore[operator]
        return y

    def _overlap(self, tile: int) -> int:
        return min(self.tile_overlap, tile // 2)

    def _budget_bytes(self, image_pixels: int) -> float:
        """Bytes the activations may use: a share of free memory, less the input/output images."""
        free = available_memory_bytes(self.device)
        images = 0 if self.device.type == "cuda" else image_pixels * 3 * 4 * 2
        return max(64 << 20, self.memory_fraction * free - images)

    def _choose_tile(self, hp: int, wp: int, image_pixels: int) -> int:
        """0 for an untiled run, else the tile edge (a multiple of the nets' multiple)."""
        m = self.multiple
        if self.tile == 0:
            return 0
        if self.tile is not None:
            t = max(m, (self.tile // m) * m)
            return 0 if (hp <= t and wp <= t) else t
        budget_px = self._budget_bytes(image_pixels) / self.bytes_per_pixel
        cap = CPU_TILE_CAP if self.device.type == "cpu" else 4096
        if hp * wp <= budget_px and max(hp, wp) <= cap:
            return 0
        t = int(math.sqrt(budget_px)) // m * m
        lo = max(256, -(-(self.tile_overlap * 2 + m) // m) * m)
        return max(lo, min(cap, t))

    def _tiles_per_batch(self, tile_px: int) -> int:
        if self.device.type == "cpu":
            return 1
        budget_px = self._budget_bytes(0) / self.bytes_per_pixel
        return int(max(1, min(8, budget_px // tile_px)))


def _chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _check_image(image: np.ndarray) -> np.ndarray:
    """Validate an input image; return it as (H, W, 3) float32 (no copy when already so)."""
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] < 1 or a.shape[1] < 1:
        raise SingleHDRError(f"expected an (H, W, 3) RGB image, got an array of shape {a.shape}; drop alpha or expand grey first")
    if np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float32) / float(np.iinfo(a.dtype).max)
    return np.asarray(a, dtype=np.float32)


def _check_curve(curve: np.ndarray) -> np.ndarray:
    """Validate a user-supplied inverse CRF: (1024,) finite, non-decreasing, in [0, 1] -> float32."""
    g = np.asarray(curve, dtype=np.float32).reshape(-1)
    if g.shape != (1024,) or not np.all(np.isfinite(g)):
        raise SingleHDRError(f"an inverse CRF must be 1024 finite samples, got shape {np.shape(curve)}; use estimate_inverse_crf")
    if np.any(np.diff(g) < -1e-6) or g[0] < -1e-6 or g[-1] > 1.0 + 1e-6:
        raise SingleHDRError("an inverse CRF must be non-decreasing from 0 to 1; use estimate_inverse_crf")
    return g


def _finalise(hdr: np.ndarray) -> np.ndarray:
    """float32, finite (NaN -> 0, +inf -> 65504), non-negative; in place when possible."""
    out = np.asarray(hdr, dtype=np.float32)
    np.nan_to_num(out, copy=False, nan=0.0, posinf=POSINF_VALUE, neginf=0.0)
    np.maximum(out, 0.0, out=out)
    return out
