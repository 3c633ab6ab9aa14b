"""The SingleHDR compositor node with real bpy 5.0.1, headless.

Covers: registration through Blender's extension installer, what Blender's
pixels hold for an 8-bit sRGB image, the bake operator (equal to
singlehdr.reconstruct on the same pixels), a real compositor render, and a
.blend save/reload round trip of the packed HDR.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.bpy

W, H = 64, 32


def srgb_bytes() -> np.ndarray:
    """(H, W, 3) uint8 top-down test photo: R = 4x (0..252) along x, G ramps along y, B = 40,
    and a clipped 8x8 white patch in the top-left corner (rows 0-7, cols 0-7)."""
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 0] = (4 * np.arange(W))[None, :]
    img[..., 1] = np.round(np.linspace(0, 255, H))[:, None]
    img[..., 2] = 40
    img[:8, :8] = 255
    return img


def new_byte_image(bpy, name: str, rgb_u8: np.ndarray):
    """An 8-bit sRGB Blender image holding ``rgb_u8`` (top-down) exactly."""
    h, w = rgb_u8.shape[:2]
    image = bpy.data.images.new(name, w, h, alpha=False, float_buffer=False)
    assert image.colorspace_settings.name == "sRGB" and not image.is_float
    rgba = np.ones((h, w, 4), np.float32)
    rgba[..., :3] = rgb_u8.astype(np.float32) / 255.0
    image.pixels.foreach_set(np.ascontiguousarray(rgba[::-1]).ravel())
    return image


def compositor_with_node(bpy, source):
    """scene.compositing_node_group = [SingleHDR node -> Group Output]; returns (tree, node)."""
    scene = bpy.context.scene
    tree = bpy.data.node_groups.new("Compositing", "CompositorNodeTree")
    scene.compositing_node_group = tree
    tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
    node = tree.nodes.new("CompositorNodeSingleHDR")
    node.source_image = source
    out = tree.nodes.new("NodeGroupOutput")
    tree.links.new(node.outputs[0], out.inputs[0])
    return tree, node


def bake(bpy, tree, node):
    return bpy.ops.singlehdr.bake_hdr(tree_name=tree.name, node_name=node.name)


def test_addon_registers_node_operators_and_preferences(blender, addon):
    bpy = blender
    assert addon.__name__ == "bl_ext.singlehdr_test.singlehdr"  # installed by Blender's extension installer
    prefs = bpy.context.preferences.addons[addon.__name__].preferences
    assert (prefs.model_path, prefs.device) == ("", "auto")
    assert bpy.types.Node.bl_rna_get_subclass_py("CompositorNodeSingleHDR") is addon.nodes.SingleHDRReconstructNode
    assert hasattr(bpy.ops.singlehdr, "bake_hdr") and hasattr(bpy.ops.singlehdr, "world_from_photo")
    # the node lives in a compositor tree with its private Image -> Exposure -> Output group
    tree = bpy.data.node_groups.new("Compositing", "CompositorNodeTree")
    node = tree.nodes.new("CompositorNodeSingleHDR")
    inner = node.node_tree
    assert inner.bl_idname == "CompositorNodeTree"
    assert sorted(n.bl_idname for n in inner.nodes) == ["CompositorNodeExposure", "CompositorNodeImage", "NodeGroupOutput"]
    assert [s.name for s in node.outputs] == ["Image"]
    node.exposure = 1.5
    assert inner.nodes["Exposure"].inputs["Exposure"].default_value == pytest.approx(1.5)
    # duplicating a node gives it its own inner tree
    copy = tree.nodes.new("CompositorNodeSingleHDR")
    assert copy.node_tree != inner
    # deleting a node frees its private tree
    inner_name = copy.node_tree.name
    tree.nodes.remove(copy)
    assert inner_name not in bpy.data.node_groups


def test_addon_unregisters_and_registers_again(blender, addon):
    import addon_utils

    bpy = blender
    addon_utils.disable(addon.__name__, default_set=True)
    try:
        assert bpy.types.Node.bl_rna_get_subclass_py("CompositorNodeSingleHDR") is None
        assert not hasattr(bpy.types, "SINGLEHDR_OT_bake_hdr")
        assert bpy.context.preferences.addons.get(addon.__name__) is None
    finally:
        addon_utils.enable(addon.__name__, default_set=True)
    assert bpy.types.Node.bl_rna_get_subclass_py("CompositorNodeSingleHDR") is not None
    assert bpy.ops.singlehdr.bake_hdr.poll()


def test_8bit_srgb_pixels_are_srgb_encoded_top_down(blender, addon):
    """Blender gives an 8-bit sRGB image's stored values / 255, rows bottom-up."""
    bpy = blender
    rgb = srgb_bytes()
    image = new_byte_image(bpy, "photo", rgb)
    raw = np.empty(W * H * 4, np.float32)
    image.pixels.foreach_get(raw)
    bottom_up = raw.reshape(H, W, 4)
    assert bottom_up[0, 10, 1] == pytest.approx(255 / 255.0)  # bottom row has the largest G
    assert bottom_up[H - 1, 0, 0] == pytest.approx(1.0)  # top-left patch is in the last row
    ldr = addon.blender_io.read_ldr(image)
    assert ldr.transfer == "srgb" and ldr.bit_depth == 8 and ldr.shape == (H, W)
    np.testing.assert_allclose(ldr.pixels, rgb.astype(np.float32) / 255.0, atol=1e-7)


