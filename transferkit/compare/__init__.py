"""The founding article's comparison: baselines and the four recipes on the same data."""

from .ladder import LADDER, Rung, ladder_names, select_rungs
from .run import compare, three_way_split

__all__ = ["LADDER", "Rung", "compare", "ladder_names", "select_rungs", "three_way_split"]
