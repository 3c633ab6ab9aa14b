"""Add-on preferences: the model file and the compute device."""

from __future__ import annotations

import bpy

from .convert import DEVICE_ITEMS, singlehdr_status

ADDON_ID = __package__  # "bl_ext.<repo>.singlehdr" when installed as an extension


class SINGLEHDR_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_ID

    model_path: bpy.props.StringProperty(
        name="Model",
        description="A singlehdr .safetensors model; empty = the model shipped with singlehdr",
        subtype="FILE_PATH",
        default="",
    )
    device: bpy.props.EnumProperty(name="Device", items=DEVICE_ITEMS, default="auto")

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "model_path")
        layout.prop(self, "device")
        ok, message = singlehdr_status()
        layout.label(text=message, icon="CHECKMARK" if ok else "ERROR")


def settings(context) -> tuple[str, str]:
    """(model path, device) from the preferences; defaults when not enabled as an add-on."""
    addon = context.preferences.addons.get(ADDON_ID)
    if addon is None or addon.preferences is None:
        return "", "auto"
    prefs = addon.preferences
    return bpy.path.abspath(prefs.model_path) if prefs.model_path else "", prefs.device


classes = (SINGLEHDR_AP_preferences,)


def register():
    for cls in classes:
        bpy.utils.register_class(cls)


def unregister():
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
