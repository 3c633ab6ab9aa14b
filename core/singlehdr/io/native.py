"""Keep native libraries quiet: capture what C/C++ code prints on the process's
stdout/stderr file descriptors (OpenEXR's error and warning lines, OpenCV's
decoder messages) around one call.

The captured text is folded into our one-line error when the call fails and is
otherwise dropped; with ``singlehdr --verbose`` (or ``SINGLEHDR_VERBOSE=1``) it
is shown on stderr, prefixed with the library's name.  The capture works at the
file-descriptor level (``os.dup2`` into a temporary file), because the
libraries write to fd 1/2 directly, below Python's ``sys.stderr``.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: Show captured library output on stderr (set by ``singlehdr --verbose``).
VERBOSE = os.environ.get("SINGLEHDR_VERBOSE", "") not in ("", "0")

_LOCK = threading.RLock()
_DEPTH = 0


def set_verbose(on: bool) -> None:
    global VERBOSE
    VERBOSE = bool(on)


def _fflush_c() -> None:
    """Flush C stdio buffers (iostreams synced with stdio land there too)."""
    try:
        ctypes.CDLL(None).fflush(None)
    except Exception:  # Windows / no libc symbol: nothing buffered we can reach
        pass


@dataclass
class Captured:
    """What a native call printed; ``text`` is filled when the block ends."""

    library: str
    text: str = ""

    def first_line(self, limit: int = 200) -> str:
        """The most informative captured line, without the file-name prefix, or ''."""
        lines = [ln.strip() for ln in self.text.splitlines() if ln.strip()]
        if not lines:
            return ""
        # OpenEXR prints "<file>: (EXR_ERR_...) message": keep the code and message.
        best = next((ln for ln in lines if "(EXR_ERR" in ln), lines[0])
        if "(EXR_ERR" in best:
            best = best[best.index("(EXR_ERR"):]
        best = " ".join(best.split())
        return best if len(best) <= limit else best[: limit - 3] + "..."


@contextlib.contextmanager
def captured(library: str) -> Iterator[Captured]:
    """Run the block with fd 1 and fd 2 redirected into a temporary file.

    Yields a :class:`Captured`; after the block its ``text`` holds what was
    printed.  Nested use captures once (the outer block).  If the descriptors
    cannot be duplicated (no fds, exotic hosts) the block runs uncaptured.
    """
    global _DEPTH
    rec = Captured(library)
    with _LOCK:
        if _DEPTH:
            yield rec
            return
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        try:
            saved = (os.dup(1), os.dup(2))
        except OSError:
            yield rec
            return
        tmp = tempfile.TemporaryFile()
        _DEPTH += 1
        # Bindings may also print through Python's sys.stdout (pybind11's py::print).
        py_out, py_err = io.StringIO(), io.StringIO()
        old_out, old_err = sys.stdout, sys.stderr
        try:
            os.dup2(tmp.fileno(), 1)
            os.dup2(tmp.fileno(), 2)
            sys.stdout, sys.stderr = py_out, py_err
            try:
                yield rec
            finally:
                sys.stdout, sys.stderr = old_out, old_err
                _fflush_c()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                tmp.seek(0)
                rec.text = tmp.read(64 * 1024).decode("utf-8", "replace") + py_out.getvalue() + py_err.getvalue()
                if VERBOSE and rec.text.strip():
                    for line in rec.text.splitlines():
                        if line.strip():
                            print(f"[{library}] {line}", file=sys.stderr)
        finally:
            _DEPTH -= 1
            for fd in saved:
                os.close(fd)
            tmp.close()


def emit(line: str, file: Any = None) -> None:
    """Print one line for the user from any thread, never into another thread's :func:`captured` block.

    :func:`captured` swaps the process-wide fds 1/2 and ``sys.stdout``/``sys.stderr`` while a native call runs; a
    line printed meanwhile by another thread (a plate's "error: frame 5: ..." while the writer thread writes an EXR)
    went into the capture and was lost.  Holding the same lock waits for the capture to end.  ``file``: default
    ``sys.stderr`` (looked up under the lock, so it is the real one)."""
    with _LOCK:
        print(line, file=file if file is not None else sys.stderr, flush=True)


__all__ = ["captured", "Captured", "emit", "set_verbose", "VERBOSE"]
