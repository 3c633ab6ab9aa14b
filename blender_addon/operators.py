"""Operators: one per action.

- ``singlehdr.bake_hdr``: reconstruct a SingleHDR node's source image into its
  packed float image.
- ``singlehdr.world_from_photo``: photo / 360 panorama / chrome ball ->
  HDR EXR on disk -> World with an Environment Texture.

Both are thin over singlehdr's public API (``singlehdr.reconstruct`` and
``singlehdr.envmap.make_envmap``); no step is re-implemented here.
"""

from __future__ import annotations

import json
import os
import traceback
from pathlib import Path

import bpy
from bpy_extras.io_utils import ImportHelper

from .convert import KIND_ITEMS, METHOD_ITEMS, make_options, make_world_hdr, output_name, working_space_key
from .prefs import settings

PHOTO_GLOB = "*.jpg;*.jpeg;*.png;*.tif;*.tiff;*.webp;*.heic;*.heif"


def _user_error(exc: BaseException) -> str | None:
    """The one-line message of an error the user can fix, else None."""
    try:
        from singlehdr.errors import SingleHDRError
    except ImportError:
        return "singlehdr is not installed in Blender's Python: run install/blender.sh (see the add-on README)"
    if isinstance(exc, SingleHDRError):
        return str(exc)
    if isinstance(exc, ImportError):
        return f"a package singlehdr needs is missing in Blender's Python ({exc}); run install/blender.sh"
    return None


def _run_reporting(op: bpy.types.Operator, context, work) -> set[str]:
    """Run ``work(progress)`` with a progress bar; errors become reports."""
    wm = context.window_manager
    wm.progress_begin(0, 100)
    try:
        work(lambda pct: wm.progress_update(int(pct)))
    except Exception as exc:  # every failure is reported in the UI, bugs with a traceback
        message = _user_error(exc)
        if message is None:
            traceback.print_exc()
            message = f"SingleHDR failed unexpectedly ({type(exc).__name__}: {exc}); see the system console"
        op.report({"ERROR"}, message)
        return {"CANCELLED"}
    finally:
        wm.progress_end()
    return {"FINISHED"}


def _provenance(metadata: dict) -> str:
    plain = {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool))}
    return json.dumps(plain, sort_keys=True)


class SINGLEHDR_OT_bake_hdr(bpy.types.Operator):
    """Reconstruct the node's source image as linear HDR and store it in the .blend"""

    bl_idname = "singlehdr.bake_hdr"
    bl_label = "Bake HDR"
    bl_options = {"REGISTER"}

    tree_name: bpy.props.StringProperty(name="Node tree", options={"HIDDEN", "SKIP_SAVE"})
    node_name: bpy.props.StringProperty(name="Node", options={"HIDDEN", "SKIP_SAVE"})

    def _node(self, context):
        from .nodes import NODE_IDNAME

        if self.tree_name:
            tree = bpy.data.node_groups.get(self.tree_name)
            node = tree.nodes.get(self.node_name) if tree is not None else None
        else:
            node = getattr(context, "active_node", None)
        return node if node is not None and node.bl_idname == NODE_IDNAME else None

    def execute(self, context):
        node = self._node(context)
        if node is None:
            self.report({"ERROR"}, "select a SingleHDR Reconstruct node in the compositor first")
            return {"CANCELLED"}
        source = node.source_image
        if source is None:
            self.report({"ERROR"}, "choose a source image on the SingleHDR node first")
            return {"CANCELLED"}
        model_path, device = settings(context)

        def work(progress):
            import singlehdr

            from .blender_io import read_ldr, write_float_image

            colorspace_name = bpy.data.colorspace.working_space
            options = make_options(
                node.method,
                model_path=model_path,
                device=device,
                input_kind=node.input_kind,
                colorspace=working_space_key(colorspace_name),
            )
            ldr = read_ldr(source)
            progress(10)
            result = singlehdr.reconstruct(ldr, options)
            progress(90)
            image = write_float_image(f"{source.name} HDR", result.hdr_linear, colorspace_name, existing=node.baked_image)
            image["singlehdr"] = _provenance(result.metadata)
            node.set_baked_image(image)
            node.baked_colorspace = colorspace_name
            node.baked_info = str(result.metadata.get("model_id", node.method))
            progress(100)
            self.report({"INFO"}, f"baked {image.name} ({image.size[0]}x{image.size[1]}, peak {float(result.hdr_linear.max()):.3g})")

        return _run_reporting(self, context, work)


def _output_folder(directory: str) -> Path:
    """Where the world's EXR goes: the chosen folder, else next to the .blend, else Blender's temp dir."""
    if directory:
        return Path(bpy.path.abspath(directory))
    if bpy.data.filepath:
        return Path(bpy.data.filepath).parent / "singlehdr"
    return Path(bpy.app.tempdir or os.path.join(os.path.expanduser("~"), "singlehdr"))


def _free_path(folder: Path, name: str) -> Path:
    """``folder/name``, numbered (name_001.exr, ...) if that file exists."""
    path = folder / name
    stem, suffix = path.stem, path.suffix
    n = 0
    while path.exists():
        n += 1
        path = folder / f"{stem}_{n:03d}{suffix}"
    return path


