#!/usr/bin/env bash
# Install the SingleHDR gizmo into Nuke.
#
#   install/nuke.sh [--nuke-dir DIR] [--copy] [--python PY | --no-python] [--print]
#
# DIR: the Nuke folder to install into (default: the first folder of
#      $NUKE_PATH if set, else ~/.nuke).  The gizmo folder (nuke_gizmo/) is
#      linked (default) or copied (--copy) to DIR/singlehdr, and a marked
#      block is added to DIR/init.py that puts it on Nuke's plugin path and
#      tells the node which Python runs singlehdr (SINGLEHDR_PYTHON).
#      Running it again replaces the block (idempotent).
# PY:  the Python that has singlehdr installed (default: this repository's
#      .venv/bin/python when it exists; else none is written and the node
#      must then be told with its 'python' knob or $SINGLEHDR_PYTHON: it never guesses;
#      --no-python: never write one).
# --print: change nothing; print the lines to add to DIR/init.py yourself.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/nuke_gizmo"
MARK="# singlehdr (install/nuke.sh)"

nuke_dir=""
mode="link"
python=""
no_python=0
print_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --nuke-dir) nuke_dir="${2:?--nuke-dir needs a folder}"; shift 2 ;;
        --copy) mode="copy"; shift ;;
        --link) mode="link"; shift ;;
        --python) python="${2:?--python needs an interpreter path}"; shift 2 ;;
        --no-python) no_python=1; shift ;;
        --print) print_only=1; shift ;;
        -h|--help) sed -n '2,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown option $1 (see install/nuke.sh --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$nuke_dir" ]; then
    if [ -n "${NUKE_PATH:-}" ]; then
        nuke_dir="${NUKE_PATH%%:*}"
    else
        nuke_dir="$HOME/.nuke"
    fi
fi
if [ ! -f "$SRC/SingleHDR.gizmo" ]; then
    echo "error: $SRC/SingleHDR.gizmo not found; run this script from a singlehdr checkout" >&2
    exit 2
fi
if [ "$no_python" = 1 ]; then
    python=""
elif [ -z "$python" ] && [ -x "$ROOT/.venv/bin/python" ]; then
    python="$ROOT/.venv/bin/python"
fi
if [ -n "$python" ] && [ ! -x "$python" ]; then
    echo "error: --python $python is not an executable file" >&2
    exit 2
fi

target="$nuke_dir/singlehdr"
block() {
    echo "import nuke  $MARK"
    if [ -n "$python" ]; then
        echo "import os  $MARK"
        echo "os.environ.setdefault(\"SINGLEHDR_PYTHON\", \"$python\")  $MARK"
    fi
    echo "nuke.pluginAddPath(\"$target\")  $MARK"
}

if [ "$print_only" = 1 ]; then
    echo "# Put (or link) $SRC at $target, then add to $nuke_dir/init.py:"
    block
    exit 0
fi

mkdir -p "$nuke_dir"
if [ -L "$target" ] || [ -e "$target" ]; then
    if [ -L "$target" ] || [ -f "$target/.singlehdr-installed" ]; then
        rm -rf "$target"
    else
        echo "error: $target exists and was not installed by this script; move it away first" >&2
        exit 2
    fi
fi
if [ "$mode" = "link" ]; then
    ln -s "$SRC" "$target"
else
    mkdir -p "$target"
    (cd "$SRC" && tar --exclude='__pycache__' --exclude='.mypy_cache' -cf - .) | (cd "$target" && tar -xf -)
    touch "$target/.singlehdr-installed"
fi

init="$nuke_dir/init.py"
tmp="$(mktemp "$nuke_dir/.init.py.XXXXXX")"
if [ -f "$init" ]; then
    grep -vF "$MARK" "$init" > "$tmp" || true
fi
block >> "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$init"
echo "installed: $target ($mode)"
echo "updated:   $init"
[ -n "$python" ] && echo "singlehdr runs with: $python"
echo "Restart Nuke; the node is in the Nodes toolbar under SingleHDR."
