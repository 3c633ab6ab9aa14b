#!/usr/bin/env bash
# Build the SingleHDR Blender extension and install it (with singlehdr itself)
# into a Blender 5.0 installation, or print what to do by hand.
#
#   install/blender.sh [--blender PATH] [--out DIR] [--build-only] [--no-deps]
#                      [--python PY] [--uninstall] [--dry-run]
#
#   --blender PATH  the blender executable (default: $BLENDER, else `blender` on PATH)
#   --out DIR       where the extension zip goes (default: <repo>/dist)
#   --build-only    only build the zip (and print the install instructions)
#   --no-deps       install the extension but not singlehdr into Blender's Python
#   --python PY     do not touch Blender's Python: the add-on runs singlehdr in PY
#                   (for example .venv/bin/python), set in its preferences
#   --uninstall     remove the extension and exactly the packages this script
#                   installed into Blender's Python (listed in .singlehdr-installed.txt)
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
UNINSTALL=0
USE_PY=""
PY="${PYTHON:-python3}"

while [ $# -gt 0 ]; do
    case "$1" in
        --blender) BLENDER_BIN="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --build-only) BUILD_ONLY=1; shift ;;
        --no-deps) NO_DEPS=1; shift ;;
        --dry-run) DRY=1; shift ;;
        --uninstall) UNINSTALL=1; shift ;;
        --python) USE_PY="$2"; shift 2 ;;
        -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

if [ -n "$USE_PY" ] && [ ! -x "$USE_PY" ]; then
    echo "error: --python $USE_PY is not an executable Python" >&2
    exit 2
fi

# Ask Blender where its Python, its numpy and the user modules folder are.
blender_info() {
    "$BLENDER_BIN" --background --factory-startup --python-expr '
import sys, bpy, numpy
print("SINGLEHDR_PY=" + sys.executable)
print("SINGLEHDR_PYVER=%d.%d" % sys.version_info[:2])
print("SINGLEHDR_NUMPY=" + numpy.__version__)
print("SINGLEHDR_MODULES=" + bpy.utils.user_resource("SCRIPTS", path="modules", create=True))
' 2>/dev/null | grep '^SINGLEHDR_' || true
}
info_field() { printf '%s\n' "$INFO" | sed -n "s/^SINGLEHDR_$1=//p"; }

