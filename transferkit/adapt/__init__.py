"""Domain adaptation: instance-based and feature-based, scikit-learn compatible.

Estimators take ``X, y, sample_domain`` as in skada (positive = source, negative = target,
target labels masked as -1). See docs/adapt.md.
"""

from ._base import (
    BaseAdapter,
    DAEstimator,
    DAPipeline,
    check_X_domain,
    make_da_pipeline,
    pack,
    source_target_split,
)
from ._registry import get_method, list_methods
from .api import adapt_features, predict_target
from .distances import coral_distance, distance_report, mmd, proxy_a_distance
from .feature import BDA, CORAL, JDA, TCA, DomainStandardScaler, SubspaceAlignment
from .instance import KLIEP, KMM, DomainClassifierWeights, TrAdaBoost
from .scorers import DeepEmbeddedValidation, ImportanceWeightedScorer, SoftNeighborhoodDensity
from .selection import DomainAwareSplit, score_candidates

__all__ = [
    "BDA", "CORAL", "DeepEmbeddedValidation", "DomainAwareSplit", "ImportanceWeightedScorer",
    "SoftNeighborhoodDensity", "adapt_features", "predict_target", "score_candidates", "JDA", "KLIEP", "KMM", "TCA", "BaseAdapter", "DAEstimator", "DAPipeline",
    "DomainClassifierWeights", "DomainStandardScaler", "SubspaceAlignment", "TrAdaBoost",
    "check_X_domain", "coral_distance", "distance_report", "get_method", "list_methods",
    "make_da_pipeline", "mmd", "pack", "proxy_a_distance", "source_target_split",
]
