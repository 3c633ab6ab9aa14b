# Shared by install/demo.sh and install/test.sh: make or reuse .venv at the
# repository root and install the package into it.  Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SINGLEHDR_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install -U pip >/dev/null 2>&1 || true
# Torch first: prefer a CPU build when the machine offers one locally
# (the package itself declares only torch>=2.2).
if ! "$VPY" -c "import torch" >/dev/null 2>&1; then
    "${PIP[@]}" install "torch==2.13.0" 2>/dev/null || "${PIP[@]}" install "torch>=2.2"
fi