def test_bake_inverse_srgb_equals_reconstruct(blender, addon):
    import singlehdr
    from singlehdr import ReconstructOptions

    bpy = blender
    rgb = srgb_bytes()
    source = new_byte_image(bpy, "photo", rgb)
    tree, node = compositor_with_node(bpy, source)
    node.method = "inverse-srgb"
    assert bake(bpy, tree, node) == {"FINISHED"}

    baked = node.baked_image
    assert baked is not None and baked.is_float
    assert baked.colorspace_settings.name == "Linear Rec.709"
    assert baked.packed_file is not None and baked.use_fake_user
    pixels = addon.blender_io.read_pixels(baked)
    expected = singlehdr.reconstruct(rgb, ReconstructOptions(method="inverse-srgb")).hdr_linear
    np.testing.assert_allclose(pixels[..., :3], expected, atol=1e-5)
    np.testing.assert_array_equal(pixels[..., 3], 1.0)
    # hand-computed inverse sRGB (IEC 61966-2-1): 128/255 -> 0.2158605, 64/255 -> 0.0512695, 40/255 -> 0.0212190
    assert rgb[20, 32, 0] == 128 and rgb[20, 16, 0] == 64
    assert pixels[20, 32, 0] == pytest.approx(0.2158605, abs=1e-5)
    assert pixels[20, 16, 0] == pytest.approx(0.0512695, abs=1e-5)
    assert pixels[20, 20, 2] == pytest.approx(0.0212190, abs=1e-5)
    assert pixels[:8, :8, :3].min() == pytest.approx(1.0, abs=1e-6)
    assert node.baked_colorspace == "Linear Rec.709"
    assert node.baked_info == "classical:inverse-srgb"


def render_compositor(bpy, path) -> np.ndarray:
    """Render the scene's compositor to a 32-bit EXR and read it back with OpenImageIO."""
    import OpenImageIO as oiio

    scene = bpy.context.scene
    r = scene.render
    r.engine = "BLENDER_WORKBENCH"
    r.resolution_x, r.resolution_y, r.resolution_percentage = W, H, 100
    r.use_compositing = True
    r.image_settings.file_format = "OPEN_EXR"
    r.image_settings.color_depth = "32"
    r.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    buf = oiio.ImageBuf(str(path))
    assert buf.spec().width == W and buf.spec().height == H, buf.geterror()
    return buf.get_pixels(oiio.FLOAT)


def test_bake_akyuz_expands_and_compositor_renders_it(blender, addon, tmp_path):
    import singlehdr
    from singlehdr import ReconstructOptions

    bpy = blender
    rgb = srgb_bytes()
    source = new_byte_image(bpy, "photo", rgb)
    tree, node = compositor_with_node(bpy, source)
    node.method = "akyuz"
    assert bake(bpy, tree, node) == {"FINISHED"}
    pixels = addon.blender_io.read_pixels(node.baked_image)[..., :3]
    expected = singlehdr.reconstruct(rgb, ReconstructOptions(method="akyuz")).hdr_linear
    np.testing.assert_allclose(pixels, expected, rtol=1e-6, atol=1e-5)
    # the clipped patch is expanded to Akyuz's peak (10), far above LDR white
    assert pixels[:8, :8].min() > 9.0 and pixels[:8, :8].max() < 10.5
    assert (pixels > 1.0).sum() > 64

    rendered = render_compositor(bpy, tmp_path / "comp0.exr")
    np.testing.assert_allclose(rendered[..., :3], pixels, rtol=1e-5, atol=1e-5)
    node.exposure = 1.0  # live: x 2, no re-bake
    rendered = render_compositor(bpy, tmp_path / "comp1.exr")
    np.testing.assert_allclose(rendered[..., :3], 2.0 * pixels, rtol=1e-5, atol=1e-5)


