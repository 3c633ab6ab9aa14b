"""singlehdr.merge: exposure brackets and RAW files -> linear HDR, the networks filling only what is still clipped.

Public API::

    reconstruct_brackets(images, ReconstructOptions, MergeOptions) -> HDRResult
    reconstruct_raw(path, ReconstructOptions, fill="networks") -> HDRResult
    merge_brackets(images, MergeOptions) -> MergedHDR     (no network; the clip mask)
    fill_clipped(hdr_linear, clip_mask, ReconstructOptions, exposure=...) -> (hdr, facts)
    capture_brackets(images, MergeOptions) / capture_raw(path) -> LinearCapture  (merged, not filled:
        what singlehdr.envmap.make_envmap fills after downscaling / projecting)

Modules: :mod:`.exposure` (EXIF / --ev), :mod:`.align` (AlignMTB, wrapping
for 360), :mod:`.response` (auto: shared EMoR or sRGB; Debevec / Robertson), :mod:`.combine`
(weighted merge with ghost rejection, OpenCV merges), :mod:`.fill`.
"""

from .brackets import (FILLS, LinearCapture, MergedHDR, MergeOptions, capture_brackets, capture_raw, merge_brackets,
                       reconstruct_brackets, reconstruct_raw)
from .fill import fill_clipped

__all__ = ["MergeOptions", "MergedHDR", "merge_brackets", "reconstruct_brackets", "reconstruct_raw", "fill_clipped", "FILLS", "LinearCapture",
           "capture_brackets", "capture_raw"]
