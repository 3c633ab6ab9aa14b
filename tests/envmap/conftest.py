"""Shared fixtures: Blender's bundled HDRIs (CC0, Poly Haven) as ground truth."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def blender_worlds() -> Path:
    """Folder of Blender's studiolights/world EXRs, found with real bpy (user resources in a temp dir)."""
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="singlehdr-bpy-"))
    bpy = pytest.importorskip("bpy")
    path = Path(bpy.utils.system_resource("DATAFILES", path="studiolights/world"))
    if not (path / "city.exr").exists():
        pytest.skip("Blender's bundled HDRIs are not available")
    return path


_CACHE: dict[tuple[str, int], np.ndarray] = {}


@pytest.fixture(scope="session")
def load_world(blender_worlds):
    """load_world(name, width) -> (width / 2, width, 3) float32 equirect, read with the official OpenEXR bindings."""
    import OpenEXR

    from singlehdr.envmap.projections import resize_equirect

    def load(name: str, width: int = 1024) -> np.ndarray:
        key = (name, width)
        if key not in _CACHE:
            with OpenEXR.File(str(blender_worlds / f"{name}.exr")) as f:
                ch = f.channels()
                rgb = ch["RGB"].pixels if "RGB" in ch else np.stack([ch[c].pixels for c in "RGB"], axis=-1)
            env = np.ascontiguousarray(rgb[..., :3], dtype=np.float32)
            _CACHE[key] = env if env.shape[1] == width else resize_equirect(env, width)
        return _CACHE[key]

    return load


def expose_ldr(hdr: np.ndarray, scale: float) -> np.ndarray:
    """The camera: multiply, clip to [0, 1], sRGB-encode, quantise to 8 bits -> uint8."""
    from singlehdr.camera.transfer import linear_to_srgb

    return np.round(linear_to_srgb(np.clip(hdr * np.float32(scale), 0.0, 1.0)) * 255.0).astype(np.uint8)


def mean_metering_scale(env: np.ndarray, ev: float = 0.0) -> float:
    """Scale that puts the solid-angle-weighted mean luminance at 0.18 (average metering), shifted by ev stops."""
    from singlehdr.envmap.calibrate import luminance
    from singlehdr.envmap.projections import equirect_solid_angles

    y = luminance(env)
    om = equirect_solid_angles(*y.shape)
    return float(0.18 / (np.sum(y * om) / (4 * np.pi)) * 2.0**ev)


@pytest.fixture(scope="session")
def camera():
    """(expose_ldr, mean_metering_scale) helpers for tests."""
    return expose_ldr, mean_metering_scale


def pytest_collection_modifyitems(config, items):
    """Skip this folder's slow tests unless asked for (-m slow, or SINGLEHDR_SLOW=1), as pyproject's marker says."""
    if os.environ.get("SINGLEHDR_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="slow: run with -m slow or SINGLEHDR_SLOW=1")
    for item in items:
        if "slow" in item.keywords and here in Path(str(item.fspath)).parents:
            item.add_marker(skip)
