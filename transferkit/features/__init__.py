"""Cached feature extraction (pretrained backbone as a fixed feature extractor)."""

from .cache import FeatureCache, default_cache_root
from .extract import Features, extract_features

__all__ = ["FeatureCache", "Features", "default_cache_root", "extract_features"]
