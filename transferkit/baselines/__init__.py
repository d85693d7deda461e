"""The founding article's baselines, as scikit-learn classifiers.

* :class:`MajorityClassifier` - always the most frequent class;
* :class:`PixelMLPClassifier` - an MLP (3 x 500) on the raw pixels;
* :class:`SmallCNNClassifier` - a small CNN trained from scratch;
* :class:`TfidfLogRegClassifier` - TF-IDF + logistic regression for texts.

Each has ``fit(X, y) -> self``, ``predict``, ``predict_proba``, ``classes_`` and
``n_trainable_params_``. torch is imported only when a torch model is fitted.
"""

from transferkit.baselines.majority import MajorityClassifier
from transferkit.baselines.pixel_mlp import PixelMLPClassifier
from transferkit.baselines.small_cnn import SmallCNNClassifier
from transferkit.baselines.tfidf import TfidfLogRegClassifier

__all__ = [
    "MajorityClassifier",
    "PixelMLPClassifier",
    "SmallCNNClassifier",
    "TfidfLogRegClassifier",
]
