"""The child-process bake of *World from Photo* with real bpy 5.0.1, headless.

The operator runs ``python -m singlehdr.cli envmap`` in a separate process
(blender_addon/runner.py): its map must be the CLI's, byte for byte; a
cancelled bake must leave the scene and the disk as they were; the map must
be found again after the .blend is saved and reopened (relative path or
packed); a missing interpreter or model gives a message with the fix; and the
whole flow, from the extension zip to a Cycles render, must light a scene
with the map's own irradiance.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_blender_world import ldr_pano_from_studiolight

pytestmark = pytest.mark.bpy


def cli_envmap(png: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "singlehdr.cli", "envmap", str(png), "-o", str(out), *extra],
        capture_output=True, text=True, timeout=300,
    )


def exr_attributes(path: Path) -> dict[str, object]:
    import OpenImageIO as oiio

    spec = oiio.ImageInput.open(str(path)).spec()
    return {a.name: a.value for a in spec.extra_attribs}


def test_operator_map_and_header_are_the_clis(blender, addon, tmp_path):
    import OpenImageIO as oiio

    bpy = blender
    png, _ = ldr_pano_from_studiolight(bpy, tmp_path / "pano.png")
    ours = tmp_path / "ours"
    assert bpy.ops.singlehdr.world_from_photo(
        filepath=str(png), kind="equirect", method="akyuz", width=128, exposure="median", sun="NONE",
        directory_out=str(ours),
    ) == {"FINISHED"}
    theirs = tmp_path / "theirs" / "pano_singlehdr.exr"
    # "No sun" is --sun off on a singlehdr with sun recovery (older ones recover none)
    sun_off = ["--sun", "off"] if addon.runner.has_flag(addon.runner.cli_help(sys.executable, "envmap"), "--sun") else []
    proc = cli_envmap(png, theirs, "--report", str(theirs.with_suffix(".json")), "--kind", "equirect", "--width", "128",
                      "--method", "akyuz", "--exposure", "median", "--colorspace", "lin_rec709", *sun_off)
    assert proc.returncode == 0, proc.stderr
    mine = ours / "pano_singlehdr.exr"
    attrs, cli_attrs = exr_attributes(mine), exr_attributes(theirs)
    assert attrs.keys() == cli_attrs.keys()
    timings = {k for k in attrs if k.endswith("seconds")}  # wall-clock time of each run: the only difference
    assert timings == {"singlehdr:envmap:seconds"}
    assert {k: v for k, v in attrs.items() if k not in timings} == {k: v for k, v in cli_attrs.items() if k not in timings}
    assert attrs["singlehdr:exposure_mode"] == "median" and attrs["singlehdr:method"] == "akyuz"
    np.testing.assert_array_equal(oiio.ImageBuf(str(mine)).get_pixels(oiio.FLOAT), oiio.ImageBuf(str(theirs)).get_pixels(oiio.FLOAT))
    # the report is kept beside the map, and nothing else is left in the folder
    assert sorted(p.name for p in ours.iterdir()) == ["pano_singlehdr.exr", "pano_singlehdr.json"]
    assert json.loads((ours / "pano_singlehdr.json").read_text())["exposure_mode"] == "median"


def test_cancel_leaves_the_scene_and_the_disk_unchanged(blender, addon, tmp_path):
    """A running bake is stopped (the whole process group), its private files removed, the World kept."""
    from PIL import Image

    bpy = blender
    scene = bpy.context.scene
    before_world = bpy.data.worlds.new("the artist's world")
    scene.world = before_world
    names = {k: sorted(getattr(bpy.data, k).keys()) for k in ("worlds", "images", "objects", "lights")}
    _, u8 = ldr_pano_from_studiolight(bpy, tmp_path / "small.png")
    big = tmp_path / "pano.png"
    Image.fromarray(u8).resize((2048, 1024), Image.BICUBIC).save(big)  # the network takes seconds on this
    out = tmp_path / "out"
    out.mkdir()
    job = addon.world.WorldBake(
        source=big, python=sys.executable, storage="FOLDER", directory=str(out), kind="equirect", width=1024,
        method="singlehdr", device="cpu",
    ).start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.0:
        assert job.poll() == "running"
        time.sleep(0.05)
    assert 0.0 < job.progress() < 1.0
    assert any(p.name.startswith(".singlehdr-") for p in out.iterdir())  # the child works in its private folder
    pid = job.run.pid
    job.cancel()
    assert job.poll() == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the child and everything it started are gone
    assert list(out.iterdir()) == []
    assert scene.world == before_world
    assert {k: sorted(getattr(bpy.data, k).keys()) for k in names} == names


def test_packed_map_survives_save_and_reopen(blender, addon, tmp_path):
    import OpenImageIO as oiio

    bpy = blender
    png, _ = ldr_pano_from_studiolight(bpy, tmp_path / "pano.png", name="city.exr")
    blend = tmp_path / "shot" / "sh020.blend"
    blend.parent.mkdir()
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    assert bpy.ops.singlehdr.world_from_photo(
        filepath=str(png), kind="equirect", method="akyuz", width=64, storage="PACK", sun="NONE"
    ) == {"FINISHED"}
    image = bpy.context.scene.world.node_tree.nodes["SingleHDR Environment"].image
    assert image.packed_file is not None and image.filepath == "//pano_singlehdr.exr"
    assert not (blend.parent / "singlehdr").exists() and not (blend.parent / "pano_singlehdr.exr").exists()
    packed = addon.blender_io.read_pixels(image)
    reference = tmp_path / "cli.exr"
    # "No sun" is --sun off (city's sun, clipped in a 64-wide map, is found by the default since stop 13)
    assert cli_envmap(png, reference, "--kind", "equirect", "--width", "64", "--method", "akyuz", "--sun", "off").returncode == 0
    np.testing.assert_allclose(packed, oiio.ImageBuf(str(reference)).get_pixels(oiio.FLOAT), rtol=1e-6, atol=1e-6)
    bpy.ops.wm.save_mainfile()
    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    image = bpy.context.scene.world.node_tree.nodes["SingleHDR Environment"].image
    assert image.packed_file is not None and image.colorspace_settings.name == "Linear Rec.709"
    np.testing.assert_allclose(addon.blender_io.read_pixels(image), packed, rtol=1e-6, atol=1e-6)


def test_relative_storage_needs_a_saved_blend(blender, addon, tmp_path):
    bpy = blender
    png, _ = ldr_pano_from_studiolight(bpy, tmp_path / "pano.png")
    with pytest.raises(RuntimeError, match="save the .blend first"):
        bpy.ops.singlehdr.world_from_photo(filepath=str(png), kind="equirect", method="akyuz", width=64, storage="RELATIVE")
    assert bpy.context.scene.world is None


def test_missing_interpreter_or_model_says_how_to_fix_it(blender, addon, tmp_path, monkeypatch):
    bpy = blender
    monkeypatch.delenv("PYTHONPATH", raising=False)  # the child sees only what its interpreter has installed
    png, _ = ldr_pano_from_studiolight(bpy, tmp_path / "pano.png")
    prefs = bpy.context.preferences.addons[addon.__name__].preferences
    kwargs = dict(filepath=str(png), kind="equirect", width=64, directory_out=str(tmp_path / "out"))
    try:
        prefs.python_path = str(tmp_path / "no" / "python")
        with pytest.raises(RuntimeError, match=r"does not exist; set Edit > Preferences > Add-ons > SingleHDR > Python"):
            bpy.ops.singlehdr.world_from_photo(method="akyuz", **kwargs)
        bare = "/usr/bin/python3"
        if subprocess.run([bare, "-c", "import singlehdr"], capture_output=True, env={}).returncode == 0:
            pytest.skip("the system Python has singlehdr")
        prefs.python_path = bare
        with pytest.raises(RuntimeError, match=r"has no singlehdr installed; set Edit > Preferences"):
            bpy.ops.singlehdr.world_from_photo(method="akyuz", **kwargs)
        prefs.python_path = sys.executable
        prefs.model_path = str(tmp_path / "missing.safetensors")
        with pytest.raises(RuntimeError, match=r"model file .*missing.safetensors does not exist"):
            bpy.ops.singlehdr.world_from_photo(method="singlehdr", **kwargs)
    finally:
        prefs.python_path, prefs.model_path = "", ""
    assert bpy.context.scene.world is None
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_apply_splits_the_sun_into_a_lamp_and_shows_the_sun_free_map(blender, addon, tmp_path):
    """What the bake does with a finished run whose CLI wrote a sun (contract 1): files into place,
    the World on the sun-free map, a Sun lamp carrying the disc's irradiance."""
    from singlehdr.io import write_hdr

    bpy = blender
    out = tmp_path / "out"
    job = addon.world.WorldBake(source=tmp_path / "sky.jpg", python=sys.executable, storage="FOLDER", directory=str(out),
                                strength=2.0, rotation=math.radians(-90))
    job.folder = out
    job.private = addon.runner.private_folder(out)
    sky = np.full((8, 16, 3), 0.5, np.float32)
    write_hdr(job.private / "sky_singlehdr.exr", sky * 3, half=False)
    write_hdr(job.private / "sky_singlehdr_nosun.exr", sky, half=False)
    sun = {"direction": [0.0, 0.0, -1.0], "azimuth_deg": 0.0, "elevation_deg": 0.0, "diameter_deg": 0.53,
           "radiance_rgb": [1e4, 1e4, 1e4], "irradiance_rgb": [3.0, 2.0, 1.0], "confidence": 0.9, "method": "test"}
    (job.private / "report.json").write_text(json.dumps({"sun": sun, "dominant_light": {}}))
    job.run = addon.runner.ChildRun([[sys.executable, "-c", "pass"]]).start()
    assert job.run.wait() == "done"
    world, lamp, final = job.apply(bpy.context)
    assert final == out / "sky_singlehdr.exr"
    assert sorted(p.name for p in out.iterdir()) == ["sky_singlehdr.exr", "sky_singlehdr.json", "sky_singlehdr_nosun.exr"]
    image = world.node_tree.nodes["SingleHDR Environment"].image
    assert Path(image.filepath).name == "sky_singlehdr_nosun.exr"
    np.testing.assert_allclose(addon.blender_io.read_pixels(image)[..., :3], sky)
    assert lamp.data.energy == pytest.approx(6.0)  # 3 W/m^2 x World strength 2
    assert tuple(lamp.data.color) == pytest.approx((1.0, 2 / 3, 1 / 3))
    # the map centre (-Z) faces +X; the World's rotation of -90 degrees turns it to +Y: the lamp shines towards -Y
    import mathutils

    shine = lamp.rotation_euler.to_matrix() @ mathutils.Vector((0.0, 0.0, -1.0))
    np.testing.assert_allclose(tuple(shine), (0.0, -1.0, 0.0), atol=1e-6)
    assert json.loads(world["singlehdr_sun"])["irradiance_rgb"] == [3.0, 2.0, 1.0]
    # the lamp follows the World's Rotation and Strength changed later in the World panel
    nodes = world.node_tree.nodes
    nodes["SingleHDR Mapping"].inputs["Rotation"].default_value[2] = 0.0
    nodes["SingleHDR Background"].inputs["Strength"].default_value = 1.0
    bpy.context.scene.frame_set(bpy.context.scene.frame_current)  # evaluates the drivers
    shine = lamp.rotation_euler.to_matrix() @ mathutils.Vector((0.0, 0.0, -1.0))
    np.testing.assert_allclose(tuple(shine), (-1.0, 0.0, 0.0), atol=1e-6)  # rotation 0: from +X
    assert lamp.data.energy == pytest.approx(3.0)
    # a later bake without a sun removes the lamp (it would light the new World twice)
    job2 = addon.world.WorldBake(source=tmp_path / "sky.jpg", python=sys.executable, storage="FOLDER", directory=str(out))
    job2.folder, job2.private = out, addon.runner.private_folder(out)
    write_hdr(job2.private / "sky_singlehdr.exr", sky, half=False)
    (job2.private / "report.json").write_text(json.dumps({"sun": None}))
    job2.run = addon.runner.ChildRun([[sys.executable, "-c", "pass"]]).start()
    assert job2.run.wait() == "done"
    job2.apply(bpy.context)
    assert addon.world.SUN_OBJECT not in bpy.context.scene.objects and not bpy.data.lights
    assert "no sun found" in " ".join(job2.messages)


