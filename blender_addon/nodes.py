"""The "SingleHDR Reconstruct" compositor node.

A CompositorNodeCustomGroup whose private node tree is
Image (the baked float image) -> Exposure -> Group Output.  The compositor only
ever evaluates Blender's own nodes: the reconstruction is baked once by the
``singlehdr.bake_hdr`` operator into a packed float image (a node that
computed pixels in Python would stall or crash the compositor).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import bpy

from .convert import INPUT_KIND_ITEMS, METHOD_ITEMS

NODE_IDNAME = "CompositorNodeSingleHDR"
IMAGE_NODE = "Baked HDR"
EXPOSURE_NODE = "Exposure"


def _update_exposure(self, context):
    tree = self.node_tree
    if tree is not None and EXPOSURE_NODE in tree.nodes:
        tree.nodes[EXPOSURE_NODE].inputs["Exposure"].default_value = self.exposure


class SingleHDRReconstructNode(bpy.types.CompositorNodeCustomGroup):
    """Reconstruct a linear HDR image from an LDR photo (bake, then composite)"""

    bl_idname = NODE_IDNAME
    bl_label = "SingleHDR Reconstruct"
    bl_icon = "IMAGE_RGB_ALPHA"
    bl_width_default = 240

    source_image: bpy.props.PointerProperty(
        type=bpy.types.Image, name="Source",
        description="The LDR photo, image sequence or movie (8-bit sRGB, or any image Blender reads)",
    )
    source_clip: bpy.props.PointerProperty(
        type=bpy.types.MovieClip, name="Clip", description="A movie clip to bake frame by frame (instead of the image)"
    )
    scene_start: bpy.props.IntProperty(
        name="Start frame",
        description="Scene frame at which a plate's first frame is shown",
        default=1,
        update=lambda self, context: _update_frames(self),
    )
    method: bpy.props.EnumProperty(name="Method", items=METHOD_ITEMS, default="singlehdr")
    input_kind: bpy.props.EnumProperty(
        name="Input",
        items=INPUT_KIND_ITEMS,
        default="auto",
        description="360 panoramas are reconstructed with a wrapping seam",
    )
    exposure: bpy.props.FloatProperty(
        name="Exposure",
        description="Exposure in stops applied after the bake (live, no re-bake)",
        default=0.0,
        soft_min=-10.0,
        soft_max=10.0,
        update=_update_exposure,
    )
    baked_colorspace: bpy.props.StringProperty(
        name="Baked colour space", description="Colour space of the baked pixels (the blend file's working space)"
    )
    baked_info: bpy.props.StringProperty(name="Baked with", description="Method / model of the last bake")

    @classmethod
    def poll(cls, ntree):
        return ntree.bl_idname == "CompositorNodeTree"

    def init(self, context):
        tree = bpy.data.node_groups.new(".SingleHDR Reconstruct", "CompositorNodeTree")
        tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
        image_node = tree.nodes.new("CompositorNodeImage")
        image_node.name = image_node.label = IMAGE_NODE
        image_node.location = (-400, 0)
        exposure = tree.nodes.new("CompositorNodeExposure")
        exposure.name = EXPOSURE_NODE
        exposure.location = (-150, 0)
        output = tree.nodes.new("NodeGroupOutput")
        output.location = (100, 0)
        tree.links.new(image_node.outputs["Image"], exposure.inputs["Image"])
        tree.links.new(exposure.outputs["Image"], output.inputs[0])
        self.node_tree = tree

    def copy(self, node):
        if node.node_tree is not None:
            self.node_tree = node.node_tree.copy()

    def free(self):
        tree = self.node_tree
        if tree is None or tree.use_fake_user:
            return
        # the private tree goes with its node unless another group node uses it
        shared = any(
            node != self and getattr(node, "node_tree", None) == tree
            for group in bpy.data.node_groups
            for node in group.nodes
        )
        if not shared:
            self.node_tree = None
            bpy.data.node_groups.remove(tree)

    @property
    def baked_image(self):
        """The packed float image the node outputs (None before the first bake)."""
        tree = self.node_tree
        if tree is None or IMAGE_NODE not in tree.nodes:
            return None
        return tree.nodes[IMAGE_NODE].image

    def set_baked_image(self, image) -> None:
        self.node_tree.nodes[IMAGE_NODE].image = image
        _update_frames(self)

    def draw_buttons(self, context, layout):
        layout.template_ID(self, "source_image", open="image.open")
        layout.template_ID(self, "source_clip", open="clip.open")
        layout.prop(self, "method")
        layout.prop(self, "exposure")
        op = layout.operator("singlehdr.bake_hdr", icon="RENDER_STILL")
        op.tree_name = self.id_data.name
        op.node_name = self.name

    def draw_buttons_ext(self, context, layout):
        draw_node_settings(self, layout)

    def draw_label(self):
        return self.bl_label


def _update_frames(node) -> None:
    """Show the baked plate's first frame at the node's start frame (a still: nothing to do)."""
    tree = node.node_tree
    if tree is None or IMAGE_NODE not in tree.nodes:
        return
    inner = tree.nodes[IMAGE_NODE]
    image = inner.image
    if image is None or image.source != "SEQUENCE" or "singlehdr_frames" not in image:
        return
    first, last = image["singlehdr_frames"]
    # Blender shows file frame (scene frame - frame_start + 1 + frame_offset)
    inner.frame_start = node.scene_start
    inner.frame_offset = int(first) - 1
    inner.frame_duration = int(last) - int(first) + 1


def plate_cache_folder(node, source: str, model_path: str = "") -> Path:
    """``//singlehdr_cache/<node>-<hash>/`` next to the saved .blend (else Blender's temp folder).

    The hash covers the source file and what changes the pixels (method, model, input kind,
    working space), so another plate or new settings never reuse frames baked for the old ones.
    """
    key = "|".join((source, node.method, model_path if node.method == "singlehdr" else "", node.input_kind,
                    bpy.data.colorspace.working_space))
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    base = Path(bpy.data.filepath).parent if bpy.data.filepath else Path(bpy.app.tempdir or ".")
    name = "".join(c if (c.isalnum() or c in "-_") else "_" for c in f"{node.id_data.name}_{node.name}")
    return base / "singlehdr_cache" / f"{name}-{digest}"


def set_baked_sequence(node, first_file: Path, frames: list[int], colorspace_name: str):
    """Point the node's inner Image node at the cached EXR sequence (// path when the .blend is saved)."""
    image = node.baked_image
    if image is None or image.source != "SEQUENCE" or bpy.path.abspath(image.filepath) != str(first_file):
        image = bpy.data.images.load(str(first_file), check_existing=False)
        image.name = f"{node.name} HDR"
    image.source = "SEQUENCE"
    image.colorspace_settings.name = colorspace_name
    if bpy.data.filepath:
        try:
            image.filepath = bpy.path.relpath(str(first_file))
        except ValueError:
            pass
    image["singlehdr_frames"] = [int(min(frames)), int(max(frames))]
    image.reload()
    node.baked_colorspace = colorspace_name
    node.set_baked_image(image)
    return image


