"""Make the README images of the Blender add-on (headless bpy 5.0.1, CPU, about a minute).

    PYTHONPATH=core python docs/blender/make_images.py [--method singlehdr] [--out docs/blender]

Writes (small PNGs):
- before_after.png: one small scene rendered with Cycles under three Worlds made
  from the same place: the 8-bit LDR panorama used as is ("before"), the World
  that *Create World from Photo* makes from it ("after", with the Sun lamp when
  the installed singlehdr recovers a sun), and the true HDR it was cut from
  ("reference").  The panorama is one of Blender's bundled CC0 HDRIs, exposed,
  clipped and quantised to 8 bits, so the reference is known.
- panel.png and operator.png: the rows that the World panel's and the
  operator's ``draw()`` produce, recorded from those real functions and drawn
  with Pillow.  They are diagrams, not screenshots: Blender's UI cannot be
  drawn without a display here.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
HDRI = "courtyard.exr"
W, H = 256, 144


def setup_bpy(tmp: Path):
    os.environ["BLENDER_USER_RESOURCES"] = str(tmp / "user")
    import bpy

    zip_dir = tmp / "dist"
    env = dict(os.environ, PYTHON=sys.executable, BLENDER="")
    subprocess.run(["bash", str(ROOT / "install" / "blender.sh"), "--build-only", "--out", str(zip_dir)], env=env,
                   check=True, capture_output=True)
    repos = bpy.context.preferences.extensions.repos
    repos.new(name="docs", module="docs", custom_directory=str(tmp / "ext"), source="USER")
    zip_path = next(zip_dir.glob("singlehdr-*.zip"))
    assert bpy.ops.extensions.package_install_files(filepath=str(zip_path), repo="docs", enable_on_install=True) == {"FINISHED"}
    return bpy, importlib.import_module("bl_ext.docs.singlehdr")


def ldr_panorama(bpy, path: Path, width: int = 1024) -> np.ndarray:
    """8-bit sRGB panorama from a bundled HDRI (median -> 0.18, clipped); returns the true HDR, same exposure."""
    import OpenImageIO as oiio
    from PIL import Image

    exr = Path(bpy.utils.system_resource("DATAFILES", path="studiolights/world")) / HDRI
    hdr = oiio.ImageBuf(str(exr)).get_pixels(oiio.FLOAT)[..., :3]
    f = hdr.shape[1] // width
    if f > 1:
        h2, w2 = hdr.shape[0] // f, hdr.shape[1] // f
        hdr = hdr[: h2 * f, : w2 * f].reshape(h2, f, w2, f, 3).mean(axis=(1, 3))
    hdr = hdr * (0.18 / np.median(hdr))
    lin = np.clip(hdr, 0.0, 1.0)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055)
    Image.fromarray(np.round(srgb * 255).astype(np.uint8)).save(path)
    return hdr.astype(np.float32)


def scene_objects(bpy) -> None:
    scene = bpy.context.scene

    def material(name, colour, metallic=0.0, roughness=0.5):
        mat = bpy.data.materials.new(name)
        bsdf = mat.node_tree.nodes.get("Principled BSDF")
        bsdf.inputs["Base Color"].default_value = (*colour, 1.0)
        bsdf.inputs["Metallic"].default_value = metallic
        bsdf.inputs["Roughness"].default_value = roughness
        return mat

    def sphere(name, loc, radius, mat):
        bpy.ops.mesh.primitive_uv_sphere_add(radius=radius, location=loc, segments=48, ring_count=24)
        obj = bpy.context.active_object
        obj.name = name
        bpy.ops.object.shade_smooth()
        obj.data.materials.append(mat)

    bpy.ops.mesh.primitive_plane_add(size=40.0)
    bpy.context.active_object.data.materials.append(material("ground", (0.5, 0.5, 0.5), roughness=0.8))
    sphere("diffuse", (-1.3, 0.0, 0.6), 0.6, material("white", (0.8, 0.8, 0.8), roughness=0.9))
    sphere("chrome", (0.1, 0.6, 0.6), 0.6, material("chrome", (0.9, 0.9, 0.9), metallic=1.0, roughness=0.05))
    sphere("red", (1.3, -0.3, 0.45), 0.45, material("red", (0.7, 0.1, 0.08), roughness=0.4))
    cam_data = bpy.data.cameras.new("cam")
    cam_data.lens = 35
    cam = bpy.data.objects.new("cam", cam_data)
    cam.location = (0.0, -6.0, 2.0)
    cam.rotation_euler = (math.radians(78), 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    r = scene.render
    r.engine = "CYCLES"
    scene.cycles.device, scene.cycles.samples = "CPU", 48
    scene.cycles.use_denoising = False
    r.resolution_x, r.resolution_y, r.resolution_percentage = W, H, 100
    r.image_settings.file_format = "PNG"
    scene.view_settings.view_transform = "AgX"


def env_world(bpy, addon, name: str, image) -> None:
    world = bpy.data.worlds.new(name)
    addon.world.build_world(world, image, strength=1.0, rotation=0.0)
    bpy.context.scene.world = world


def render(bpy, path: Path) -> np.ndarray:
    from PIL import Image

    bpy.context.scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    return np.asarray(Image.open(path).convert("RGB"))


def label(img: np.ndarray, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    draw.rectangle((0, 0, pil.width, 16), fill=(0, 0, 0))
    draw.text((4, 2), text, fill=(255, 255, 255))
    return np.asarray(pil)


class Recorder:
    """Stands in for bpy's UILayout to record the rows a real draw() makes (for the diagrams only)."""

    def __init__(self, rows, depth=0):
        self.rows, self.depth, self.enabled = rows, depth, True

    def _add(self, kind, text):
        self.rows.append((self.depth, kind, text))

    def label(self, text="", icon="NONE"):
        self._add("label", text)

    def operator(self, idname, text="", icon="NONE"):
        from bpy import types

        module, name = idname.split(".")
        cls = getattr(types, f"{module.upper()}_OT_{name}", None)
        self._add("button", text or (cls.bl_label if cls is not None else idname))
        return type("Props", (), {})()

    def prop(self, data, prop, text=None, index=-1, **_):
        rna = data.bl_rna.properties[prop]
        value = getattr(data, prop)
        if index >= 0:
            value = value[index]
        if rna.type == "ENUM":
            value = next(i.name for i in rna.enum_items if i.identifier == value)
        elif rna.type == "FLOAT" and rna.subtype == "ANGLE":
            value = f"{math.degrees(value):.0f}\N{DEGREE SIGN}"
        elif isinstance(value, float):
            value = f"{value:.3g}"
        elif hasattr(value, "__len__") and not isinstance(value, str):
            value = ", ".join(f"{v:.2f}" for v in value)
        self._add("prop", f"{text if text is not None else rna.name}: {value}")

    def row(self, **_):
        return self

    def column(self, **_):
        return self

    def box(self):
        return Recorder(self.rows, self.depth + 1)


