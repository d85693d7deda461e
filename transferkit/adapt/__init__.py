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
from .cli_api import AdaptResult, adapt
from .distances import coral_distance, distance_report, mmd, proxy_a_distance
from .feature import BDA, CORAL, JDA, MEDA, TCA, DomainStandardScaler, SubspaceAlignment
from .instance import KLIEP, KMM, DomainClassifierWeights, TrAdaBoost
from .modelfile import load_da_model, save_da_model
from .premise import cluster_ami, cluster_premise
from .scorers import (
    DeepEmbeddedValidation,
    ImportanceWeightedScorer,
    NeighborhoodConsistency,
    ReverseValidation,
    SoftNeighborhoodDensity,
)
from .selection import DomainAwareSplit, committee_agreement, score_candidates

__all__ = [
    "AdaptResult", "BDA", "BaseAdapter", "CORAL", "DAEstimator", "DAPipeline",
    "DeepEmbeddedValidation", "DomainAwareSplit", "DomainClassifierWeights",
    "DomainStandardScaler", "ImportanceWeightedScorer", "JDA", "KLIEP", "KMM", "MEDA",
    "NeighborhoodConsistency", "ReverseValidation",
    "SoftNeighborhoodDensity", "SubspaceAlignment", "TCA", "TrAdaBoost", "adapt", "adapt_features",
    "check_X_domain", "cluster_ami", "cluster_premise", "committee_agreement", "coral_distance",
    "distance_report", "get_method", "list_methods",
    "load_da_model", "make_da_pipeline", "mmd", "pack", "predict_target", "proxy_a_distance",
    "save_da_model", "score_candidates", "source_target_split",
]
