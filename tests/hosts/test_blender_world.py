""""Create World from Photo" and the equirect orientation, with real bpy 5.0.1.

The LDR panorama is cut from one of Blender's bundled CC0 studio-light HDRIs
(exposed, clipped, sRGB-encoded, quantised to 8 bits); the orientation is
checked with real Cycles renders of the World.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.bpy


def ldr_pano_from_studiolight(bpy, path, name="sunset.exr", width=128):
    """An 8-bit sRGB 2:1 panorama PNG made from a bundled HDRI; returns (png path, uint8 array)."""
    import OpenImageIO as oiio
    from PIL import Image

    exr = Path(bpy.utils.system_resource("DATAFILES", path="studiolights/world")) / name
    buf = oiio.ImageBuf(str(exr))
    assert not buf.has_error, buf.geterror()
    hdr = buf.get_pixels(oiio.FLOAT)[..., :3]
    h, w = hdr.shape[:2]
    f = w // width
    small = hdr[: h - h % f, : w - w % f].reshape(h // f, f, w // f, f, 3).mean(axis=(1, 3))
    exposed = small * (0.18 / np.median(small))  # median -> middle grey
    lin = np.clip(exposed, 0.0, 1.0)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055)  # IEC 61966-2-1
    u8 = np.round(srgb * 255).astype(np.uint8)
    Image.fromarray(u8).save(path)
    return path, u8


def test_world_from_panorama_builds_graph_and_writes_linear_exr(blender, addon, tmp_path):
    import OpenImageIO as oiio

    bpy = blender
    png, u8 = ldr_pano_from_studiolight(bpy, tmp_path / "pano.png")
    assert (u8 == 255).any(), "the test panorama needs clipped pixels"
    digest = hashlib.sha256(png.read_bytes()).hexdigest()
    out_dir = tmp_path / "hdr"
    result = bpy.ops.singlehdr.world_from_photo(
        filepath=str(png),
        kind="equirect",
        method="akyuz",
        width=256,
        strength=1.5,
        rotation=math.radians(30),
        directory_out=str(out_dir),
    )
    assert result == {"FINISHED"}
    assert hashlib.sha256(png.read_bytes()).hexdigest() == digest  # the input is never touched

    world = bpy.context.scene.world
    assert world is not None and world.name == "SingleHDR pano"
    nodes, links = world.node_tree.nodes, world.node_tree.links
    assert sorted(n.bl_idname for n in nodes) == sorted(
        ["ShaderNodeTexCoord", "ShaderNodeMapping", "ShaderNodeTexEnvironment", "ShaderNodeBackground", "ShaderNodeOutputWorld"]
    )
    edges = {(l.from_node.bl_idname, l.from_socket.name, l.to_node.bl_idname, l.to_socket.name) for l in links}
    assert edges == {
        ("ShaderNodeTexCoord", "Generated", "ShaderNodeMapping", "Vector"),
        ("ShaderNodeMapping", "Vector", "ShaderNodeTexEnvironment", "Vector"),
        ("ShaderNodeTexEnvironment", "Color", "ShaderNodeBackground", "Color"),
        ("ShaderNodeBackground", "Background", "ShaderNodeOutputWorld", "Surface"),
    }
    assert nodes["SingleHDR Background"].inputs["Strength"].default_value == pytest.approx(1.5)
    assert nodes["SingleHDR Mapping"].inputs["Rotation"].default_value[2] == pytest.approx(math.radians(30))
    env = nodes["SingleHDR Environment"]
    assert env.projection == "EQUIRECTANGULAR"

    # the EXR on disk: 2:1, linear, brighter than LDR white where the sun clipped
    exrs = list(out_dir.glob("*.exr"))
    assert [p.name for p in exrs] == ["pano_singlehdr.exr"]
    buf = oiio.ImageBuf(str(exrs[0]))
    on_disk = buf.get_pixels(oiio.FLOAT)[..., :3]
    h, w = on_disk.shape[:2]
    assert (w, h) == (256, 128)
    assert on_disk.max() > 1.0 and on_disk.min() >= 0.0
    assert buf.spec().get_string_attribute("singlehdr:colorspace") == "lin_rec709"
    # the brightest pixel of the map is where the LDR panorama clipped (scaled to the map's size)
    iy, ix = np.unravel_index(np.argmax(on_disk.sum(axis=2)), (h, w))
    ly, lx = int(iy * u8.shape[0] / h), int(ix * u8.shape[1] / w)
    assert u8[max(ly - 2, 0) : ly + 3, max(lx - 2, 0) : lx + 3].max() == 255

    # Blender's image holds the same linear values (a chosen folder: the absolute path, not packed)
    image = env.image
    assert image.colorspace_settings.name == "Linear Rec.709" and image.is_float
    assert image.packed_file is None and Path(bpy.path.abspath(image.filepath)) == exrs[0]
    in_blender = addon.blender_io.read_pixels(image)[..., :3]
    np.testing.assert_allclose(in_blender, on_disk, rtol=1e-6, atol=1e-6)

    # a second run never overwrites the first EXR
    assert bpy.ops.singlehdr.world_from_photo(
        filepath=str(png), kind="equirect", method="akyuz", width=64, directory_out=str(out_dir)
    ) == {"FINISHED"}
    assert sorted(p.name for p in out_dir.glob("*.exr")) == ["pano_singlehdr.exr", "pano_singlehdr_001.exr"]


def test_world_from_photo_reports_a_missing_file(blender, addon, tmp_path):
    bpy = blender
    with pytest.raises(RuntimeError, match="no such photo"):
        bpy.ops.singlehdr.world_from_photo(filepath=str(tmp_path / "nope.jpg"), method="akyuz")
    assert bpy.context.scene.world is None


def render_direction(bpy, direction, path) -> np.ndarray:
    """Mean RGB a tiny Cycles camera at the origin sees looking along ``direction``."""
    import mathutils
    import OpenImageIO as oiio

    scene = bpy.context.scene
    cam = scene.camera
    cam.rotation_euler = mathutils.Vector(direction).to_track_quat("-Z", "Y").to_euler()
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    return oiio.ImageBuf(str(path)).get_pixels(oiio.FLOAT)[..., :3].mean(axis=(0, 1))


def test_equirect_orientation_matches_cycles(blender, addon, tmp_path):
    """singlehdr.envmap.projections.to_blender says where Blender shows a map pixel: Cycles agrees."""
    from singlehdr.envmap import projections as P
    from singlehdr.io import write_hdr

    bpy = blender
    W, H = 64, 32
    env = np.full((H, W, 3), 0.05, np.float32)
    patches = {(0.25, (4.0, 0.0, 0.0)), (0.5, (0.0, 4.0, 0.0)), (0.75, (0.0, 0.0, 4.0))}  # (u, colour) at the horizon
    for u, colour in patches:
        c = int(u * W)
        env[H // 2 - 4 : H // 2 + 4, c - 4 : c + 4] = colour
    exr = write_hdr(tmp_path / "marks.exr", env, half=False)
    image = bpy.data.images.load(str(exr))
    image.colorspace_settings.name = "Linear Rec.709"
    world = bpy.data.worlds.new("marks")
    addon.operators.build_world(world, image, strength=1.0, rotation=0.0)
    world.cycles.sampling_method = "NONE"  # the camera sees the background directly; no 1024 importance map (~7 s a render)
    scene = bpy.context.scene
    scene.world = world
    cam_data = bpy.data.cameras.new("cam")
    cam_data.angle = math.radians(5)
    scene.camera = bpy.data.objects.new("cam", cam_data)
    scene.collection.objects.link(scene.camera)
    r = scene.render
    r.engine = "CYCLES"
    scene.cycles.samples = 1
    scene.cycles.device = "CPU"
    r.threads_mode, r.threads = "FIXED", 1
    r.resolution_x = r.resolution_y = 2
    r.resolution_percentage = 100
    r.image_settings.file_format = "OPEN_EXR"
    r.image_settings.color_depth = "32"

    def to_blender(u: float, t: float) -> np.ndarray:
        """Map position (u from the left, t from the top) -> Blender direction, by the core's convention."""
        return P.to_blender(P.direction_from_angles((u - 0.5) * 360.0, (0.5 - t) * 180.0))

    np.testing.assert_allclose(to_blender(0.5, 0.5), [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(to_blender(0.25, 0.5), [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(to_blender(0.3, 0.0), [0, 0, 1], atol=1e-12)
    # map centre (green) faces +X; u = 0.25 (red) faces +Y: not mirrored
    for u, channel in ((0.5, 1), (0.25, 0)):
        seen = render_direction(bpy, to_blender(u, 0.5), tmp_path / f"u{u}.exr")
        assert seen[channel] > 3.0 and np.delete(seen, channel).max() < 0.5, (u, seen)
    # the Mapping rotation of -90 degrees turns the map centre (green) to +Y
    world.node_tree.nodes["SingleHDR Mapping"].inputs["Rotation"].default_value[2] = math.radians(-90)
    seen = render_direction(bpy, (0.0, 1.0, 0.0), tmp_path / "rot.exr")
    assert seen[1] > 3.0 and max(seen[0], seen[2]) < 0.5, seen


def test_world_from_ordinary_photo_keeps_colours_where_filled(blender, addon, tmp_path):
    """A photo covers part of the sphere: the EXR alpha marks the filled rest; the
    image is loaded channel-packed, so Blender treats alpha as a mask, and the
    filled colours reach Blender unchanged.  A photo without EXIF needs a FOV."""
    import OpenImageIO as oiio
    from PIL import Image

    bpy = blender
    _, u8 = ldr_pano_from_studiolight(bpy, tmp_path / "pano.png")
    crop = tmp_path / "photo.png"
    Image.fromarray(u8[16:48, 32:80]).save(crop)  # a 48x32 window of the panorama, no EXIF
    with pytest.raises(RuntimeError, match="(?i)field of view|fov"):
        bpy.ops.singlehdr.world_from_photo(filepath=str(crop), kind="photo", method="akyuz", width=64, directory_out=str(tmp_path))
    assert bpy.ops.singlehdr.world_from_photo(
        filepath=str(crop), kind="photo", fov=120.0, method="akyuz", width=128, directory_out=str(tmp_path)
    ) == {"FINISHED"}
    path = tmp_path / "photo_singlehdr.exr"
    on_disk = oiio.ImageBuf(str(path)).get_pixels(oiio.FLOAT)
    assert on_disk.shape == (64, 128, 4)
    alpha = on_disk[..., 3]
    assert alpha.min() < 0.01 and alpha.max() > 0.99  # part seen, part filled
    filled = alpha < 0.01
    assert on_disk[filled][:, :3].max() > 0.0  # the filled region has light
    image = bpy.context.scene.world.node_tree.nodes["SingleHDR Environment"].image
    assert image.alpha_mode == "CHANNEL_PACKED"
    np.testing.assert_allclose(addon.blender_io.read_pixels(image), on_disk, rtol=1e-6, atol=1e-6)


def test_world_exr_goes_next_to_a_saved_blend_with_a_relative_path(blender, addon, tmp_path):
    import OpenImageIO as oiio

    bpy = blender
    png, _ = ldr_pano_from_studiolight(bpy, tmp_path / "pano.png", name="forest.exr")
    blend = tmp_path / "shots" / "sh010.blend"
    blend.parent.mkdir()
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    assert bpy.ops.singlehdr.world_from_photo(filepath=str(png), kind="equirect", method="kovaleski", width=128) == {"FINISHED"}
    exr = blend.parent / "singlehdr" / "pano_singlehdr.exr"
    assert exr.is_file()
    image = bpy.context.scene.world.node_tree.nodes["SingleHDR Environment"].image
    assert image.filepath == "//singlehdr/pano_singlehdr.exr" and image.packed_file is None
    on_disk = oiio.ImageBuf(str(exr)).get_pixels(oiio.FLOAT)[..., :3]
    bpy.ops.wm.save_mainfile()
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    image = bpy.context.scene.world.node_tree.nodes["SingleHDR Environment"].image
    assert image.colorspace_settings.name == "Linear Rec.709"
    np.testing.assert_allclose(addon.blender_io.read_pixels(image)[..., :3], on_disk, rtol=1e-6, atol=1e-6)
    assert bpy.context.scene.world["singlehdr_source"] == str(png)
