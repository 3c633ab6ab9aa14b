"""SingleHDR for Blender 5.0: linear HDR images and HDRI worlds from one LDR photo.

A Blender extension (see blender_manifest.toml), thin over the ``singlehdr``
package: the compositor node "SingleHDR Reconstruct" (baked with the
"Bake HDR" operator) and "Create World from Photo" (World properties and
File > Import).  singlehdr itself is imported only when an operator runs, so
the add-on registers, and says what is missing, even without it.
"""

from . import blender_io, convert, nodes, operators, panels, plates, prefs, runner, world  # noqa: F401

_modules = (prefs, nodes, operators, panels)


def register():
    for module in _modules:
        module.register()


def unregister():
    for module in reversed(_modules):
        module.unregister()
