"""The hosts make the CLI's maps: the same pixels and the same singlehdr header, read back with OpenEXR.

One small JPEG made here, a training-free method (akyuz), sun "auto":

- environment map: ``singlehdr envmap`` vs Blender's *World from Photo*
  (which runs that CLI in a child process and keeps its EXR) and vs the Nuke
  gizmo in Environment-map mode (fake Nuke, real child process, its EXR kept);
- HDR still: ``singlehdr reconstruct`` vs the Nuke gizmo's Reconstruct
  (fake Nuke, real child process, its EXR kept) vs Blender's SingleHDR node
  bake (the child's EXR is loaded into a float image and the file removed,
  so only pixels can be compared there).

Plus: every host menu offers the core's list (singlehdr.choices), checked on
the registered Blender RNA enums and the gizmo's knobs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nuke_fixtures import gizmo, nuke  # noqa: F401 (fixtures)
from singlehdr import choices

pytestmark = pytest.mark.bpy

# header attributes that must differ between two runs of the same command, and why
MUST_DIFFER = {"singlehdr:envmap:seconds": "the wall-clock time of each run"}


def make_jpeg(path: Path, w: int, h: int) -> Path:
    """A deterministic sRGB 2:1 JPEG: a clear sky (the sun table's multiple-scattering entry, sun 45 deg up, so the
    sun recovery's sky fit accepts it: a hand-made ramp sky stopped doing so at stop 13) over darker ground, the
    sun's disc and circumsolar glare clipped."""
    from PIL import Image

    from singlehdr.envmap import sun as S
    from singlehdr.envmap.projections import azimuth_elevation, equirect_directions

    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    az, el = azimuth_elevation(equirect_directions(h, w))
    sun_az = (0.3 - 0.5) * 360.0
    log_sky, _, sky_h = S.sky_table("MULTIPLE_SCATTERING").at(45.0)
    lum = np.exp(S._sample_model(S._lerp2(log_sky, 0.5, 1.5), np.maximum(el, 0.0), (az - sun_az + 180.0) % 360.0 - 180.0))
    rgb = S._lerp2(sky_h, 0.5, 1.5)
    sky = (lum / np.median(lum[el > 0]) * 0.3)[..., None] * (rgb / rgb.max())[None, None, :]
    ground = np.stack([0.3 + 0.1 * x / w, 0.25 + 0.05 * np.sin(x / 5), 0.15 + 0 * x], axis=2)
    img = np.where((y < h / 2)[..., None], sky, ground)
    srgb = np.where(img <= 0.0031308, 12.92 * img, 1.055 * np.power(np.clip(img, 0.0031308, None), 1 / 2.4) - 0.055)
    Image.fromarray(np.round(np.clip(srgb, 0, 1) * 255).astype(np.uint8)).save(path, quality=95)
    return path


def cli(*argv: str) -> None:
    """The singlehdr CLI in a child process (as the hosts run it)."""
    proc = subprocess.run([sys.executable, "-m", "singlehdr.cli", *map(str, argv)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def read_openexr(path: Path) -> tuple[np.ndarray, dict[str, object], str]:
    """(pixels (H, W, C) float32 in R, G, B[, A] order, singlehdr:* attributes, pixel type) with OpenEXR."""
    import OpenEXR

    with OpenEXR.File(str(path), separate_channels=True) as f:
        header = f.header()
        chans = f.channels()
        names = [c for c in ("R", "G", "B", "A") if c in chans]
        assert names[:3] == ["R", "G", "B"], sorted(chans)
        px = np.stack([np.asarray(chans[c].pixels, dtype=np.float32) for c in names], axis=-1)
        dtype = str(np.asarray(chans["R"].pixels).dtype)
        attrs = {k: v for k, v in header.items() if str(k).startswith("singlehdr:")}  # read while the file is open
    return px, attrs, dtype


def assert_same_header(ours: dict[str, object], cli_attrs: dict[str, object]) -> None:
    assert ours.keys() == cli_attrs.keys()
    for key in ours:
        if key in MUST_DIFFER:
            continue
        assert ours[key] == cli_attrs[key], key


def test_world_from_photo_writes_the_clis_envmap(blender, addon, tmp_path):
    bpy = blender
    jpg = make_jpeg(tmp_path / "pano.jpg", 128, 64)
    cli_exr = tmp_path / "cli" / "pano_singlehdr.exr"
    cli("envmap", jpg, "-o", cli_exr, "--method", "akyuz", "--width", "128", "--sun", "auto")
    # "In the map" = --sun auto, the map as made (the Sun lamp choice adds a sun-free copy beside it)
    assert bpy.ops.singlehdr.world_from_photo(filepath=str(jpg), method="akyuz", width=128, sun="MAP",
                                              directory_out=str(tmp_path / "blender")) == {"FINISHED"}
    px_b, attrs_b, type_b = read_openexr(tmp_path / "blender" / "pano_singlehdr.exr")
    px_c, attrs_c, type_c = read_openexr(cli_exr)
    assert px_b.shape == px_c.shape == (64, 128, 4) and type_b == type_c
    np.testing.assert_array_equal(px_b, px_c)
    assert px_c[..., :3].max() > 1.0  # the clipped sun was expanded: a map, not a copy of the JPEG
    assert_same_header(attrs_b, attrs_c)
    # the envmap keys are the writer's (singlehdr:envmap:<name>; once the add-on wrote singlehdr:envmap_kind)
    assert attrs_c["singlehdr:envmap:kind"] == "equirect" and attrs_c["singlehdr:method"] == "akyuz"
    assert not [k for k in attrs_b if k.startswith("singlehdr:envmap_")]
    assert set(MUST_DIFFER) <= attrs_c.keys()  # every listed exception exists (none is stale)
    # and Blender shows exactly those pixels
    image = bpy.context.scene.world.node_tree.nodes["SingleHDR Environment"].image
    np.testing.assert_allclose(addon.blender_io.read_pixels(image), px_c, rtol=0, atol=0)


def test_nuke_gizmo_envmap_mode_writes_the_clis_envmap(nuke, gizmo, tmp_path):  # noqa: F811
    jpg = make_jpeg(tmp_path / "pano.jpg", 128, 64)
    cli_exr = tmp_path / "cli" / "pano_singlehdr.exr"
    cli("envmap", jpg, "-o", cli_exr, "--method", "akyuz", "--width", "128", "--sun", "auto")
    # Nuke: the gizmo in Environment-map mode on a Read of the JPEG, sun auto (its default)
    gizmo.setInput(0, nuke.nodes.Read(file=str(jpg)))
    nuke.user_sets(gizmo, "mode", "Environment map")
    gizmo["method"].setValue("akyuz")
    gizmo["envmap_width"].setValue(128)
    assert gizmo["sun"].value() == "auto"
    gizmo["output_file"].setValue(str(tmp_path / "nuke" / "pano.####.exr"))
    nuke.current_frame = 1
    gizmo["reconstruct"].execute()
    nuke.process_events()
    assert nuke.messages == []
    px_n, attrs_n, type_n = read_openexr(tmp_path / "nuke" / "pano.0001.exr")
    px_c, attrs_c, type_c = read_openexr(cli_exr)
    assert px_n.shape == px_c.shape == (64, 128, 4) and type_n == type_c
    np.testing.assert_array_equal(px_n, px_c)
    assert px_c[..., :3].max() > 1.0  # the clipped sun was expanded: a map, not a copy of the JPEG
    assert_same_header(attrs_n, attrs_c)
    assert attrs_c["singlehdr:envmap:kind"] == "equirect" and attrs_c["singlehdr:method"] == "akyuz"
    assert set(MUST_DIFFER) <= attrs_c.keys()  # every listed exception exists (none is stale)


def test_nuke_gizmo_and_blender_node_write_the_clis_hdr(nuke, gizmo, blender, addon, tmp_path):  # noqa: F811
    bpy = blender
    jpg = make_jpeg(tmp_path / "photo.jpg", 96, 64)
    cli_exr, cli_float = tmp_path / "cli" / "photo.exr", tmp_path / "cli" / "photo_float.exr"
    cli("reconstruct", jpg, "-o", cli_exr, "--method", "akyuz")
    cli("reconstruct", jpg, "-o", cli_float, "--method", "akyuz", "--float")  # the Blender bake asks for float
    px_c, attrs_c, type_c = read_openexr(cli_exr)
    assert px_c[..., :3].max() > 1.0 and type_c == "float16"

    # Nuke: the gizmo's Reconstruct on a Read of the JPEG (read directly by singlehdr)
    gizmo.setInput(0, nuke.nodes.Read(file=str(jpg)))
    gizmo["method"].setValue("akyuz")
    gizmo["output_file"].setValue(str(tmp_path / "nuke" / "photo.####.exr"))
    nuke.current_frame = 1
    gizmo["reconstruct"].execute()
    nuke.process_events()
    assert nuke.messages == []
    px_n, attrs_n, type_n = read_openexr(tmp_path / "nuke" / "photo.0001.exr")
    assert type_n == type_c
    np.testing.assert_array_equal(px_n, px_c)
    assert_same_header(attrs_n, attrs_c)

    # Blender: the SingleHDR compositor node baked from the same JPEG
    scene = bpy.context.scene
    tree = bpy.data.node_groups.new("Compositing", "CompositorNodeTree")
    scene.compositing_node_group = tree
    node = tree.nodes.new("CompositorNodeSingleHDR")
    node.source_image = bpy.data.images.load(str(jpg))
    node.method = "akyuz"
    assert bpy.ops.singlehdr.bake_hdr(tree_name=tree.name, node_name=node.name) == {"FINISHED"}
    baked = addon.blender_io.read_pixels(node.baked_image)[..., :3]
    px_f, _, type_f = read_openexr(cli_float)
    assert type_f == "float32"
    np.testing.assert_array_equal(baked, px_f[..., :3])


def test_host_menus_are_the_core_lists(blender, addon, gizmo):  # noqa: F811
    bpy = blender

    def rna(cls, prop):
        return tuple(i.identifier for i in cls.bl_rna.properties[prop].enum_items)

    op = bpy.ops.singlehdr.world_from_photo.get_rna_type()
    for prop, values in (("method", choices.METHODS), ("kind", choices.ENVMAP_KINDS), ("exposure", choices.EXPOSURE_MODES)):
        assert tuple(i.identifier for i in op.properties[prop].enum_items) == values
    node = addon.nodes.SingleHDRReconstructNode
    assert rna(node, "method") == choices.METHODS
    assert rna(node, "input_kind") == choices.INPUT_KINDS
    assert rna(addon.prefs.SINGLEHDR_AP_preferences, "device") == choices.DEVICES
    # a saved .blend keeps an enum as its number: the numbers the add-on always saved
    numbers = {i.identifier: i.value for i in node.bl_rna.properties["method"].enum_items}
    assert numbers == {"singlehdr": 0, "akyuz": 1, "kovaleski": 2, "inverse-srgb": 3}
    numbers = {i.identifier: i.value for i in node.bl_rna.properties["input_kind"].enum_items}
    assert numbers == {"auto": 0, "equirect": 1, "photo": 2}
    # Nuke: the gizmo's enumeration knobs and the runner's lists
    assert gizmo["method"].values() == list(choices.METHODS)
    assert gizmo["exposure_mode"].values() == list(choices.EXPOSURE_MODES)
    assert gizmo["device"].values() == list(choices.DEVICES)
    assert gizmo["envmap_kind"].values() == list(choices.ENVMAP_KINDS)
    assert gizmo["sun"].values() == list(choices.SUN_MODES)
    from singlehdr_nuke import runner

    assert (runner.METHODS, runner.EXPOSURE_MODES, runner.COLORSPACES, runner.DEVICES) == (
        choices.METHODS, choices.EXPOSURE_MODES, choices.COLORSPACES, choices.DEVICES)
    assert (runner.ENVMAP_KINDS, runner.SUN_MODES) == (choices.ENVMAP_KINDS, choices.SUN_MODES)
