"""Imports the built-in backbone families so that they register themselves."""

from . import efficientnet_lite, lenet, minilm, mobilenet  # noqa: F401
