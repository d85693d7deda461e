"""User-facing errors.

Every error a user can cause (bad path, bad file, unknown name, missing weights) is raised as a
:class:`TransferkitError` whose message is one line naming the file or thing and the problem.
The CLI prints that line and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class TransferkitError(Exception):
    """An error caused by the user's input or environment, with a one-line message."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class DataError(TransferkitError, ValueError):
    """Bad or unusable input data (empty folder, single class, unreadable file...)."""


class BackboneError(TransferkitError):
    """Unknown backbone name, missing weights, weights that do not fit the architecture."""


class ModelFileError(TransferkitError):
    """A model folder or cache file that is missing, tampered with, or from another version."""
