"""Python callbacks of the SingleHDR Nuke gizmo.

Imported only when a SingleHDR button or menu entry is used, never at Nuke
start-up.  Never imports torch or singlehdr: the reconstruction runs in a
separate Python process (see :mod:`singlehdr_nuke.runner`).
"""

from .callbacks import (
    check_setup,
    export_torchscript_dialog,
    knob_changed,
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
    "export_torchscript_dialog",
    "check_setup",
]
