"""Training data synthesised on the fly from a folder of HDR images.

Recipe: Liu et al., CVPR 2020 (../shared/REFERENCE.md, "Training recipe"): HDR images
with the short side resized to 512, random rescale x U(0.5, 2), 256^2 crops,
rot90 and flips, crops normalised to mean 0.5; synthetic LDR by exposure
t = 2^U(-3, 3), per-channel noise, clipping, a CRF from the train bank,
8-bit quantisation, JPEG 90..100; patches with more than half their values
>= 249/255 or <= 6/255 are drawn again (at most ``max_tries`` times, then the
best attempt is kept).

Determinism: item ``i`` with epoch ``e`` (see :meth:`set_epoch`) draws
everything from ``np.random.default_rng([seed, e, i])``: the same for any
worker count or process, so DataLoader workers and DDP ranks need no extra
seeding.  Indices past ``len`` are allowed ("virtual" indices: file
``i % n_files``, fresh augmentations), which the trainer's sampler uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ..camera.crf import CRF, crf_bank
from ..camera.forward import sample_camera, simulate
from ..errors import SingleHDRError

HDR_SUFFIXES = (".exr", ".hdr")
#: Drop thresholds (8-bit codes) of the recipe.
BRIGHT_CODE = 249
DARK_CODE = 6


def list_hdr_files(root: str | Path) -> list[Path]:
    """All .exr / .hdr files under ``root`` (recursive, sorted)."""
    root = Path(root)
    if not root.is_dir():
        raise SingleHDRError(f"training data folder {root} does not exist; pass --data DIR with .exr/.hdr files")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in HDR_SUFFIXES)
    if not files:
        raise SingleHDRError(f"no .exr or .hdr files under {root}; put HDR training images there")
    return files


def resize_hwc(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (H, W, 3) float32 to (h, w), antialiased when shrinking."""
    h, w = size
    if img.shape[:2] == (h, w):
        return img
    t = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None]
    shrink = h < img.shape[0] or w < img.shape[1]
    out = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False, antialias=shrink)
    return out[0].permute(1, 2, 0).contiguous().numpy()


def bad_fraction(ldr_8bit: np.ndarray) -> float:
    """Fraction of values >= 249/255 or <= 6/255 in an 8-bit LDR (any shape)."""
    codes = np.round(np.asarray(ldr_8bit) * 255.0)
    return float(np.mean((codes >= BRIGHT_CODE) | (codes <= DARK_CODE)))


def is_equirect_shape(shape: Sequence[int]) -> bool:
    """2:1 images are treated as 360 panoramas (crops wrap around horizontally)."""
    from ..geometry import is_equirect_shape as rule

    return rule(int(shape[0]), int(shape[1]), min_height=1)


