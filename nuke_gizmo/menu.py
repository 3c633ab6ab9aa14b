"""SingleHDR for Nuke: toolbar entries (runs when Nuke starts with a GUI).

Only menu commands are registered; their Python runs when clicked.
"""

import nuke

ICON = "SingleHDR.png"

toolbar = nuke.menu("Nodes")
singlehdr_menu = toolbar.addMenu("SingleHDR", icon=ICON)
singlehdr_menu.addCommand("SingleHDR", "nuke.createNode('SingleHDR')", icon=ICON)
singlehdr_menu.addCommand(
    "Export TorchScript for Inference...",
    "import singlehdr_nuke; singlehdr_nuke.export_torchscript_dialog()",
)
singlehdr_menu.addCommand("Check set-up", "import singlehdr_nuke; singlehdr_nuke.check_setup()")
