"""SingleHDR for Nuke: plugin path and render callback (runs at every Nuke start, GUI or not).

Nuke runs this file because this folder is on its plugin path (see
install/nuke.sh).  Nothing heavy happens here: the gizmo's Python
(singlehdr_nuke, no torch) is imported only when a SingleHDR node is
created, a button is pressed or a script with 'bake on render' nodes is
rendered (nuke -x on a farm runs this file too).
"""

import nuke

# Relative paths are resolved against this folder by Nuke.
nuke.pluginAddPath("./icons")


def _singlehdr_before_render() -> None:
    if not nuke.allNodes("SingleHDR", recurseGroups=True):
        return
    import singlehdr_nuke

    singlehdr_nuke.before_render()


nuke.addBeforeRender(_singlehdr_before_render, nodeClass="Write")