class HDRFolderDataset(Dataset):
    """A torch Dataset of synthetic (LDR, targets) pairs from HDR files.

    Each item is a dict of float32 tensors (C = 3, h = w = ``crop``):
      "ldr" (3, h, w): the network input (JPEG, 8-bit, [0, 1]);
      "ldr_prequant" (3, h, w): f(clip(H t + noise)) before 8 bits (Deq target);
      "linear_clipped" (3, h, w): clip(H t, 0, 1), noise-free (Lin target,
          Hal input);
      "exposed" (3, h, w): H t unclipped (Hal target);
      "hdr" (3, h, w): H, the crop normalised to mean ``mean_value`` (Joint target);
      "crf" (1024,), "inverse_crf" (1024,): the true f and g = f^-1;
      "exposure" (): t;  "bad_fraction" (): the kept patch's over/under share.

    root: folder of .exr/.hdr files (read with singlehdr.io.read_hdr).
    crop: crop edge; short_side: every image is first resized so its short
    side is this; scale_range: extra random rescale; repeats: items per file
    per epoch; bank: CRFs to draw from (default crf_bank("train", crf_seed)).
    """

    def __init__(
        self,
        root: str | Path,
        *,
        crop: int = 256,
        short_side: int = 512,
        scale_range: tuple[float, float] = (0.5, 2.0),
        repeats: int = 1,
        seed: int = 0,
        crf_seed: int = 0,
        bank: Sequence[CRF] | None = None,
        noise: bool = True,
        jpeg: bool = True,
        mean_value: float = 0.5,
        max_tries: int = 10,
        cache: bool = True,
    ) -> None:
        self.files = list_hdr_files(root)
        self.crop = int(crop)
        self.short_side = int(short_side)
        self.scale_range = (float(scale_range[0]), float(scale_range[1]))
        self.repeats = max(1, int(repeats))
        self.seed = int(seed)
        self.bank = list(bank) if bank is not None else crf_bank("train", seed=crf_seed)
        self.noise = noise
        self.jpeg = jpeg
        self.mean_value = float(mean_value)
        self.max_tries = max(1, int(max_tries))
        self.cache_enabled = cache
        self.epoch = 0
        self._cache: dict[int, np.ndarray] = {}
        if self.crop < 16 or self.short_side < self.crop // 2:
            raise SingleHDRError(f"crop {crop} / short side {short_side} too small: use crop >= 16 and short side >= crop / 2")

    def __len__(self) -> int:
        return len(self.files) * self.repeats

    def set_epoch(self, epoch: int) -> None:
        """Change the augmentation draws (call once per epoch, before iterating)."""
        self.epoch = int(epoch)

    # ------------------------------------------------------------- loading
    def load(self, file_index: int) -> np.ndarray:
        """The decoded, short-side-resized HDR (H, W, 3) float32 >= 0 (cached per process)."""
        if file_index in self._cache:
            return self._cache[file_index]
        from ..io import read_hdr

        hdr, _meta = read_hdr(self.files[file_index])
        hdr = np.nan_to_num(np.asarray(hdr, dtype=np.float32)[..., :3], nan=0.0, posinf=0.0, neginf=0.0)
        hdr = np.maximum(hdr, 0.0)
        h, w = hdr.shape[:2]
        s = self.short_side / min(h, w)
        hdr = resize_hwc(hdr, (max(1, round(h * s)), max(1, round(w * s))))
        hdr = np.maximum(hdr, 0.0).astype(np.float32)
        if self.cache_enabled:
            self._cache[file_index] = hdr
        return hdr

    # ------------------------------------------------------------- augment
    def random_crop(self, hdr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Rescale x U(scale_range), crop ``crop``^2, rot90 k ~ U{0..3}, h-flip p=0.5.

        Implemented as: crop a (crop / s)^2 window (clamped to the image;
        wrapping around horizontally for 2:1 panoramas), resize it to crop^2.
        (H, W, 3) -> (crop, crop, 3) float32.
        """
        h, w = hdr.shape[:2]
        s = rng.uniform(*self.scale_range)
        cs = int(round(self.crop / s))
        cs = max(1, min(cs, h, w if not is_equirect_shape(hdr.shape) else h))
        y0 = int(rng.integers(0, h - cs + 1))
        if is_equirect_shape(hdr.shape):
            x0 = int(rng.integers(0, w))
            cols = (x0 + np.arange(cs)) % w
            patch = hdr[y0 : y0 + cs][:, cols]
        else:
            x0 = int(rng.integers(0, w - cs + 1))
            patch = hdr[y0 : y0 + cs, x0 : x0 + cs]
        patch = resize_hwc(np.ascontiguousarray(patch), (self.crop, self.crop))
        patch = np.rot90(patch, k=int(rng.integers(4)), axes=(0, 1))
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        return np.ascontiguousarray(np.maximum(patch, 0.0), dtype=np.float32)

    def normalise(self, hdr: np.ndarray) -> np.ndarray:
        """Scale so the crop's mean is ``mean_value`` (0.5 in the recipe)."""
        m = float(hdr.mean())
        return hdr * np.float32(self.mean_value / m) if m > 1e-8 else hdr

    # ------------------------------------------------------------- items
    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if index < 0:
            raise IndexError(index)
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        hdr_full = self.load(index % len(self.files))
        best: tuple[float, dict[str, Any]] | None = None
        for _ in range(self.max_tries):
            hdr = self.normalise(self.random_crop(hdr_full, rng))
            cam = sample_camera(rng, self.bank, noise=self.noise, jpeg_quality=(90, 100) if self.jpeg else None)
            stages = simulate(hdr, cam, rng)
            frac = bad_fraction(stages["ldr_8bit"])
            if best is None or frac < best[0]:
                best = (frac, {"hdr": hdr, "cam": cam, "stages": stages})
            if frac <= 0.5:
                break
        assert best is not None
        frac, b = best
        st, cam = b["stages"], b["cam"]

        def chw(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1), dtype=np.float32))

        return {
            "ldr": chw(st["ldr"]),
            "ldr_prequant": chw(st["ldr_prequant"]),
            "linear_clipped": chw(st["linear_clipped"]),
            "exposed": chw(st["exposed"]),
            "hdr": chw(b["hdr"]),
            "crf": torch.from_numpy(np.asarray(cam.crf.f, dtype=np.float32).copy()),
            "inverse_crf": torch.from_numpy(np.asarray(cam.crf.g, dtype=np.float32).copy()),
            "exposure": torch.tensor(cam.t, dtype=torch.float32),
            "bad_fraction": torch.tensor(frac, dtype=torch.float32),
        }




__all__ = ["HDRFolderDataset", "list_hdr_files", "bad_fraction", "resize_hwc", "is_equirect_shape"]
