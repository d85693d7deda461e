"""``DeepDA``: deep unsupervised domain adaptation as a scikit-learn style estimator.

Two modes, one code path (the one :class:`~transferkit.train.trainer.Trainer`):

* **feature mode** (``backbone=None``): ``X`` is 2-D (cached deep features); a small adaptor
  (standardise -> Linear(hidden) -> BN -> ReLU -> Dropout) and a linear classifier are trained.
* **end-to-end mode** (``backbone='lenet'``, ``'efficientnet_lite0'``, ...): ``X`` is a 4-D
  float array ``(n, C, H, W)``; a zoo backbone (optionally pretrained, with its first
  ``freeze`` blocks frozen and the body at ``lr * body_lr_mult``) and a new classifier.

``fit(X, y, sample_domain)`` follows skada: positive ``sample_domain`` = source, negative =
target, target labels masked as -1 (inferred from ``y == -1`` when omitted).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ...errors import DataError
from ._registry import get_loss, make_loss
from .network import (
    ArrayLoader,
    BackboneExtractor,
    DAModel,
    DAProgress,
    MLPExtractor,
    TwoDomainLoader,
    frozen_outputs,
    make_compute_loss,
)

MASKED = -1


def _as_input(X, backbone) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    want = 2 if backbone is None else 4
    if X.ndim != want:
        mode = "feature mode (backbone=None)" if backbone is None else f"backbone {backbone!r}"
        raise DataError(f"X: {mode} expects a {want}-D array, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise DataError("X: contains NaN or infinite values")
    return X


def _domains(n, y, sample_domain):
    if sample_domain is None:
        if y is None:
            raise DataError("sample_domain: needed when y is not given")
        sample_domain = np.where(np.asarray(y) == MASKED, -1, 1)
    sd = np.asarray(sample_domain).astype(int).ravel()
    if len(sd) != n:
        raise DataError(f"sample_domain: length {len(sd)} != {n} samples in X")
    if np.any(sd == 0):
        raise DataError("sample_domain: 0 is not a domain label (use >0 source, <0 target)")
    return sd


class DeepDA(ClassifierMixin, BaseEstimator):
    """Deep domain adaptation: ``'source_only'``, ``'dan'``, ``'dann'``, ``'cdan'``,
    ``'cdan_e'``, ``'mcc'`` (see :func:`~transferkit.adapt.deep.list_deep_methods`).

    Parameters
    ----------
    method : registered deep DA loss.
    backbone : None (feature mode) or a zoo backbone name (end-to-end mode).
    pretrained : load the backbone's pretrained weights (end-to-end; lenet has none).
    freeze : number of backbone blocks to freeze (end-to-end).
    body_lr_mult : learning-rate factor of the backbone body; 'auto' = 0.1 when pretrained,
        1.0 when trained from scratch.
    hidden, dropout : feature-mode adaptor width and dropout.
    trade_off : weight of the DA loss (total = source CE + trade_off * DA loss).
    loss_params : extra keyword arguments of the DA loss (e.g. ``{'hidden': 1024}``); in
        feature mode the discriminator width defaults to ``hidden``, end-to-end to 1024.
    epochs, batch_size, iters_per_epoch : schedule; an epoch is ``ceil(max(n_s, n_t) /
        batch_size)`` steps unless ``iters_per_epoch`` is given; each step sees
        ``batch_size`` source and ``batch_size`` target samples.
    lr, momentum, weight_decay : SGD with the annealed rate ``lr (1 + 10 p)^-0.75``.
    device, precision : passed to the Trainer ('cpu', 'fp32' by default for reproducibility).
    cache_frozen : end-to-end with ``freeze > 0``: run the frozen first blocks once over all
        inputs and train the rest on their outputs. Exact (frozen blocks are deterministic in
        eval mode and array inputs get no augmentation), and much faster when most of the
        body is frozen. Used only when the backbone's blocks compose into its feature path
        (:meth:`~transferkit.zoo.base.Backbone.blocks_compose`); otherwise ignored.
    random_state : seeds the initialisation, the batches and dropout.
    """

    def __init__(self, method="dann", backbone=None, pretrained=False, freeze=0,
                 body_lr_mult="auto", hidden=256, dropout=0.5, trade_off=1.0, loss_params=None,
                 epochs=20, batch_size=32, iters_per_epoch=None, lr=0.01, momentum=0.9,
                 weight_decay=5e-4, device="cpu", precision="fp32", cache_frozen=True,
                 random_state=0):
        self.method = method
        self.backbone = backbone
        self.pretrained = pretrained
        self.freeze = freeze
        self.body_lr_mult = body_lr_mult
        self.hidden = hidden
        self.dropout = dropout
        self.trade_off = trade_off
        self.loss_params = loss_params
        self.epochs = epochs
        self.batch_size = batch_size
        self.iters_per_epoch = iters_per_epoch
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.device = device
        self.precision = precision
        self.cache_frozen = cache_frozen
        self.random_state = random_state

    # --- building ------------------------------------------------------------------------
    def _build(self, input_shape, n_classes, pretrained=None) -> DAModel:
        get_loss(self.method)  # one-line error for an unknown method
        if self.backbone is None:
            extractor = MLPExtractor(int(input_shape[0]), int(self.hidden), float(self.dropout))
        else:
            from ...zoo import create_backbone

            pre = self.pretrained if pretrained is None else pretrained
            bb = create_backbone(self.backbone, pretrained=bool(pre))
            bb.reset_classifier(0)
            if self.freeze:
                bb.freeze_blocks(int(self.freeze))
            extractor = BackboneExtractor(bb)
        kw = dict(self.loss_params or {})
        if self.backbone is None and get_loss(self.method).adversarial:
            kw.setdefault("hidden", int(self.hidden))  # feature mode: discriminator as wide as the adaptor
        da = make_loss(self.method, extractor.out_dim, n_classes, **kw)
        return DAModel(extractor, n_classes, da)

    def _param_groups(self, model: DAModel):
        lr = float(self.lr)
        if self.backbone is None:
            return [{"params": [p for p in model.parameters() if p.requires_grad], "lr": lr}]
        mult = self.body_lr_mult
        if mult == "auto":
            mult = 0.1 if self.pretrained else 1.0
        body = [p for p in model.extractor.parameters() if p.requires_grad]
        head = list(model.classifier.parameters()) + list(model.da.parameters())
        return [{"params": body, "lr": lr * float(mult), "name": "body"},
                {"params": head, "lr": lr, "name": "head"}]

    def _cached_blocks(self, model: DAModel) -> int:
        """How many frozen first blocks are run once up front (0 = none)."""
        if self.backbone is None or not self.cache_frozen or not int(self.freeze):
            return 0
        bb = model.extractor.backbone
        return int(self.freeze) if bb.blocks_compose() else 0

    # --- fit -----------------------------------------------------------------------------
    def fit(self, X, y, sample_domain=None):
        """Train on labelled source rows and unlabelled target rows of ``X``."""
        from ...train.trainer import Trainer, seed_everything

        X = _as_input(X, self.backbone)
        y = np.asarray(y)
        if len(y) != len(X):
            raise DataError(f"y: length {len(y)} != {len(X)} samples in X")
        sd = _domains(len(X), y, sample_domain)
        src, tgt = sd > 0, sd < 0
        if not src.any() or not tgt.any():
            raise DataError("sample_domain: need both source (>0) and target (<0) samples")
        if np.any(y[src] == MASKED):
            raise DataError("y: source samples must be labelled (found -1)")
        self.classes_ = np.unique(y[src])
        if len(self.classes_) < 2:
            raise DataError("y: the source needs at least two classes")
        t0 = time.perf_counter()
        seed_everything(int(self.random_state))
        self.input_shape_ = tuple(int(s) for s in X.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        model = self._build(self.input_shape_, len(self.classes_))
        if self.backbone is None:
            mean = X.mean(0)
            scale = X.std(0)
            model.extractor.mean.copy_(torch.from_numpy(mean))
            model.extractor.scale.copy_(torch.from_numpy(np.where(scale > 1e-8, scale, 1.0)))
        Xs = torch.from_numpy(np.ascontiguousarray(X[src]))
        Xt = torch.from_numpy(np.ascontiguousarray(X[tgt]))
        k = self._cached_blocks(model)
        if k:
            from ...train.trainer import resolve_device

            bb = model.extractor.backbone
            dev, cl = resolve_device(self.device), self.precision != "fp32"
            Xs, Xt = (frozen_outputs(bb, Z, k, dev, cl) for Z in (Xs, Xt))
            model.extractor.start_block = k
        ys = torch.from_numpy(np.searchsorted(self.classes_, y[src]).astype(np.int64))
        bs = int(min(self.batch_size, len(Xs), len(Xt)))
        if bs < 2:
            raise DataError("X: need at least 2 source and 2 target samples")
        loader = TwoDomainLoader(Xs, ys, Xt, bs, self.iters_per_epoch)

        def optimizer_factory(m):
            return torch.optim.SGD(self._param_groups(m), lr=float(self.lr),
                                   momentum=float(self.momentum),
                                   weight_decay=float(self.weight_decay), nesterov=True)

        def scheduler_factory(opt, total):
            return torch.optim.lr_scheduler.LambdaLR(
                opt, lambda step: (1.0 + 10.0 * step / max(total, 1)) ** -0.75)

        trainer = Trainer(model, torch.nn.functional.cross_entropy, optimizer_factory,
                          callbacks=[DAProgress()], device=self.device,
                          precision=self.precision, seed=int(self.random_state),
                          scheduler_factory=scheduler_factory, keep_best=False,
                          compute_loss=make_compute_loss(float(self.trade_off)))
        try:
            trainer.fit(loader, epochs=int(self.epochs))
        finally:
            if k:
                model.extractor.start_block = 0
        model.eval()
        self.cached_blocks_ = k
        self.net_ = model
        self.device_ = trainer.device_
        self.history_ = trainer.state.history
        self.n_steps_ = trainer.state.step
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    # --- inference -----------------------------------------------------------------------
    @torch.no_grad()
    def _run(self, X, what: str) -> np.ndarray:
        check_is_fitted(self, "net_")
        X = _as_input(X, self.backbone)
        net = self.net_.eval()
        dev = next(net.parameters()).device
        out = []
        for xb, _ in ArrayLoader(torch.from_numpy(np.ascontiguousarray(X)), batch_size=512):
            xb = xb.to(dev)
            if self.backbone is not None and self.precision != "fp32" and xb.dim() == 4:
                xb = xb.contiguous(memory_format=torch.channels_last)  # as trained
            z = net.features(xb) if what == "features" else net(xb)
            out.append(z.float().cpu())
        return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)

    def decision_function(self, X, sample_domain=None) -> np.ndarray:
        """Logits ``(n, n_classes)``."""
        return self._run(X, "logits")

    def predict_proba(self, X, sample_domain=None) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` (``sample_domain`` accepted, unused)."""
        z = torch.from_numpy(self.decision_function(X))
        return z.softmax(1).numpy().astype(np.float64)

    def predict(self, X, sample_domain=None) -> np.ndarray:
        """Predicted labels (in the original label values)."""
        return self.classes_[self.decision_function(X).argmax(1)]

    def transform(self, X, sample_domain=None) -> np.ndarray:
        """Adapted features (the bottleneck the DA loss acts on)."""
        return self._run(X, "features")

    # --- serialisation -------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The fitted network's tensors (CPU, contiguous), for safetensors."""
        check_is_fitted(self, "net_")
        return {k: v.detach().cpu().contiguous().clone() for k, v in self.net_.state_dict().items()}

    def to_config(self) -> dict:
        """JSON-ready parameters and fitted metadata (pair with :meth:`state_dict`)."""
        check_is_fitted(self, "net_")
        classes = self.classes_.tolist()
        return {"kind": "transferkit.adapt.deep.DeepDA", "version": 1,
                "params": self.get_params(), "classes": classes,
                "input_shape": list(self.input_shape_)}

    @classmethod
    def from_state(cls, config: dict, tensors: dict) -> DeepDA:
        """Rebuild a fitted estimator from :meth:`to_config` and :meth:`state_dict`."""
        if config.get("kind") != "transferkit.adapt.deep.DeepDA":
            raise DataError(f"config: not a DeepDA model (kind={config.get('kind')!r})")
        est = cls(**config["params"])
        est.classes_ = np.asarray(config["classes"])
        est.input_shape_ = tuple(config["input_shape"])
        est.n_features_in_ = int(np.prod(est.input_shape_))
        model = est._build(est.input_shape_, len(est.classes_), pretrained=False)
        model.load_state_dict({k: torch.as_tensor(v) for k, v in tensors.items()}, strict=True)
        est.net_ = model.eval()
        est.device_ = torch.device("cpu")
        return est