def draw_node_settings(node, layout) -> None:
    """Full settings of a node (sidebar); draws only."""
    from .convert import singlehdr_status

    plate = node.source_clip is not None or (node.source_image is not None and node.source_image.source in ("SEQUENCE", "MOVIE"))
    # plates bake in a child process (its Python is checked when the bake starts); stills in Blender's Python
    ok, message = (True, "") if plate else singlehdr_status(node.method)
    if not ok:
        layout.label(text=message, icon="ERROR")
    layout.template_ID(node, "source_image", open="image.open")
    layout.template_ID(node, "source_clip", open="clip.open")
    layout.prop(node, "method")
    layout.prop(node, "input_kind")
    layout.prop(node, "scene_start")
    layout.prop(node, "exposure")
    row = layout.row()
    row.enabled = ok
    op = row.operator("singlehdr.bake_hdr", icon="RENDER_STILL")
    op.tree_name = node.id_data.name
    op.node_name = node.name
    baked = node.baked_image
    if baked is not None:
        col = layout.column(align=True)
        col.label(text=f"Baked: {baked.name} {baked.size[0]}x{baked.size[1]}", icon="IMAGE_DATA")
        if node.baked_colorspace:
            col.label(text=f"Colour space: {node.baked_colorspace}")
        if node.baked_info:
            col.label(text=node.baked_info)


def _menu_entry(self, context):
    if getattr(context.space_data, "tree_type", "") != "CompositorNodeTree":
        return
    op = self.layout.operator("node.add_node", text="SingleHDR Reconstruct", icon="IMAGE_RGB_ALPHA")
    op.type = NODE_IDNAME
    op.use_transform = True


_MENUS = ("NODE_MT_category_compositor_input",)


def register():
    bpy.utils.register_class(SingleHDRReconstructNode)
    for name in _MENUS:
        menu = getattr(bpy.types, name, None)
        if menu is not None:
            menu.append(_menu_entry)


def unregister():
    for name in _MENUS:
        menu = getattr(bpy.types, name, None)
        if menu is not None:
            menu.remove(_menu_entry)
    bpy.utils.unregister_class(SingleHDRReconstructNode)
