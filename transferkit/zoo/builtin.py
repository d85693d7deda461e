"""Imports the built-in backbone families so that they register themselves."""

from . import efficientnet_lite, minilm, mobilenet  # noqa: F401
