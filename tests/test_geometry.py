"""One panorama rule: reconstruct, envmap, the brackets merge and training agree on what is a 360 image."""

import numpy as np
import pytest

from singlehdr.api import is_equirect
from singlehdr.envmap.detect import is_equirect_input
from singlehdr.geometry import EQUIRECT_MIN_HEIGHT, is_equirect_image, is_equirect_shape
from singlehdr.options import ReconstructOptions
from singlehdr.types import LDRImage


@pytest.mark.parametrize("h,w,want", [
    (EQUIRECT_MIN_HEIGHT, 2 * EQUIRECT_MIN_HEIGHT, True),      # the smallest panorama
    (EQUIRECT_MIN_HEIGHT - 1, 2 * (EQUIRECT_MIN_HEIGHT - 1), False),
    (32, 64, True), (512, 1024, True), (500, 1004, True),       # 2.008:1 is within the tolerance
    (500, 1010, False), (512, 512, False), (1024, 512, False),
])
def test_reconstruct_and_envmap_agree_on_the_panorama_rule(h, w, want):
    ldr = LDRImage(pixels=np.zeros((h, w, 3), np.float32))
    assert is_equirect_shape(h, w) is want
    assert is_equirect(ldr, ReconstructOptions()) is want
    assert is_equirect_input(ldr) is want


def test_gpano_xmp_makes_any_shape_a_panorama_and_input_kind_overrides():
    ldr = LDRImage(pixels=np.zeros((40, 100, 3), np.float32), xmp={"GPano:ProjectionType": "equirectangular"})
    assert is_equirect_image(40, 100, ldr.xmp)
    assert is_equirect(ldr, ReconstructOptions()) and is_equirect_input(ldr)
    assert not is_equirect(ldr, ReconstructOptions(input_kind="photo"))


def test_label_regions_joins_across_the_seam_only_when_asked():
    import numpy as np

    from singlehdr.geometry.labels import label_regions

    m = np.zeros((6, 10), bool)
    m[1:3, :2] = m[1:3, -2:] = True  # one region cut by the seam
    m[3, -1] = True  # touches the right half's bottom edge: same region either way (4-connected below row 2)
    m[4, 0] = True  # diagonal to (3, 9) across the seam: joins only 8-connected
    plain = label_regions(m)
    assert plain.max() == 3 and plain[1, 0] != plain[1, -1]
    wrapped = label_regions(m, wrap_x=True)
    assert wrapped[1, 0] == wrapped[1, -1] == wrapped[3, -1] and wrapped[4, 0] != wrapped[1, 0]
    eight = label_regions(m, wrap_x=True, eight=True)
    assert eight[4, 0] == eight[1, 0] == eight[1, -1]
    assert len(np.unique(eight[m])) == 1 and (eight[~m] == 0).all()


def test_region_max_per_label():
    from singlehdr.geometry.labels import region_max

    lab = np.array([[0, 1, 1], [2, 0, 1]])
    vals = np.array([[9.0, 3.0, 5.0], [7.0, 8.0, 4.0]])
    out = region_max(lab, vals)
    assert out[0] == -np.inf and out[1] == 5.0 and out[2] == 7.0  # the background's 9 and 8 count for no region