if [ "$UNINSTALL" = 1 ]; then
    if [ -z "$BLENDER_BIN" ]; then
        echo "error: --uninstall needs the blender executable (--blender PATH)" >&2
        exit 2
    fi
    run "$BLENDER_BIN" --factory-startup --command extension remove user_default.singlehdr || true
    INFO="$(blender_info)"
    MODULES="$(info_field MODULES)"
    RECORD="$MODULES/.singlehdr-installed.txt"
    if [ -n "$MODULES" ] && [ -f "$RECORD" ]; then
        removed=0
        while IFS= read -r entry; do
            case "$entry" in ""|*/*|.|..) continue ;; esac
            if [ -e "$MODULES/$entry" ]; then run rm -rf -- "${MODULES:?}/$entry"; removed=$((removed + 1)); fi
        done < "$RECORD"
        run rm -f -- "$RECORD"
        echo "removed the extension and $removed entries singlehdr had installed in $MODULES"
    else
        echo "removed the extension; no singlehdr packages were recorded in Blender's Python (${MODULES:-unknown folder})"
    fi
    exit 0
fi

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

if [ -n "$USE_PY" ]; then
    run "$BLENDER_BIN" --background --python-expr "
import addon_utils, bpy
addon_utils.enable('bl_ext.user_default.singlehdr', default_set=True)
bpy.context.preferences.addons['bl_ext.user_default.singlehdr'].preferences.python_path = '$USE_PY'
bpy.ops.wm.save_userpref()
"
    echo "changed: the add-on preference Python = $USE_PY (Blender's own Python untouched)"
    echo "done: restart Blender, then Compositor > Add > Input > SingleHDR Reconstruct, or World properties > SingleHDR."
    exit 0
fi
if [ "$NO_DEPS" = 1 ]; then
    exit 0
fi

INFO="$(blender_info)"
BLENDER_PY="$(info_field PY)"
BLENDER_PYVER="$(info_field PYVER)"
BLENDER_NUMPY="$(info_field NUMPY)"
MODULES="$(info_field MODULES)"
if [ -z "$BLENDER_PY" ] || [ -z "$MODULES" ]; then
    echo "error: could not ask $BLENDER_BIN for its Python; install singlehdr by hand:" >&2
    instructions >&2
    exit 1
fi
# Checks of Blender's Python: singlehdr's requires-python, and a writable modules folder.
NEED_PY="$(sed -n 's/^requires-python *= *">=\([0-9.]*\)"/\1/p' "$ROOT/pyproject.toml" | head -n1)"
if ! printf '%s\n%s\n' "$NEED_PY" "$BLENDER_PYVER" | sort -V -C; then
    echo "error: Blender's Python is $BLENDER_PYVER; singlehdr needs >= $NEED_PY. Use --python /path/to/python instead" >&2
    exit 2
fi
if [ ! -w "$MODULES" ]; then
    echo "error: $MODULES is not writable; fix its permissions or use --python /path/to/python" >&2
    exit 2
fi
echo "Blender's Python: $BLENDER_PY ($BLENDER_PYVER >= $NEED_PY, numpy $BLENDER_NUMPY); installing singlehdr into $MODULES"
# What pip installs is singlehdr's *declared* dependencies (pyproject.toml [project].dependencies),
# never a hand list; numpy is pinned to Blender's own.
BEFORE="$(ls -A "$MODULES" 2>/dev/null | sort || true)"
run "$BLENDER_PY" -m ensurepip --upgrade
# shellcheck disable=SC2086
run "$BLENDER_PY" -m pip install --disable-pip-version-check --upgrade --target "$MODULES" \
    ${SINGLEHDR_PIP_ARGS:-} "$ROOT" "numpy==$BLENDER_NUMPY"
if [ "$DRY" = 1 ]; then
    echo "(dry run: nothing installed)"
    exit 0
fi
AFTER="$(ls -A "$MODULES" | sort)"
ADDED="$(comm -13 <(printf '%s\n' "$BEFORE") <(printf '%s\n' "$AFTER") | grep -v '^\.singlehdr-installed.txt$' || true)"
RECORD="$MODULES/.singlehdr-installed.txt"
{ [ -f "$RECORD" ] && cat "$RECORD"; printf '%s\n' "$ADDED"; } | grep -v '^$' | sort -u > "$RECORD.part" || true
mv "$RECORD.part" "$RECORD"
echo "changed: added $(printf '%s\n' "$ADDED" | grep -c . || true) entries to $MODULES (listed in $RECORD; --uninstall removes them)"
printf '%s\n' "$ADDED" | sed -n 's/^/  + /p'
# Check that every declared dependency is importable from Blender's Python now.
"$BLENDER_PY" - "$ROOT/pyproject.toml" "$MODULES" <<'PYEOF'
import importlib.metadata as md, re, sys, tomllib
sys.path.insert(0, sys.argv[2])
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
missing = []
for dep in deps:
    name = re.split(r"[<>=!~; \[]", dep, maxsplit=1)[0]
    try:
        print(f"  ok {name} {md.version(name)}")
    except md.PackageNotFoundError:
        missing.append(name)
try:
    import singlehdr.cli  # noqa: F401
except Exception as exc:  # noqa: BLE001
    missing.append(f"singlehdr ({exc})")
if missing:
    sys.exit("error: still missing in Blender's Python: " + ", ".join(missing))
PYEOF
echo "done: restart Blender, then Compositor > Add > Input > SingleHDR Reconstruct, or World properties > SingleHDR."
