"""Instance-based adaptation: reweight source samples that look like the target."""

from .domain_classifier import DomainClassifierWeights
from .kliep import KLIEP
from .kmm import KMM
from .tradaboost import TrAdaBoost

__all__ = ["KLIEP", "KMM", "DomainClassifierWeights", "TrAdaBoost"]
