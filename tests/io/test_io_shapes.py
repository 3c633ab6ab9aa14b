"""Minimum and maximum accepted image shapes: thin strips get one clear line instead of a
traceback from deep inside the engine; the limit shapes themselves reconstruct."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from singlehdr import reconstruct
from singlehdr.cli import main
from singlehdr.errors import SingleHDRError
from singlehdr.io import read_ldr
from singlehdr.io.ldr import MAX_ASPECT, MIN_SIDE
from singlehdr.options import ReconstructOptions

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _png(path, h, w):
    rng = np.random.default_rng(h * 7 + w)
    Image.fromarray((rng.random((h, w, 3)) * 255).astype(np.uint8)).save(path)
    return path


@pytest.mark.parametrize("h,w,pattern", [(3, 70000, "at least 4 pixels"), (8, 20000, "2500:1 strip"),
                                         (20000, 8, "2500:1 strip"), (2, 2, "at least 4 pixels")])
def test_thin_images_refused_in_one_line_by_the_cli(tmp_path, capsys, h, w, pattern):
    src = _png(tmp_path / "thin.png", h, w)
    rc = main(["reconstruct", str(src), "-o", str(tmp_path / "o.exr")])
    _, err = capsys.readouterr()
    assert rc == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert pattern in err and f"{w}x{h}" in err, err
    assert not (tmp_path / "o.exr").exists()


def test_thin_arrays_refused_by_the_api():
    with pytest.raises(SingleHDRError, match="strip"):
        reconstruct(np.zeros((8, 20000, 3), np.float32), ReconstructOptions(method="inverse-srgb"))
    with pytest.raises(SingleHDRError, match="at least"):
        reconstruct(np.zeros((3, 300, 3), np.float32), ReconstructOptions(method="inverse-srgb"))


@pytest.mark.parametrize("h,w", [(MIN_SIDE, MIN_SIDE), (MIN_SIDE, MIN_SIDE * MAX_ASPECT), (16, 16 * MAX_ASPECT)])
def test_limit_shapes_reconstruct_with_the_network(tmp_path, h, w):
    src = _png(tmp_path / "edge.png", h, w)
    ldr = read_ldr(src)
    res = reconstruct(ldr, ReconstructOptions(device="cpu"))
    assert res.hdr_linear.shape == (h, w, 3)
    assert np.all(np.isfinite(res.hdr_linear)) and res.hdr_linear.min() >= 0