def test_packed_hdr_survives_save_and_reload_and_rebake(blender, addon, tmp_path):
    bpy = blender
    rgb = srgb_bytes()
    source = new_byte_image(bpy, "photo", rgb)
    source.pack()  # the 8-bit source must survive the reload too
    tree, node = compositor_with_node(bpy, source)
    node.method = "akyuz"
    assert bake(bpy, tree, node) == {"FINISHED"}
    before = addon.blender_io.read_pixels(node.baked_image)
    name = node.baked_image.name
    blend = tmp_path / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))

    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    assert name not in bpy.data.images
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    tree = bpy.context.scene.compositing_node_group
    node = next(n for n in tree.nodes if n.bl_idname == "CompositorNodeSingleHDR")
    image = node.baked_image
    assert image is not None and image.name == name and image.packed_file is not None
    assert image.colorspace_settings.name == "Linear Rec.709" and image.is_float
    after = addon.blender_io.read_pixels(image)
    np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-6)

    # re-bake with another method after the reload: the packed data follows
    node.method = "inverse-srgb"
    assert bake(bpy, tree, node) == {"FINISHED"}
    assert node.baked_image.name == name
    rebaked = addon.blender_io.read_pixels(node.baked_image)
    assert rebaked[:8, :8, :3].max() == pytest.approx(1.0, abs=1e-6)
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    node = next(n for n in bpy.context.scene.compositing_node_group.nodes if n.bl_idname == "CompositorNodeSingleHDR")
    np.testing.assert_allclose(addon.blender_io.read_pixels(node.baked_image), rebaked, atol=1e-6)


def test_bake_reports_user_errors(blender, addon):
    bpy = blender
    tree, node = compositor_with_node(bpy, None)
    with pytest.raises(RuntimeError, match="choose a source image"):
        bake(bpy, tree, node)
    display = new_byte_image(bpy, "display", srgb_bytes())
    display.colorspace_settings.name = "Filmic sRGB"
    node.source_image = display
    node.method = "akyuz"
    with pytest.raises(RuntimeError, match="set the image's colour space to sRGB"):
        bake(bpy, tree, node)
    assert node.baked_image is None
    with pytest.raises(RuntimeError, match="select a SingleHDR Reconstruct node"):
        bpy.ops.singlehdr.bake_hdr(tree_name=tree.name, node_name="nope")


def test_float_source_is_treated_as_linear(blender, addon):
    """A float (linear) source is sRGB-encoded by reconstruct itself: inverse-srgb gives it back."""
    bpy = blender
    lin = np.linspace(0.0, 1.0, H * W * 3, dtype=np.float32).reshape(H, W, 3)
    image = bpy.data.images.new("linear", W, H, alpha=True, float_buffer=True)
    image.pixels.foreach_set(addon.convert.blender_pixels(lin))
    tree, node = compositor_with_node(bpy, image)
    node.method = "inverse-srgb"
    assert bake(bpy, tree, node) == {"FINISHED"}
    np.testing.assert_allclose(addon.blender_io.read_pixels(node.baked_image)[..., :3], lin, atol=2e-5)


def test_pixel_conversions_round_trip(addon):
    convert = addon.convert
    hdr = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    flat = convert.blender_pixels(hdr)
    assert flat.dtype == np.float32 and flat.shape == (2 * 3 * 4,)
    # first values in Blender's order are the bottom row's first pixel, alpha 1
    np.testing.assert_array_equal(flat[:4], [9, 10, 11, 1])
    back = convert.pixels_top_down(flat, 3, 2, 4)
    np.testing.assert_array_equal(back[..., :3], hdr)
    assert convert.output_name("my photo (1)") == "my_photo__1__singlehdr.exr"
    assert convert.source_transfer("sRGB", False) == "srgb"
    assert convert.source_transfer("sRGB", True) == "linear"
    assert convert.working_space_key("ACEScg") == "acescg"
    from singlehdr.errors import SingleHDRError

    with pytest.raises(SingleHDRError, match="working colour space"):
        convert.working_space_key("Linear CIE-XYZ E")