def test_user_flow_from_the_zip_to_a_cycles_render(blender, addon, tmp_path):
    """Installed from the zip (the `addon` fixture), World from Photo, then Cycles: a white diffuse
    ground lit by the World has the radiance 0.8 E / pi, E = the map's irradiance on an upward surface."""
    import OpenImageIO as oiio
    from singlehdr.envmap import projections as P

    bpy = blender
    png, _ = ldr_pano_from_studiolight(bpy, tmp_path / "pano.png", name="sunrise.exr")
    blend = tmp_path / "flow.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    assert bpy.ops.singlehdr.world_from_photo(filepath=str(png), kind="equirect", method="akyuz", width=128, sun="NONE") == {"FINISHED"}
    exr = tmp_path / "singlehdr" / "pano_singlehdr.exr"
    env = oiio.ImageBuf(str(exr)).get_pixels(oiio.FLOAT)[..., :3]
    h, w = env.shape[:2]
    dirs = P.equirect_directions(h, w)
    up = np.clip(dirs[..., 1], 0.0, None)[..., None]
    irradiance = (env * up * P.equirect_solid_angles(h, w)[..., None]).sum(axis=(0, 1))

    scene = bpy.context.scene
    scene.world.cycles.sampling_method, scene.world.cycles.sample_map_resolution = "MANUAL", 256  # 1024: +7 s
    mat = bpy.data.materials.new("white")
    mat.node_tree.nodes.clear()
    diffuse = mat.node_tree.nodes.new("ShaderNodeBsdfDiffuse")
    diffuse.inputs["Color"].default_value = (0.8, 0.8, 0.8, 1.0)
    out = mat.node_tree.nodes.new("ShaderNodeOutputMaterial")
    mat.node_tree.links.new(diffuse.outputs["BSDF"], out.inputs["Surface"])
    mesh = bpy.data.meshes.new("ground")
    mesh.from_pydata([(-50, -50, 0), (50, -50, 0), (50, 50, 0), (-50, 50, 0)], [], [(0, 1, 2, 3)])
    mesh.materials.append(mat)
    scene.collection.objects.link(bpy.data.objects.new("ground", mesh))
    cam_data = bpy.data.cameras.new("cam")
    cam_data.type, cam_data.ortho_scale = "ORTHO", 2.0
    cam = bpy.data.objects.new("cam", cam_data)
    cam.location = (0.0, 0.0, 1.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    r = scene.render
    r.engine = "CYCLES"
    scene.cycles.device, scene.cycles.samples, scene.cycles.use_denoising = "CPU", 32, False
    r.threads_mode, r.threads = "FIXED", 1
    r.resolution_x, r.resolution_y, r.resolution_percentage = 64, 36, 100
    r.image_settings.file_format, r.image_settings.color_depth = "OPEN_EXR", "32"
    r.filepath = str(tmp_path / "render.exr")
    bpy.ops.render.render(write_still=True)
    rendered = oiio.ImageBuf(r.filepath).get_pixels(oiio.FLOAT)[..., :3].mean(axis=(0, 1))
    expected = 0.8 * irradiance / math.pi
    np.testing.assert_allclose(rendered, expected, rtol=0.05)
    # saved and reopened: the map is found through its // path
    bpy.ops.wm.save_mainfile()
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    image = bpy.context.scene.world.node_tree.nodes["SingleHDR Environment"].image
    assert image.filepath == "//singlehdr/pano_singlehdr.exr" and image.packed_file is None
    np.testing.assert_allclose(addon.blender_io.read_pixels(image)[..., :3], env, rtol=1e-6, atol=1e-6)


def test_the_whole_bake_is_one_undo_step(blender, addon, tmp_path):
    """One Ctrl+Z takes back the World, its image and nothing else; Ctrl+Shift+Z brings them back."""
    bpy = blender
    png, _ = ldr_pano_from_studiolight(bpy, tmp_path / "pano.png")
    scene = bpy.context.scene
    scene.world = bpy.data.worlds.new("the artist's world")
    bpy.ops.ed.undo_push(message="before the bake")
    # 'EXEC_DEFAULT', True: called as from the UI, with an undo push
    assert bpy.ops.singlehdr.world_from_photo("EXEC_DEFAULT", True, filepath=str(png), kind="equirect", method="akyuz",
                                              width=64, sun="NONE", directory_out=str(tmp_path / "out")) == {"FINISHED"}
    assert bpy.context.scene.world.name == "SingleHDR pano" and len(bpy.data.images) == 1
    assert bpy.ops.ed.undo() == {"FINISHED"}
    assert bpy.context.scene.world.name == "the artist's world"
    assert sorted(bpy.data.worlds.keys()) == ["the artist's world"] and len(bpy.data.images) == 0
    assert bpy.ops.ed.redo() == {"FINISHED"}
    assert bpy.context.scene.world.name == "SingleHDR pano" and len(bpy.data.images) == 1
