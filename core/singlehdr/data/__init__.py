"""Package data: the EMoR curve basis and the bundled sample photo."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
EMOR_PATH = DATA_DIR / "emor.txt"
INVEMOR_PATH = DATA_DIR / "invemor.txt"
SAMPLE_PATH = DATA_DIR / "sample.jpg"


def sample_path() -> Path:
    """The bundled CC0 sample photo (an LDR 'phone photo' made from a Poly Haven HDRI)."""
    return SAMPLE_PATH
