"""Plates on the compositor node (image sequences, movie clips) with real bpy 5.0.1, headless.

The node bakes a plate frame by frame with ``singlehdr reconstruct`` in a
child process into a cache of EXRs and shows that EXR sequence: the
compositor renders the frame of the scene's current frame, a second bake
reads the cache (nothing recomputed), a lost frame is the only one redone.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from test_blender_addon import compositor_with_node, render_compositor

pytestmark = pytest.mark.bpy

W, H = 64, 32


def plate_frames(folder: Path, frames=(1001, 1002, 1003)) -> dict[int, np.ndarray]:
    """8-bit sRGB frames plate.####.png: a ramp that brightens per frame, a clipped patch that moves."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, f in enumerate(frames):
        img = np.zeros((H, W, 3), np.uint8)
        img[..., 0] = np.clip(3 * np.arange(W) + 20 * i, 0, 255)[None, :]
        img[..., 1] = np.round(np.linspace(0, 200, H))[:, None]
        img[..., 2] = 40 + 30 * i
        img[4:10, 8 + 10 * i : 14 + 10 * i] = 255
        Image.fromarray(img).save(folder / f"plate.{f:04d}.png")
        out[f] = img
    return out


def exr_pixels(path: Path) -> np.ndarray:
    import OpenImageIO as oiio

    return oiio.ImageBuf(str(path)).get_pixels(oiio.FLOAT)[..., :3]


def test_sequence_bakes_frame_by_frame_into_a_cache_the_compositor_reads(blender, addon, tmp_path):
    import singlehdr
    from singlehdr import ReconstructOptions

    bpy = blender
    frames = plate_frames(tmp_path / "plate")
    blend = tmp_path / "comp.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    source = bpy.data.images.load(str(tmp_path / "plate" / "plate.1001.png"))
    source.source = "SEQUENCE"
    tree, node = compositor_with_node(bpy, source)
    node.method = "akyuz"
    node.scene_start = 1
    assert bpy.ops.singlehdr.bake_hdr(tree_name=tree.name, node_name=node.name) == {"FINISHED"}

    caches = list((tmp_path / "singlehdr_cache").iterdir())
    assert len(caches) == 1
    cache = caches[0]
    names = sorted(p.name for p in cache.glob("*.exr"))  # (a shot-locked CLI may add its sidecar JSON)
    assert names == ["plate.1001.exr", "plate.1002.exr", "plate.1003.exr"]
    for f, rgb in frames.items():  # each cached frame is the reconstruction of its own source frame
        expected = singlehdr.reconstruct(rgb, ReconstructOptions(method="akyuz")).hdr_linear
        np.testing.assert_allclose(exr_pixels(cache / f"plate.{f}.exr"), expected, rtol=1e-6, atol=1e-5)

    baked = node.baked_image
    assert baked.source == "SEQUENCE" and baked.filepath.startswith("//singlehdr_cache/")
    # with a shot-locked CLI (reconstruct --skip-existing) the whole shot went on one command line
    shot_locked = addon.runner.has_flag(addon.runner.cli_help(sys.executable, "reconstruct"), "--skip-existing")
    assert node.baked_info == "akyuz: 3 frames" + (", one camera response per shot" if shot_locked else "")
    assert baked.colorspace_settings.name == "Linear Rec.709"
    # scene frame 2 shows the plate's second frame (1002), through the compositor
    bpy.context.scene.frame_set(2)
    rendered = render_compositor(bpy, tmp_path / "f2.exr")
    np.testing.assert_allclose(rendered[..., :3], exr_pixels(cache / "plate.1002.exr"), rtol=1e-3, atol=1e-3)
    bpy.context.scene.frame_set(3)
    rendered = render_compositor(bpy, tmp_path / "f3.exr")
    np.testing.assert_allclose(rendered[..., :3], exr_pixels(cache / "plate.1003.exr"), rtol=1e-3, atol=1e-3)

    # the cache: a second bake recomputes nothing; a lost frame is the only one redone
    mtimes = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.exr")}
    assert bpy.ops.singlehdr.bake_hdr(tree_name=tree.name, node_name=node.name) == {"FINISHED"}
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.exr")} == mtimes
    (cache / "plate.1002.exr").unlink()
    assert bpy.ops.singlehdr.bake_hdr(tree_name=tree.name, node_name=node.name) == {"FINISHED"}
    now = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.exr")}
    assert now["plate.1001.exr"] == mtimes["plate.1001.exr"] and now["plate.1003.exr"] == mtimes["plate.1003.exr"]
    assert "plate.1002.exr" in now

    # other settings bake into another cache folder (old frames never shown for new settings)
    node.method = "inverse-srgb"
    assert bpy.ops.singlehdr.bake_hdr(tree_name=tree.name, node_name=node.name) == {"FINISHED"}
    assert len(list((tmp_path / "singlehdr_cache").iterdir())) == 2

    # the .blend reopens with the sequence found through its // path
    bpy.ops.wm.save_mainfile()
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    node = next(n for n in bpy.context.scene.compositing_node_group.nodes if n.bl_idname == "CompositorNodeSingleHDR")
    bpy.context.scene.frame_set(1)
    rendered = render_compositor(bpy, tmp_path / "f1.exr")
    expected = singlehdr.reconstruct(frames[1001], ReconstructOptions(method="inverse-srgb")).hdr_linear
    np.testing.assert_allclose(rendered[..., :3], expected, rtol=1e-3, atol=1e-3)


def finished(cache: Path) -> list[Path]:
    return sorted(p for p in cache.glob("*.exr") if not p.name.startswith("."))  # not the writers' hidden temp files