def build_world(world: bpy.types.World, image: bpy.types.Image, *, strength: float, rotation: float) -> None:
    """World nodes: Texture Coordinate -> Mapping (rotation Z) -> Environment Texture -> Background -> World Output."""
    tree = world.node_tree
    nodes, links = tree.nodes, tree.links
    nodes.clear()
    coords = nodes.new("ShaderNodeTexCoord")
    coords.location = (-900, 0)
    mapping = nodes.new("ShaderNodeMapping")
    mapping.name = "SingleHDR Mapping"
    mapping.location = (-700, 0)
    mapping.inputs["Rotation"].default_value = (0.0, 0.0, rotation)
    env = nodes.new("ShaderNodeTexEnvironment")
    env.name = "SingleHDR Environment"
    env.location = (-450, 0)
    env.image = image
    env.projection = "EQUIRECTANGULAR"
    env.interpolation = "Linear"
    background = nodes.new("ShaderNodeBackground")
    background.name = "SingleHDR Background"
    background.location = (-150, 0)
    background.inputs["Strength"].default_value = strength
    output = nodes.new("ShaderNodeOutputWorld")
    output.location = (100, 0)
    links.new(coords.outputs["Generated"], mapping.inputs["Vector"])
    links.new(mapping.outputs["Vector"], env.inputs["Vector"])
    links.new(env.outputs["Color"], background.inputs["Color"])
    links.new(background.outputs["Background"], output.inputs["Surface"])


class SINGLEHDR_OT_world_from_photo(bpy.types.Operator, ImportHelper):
    """Make the scene's World from one photo, 360 panorama or chrome-ball shot (reconstructed to linear HDR)"""

    bl_idname = "singlehdr.world_from_photo"
    bl_label = "Create World from Photo"
    bl_options = {"REGISTER", "UNDO"}

    filter_glob: bpy.props.StringProperty(default=PHOTO_GLOB, options={"HIDDEN"})
    kind: bpy.props.EnumProperty(name="Input", items=KIND_ITEMS, default="auto")
    method: bpy.props.EnumProperty(name="Method", items=METHOD_ITEMS, default="singlehdr")
    strength: bpy.props.FloatProperty(name="Strength", default=1.0, min=0.0, soft_max=10.0)
    width: bpy.props.IntProperty(
        name="Width", description="Width of the equirectangular map in pixels (height = width / 2)",
        default=2048, min=16, soft_max=8192, step=256,
    )
    fov: bpy.props.FloatProperty(
        name="Field of view",
        description="Horizontal field of view of an ordinary photo in degrees; 0 = from the photo's EXIF",
        default=0.0, min=0.0, max=179.0,
    )
    rotation: bpy.props.FloatProperty(
        name="Rotation",
        description="Rotation of the map about Z; 0 = Blender's convention (map centre faces +X), -90 degrees = centre faces +Y",
        default=0.0,
        subtype="ANGLE",
    )
    directory_out: bpy.props.StringProperty(
        name="Output folder",
        description="Where to write the HDR EXR; empty = a 'singlehdr' folder next to the .blend",
        subtype="DIR_PATH",
        default="",
    )
    pack: bpy.props.BoolProperty(
        name="Pack into .blend", description="Also pack the EXR into the .blend (always done for unsaved files)", default=False
    )

    def execute(self, context):
        source = Path(bpy.path.abspath(self.filepath))
        if not source.is_file():
            self.report({"ERROR"}, f"no such photo: {source}")
            return {"CANCELLED"}
        model_path, device = settings(context)
        scene = context.scene

        def work(progress):
            from singlehdr.io import write_hdr

            colorspace_name = bpy.data.colorspace.working_space
            key = working_space_key(colorspace_name)
            progress(5)
            hdr_linear, alpha, meta = make_world_hdr(
                str(source),
                method=self.method,
                model_path=model_path,
                device=device,
                kind=self.kind,
                colorspace=key,
                width=self.width - self.width % 2,
                fov=self.fov,
            )
            progress(80)
            folder = _output_folder(self.directory_out)
            folder.mkdir(parents=True, exist_ok=True)
            path = write_hdr(
                _free_path(folder, output_name(source.stem)),
                hdr_linear,
                alpha=alpha,
                half=False,
                colorspace=key,
                attributes={f"singlehdr:{k}": v for k, v in meta.items() if isinstance(v, (str, int, float))},
                inputs=(source,),
            )
            image = bpy.data.images.load(str(path), check_existing=False)
            image.colorspace_settings.name = colorspace_name
            # alpha is singlehdr's reliability mask (0 = filled in): keep it, but never let
            # Blender premultiply the colours with it
            image.alpha_mode = "CHANNEL_PACKED"
            if bpy.data.filepath and not self.directory_out:
                try:
                    image.filepath = bpy.path.relpath(str(path))
                except ValueError:  # another drive on Windows
                    pass
            if self.pack or not bpy.data.filepath:
                image.pack()
            world = bpy.data.worlds.new(f"SingleHDR {source.stem}")
            build_world(world, image, strength=self.strength, rotation=self.rotation)
            world["singlehdr_source"] = str(source)
            world["singlehdr_exr"] = str(path)
            scene.world = world
            progress(100)
            self.report({"INFO"}, f"world from {source.name}: {path}")

        return _run_reporting(self, context, work)


def _import_menu(self, context):
    self.layout.operator(SINGLEHDR_OT_world_from_photo.bl_idname, text="Photo as HDR World (SingleHDR)")


classes = (SINGLEHDR_OT_bake_hdr, SINGLEHDR_OT_world_from_photo)


def register():
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.TOPBAR_MT_file_import.append(_import_menu)


def unregister():
    bpy.types.TOPBAR_MT_file_import.remove(_import_menu)
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
