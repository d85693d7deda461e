"""Advice before training: transferability scores (LogME, LEEP, NCE, H-score)."""

from transferkit.advise.scores import hscore, leep, logme, nce

__all__ = ["hscore", "leep", "logme", "nce"]
