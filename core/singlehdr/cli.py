"""The ``singlehdr`` command line: thin over the public API.

Each group of commands lives beside the code it drives and registers itself
here through a ``register(subparsers)`` function listed in COMMAND_MODULES.
User errors (SingleHDRError) print one line and exit 2, never a traceback.

Exit status: 0 success; 2 user error (nothing written by the failing step);
3 a batch finished but some inputs failed (each listed at the end);
130 Ctrl-C; 128 + N for signal N (SIGTERM 143, SIGHUP 129).  SIGTERM and SIGHUP
clean temporary files exactly as Ctrl-C does.  ``--verbose`` shows what native
libraries (OpenEXR, OpenCV) printed; otherwise it is folded into the one line.
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


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit 2), as every user error.

    Sub-command parsers are of the same class (add_subparsers uses the parent's class).
    """

    def error(self, message: str):  # type: ignore[override]
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="singlehdr",
        description="Single-image HDR reconstruction: LDR photo in, linear EXR / HDR environment map out.",
    )
    parser.add_argument("--version", action="version", version=f"singlehdr {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the messages of native libraries (OpenEXR, OpenCV) on stderr")
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
    from .io.atomic import Terminated, cleanup_live_temporaries, install_signal_handlers

    if getattr(args, "verbose", False):
        from .io.native import set_verbose

        set_verbose(True)
    install_signal_handlers()
    try:
        return int(args.func(args) or 0)
    except SingleHDRError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Terminated as exc:
        cleanup_live_temporaries()
        name = {1: "SIGHUP", 15: "SIGTERM"}.get(exc.signum, f"signal {exc.signum}")
        print(f"error: stopped by {name}; no partial output was left", file=sys.stderr)
        return 128 + int(exc.signum)
    except KeyboardInterrupt:
        cleanup_live_temporaries()
        print("error: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        cleanup_live_temporaries()
        print("error: out of memory; use a smaller --max-pixels, --tile or a smaller image", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
