"""Camera response functions (CRFs): curves, their inverses, banks of them.

A curve is a (1024,) float32 array ``f`` sampled at x = i / 1023,
i = 0..1023, monotone non-decreasing with f(0) = 0 and f(1) = 1.  The same
curve is applied to R, G and B (one curve per image), as in Liu et al.,
CVPR 2020 (see ../shared/REFERENCE.md, "Image formation being reversed").

Sources:
- EMoR: Grossberg & Nayar, "Modeling the space of camera response
  functions", IEEE TPAMI 26(10), 2004 (basis in emor.txt / invemor.txt).
- DoRF: Grossberg & Nayar's Database of Response Functions
  (``dorfCurves.txt``, 201 curves; supplied by the user, not shipped).
- Monotone fix: Liu et al. 2020, Linearization-Net: d = diff(g);
  d += relu(-min(d)); d /= sum(d); g = concat([0], cumsum(d)).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SingleHDRError
from .emor import N_SAMPLES, load_emor

#: The sample positions of every curve: (1024,) float64 in [0, 1].
CURVE_X = np.linspace(0.0, 1.0, N_SAMPLES)


@dataclass(frozen=True)
class CRF:
    """A named camera response curve ``f`` (1024,) float32 and its inverse ``g``."""

    name: str
    f: np.ndarray
    g: np.ndarray


# ---------------------------------------------------------------- basics
def make_monotone(curve: np.ndarray) -> np.ndarray:
    """Liu et al. 2020's monotone fix: non-decreasing, g(0) = 0, g(1) = 1.

    d = diff(c); d += relu(-min(d)); d /= sum(d); out = [0, cumsum(d)].
    (1024,) -> (1024,) float32.  A curve that is already monotone with
    c(0) = 0 and c(1) = 1 is returned unchanged (up to float rounding).
    """
    c = np.asarray(curve, dtype=np.float64)
    d = np.diff(c)
    d = d + max(0.0, -float(d.min()))
    s = d.sum()
    if s <= 0:
        d = np.full_like(d, 1.0 / d.size)
    else:
        d = d / s
    return np.concatenate([[0.0], np.cumsum(d)]).astype(np.float32)


def is_valid_curve(curve: np.ndarray, atol: float = 1e-6) -> bool:
    """True for a (1024,) non-decreasing curve with c(0) = 0, c(1) = 1 (within atol)."""
    c = np.asarray(curve, dtype=np.float64)
    return (
        c.shape == (N_SAMPLES,)
        and bool(np.all(np.isfinite(c)))
        and abs(c[0]) <= atol
        and abs(c[-1] - 1.0) <= atol
        and bool(np.all(np.diff(c) >= -atol))
    )


def apply_curve(x: np.ndarray, curve: np.ndarray) -> np.ndarray:
    """Look every value of ``x`` up in ``curve`` by linear interpolation.

    Index = 1023 * x clipped to [0, 1023] (Liu et al. 2020's lookup).
    x: any shape, values in [0, 1]; curve: (1024,).  Same shape float32 out.
    """
    xi = np.clip(np.asarray(x, dtype=np.float32), 0.0, 1.0) * np.float32(N_SAMPLES - 1)
    lo = np.clip(np.floor(xi).astype(np.int64), 0, N_SAMPLES - 2)
    w = xi - lo
    c = np.asarray(curve, dtype=np.float32)
    return (c[lo] * (1.0 - w) + c[lo + 1] * w).astype(np.float32)


def apply_curve_torch(x: Any, curve: Any) -> Any:
    """Torch twin of :func:`apply_curve`, differentiable in x and curve.

    x: (N, C, H, W) in [0, 1]; curve: (1024,) for all images or (N, 1024)
    one per image.  Returns (N, C, H, W).
    """
    import torch

    n = x.shape[0]
    c = curve if curve.dim() == 2 else curve.unsqueeze(0).expand(n, -1)
    xi = x.clamp(0.0, 1.0) * (N_SAMPLES - 1)
    lo = xi.detach().floor().clamp(0, N_SAMPLES - 2).long()
    w = xi - lo.to(xi.dtype)
    flat_lo = lo.reshape(n, -1)
    c_lo = torch.gather(c, 1, flat_lo).reshape(x.shape)
    c_hi = torch.gather(c, 1, flat_lo + 1).reshape(x.shape)
    return c_lo * (1.0 - w) + c_hi * w


def invert_curve(curve: np.ndarray) -> np.ndarray:
    """The inverse curve g with g(f(x)) = x, by linear interpolation.

    Flat stretches of f (where f does not increase) are opened by a tiny
    slope so the inverse is defined.  (1024,) -> (1024,) float32, valid curve.
    """
    f = np.maximum.accumulate(np.asarray(curve, dtype=np.float64))
    f = f + np.arange(N_SAMPLES) * 1e-9  # strictly increasing
    f = (f - f[0]) / (f[-1] - f[0])
    g = np.interp(CURVE_X, f, CURVE_X)
    g[0], g[-1] = 0.0, 1.0
    return g.astype(np.float32)


# ---------------------------------------------------------------- named curves
def srgb_curve() -> np.ndarray:
    """sRGB OETF (IEC 61966-2-1:1999) as a CRF."""
    from ..colour import linear_to_srgb

    return linear_to_srgb(CURVE_X.astype(np.float32))


def gamma_curve(gamma: float) -> np.ndarray:
    """f(x) = x ** (1 / gamma): a pure power-law display encoding."""
    return np.power(CURVE_X, 1.0 / gamma).astype(np.float32)


def log_curve(a: float) -> np.ndarray:
    """f(x) = log(1 + a x) / log(1 + a): a log-like (flat-highlight) response."""
    return (np.log1p(a * CURVE_X) / np.log1p(a)).astype(np.float32)


def s_curve(gamma: float, contrast: float) -> np.ndarray:
    """A filmic-like S curve: y = x ** (1/gamma), then y^c / (y^c + (1 - y)^c).

    The contrast S after a power law mimics a film/"vivid" picture style
    (toe and shoulder).  c = 1 gives the plain power law.
    """
    y = np.power(CURVE_X, 1.0 / gamma)
    yc = np.power(y, contrast)
    return (yc / (yc + np.power(1.0 - y, contrast))).astype(np.float32)


def _named() -> dict[str, np.ndarray]:
    return {
        "linear": CURVE_X.astype(np.float32),
        "srgb": srgb_curve(),
        "gamma-2.2": gamma_curve(2.2),
        "gamma-1.8": gamma_curve(1.8),
        "gamma-2.6": gamma_curve(2.6),
        "emor-mean": make_monotone(load_emor()["f0"]),
        "log-10": log_curve(10.0),
        "log-50": log_curve(50.0),
        "filmic-s": s_curve(2.2, 1.3),
        "filmic-s-strong": s_curve(2.0, 1.6),
        "filmic-soft": s_curve(2.4, 1.1),
    }


#: Named curves held out of training (split "test").
TEST_NAMED = ("gamma-2.6", "log-50", "filmic-s-strong")


def named_curves() -> dict[str, np.ndarray]:
    """All named curves: linear, srgb, gamma-1.8/2.2/2.6, emor-mean, log-10/50,
    filmic-s, filmic-s-strong, filmic-soft.  {name: (1024,) float32}."""
    return dict(_named())


# ---------------------------------------------------------------- EMoR sampling
#: Standard deviations of the EMoR weights w_1..w_5 used by the sampler.
#: The basis vectors have unit L2 norm over 1024 samples (peak ~0.05-0.1),
#: so w_1 ~ N(0, 2.5) moves the curve by up to ~0.1: a spread like DoRF's.
EMOR_WEIGHT_STD = (2.5, 1.5, 1.0, 0.6, 0.4)


def sample_emor_curve(rng: np.random.Generator, k: int = 5, max_tries: int = 50) -> np.ndarray:
    """A random realistic CRF: f = f0 + sum_{i<=k} w_i h_i, w_i ~ N(0, s_i).

    Source: EMoR (Grossberg & Nayar 2004).  Drawn weights are rejected
    until the curve is non-decreasing and within [0, 1]; after ``max_tries``
    the last draw is repaired with :func:`make_monotone`.  Stand-in for
    DoRF curves (../shared/REFERENCE.md, training recipe).  Returns (1024,) float32.
    """
    emor = load_emor()
    k = max(1, min(int(k), emor["h"].shape[0]))
    std = np.array([EMOR_WEIGHT_STD[i] if i < len(EMOR_WEIGHT_STD) else 0.3 for i in range(k)])
    f = emor["f0"]
    for _ in range(max_tries):
        w = rng.normal(0.0, std)
        f = emor["f0"] + w @ emor["h"][:k]
        if np.all(np.diff(f) >= 0) and f.min() >= -1e-6 and f.max() <= 1 + 1e-6:
            break
    return make_monotone(f)


# ---------------------------------------------------------------- DoRF
def read_dorf(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read DoRF's ``dorfCurves.txt``: {name: (I (n,), B (n,)) float64}.

    Format per curve: a name line, a type line, ``I =`` then n values (the
    irradiance axis), ``B =`` then n values (the brightness); n = 1024.
    Raises SingleHDRError for a missing or malformed file.
    """
    path = Path(path)
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="latin-1").splitlines()]
    except OSError as exc:
        raise SingleHDRError(f"cannot read DoRF file {path}: {exc.strerror}") from None
    lines = [ln for ln in lines if ln]
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    i = 0
    try:
        while i < len(lines):
            name, i = lines[i], i + 1
            i += 1  # the type line ("Graph", ...)
            arrays = {}
            for key in ("I", "B"):
                if not lines[i].replace(" ", "").startswith(f"{key}="):
                    raise ValueError(f"expected '{key} =' at line for curve {name!r}")
                vals = lines[i].split("=", 1)[1].split()
                i += 1
                while i < len(lines) and "=" not in lines[i] and _is_numbers(lines[i]):
                    vals.extend(lines[i].split())
                    i += 1
                arrays[key] = np.asarray([float(v) for v in vals], dtype=np.float64)
            if arrays["I"].size != arrays["B"].size or arrays["I"].size < 2:
                raise ValueError(f"curve {name!r} has {arrays['I'].size} I and {arrays['B'].size} B values")
            curves[name] = (arrays["I"], arrays["B"])
    except (ValueError, IndexError) as exc:
        raise SingleHDRError(f"{path} is not a DoRF curves file ({exc}); pass dorfCurves.txt as downloaded") from None
    if not curves:
        raise SingleHDRError(f"{path} holds no DoRF curves")
    return curves


