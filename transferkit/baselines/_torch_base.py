"""Shared fit / predict machinery of the torch image baselines (pixel MLP, small CNN).

Training is plain mini-batch Adam on the cross-entropy, the whole (small) training set held
as one tensor on the device. Inputs are standardised with one mean and standard deviation per
channel, measured on the training set. Everything random (weight initialisation, dropout,
batch order) is drawn inside ``torch.random.fork_rng`` after ``torch.manual_seed(seed)``, so a
fit is reproducible for a given seed, device and thread count, and leaves the caller's global
torch random state untouched. On CPU the operations used are deterministic; on CUDA they may
not be bit-identical run to run.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from transferkit.baselines._inputs import InputError, to_nchw
from transferkit.errors import TransferkitError


def _resolve_device(device):
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise TransferkitError(f"device={device!r}: not a torch device name") from exc


def _check_positive(name, value, kind=int):
    if not isinstance(value, (int, float, np.integer, np.floating)) or value <= 0:
        raise TransferkitError(f"{name}={value!r}: must be a positive {kind.__name__}")
    return kind(value)


class TorchImageClassifier(ClassifierMixin, BaseEstimator):
    """Base class: subclasses define ``__init__`` (storing arguments only) and ``_build``.

    Subclass parameters must include ``epochs, lr, batch_size, weight_decay, seed, device,
    image_size, progress``.

    Fitted attributes: ``classes_``, ``module_`` (the trained ``nn.Module``, in eval mode),
    ``input_shape_`` (C, H, W), ``mean_``/``std_`` (per channel), ``n_trainable_params_``,
    ``loss_curve_`` (mean training loss per epoch), ``device_``.
    """

    _allow_flat = False

    def _build(self, input_shape, n_classes):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- inputs -----------------------------------------------------------------------------
    def _as_array(self, X) -> np.ndarray:
        arr = to_nchw(X, image_size=self.image_size, allow_flat=self._allow_flat)
        if arr.shape[0] == 0:
            raise InputError("inputs: no samples")
        if not np.all(np.isfinite(arr)):
            raise InputError("inputs: contain NaN or infinite values")
        return arr

    def _standardise(self, arr: np.ndarray) -> np.ndarray:
        return (arr - self.mean_[None, :, None, None]) / self.std_[None, :, None, None]

    # -- sklearn API ------------------------------------------------------------------------
    def fit(self, X, y):
        """Train on inputs ``X`` (see :mod:`transferkit.baselines._inputs`) and labels ``y``."""
        import torch

        epochs = _check_positive("epochs", self.epochs)
        batch_size = _check_positive("batch_size", self.batch_size)
        lr = _check_positive("lr", self.lr, float)
        if y is None:
            name = type(self).__name__
            raise InputError(f"{name} requires y to be passed, but the target y is None")
        arr = self._as_array(X)
        try:
            y = column_or_1d(y, warn=True)
        except ValueError as exc:
            raise InputError(f"labels of shape {np.shape(y)}: {exc}") from exc
        if len(y) != len(arr):
            raise InputError(f"labels: {len(y)} labels for {len(arr)} inputs")
        check_classification_targets(y)
        enc = LabelEncoder().fit(y)
        self.classes_ = enc.classes_
        y_idx = enc.transform(y).astype(np.int64)

        self.input_shape_ = tuple(int(s) for s in arr.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        self.mean_ = arr.mean(axis=(0, 2, 3)).astype(np.float32)
        std = arr.std(axis=(0, 2, 3)).astype(np.float32)
        self.std_ = np.where(std > 1e-8, std, 1.0).astype(np.float32)
        self.device_ = _resolve_device(self.device)

        xt = torch.from_numpy(self._standardise(arr)).to(self.device_)
        yt = torch.from_numpy(y_idx).to(self.device_)
        n = len(xt)
        devices = [self.device_.index or 0] if self.device_.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(int(self.seed))
            module = self._build(self.input_shape_, len(self.classes_)).to(self.device_)
            opt = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=self.weight_decay)
            loss_fn = torch.nn.CrossEntropyLoss()
            gen = torch.Generator().manual_seed(int(self.seed))
            self.loss_curve_ = []
            epoch_iter = range(epochs)
            if self.progress:
                from tqdm.auto import tqdm

                epoch_iter = tqdm(epoch_iter, desc=type(self).__name__, unit="epoch")
            module.train()
            for _ in epoch_iter:
                order = torch.randperm(n, generator=gen).to(self.device_)
                total = 0.0
                for start in range(0, n, batch_size):
                    idx = order[start : start + batch_size]
                    opt.zero_grad(set_to_none=True)
                    loss = loss_fn(module(xt[idx]), yt[idx])
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(idx)
                self.loss_curve_.append(total / n)
        module.eval()
        self.module_ = module
        self.n_trainable_params_ = int(
            sum(p.numel() for p in module.parameters() if p.requires_grad)
        )
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns in the order of ``classes_``."""
        import torch

        check_is_fitted(self, "module_")
        arr = self._as_array(X)
        if tuple(arr.shape[1:]) != self.input_shape_:
            raise InputError(
                f"X has {int(np.prod(arr.shape[1:]))} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input (per-sample shape "
                f"(C, H, W) {tuple(arr.shape[1:])}; the model was fitted on {self.input_shape_})"
            )
        arr = self._standardise(arr)
        bs = max(int(self.batch_size), 256)
        out = []
        with torch.no_grad():
            for start in range(0, len(arr), bs):
                xb = torch.from_numpy(arr[start : start + bs]).to(self.device_)
                out.append(torch.softmax(self.module_(xb).double(), dim=1).cpu().numpy())
        proba = np.concatenate(out)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Most probable class per sample (labels from ``classes_``)."""
        check_is_fitted(self, "module_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
