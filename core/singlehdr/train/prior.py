"""Prior initialisation: every stage starts as (nearly) the identity of what it reverses.

:func:`prior_init` sets a fresh SingleHDRModel's weights so that an untrained
model already equals "the LDR through a fixed inverse CRF"; the shipped default
model and ``tools/train_default.py`` start from it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def fit_inverse_emor(curve: np.ndarray, n_basis: int = 11) -> np.ndarray:
    """Least-squares inverse-EMoR weights of a sampled inverse CRF: (1024,) -> (n_basis,) float32.

    Source: Grossberg & Nayar, TPAMI 2004 (the EMoR model): g ~ g0 + sum_k w_k hinv_k;
    w = argmin ||g0 + H^T w - curve||^2 (numpy lstsq), H = hinv[:n_basis].
    """
    from ..camera.emor import load_invemor

    inv = load_invemor()
    g0 = np.asarray(inv["g0"], dtype=np.float64)
    h = np.asarray(inv["hinv"][:n_basis], dtype=np.float64)
    w, *_ = np.linalg.lstsq(h.T, np.asarray(curve, dtype=np.float64) - g0, rcond=None)
    return w.astype(np.float32)


@torch.no_grad()
def prior_init(model: Any, inverse_crf: np.ndarray | None = None, highlight_gain: float = 0.0, highlight_bias: float = 0.01) -> Any:
    """Set a SingleHDRModel's initial weights to a sensible prior (in place; returns it).

    Every stage starts as (nearly) the identity of what it reverses, so an
    untrained model already equals "the LDR through a fixed inverse CRF" and
    training can only add to it (the zero-init residual idea of Goyal et al.
    2017 / Zhang et al., "Fixup", ICLR 2019):

    * Dequantization-Net: the U-Net's output conv zero -> C = clip(x + tanh(0)) = x
      (Liu et al. 2020, Sec. 3.1: C = clip(x + tanh(unet(x)))).
    * Linearization-Net: head weights zero, bias = :func:`fit_inverse_emor` of
      ``inverse_crf`` (default: the inverse sRGB curve), so g = that curve for
      every input until the head learns.
    * Hallucination-Net: skip fusions h2..h6 initialised as an element-wise add
      (Liu et al. 2020 / ../shared/REFERENCE.md: fuse = [I | I], bias 0); the last fusion
      (6 -> 3 over [h7, B]) as ``highlight_gain`` * B + ``highlight_bias`` with
      the h7 half zero, so A = B + alpha * (gain * B + bias) inside the 0.12
      highlight mask: by default A = B + 0.01 alpha, nearly the identity, with
      the ReLU active so gradients flow from step one.
    * Refinement-Net: output conv zero -> out = relu(A + 0) = A (Sec. 3.4).
    """
    from ..camera.crf import CURVE_X

    if inverse_crf is None:
        from ..colour import srgb_to_linear

        inverse_crf = np.asarray(srgb_to_linear(CURVE_X.astype(np.float32)), dtype=np.float64)
    model.dequantize.unet.head.weight.zero_()
    model.dequantize.unet.head.bias.zero_()
    lin = model.linearize
    lin.head.weight.zero_()
    lin.head.bias.copy_(torch.from_numpy(fit_inverse_emor(inverse_crf, lin.config.n_basis)))
    dec = model.hallucinate.decoder
    for i, fuse in enumerate(dec.fuse):
        cout, cin = fuse.weight.shape[:2]
        eye = torch.eye(cout)
        fuse.weight.zero_()
        fuse.bias.zero_()
        if i < len(dec.fuse) - 1:
            fuse.weight[:, :cout, 0, 0] = eye
            fuse.weight[:, cout:, 0, 0] = eye[:, : cin - cout]
        else:
            fuse.weight[:, 3:, 0, 0] = highlight_gain * eye
            fuse.bias.fill_(highlight_bias)
    if getattr(model, "refine", None) is not None:
        model.refine.unet.head.weight.zero_()
        model.refine.unet.head.bias.zero_()
    return model
