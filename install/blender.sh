#!/usr/bin/env bash
# Build the SingleHDR Blender extension and install it (with singlehdr itself)
# into a Blender 5.0 installation, or print what to do by hand.
#
#   install/blender.sh [--blender PATH] [--out DIR] [--build-only] [--no-deps] [--dry-run]
#
#   --blender PATH  the blender executable (default: $BLENDER, else `blender` on PATH)
#   --out DIR       where the extension zip goes (default: <repo>/dist)
#   --build-only    only build the zip (and print the install instructions)
#   --no-deps       install the extension but not singlehdr into Blender's Python
#   --dry-run       build the zip, but only print the install commands
#
# Build: with a blender binary, `blender --command extension build` (Blender's
# own validator and packer); without one, a pure-Python zip with the same layout
# (blender_manifest.toml at the root of the zip).
#
# Dependencies: singlehdr (torch, numpy, OpenEXR, ...) is pip-installed with
# Blender's own Python into Blender's *user scripts modules* folder
# (e.g. ~/.config/blender/5.0/scripts/modules), which Blender puts on sys.path
# after its bundled site-packages, so Blender's own numpy stays in charge; we
# pin numpy to Blender's version so the copy pip brings along is identical.
# Extra pip arguments (for example a CPU-only torch index) go in
# SINGLEHDR_PIP_ARGS="--extra-index-url https://download.pytorch.org/whl/cpu".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/blender_addon"
OUT="$ROOT/dist"
BLENDER_BIN="${BLENDER:-}"
BUILD_ONLY=0
NO_DEPS=0
DRY=0
PY="${PYTHON:-python3}"

while [ $# -gt 0 ]; do
    case "$1" in
        --blender) BLENDER_BIN="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --build-only) BUILD_ONLY=1; shift ;;
        --no-deps) NO_DEPS=1; shift ;;
        --dry-run) DRY=1; shift ;;
        -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$BLENDER_BIN" ] && command -v blender >/dev/null 2>&1; then
    BLENDER_BIN="$(command -v blender)"
fi
if [ -n "$BLENDER_BIN" ] && [ ! -x "$BLENDER_BIN" ]; then
    echo "error: $BLENDER_BIN is not an executable Blender; pass --blender /path/to/blender" >&2
    exit 2
fi

run() {
    if [ "$DRY" = 1 ]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

VERSION="$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$SRC/blender_manifest.toml" | head -n1)"
ID="$(sed -n 's/^id *= *"\(.*\)"/\1/p' "$SRC/blender_manifest.toml" | head -n1)"
ZIP="$OUT/${ID}-${VERSION}.zip"
mkdir -p "$OUT"

if [ -n "$BLENDER_BIN" ]; then
    "$BLENDER_BIN" --factory-startup --command extension build --source-dir "$SRC" --output-filepath "$ZIP"
else
    # Pure-Python build: the same layout Blender's builder makes.
    "$PY" - "$SRC" "$ZIP" <<'PYEOF'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
tmp = dst + ".part"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
    for folder, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(files):
            if name.endswith((".pyc", ".zip")) or name.startswith("."):
                continue
            path = os.path.join(folder, name)
            zf.write(path, os.path.relpath(path, src))
os.replace(tmp, dst)
PYEOF
fi
echo "extension built: $ZIP"

instructions() {
    cat <<EOF

To install by hand:
  1. Blender > Edit > Preferences > Get Extensions > (v menu) Install from Disk... > $ZIP
     (or: blender --command extension install-file -r user_default -e "$ZIP")
  2. Install singlehdr into Blender's Python (Blender's python is printed by
     blender --background --python-expr "import sys; print(sys.executable)"):
       "\$BLENDER_PY" -m ensurepip --upgrade
       "\$BLENDER_PY" -m pip install --upgrade --target "<blender user scripts>/modules" "$ROOT" "numpy==<Blender's numpy>"
     or simply run: install/blender.sh --blender /path/to/blender
EOF
}

if [ "$BUILD_ONLY" = 1 ] || [ -z "$BLENDER_BIN" ]; then
    [ -z "$BLENDER_BIN" ] && echo "no blender executable given (--blender or \$BLENDER): built only."
    instructions
    exit 0
fi

run "$BLENDER_BIN" --factory-startup --command extension install-file -r user_default -e "$ZIP"
echo "extension installed and enabled in the user_default repository"

if [ "$NO_DEPS" = 1 ]; then
    exit 0
fi

# Ask Blender where its Python, its numpy and the user modules folder are.
INFO="$("$BLENDER_BIN" --background --factory-startup --python-expr '
import sys, bpy, numpy
print("SINGLEHDR_PY=" + sys.executable)
print("SINGLEHDR_NUMPY=" + numpy.__version__)
print("SINGLEHDR_MODULES=" + bpy.utils.user_resource("SCRIPTS", path="modules", create=True))
' 2>/dev/null | grep '^SINGLEHDR_')"
BLENDER_PY="$(printf '%s\n' "$INFO" | sed -n 's/^SINGLEHDR_PY=//p')"
BLENDER_NUMPY="$(printf '%s\n' "$INFO" | sed -n 's/^SINGLEHDR_NUMPY=//p')"
MODULES="$(printf '%s\n' "$INFO" | sed -n 's/^SINGLEHDR_MODULES=//p')"
if [ -z "$BLENDER_PY" ] || [ -z "$MODULES" ]; then
    echo "error: could not ask $BLENDER_BIN for its Python; install singlehdr by hand:" >&2
    instructions >&2
    exit 1
fi
echo "Blender's Python: $BLENDER_PY (numpy $BLENDER_NUMPY); installing singlehdr into $MODULES"
run "$BLENDER_PY" -m ensurepip --upgrade
# shellcheck disable=SC2086
run "$BLENDER_PY" -m pip install --disable-pip-version-check --upgrade --target "$MODULES" \
    ${SINGLEHDR_PIP_ARGS:-} "$ROOT" "numpy==$BLENDER_NUMPY"
echo "done: restart Blender, then Compositor > Add > Input > SingleHDR Reconstruct, or World properties > SingleHDR."
