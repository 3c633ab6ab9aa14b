#!/usr/bin/env bash
# One command from a fresh clone: set up .venv, install singlehdr and run the
# main job on the bundled sample photo with the shipped default model.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
"${PIP[@]}" install -e "$ROOT"
OUT="${1:-$ROOT/demo_output}"
mkdir -p "$OUT"
SAMPLE="$("$VPY" -c 'import singlehdr.data as d; print(d.sample_path())')"
"$VENV/bin/singlehdr" reconstruct "$SAMPLE" -o "$OUT/sample.exr" --overwrite
"$VENV/bin/singlehdr" preview "$OUT/sample.exr" -o "$OUT/sample_preview.png" --overwrite
echo "HDR written to:     $OUT/sample.exr"
echo "Preview written to: $OUT/sample_preview.png"
