"""singlehdr.export: hand the model to other runtimes.

``export_torchscript(model, path)`` writes a self-contained TorchScript file
for Nuke's Inference node (convert it to a ``.cat`` with CatFileCreator).
The command ``singlehdr export-torchscript`` lives in :mod:`.commands`.
Names are imported lazily so that the CLI does not import torch until the
command runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["export_torchscript", "NukeInferenceWrapper", "read_export_info", "INPUT_ENCODINGS"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import export

        return getattr(export, name)
    raise AttributeError(f"module 'singlehdr.export' has no attribute {name!r}")