MISSING_SINGLEHDR = r'''
import importlib, importlib.util, json, os, sys, tempfile
sys.path.append(SITE)  # site-packages without its .pth files: bpy and numpy, but no singlehdr
os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp()
import bpy
assert importlib.util.find_spec("singlehdr") is None
bpy.context.preferences.extensions.repos.new(name="t", module="t", custom_directory=tempfile.mkdtemp(), source="USER")
assert bpy.ops.extensions.package_install_files(filepath=ZIP, repo="t", enable_on_install=True) == {"FINISHED"}
addon = importlib.import_module("bl_ext.t.singlehdr")
tree = bpy.data.node_groups.new("Compositing", "CompositorNodeTree")
node = tree.nodes.new("CompositorNodeSingleHDR")
node.source_image = bpy.data.images.new("photo", 8, 4)
try:
    bpy.ops.singlehdr.bake_hdr(tree_name=tree.name, node_name=node.name)
    error = None
except RuntimeError as exc:
    error = str(exc)
print("RESULT" + json.dumps({"status": addon.convert.singlehdr_status(), "error": error}))
'''


def test_addon_registers_and_explains_without_singlehdr(addon_zip, tmp_path):
    """Without singlehdr in Blender's Python the add-on still registers and says what to do."""
    import json
    import os
    import subprocess
    import sys
    import sysconfig

    code = f"SITE = {sysconfig.get_paths()['purelib']!r}\nZIP = {str(addon_zip)!r}\n" + MISSING_SINGLEHDR
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # singlehdr must not come from a PYTHONPATH either
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(next(l for l in proc.stdout.splitlines() if l.startswith("RESULT"))[6:])
    ok, message = result["status"]
    assert not ok and "install/blender.sh" in message
    assert "singlehdr is not installed in Blender's Python" in result["error"]


def test_bake_with_network_uses_preferences_model_and_device(blender, addon, tmp_path):
    """method "singlehdr": the model file and device come from the add-on preferences."""
    import torch

    import singlehdr
    from singlehdr import ReconstructOptions
    from singlehdr.models.pipeline import SingleHDRConfig, SingleHDRModel
    from singlehdr.weights import save_model

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model_path = save_model(tmp_path / "tiny.safetensors", SingleHDRModel(SingleHDRConfig.small()), provenance={"name": "test"})
    bpy = blender
    prefs = bpy.context.preferences.addons[addon.__name__].preferences
    prefs.model_path, prefs.device = str(model_path), "cpu"
    try:
        rgb = srgb_bytes()
        tree, node = compositor_with_node(bpy, new_byte_image(bpy, "photo", rgb))
        node.method = "singlehdr"
        assert bake(bpy, tree, node) == {"FINISHED"}
    finally:
        prefs.model_path, prefs.device = "", "auto"
    expected = singlehdr.reconstruct(rgb, ReconstructOptions(model=str(model_path), device="cpu"))
    pixels = addon.blender_io.read_pixels(node.baked_image)[..., :3]
    np.testing.assert_allclose(pixels, expected.hdr_linear, rtol=1e-5, atol=1e-5)
    assert node.baked_info == expected.metadata["model_id"] and node.baked_info.startswith("test-")


def test_bake_follows_the_blend_files_working_space(blender, addon):
    """With an ACEScg working space the bake asks singlehdr for ACEScg and tags the image so."""
    import singlehdr
    from singlehdr import ReconstructOptions

    bpy = blender
    assert bpy.ops.wm.set_working_color_space(working_space="ACEScg") == {"FINISHED"}
    assert bpy.data.colorspace.working_space == "ACEScg"
    try:
        rgb = srgb_bytes()
        tree, node = compositor_with_node(bpy, new_byte_image(bpy, "photo", rgb))
        node.method = "akyuz"
        assert bake(bpy, tree, node) == {"FINISHED"}
        image = node.baked_image
        assert image.colorspace_settings.name == "ACEScg" and node.baked_colorspace == "ACEScg"
        expected = singlehdr.reconstruct(rgb, ReconstructOptions(method="akyuz", colorspace="acescg")).hdr_linear
        rec709 = singlehdr.reconstruct(rgb, ReconstructOptions(method="akyuz")).hdr_linear
        assert np.abs(expected - rec709).max() > 0.05  # the conversion is not a no-op
        np.testing.assert_allclose(addon.blender_io.read_pixels(image)[..., :3], expected, rtol=1e-6, atol=1e-5)
    finally:
        bpy.ops.wm.set_working_color_space(working_space="Linear Rec.709")
