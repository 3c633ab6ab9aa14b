"""The ``singlehdr`` command line: thin over the public API.

Each group of commands lives beside the code it drives and registers itself
here through a ``register(subparsers)`` function listed in COMMAND_MODULES.
User errors (SingleHDRError) print one line and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import SingleHDRError

# Modules providing ``register(subparsers)``; each adds its sub-commands and
# sets ``func(args) -> int`` on its parsers.
COMMAND_MODULES = [
    "singlehdr.commands",  # reconstruct, info, preview
    "singlehdr.envmap.commands",  # envmap
    "singlehdr.weights.commands",  # import-tf
    "singlehdr.export.commands",  # export-torchscript
    "singlehdr.train.commands",  # train
    "singlehdr.train.eval_commands",  # evaluate
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="singlehdr",
        description="Single-image HDR reconstruction: LDR photo in, linear EXR / HDR environment map out.",
    )
    parser.add_argument("--version", action="version", version=f"singlehdr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except SingleHDRError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
