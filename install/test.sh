#!/usr/bin/env bash
# One command from a fresh clone: set up .venv with the test extras
# (bpy 5.0.1, OpenImageIO, tensorflow-cpu, ...) and run the test-suite.
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
# bpy 5.0.1 pins numpy<2, so the whole test environment uses numpy 1.26.
"${PIP[@]}" install -e "$ROOT[dev,tf]" "numpy<2" "bpy==5.0.1"
# ColorVideoVDP (JOD metric of `singlehdr evaluate`): its declared dependencies
# would pull a multi-GB CUDA torch, so it and what it imports go in without
# them (singlehdr.train.metrics.load_pycvvdp shims the rest).
"${PIP[@]}" install --no-deps "cvvdp==0.5.7" "torchvision==0.28.0" einops ffmpeg-python future tqdm
# Debian's FreeImage lets imageio write Radiance .hdr; best effort only.
if ! ldconfig -p 2>/dev/null | grep -q libfreeimage; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        (apt-get update -qq && apt-get install -y -qq libfreeimage3) >/dev/null 2>&1 || true
    fi
fi
cd "$ROOT"
exec "$VPY" -m pytest "$@"
