"""Add-on preferences: the Python that runs singlehdr, the model file and the compute device."""

from __future__ import annotations

import bpy

from .convert import DEVICE_ITEMS


def python_status(configured: str) -> tuple[bool, str]:
    """(ok, message) about the interpreter the bakes will use; cheap (no process is started)."""
    from .runner import BakeError, find_python

    try:
        python = find_python(bpy.path.abspath(configured) if configured else "")
    except BakeError as exc:
        return False, str(exc)
    return True, f"bakes run in {python}"

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
    python_path: bpy.props.StringProperty(
        name="Python",
        description="The Python interpreter with singlehdr installed (for example the project's .venv/bin/python); "
        "empty = $SINGLEHDR_PYTHON, else Blender's own Python. Bakes run in this Python as a separate process",
        subtype="FILE_PATH",
        default="",
    )

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "python_path")
        layout.prop(self, "model_path")
        layout.prop(self, "device")
        ok, message = python_status(self.python_path)
        layout.label(text=message, icon="CHECKMARK" if ok else "ERROR")


def settings(context) -> tuple[str, str]:
    """(model path, device) from the preferences; defaults when not enabled as an add-on."""
    addon = context.preferences.addons.get(ADDON_ID)
    if addon is None or addon.preferences is None:
        return "", "auto"
    prefs = addon.preferences
    return bpy.path.abspath(prefs.model_path) if prefs.model_path else "", prefs.device


def python_setting(context) -> str:
    """The configured interpreter path ('' = not set)."""
    addon = context.preferences.addons.get(ADDON_ID)
    if addon is None or addon.preferences is None or not addon.preferences.python_path:
        return ""
    return bpy.path.abspath(addon.preferences.python_path)


classes = (SINGLEHDR_AP_preferences,)


def register():
    for cls in classes:
        bpy.utils.register_class(cls)


def unregister():
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
