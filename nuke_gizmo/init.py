"""SingleHDR for Nuke: plugin path set-up only (runs at every Nuke start).

Nuke runs this file because this folder is on its plugin path (see
install/nuke.sh).  Nothing heavy happens here: the gizmo's Python
(singlehdr_nuke) is imported only when a SingleHDR button is pressed.
"""

import nuke

# Relative paths are resolved against this folder by Nuke.
nuke.pluginAddPath("./icons")
