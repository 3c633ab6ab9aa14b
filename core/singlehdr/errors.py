"""The one exception type a user can cause.

Every error a user can trigger (bad file, wrong size, missing weights, unknown
option) is raised as :class:`SingleHDRError` with a one-line message that says
what to do.  The CLI prints ``error: <message>`` and exits with status 2; hosts
show the message in their UI.  Anything else escaping is a bug.
"""

from __future__ import annotations


class SingleHDRError(Exception):
    """A user-facing error with a one-line, actionable message."""

    def __init__(self, message: str):
        message = " ".join(str(message).split())  # always one line
        super().__init__(message)
