"""The pretrained-model zoo: offline backbones with one feature API."""

from ._registry import create_backbone, get_config, list_backbones, register_backbone
from .base import Backbone
from .config import BackboneConfig

__all__ = [
    "Backbone",
    "BackboneConfig",
    "create_backbone",
    "get_config",
    "list_backbones",
    "register_backbone",
]
