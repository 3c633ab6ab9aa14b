"""Python callbacks of the SingleHDR Nuke gizmo.

Imported only when a SingleHDR node is created or a button/menu entry is
used, never at Nuke start-up.  Never imports torch or singlehdr: the
reconstruction runs in a separate Python process (see
:mod:`singlehdr_nuke.runner`).
"""

from .callbacks import (
    bake_missing,
    before_render,
    check_setup,
    export_torchscript_dialog,
    knob_changed,
    missing_frames,
    on_create,
    reconstruct,
    reconstruct_button,
    reconstruct_range_button,
)

__all__ = [
    "reconstruct",
    "reconstruct_button",
    "reconstruct_range_button",
    "knob_changed",
    "on_create",
    "missing_frames",
    "bake_missing",
    "before_render",
    "export_torchscript_dialog",
    "check_setup",
]
