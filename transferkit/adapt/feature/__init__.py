"""Feature-based adaptation: map source and target into one feature space."""

from .coral import CORAL
from .jda import BDA, JDA
from .meda import MEDA
from .scaling import DomainStandardScaler
from .selective_meda import SelectiveMEDA
from .subspace import SubspaceAlignment
from .tca import TCA

__all__ = ["BDA", "CORAL", "DomainStandardScaler", "JDA", "MEDA", "SelectiveMEDA",
           "SubspaceAlignment", "TCA"]