def diagram(title: str, rows, path: Path) -> None:
    from PIL import Image, ImageDraw

    height = 28 + 22 * len(rows)
    pil = Image.new("RGB", (330, height), (48, 48, 48))
    draw = ImageDraw.Draw(pil)
    draw.rectangle((0, 0, 330, 22), fill=(35, 35, 35))
    draw.text((8, 5), title, fill=(230, 230, 230))
    y = 28
    for depth, kind, text in rows:
        x = 10 + 14 * depth
        if kind == "button":
            draw.rounded_rectangle((x, y, 320, y + 18), 4, fill=(84, 84, 84))
            draw.text((x + 8, y + 3), text, fill=(240, 240, 240))
        elif kind == "prop":
            draw.rounded_rectangle((x, y, 320, y + 18), 4, fill=(40, 40, 40), outline=(70, 70, 70))
            draw.text((x + 8, y + 3), text, fill=(220, 220, 220))
        else:
            draw.text((x, y + 3), text, fill=(200, 200, 200))
        y += 22
    pil.save(path, optimize=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="singlehdr", help="reconstruction method for the 'after' World (default: the network)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "blender"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bpy, addon = setup_bpy(tmp)
        bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
        png = tmp / "place.png"
        hdr = ldr_panorama(bpy, png)
        blend = tmp / "shot.blend"
        bpy.ops.wm.save_as_mainfile(filepath=str(blend))
        scene_objects(bpy)
        bpy.context.scene.render.threads_mode = "FIXED"
        bpy.context.scene.render.threads = 2

        before = bpy.data.images.load(str(png))  # 8-bit sRGB: what the photo gives as is
        env_world(bpy, addon, "LDR as is", before)
        img_before = render(bpy, tmp / "before.png")

        from singlehdr.io import write_hdr

        truth = bpy.data.images.load(str(write_hdr(tmp / "truth.exr", hdr, half=False)))
        truth.colorspace_settings.name = "Linear Rec.709"
        env_world(bpy, addon, "true HDR", truth)
        img_truth = render(bpy, tmp / "truth.png")

        result = bpy.ops.singlehdr.world_from_photo(filepath=str(png), kind="equirect", method=args.method, width=1024,
                                                    sun="LAMP", storage="RELATIVE")
        assert result == {"FINISHED"}, result
        lamp = bpy.context.scene.objects.get(addon.world.SUN_OBJECT)
        img_after = render(bpy, tmp / "after.png")
        after_label = f"after: World from Photo ({args.method}{' + Sun lamp' if lamp else ''})"
        sheet = np.concatenate([label(img_before, "before: the 8-bit photo as World"), label(img_after, after_label),
                                label(img_truth, "reference: the true HDR")], axis=1)
        from PIL import Image

        Image.fromarray(sheet).save(out / "before_after.png", optimize=True)

        rows: list = []
        panel = addon.panels.WORLD_PT_singlehdr
        from types import SimpleNamespace

        scene = bpy.context.scene  # the Properties editor's context: its world, the scene, the preferences
        ctx = SimpleNamespace(world=scene.world, scene=scene, preferences=bpy.context.preferences)
        panel.draw(type("P", (), {"layout": Recorder(rows)})(), ctx)
        diagram("World Properties > SingleHDR", rows, out / "panel.png")

        op_rows: list = []
        op_cls = addon.operators.SINGLEHDR_OT_world_from_photo
        op_rna = bpy.ops.singlehdr.world_from_photo.get_rna_type()
        defaults = {p.identifier: p.default for p in op_rna.properties
                    if p.identifier != "rna_type" and not getattr(p, "is_array", False) and hasattr(p, "default")}
        op_cls.draw(type("O", (), {"layout": Recorder(op_rows), "bl_rna": op_rna, **defaults})(), bpy.context)
        diagram("Create World from Photo (file browser sidebar)", [(0, "label", "Operator options")] + op_rows + [
            (0, "button", "Create World from Photo")], out / "operator.png")
    for name in ("before_after.png", "panel.png", "operator.png"):
        print(out / name, (out / name).stat().st_size, "bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
