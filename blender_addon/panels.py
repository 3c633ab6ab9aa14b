"""Panels: they only draw (no work in draw())."""

from __future__ import annotations

import bpy

from .convert import singlehdr_status
from .nodes import NODE_IDNAME, draw_node_settings


class NODE_PT_singlehdr(bpy.types.Panel):
    bl_space_type = "NODE_EDITOR"
    bl_region_type = "UI"
    bl_category = "SingleHDR"
    bl_label = "SingleHDR"

    @classmethod
    def poll(cls, context):
        return getattr(context.space_data, "tree_type", "") == "CompositorNodeTree"

    def draw(self, context):
        layout = self.layout
        node = getattr(context, "active_node", None)
        if node is None or node.bl_idname != NODE_IDNAME:
            ok, message = singlehdr_status()
            layout.label(text=message, icon="CHECKMARK" if ok else "ERROR")
            layout.label(text="Add > Input > SingleHDR Reconstruct")
            return
        draw_node_settings(node, layout)


class WORLD_PT_singlehdr(bpy.types.Panel):
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "world"
    bl_label = "SingleHDR"

    def draw(self, context):
        from .prefs import ADDON_ID, python_status
        from .world import SUN_OBJECT

        layout = self.layout
        addon = context.preferences.addons.get(ADDON_ID)
        configured = addon.preferences.python_path if addon is not None and addon.preferences is not None else ""
        ok, message = python_status(configured)
        if not ok:
            layout.label(text=message, icon="ERROR")
        row = layout.row()
        row.enabled = ok
        row.operator("singlehdr.world_from_photo", icon="WORLD")
        world = context.world
        if world is None or "singlehdr_source" not in world or world.node_tree is None:
            return
        nodes = world.node_tree.nodes
        col = layout.column()
        col.label(text=bpy.path.basename(str(world["singlehdr_source"])), icon="IMAGE_DATA")
        if "SingleHDR Background" in nodes:
            col.prop(nodes["SingleHDR Background"].inputs["Strength"], "default_value", text="Strength")
        if "SingleHDR Mapping" in nodes:
            col.prop(nodes["SingleHDR Mapping"].inputs["Rotation"], "default_value", index=2, text="Rotation")
        sun = context.scene.objects.get(SUN_OBJECT)
        if sun is not None and sun.type == "LIGHT":
            box = col.box()
            box.label(text="Sun lamp (painted out of the map)", icon="LIGHT_SUN")
            box.prop(sun.data, "energy", text="Strength (W/m\u00b2)")
            box.prop(sun.data, "color", text="Colour")
            box.prop(sun.data, "angle", text="Angle")


classes = (NODE_PT_singlehdr, WORLD_PT_singlehdr)


def register():
    for cls in classes:
        bpy.utils.register_class(cls)


def unregister():
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
