"""Farm command: reconstruct the missing frames of a script's SingleHDR nodes.

    nuke -t /path/to/nuke_gizmo/singlehdr_bake.py shot.nk [NodeName ...]

Opens the script, reconstructs for every SingleHDR node (or the named ones)
the frames of its frame range whose EXRs are missing, through the same
runner as the Reconstruct button (any input: upstream nodes are rendered
here, outside a render), and saves the script so that the nodes' Reads
cover the new frames.  Exit status 1 with a one-line message on error.
Run it as a farm pre-task before the render job (nuke -x shot.nk).
"""

import os
import sys

import nuke

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
nuke.pluginAddPath(os.path.dirname(os.path.abspath(__file__)))


def main(argv: list) -> int:
    import singlehdr_nuke

    if not argv:
        print("usage: nuke -t singlehdr_bake.py SCRIPT.nk [NodeName ...]", file=sys.stderr)
        return 2
    nuke.scriptOpen(argv[0])
    names = argv[1:]
    nodes = [n for n in nuke.allNodes("SingleHDR", recurseGroups=True) if not names or n.name() in names]
    try:
        baked = singlehdr_nuke.bake_missing(nodes)
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    nuke.scriptSaveAs(argv[0], 1)
    for name, frames in baked.items():
        print(f"{name}: {len(frames)} frame(s) reconstructed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