def _is_numbers(line: str) -> bool:
    try:
        [float(v) for v in line.split()]
        return True
    except ValueError:
        return False


def dorf_to_curve(irradiance: np.ndarray, brightness: np.ndarray) -> np.ndarray:
    """Resample a DoRF (I, B) pair onto :data:`CURVE_X` and make it a valid curve."""
    i = np.asarray(irradiance, dtype=np.float64)
    b = np.asarray(brightness, dtype=np.float64)
    i = (i - i.min()) / max(i.max() - i.min(), 1e-12)
    order = np.argsort(i, kind="stable")
    f = np.interp(CURVE_X, i[order], b[order])
    f = (f - f[0]) / max(f[-1] - f[0], 1e-12)
    return make_monotone(f)


# ---------------------------------------------------------------- banks
#: Number of DoRF curves held out for the "test" split (as the authors did).
DORF_TEST_COUNT = 10


def crf_bank(split: str = "train", seed: int = 0, n_random: int | None = None, dorf: str | Path | None = None) -> list[CRF]:
    """A deterministic, split-disjoint list of CRFs.

    split "train": the named curves except :data:`TEST_NAMED` plus
        ``n_random`` (default 200) EMoR samples from the seed stream
        SeedSequence(seed, spawn_key=(0,)).
    split "test": the :data:`TEST_NAMED` curves plus ``n_random`` (default
        20) EMoR samples from the disjoint stream spawn_key=(1,).
    dorf: a user-supplied ``dorfCurves.txt``; then the bank is DoRF's curves
        instead, with :data:`DORF_TEST_COUNT` of them (chosen by a seeded
        permutation of the sorted names) held out as "test", the rest "train".
    Returns a list of :class:`CRF` (name, f, g), same for the same arguments.
    """
    if split not in ("train", "test"):
        raise SingleHDRError(f"unknown CRF split {split!r}; choose 'train' or 'test'")
    if dorf is not None:
        curves = read_dorf(dorf)
        names = sorted(curves)
        perm = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,))).permutation(len(names))
        test = {names[j] for j in perm[: min(DORF_TEST_COUNT, len(names) // 2)]}
        chosen = [n for n in names if (n in test) == (split == "test")]
        out = []
        for n in chosen:
            f = dorf_to_curve(*curves[n])
            out.append(CRF(f"dorf:{n}", f, invert_curve(f)))
        return out
    named = _named()
    keep = [n for n in named if (n in TEST_NAMED) == (split == "test")]
    bank = [CRF(n, named[n], invert_curve(named[n])) for n in keep]
    if n_random is None:
        n_random = 200 if split == "train" else 20
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0 if split == "train" else 1,)))
    for j in range(int(n_random)):
        f = sample_emor_curve(rng)
        bank.append(CRF(f"emor-{split}-{seed}-{j}", f, invert_curve(f)))
    return bank
