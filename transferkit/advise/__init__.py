"""Advice before training: transferability scores (LogME, LEEP, NCE, H-score), the similarity of
the data to the pretraining domain, the small/large rule and the article's four scenarios.

The package itself is callable, so ``transferkit.advise(data, backbones=...)`` is
:func:`transferkit.advise.advise` while ``transferkit.advise.logme`` etc. keep working.
"""

import sys as _sys
import types as _types

from transferkit.advise.advisor import Advice, BackboneReport, advise
from transferkit.advise.scores import hscore, leep, logme, nce
from transferkit.advise.similarity import SimilarityAssessment
from transferkit.advise.size import SizeAssessment

__all__ = ["Advice", "BackboneReport", "SimilarityAssessment", "SizeAssessment", "advise",
           "hscore", "leep", "logme", "nce"]


class _CallableModule(_types.ModuleType):
    def __call__(self, data, backbones=None, **kwargs) -> Advice:
        """``transferkit.advise(data, backbones=...)``: see :func:`advise`."""
        return advise(data, backbones=backbones, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
