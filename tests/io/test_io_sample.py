"""The bundled sample photo: what it is, and that tools/make_sample.py makes it."""

import runpy
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from singlehdr.io import read_ldr

ROOT = Path(__file__).resolve().parents[2]


def test_sample_is_a_small_clipped_srgb_jpeg(sample_jpg):
    assert sample_jpg.is_file() and sample_jpg.stat().st_size < 400 * 1024
    with Image.open(sample_jpg) as im:
        assert im.format == "JPEG" and im.size == (1024, 512)
        assert len(im.getexif()) == 0  # synthetic: no made-up camera EXIF
    img = read_ldr(sample_jpg)
    clipped = float(np.mean((img.pixels >= 254.5 / 255).any(axis=2)))
    assert 0.01 < clipped < 0.10  # the sun and its glitter clip, the rest does not
    assert 0.3 < float(np.median(img.pixels)) < 0.6


@pytest.mark.bpy
def test_make_sample_reproduces_the_shipped_file(tmp_path, sample_jpg, monkeypatch):
    monkeypatch.setenv("BLENDER_USER_RESOURCES", str(tmp_path / "bpy"))
    mod = runpy.run_path(str(ROOT / "tools" / "make_sample.py"))
    assert mod["main"](["--out", str(tmp_path / "s.jpg")]) == 0
    made = np.asarray(Image.open(tmp_path / "s.jpg")).astype(int)
    shipped = np.asarray(Image.open(sample_jpg)).astype(int)
    assert made.shape == shipped.shape
    assert np.abs(made - shipped).max() <= 1  # same pixels (allowing a libjpeg rounding difference)