@pytest.mark.slow
def test_cancelled_plate_keeps_finished_frames_only(blender, addon, tmp_path):
    """Cancelled while a frame is being made: the finished frames stay whole, nothing half-written is left,
    and the next bake only does the rest."""
    import sys
    import time

    from PIL import Image

    plate_frames(tmp_path / "plate", frames=range(1, 7))
    for f in range(1, 7):  # bigger frames, so the network takes a while
        p = tmp_path / "plate" / f"plate.{f:04d}.png"
        Image.open(p).resize((512, 256)).save(p)
    cache = tmp_path / "cache"
    job = addon.plates.PlateBake(source=tmp_path / "plate" / "plate.0001.png", kind="SEQUENCE", cache=cache,
                                 python=sys.executable, method="singlehdr", device="cpu").start()
    assert job.todo == [1, 2, 3, 4, 5, 6]
    t0 = time.monotonic()
    while not finished(cache) and time.monotonic() - t0 < 300:
        assert job.poll() == "running", job.run.error
        time.sleep(0.05)
    assert job.poll() == "running"
    job.cancel()
    assert job.poll() == "cancelled"
    exrs = finished(cache)
    assert 1 <= len(exrs) < 6
    assert not [p.name for p in cache.iterdir() if p.name.startswith(".")]  # no temporary files
    for p in exrs:
        assert exr_pixels(p).shape == (256, 512, 3)  # every cached frame reads back whole
    job2 = addon.plates.PlateBake(source=tmp_path / "plate" / "plate.0001.png", kind="SEQUENCE", cache=cache,
                                  python=sys.executable, method="akyuz", device="cpu")
    job2.output = job.output
    job2.start()
    assert job2.todo == [f for f in range(1, 7) if not job.output.path(f).is_file()]
    job2.cancel()


def test_movie_clip_is_baked_frame_by_frame(blender, addon, tmp_path):
    import cv2
    import singlehdr
    from singlehdr import ReconstructOptions

    bpy = blender
    frames = plate_frames(tmp_path / "src", frames=(1, 2, 3))
    movie = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(movie), cv2.VideoWriter_fourcc(*"MJPG"), 24, (W, H))
    assert writer.isOpened()
    for f in (1, 2, 3):
        writer.write(np.ascontiguousarray(frames[f][..., ::-1]))
    writer.release()
    clip = bpy.data.movieclips.load(str(movie))
    assert clip.frame_duration == 3
    tree, node = compositor_with_node(bpy, None)
    node.source_clip = clip
    node.method = "akyuz"
    assert bpy.ops.singlehdr.bake_hdr(tree_name=tree.name, node_name=node.name) == {"FINISHED"}
    cache = next((Path(bpy.app.tempdir) / "singlehdr_cache").iterdir())
    pngs = sorted((cache / "frames").iterdir())
    assert [p.name for p in pngs] == ["clip.0001.png", "clip.0002.png", "clip.0003.png"]
    from PIL import Image

    for f in (1, 2, 3):
        decoded = np.asarray(Image.open(cache / "frames" / f"clip.{f:04d}.png"))
        assert np.abs(decoded.astype(int) - frames[f].astype(int)).mean() < 6  # MJPEG, not lossless
        expected = singlehdr.reconstruct(decoded, ReconstructOptions(method="akyuz")).hdr_linear
        np.testing.assert_allclose(exr_pixels(cache / f"clip.{f:04d}.exr"), expected, rtol=1e-6, atol=1e-5)
    bpy.context.scene.frame_set(2)
    rendered = render_compositor(bpy, tmp_path / "m2.exr")
    np.testing.assert_allclose(rendered[..., :3], exr_pixels(cache / "clip.0002.exr"), rtol=1e-3, atol=1e-3)


def test_a_photo_file_is_baked_by_the_cli_in_a_child_and_packed(blender, addon, tmp_path):
    """A still from a file goes through `singlehdr reconstruct` in a child (never blocking Blender);
    the packed float image holds the CLI's EXR, which equals singlehdr.reconstruct of the file."""
    import singlehdr
    from singlehdr import ReconstructOptions

    bpy = blender
    frames = plate_frames(tmp_path / "photo", frames=(7,))
    path = tmp_path / "photo" / "plate.0007.png"
    source = bpy.data.images.load(str(path))
    assert addon.operators._photo_file(source) == path
    tree, node = compositor_with_node(bpy, source)
    node.method = "akyuz"
    before = set(Path(bpy.app.tempdir, "singlehdr").glob(".singlehdr-*")) if Path(bpy.app.tempdir, "singlehdr").is_dir() else set()
    assert bpy.ops.singlehdr.bake_hdr(tree_name=tree.name, node_name=node.name) == {"FINISHED"}
    baked = node.baked_image
    assert baked.packed_file is not None and baked.is_float and node.baked_info == "akyuz (singlehdr CLI)"
    expected = singlehdr.reconstruct(str(path), ReconstructOptions(method="akyuz")).hdr_linear
    np.testing.assert_allclose(addon.blender_io.read_pixels(baked)[..., :3], expected, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(expected, singlehdr.reconstruct(frames[7], ReconstructOptions(method="akyuz")).hdr_linear,
                               atol=1e-6)
    assert set(Path(bpy.app.tempdir, "singlehdr").glob(".singlehdr-*")) == before  # the private folder is gone
    assert [i.name for i in bpy.data.images if i.filepath.endswith("baked.exr")] == []  # the loaded EXR is not kept
    # an edited (dirty) or packed image is baked from Blender's pixels instead
    source.pack()
    assert addon.operators._photo_file(source) is None
