"""``extract``: the frozen pretrained backbone as a feature extractor, plus a new head.

Features come from the feature cache (:func:`transferkit.features.extract_features`) or, with
``features='direct'``, are computed here in eval mode. Heads:

* ``linear``: multinomial logistic regression (scikit-learn, lbfgs) on standardised features;
  the inverse regularisation ``C`` is chosen from ``Cs`` by accuracy on held-out data:
  ``c_selection='cv'`` (default) uses stratified folds of the training set, ``'val'`` the
  validation set (then the reported validation accuracy is optimistically biased).
* ``mlp``: the article's dense head, ``hidden=(1000, 500, 150)`` ReLU units with dropout,
  trained in torch by the :class:`~transferkit.train.trainer.Trainer` on the cached features.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ...errors import DataError, TransferkitError
from . import FitContext, Strategy, StrategyResult, register_strategy

DEFAULT_CS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass
class ExtractConfig:
    head: str = "linear"  # 'linear' | 'mlp'
    Cs: tuple = DEFAULT_CS
    c_selection: str = "cv"  # 'cv' | 'val'
    hidden: tuple = (1000, 500, 150)
    dropout: float = 0.5
    epochs: int = 40
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 32
    label_smoothing: float = 0.0
    patience: int | None = 10
    features: str = "auto"  # 'auto' (feature cache) | 'cache' | 'direct'
    image_size: int | None = None  # array data only
    precision: str = "auto"  # mlp training


def embed_dataset(ds, backbone, ctx: FitContext, how: str = "auto", image_size=None,
                  array_scale=None):
    """(X, y) pooled features of ``ds`` through the frozen ``backbone`` (eval mode).

    Array data is scaled by ``array_scale = (lo, hi)`` (the training set's range; default its
    own), the same range the model's preprocessing keeps."""
    if len(ds) == 0:
        raise DataError(f"{ds.source or 'data'}: no samples to extract features from")
    if how in ("auto", "cache") and not (ds.modality == "array" and image_size):
        try:
            from ...features import extract_features
        except ImportError:
            if how == "cache":
                raise
        else:
            f = extract_features(ds, backbone=ctx.backbone, model=backbone, cache_dir=ctx.cache_dir,
                                 progress=ctx.progress, weights=ctx.weights, device=ctx.device,
                                 array_scale=array_scale if ds.modality == "array" else None)
            return np.asarray(f.X, np.float32), np.asarray(f.y)
    return embed_direct(ds, backbone, image_size, array_scale, device=ctx.device)


def embed_direct(ds, backbone, image_size=None, array_scale=None, device=None):
    """(X, y) pooled fp32 features of ``ds`` through ``backbone`` in eval mode, without the
    feature cache: the input a model trained at ``image_size`` sees (array data resized to
    ``image_size``; default the backbone's input size)."""
    import torch

    from ..data import make_loader, preprocessing_spec, torch_dataset
    from ..trainer import resolve_device

    spec = preprocessing_spec(ds, backbone.cfg, image_size)
    if array_scale is not None and spec["modality"] == "array":
        spec["lo"], spec["hi"] = float(array_scale[0]), float(array_scale[1])
    loader = make_loader(torch_dataset(ds.inputs, ds.y, spec, backbone, train=False), 64,
                         False, spec["modality"], backbone)
    dev = resolve_device(device)
    was = backbone.training
    backbone.eval().to(dev)
    out = []
    with torch.no_grad():
        for xb, _ in loader:
            xb = {k: v.to(dev) for k, v in xb.items()} if isinstance(xb, dict) else xb.to(dev)
            out.append(backbone.embed(xb).float().cpu())
    backbone.train(was)
    return torch.cat(out).numpy(), np.asarray(ds.y)


def fit_linear_probe(Xtr, ytr, Xva=None, yva=None, Cs=DEFAULT_CS, selection="cv", seed=0,
                     scale="feature"):
    """Standardise + logistic regression with ``C`` chosen on held-out data.

    ``scale='feature'`` divides each feature by its own std; ``'global'`` by one scalar (the
    mean std), which keeps the head's weights small when a feature barely varies, the better
    start for fine-tuning the body under it. Returns
    ``(mean, std, coef, intercept, classes, info)``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    mean, std = Xtr.mean(0), Xtr.std(0)
    std = np.where(std > 0, std, 1.0)
    if scale == "global":
        std = np.full_like(std, float(std.mean()))

    def z(x):
        return (x - mean) / std

    def lr():
        # One warm-started model walks the C path from strong to weak regularisation: the
        # same optima as fitting each C from scratch (the problem is convex), several times
        # fewer L-BFGS iterations.
        return LogisticRegression(max_iter=3000, warm_start=True)

    def rowspace(Xa, *others):
        # An L2-penalised linear model's weights lie in the span of its training rows
        # (representer theorem), so with fewer rows than features the fit on their
        # coordinates in that span has the same optimum and predictions, at n/d of the cost.
        # Returns the projected arrays and the basis (None: no projection).
        if Xa.shape[0] >= Xa.shape[1]:
            return (Xa, *others, None)
        basis = np.linalg.svd(Xa.astype(np.float64), full_matrices=False)[2]
        return (Xa @ basis.T, *(o @ basis.T for o in others), basis)

    def nll(m, X, y):
        p = m.predict_proba(X)
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), np.searchsorted(m.classes_, y)],
                                             1e-12, None))))

    path = sorted(Cs)
    scores = {}
    if selection == "val" and Xva is not None and len(Xva):
        Za, Zv, _ = rowspace(z(Xtr), z(Xva))
        m = lr()
        for C in path:
            m.set_params(C=C).fit(Za, ytr)
            scores[C] = (float((m.predict(Zv) == yva).mean()), -nll(m, Zv, yva))
    elif selection in ("cv", "val"):
        k = int(min(5, np.bincount(ytr).min()))
        if k < 2:
            scores = {Cs[len(Cs) // 2]: (0.0, 0.0)}
        else:
            folds = list(StratifiedKFold(k, shuffle=True, random_state=seed).split(Xtr, ytr))
            acc = {C: [] for C in path}
            loss = {C: [] for C in path}
            for a, b in folds:
                ma, sa = Xtr[a].mean(0), Xtr[a].std(0)
                sa = np.where(sa > 0, sa, 1.0)
                if scale == "global":
                    sa = np.full_like(sa, float(sa.mean()))
                Xa, Xb = (Xtr[a] - ma) / sa, (Xtr[b] - ma) / sa
                Xa, Xb, _ = rowspace(Xa, Xb)
                m = lr()
                for C in path:
                    m.set_params(C=C).fit(Xa, ytr[a])
                    acc[C].append((m.predict(Xb) == ytr[b]).mean())
                    loss[C].append(nll(m, Xb, ytr[b]))
            # best held-out accuracy; ties broken by the lower held-out log-loss
            scores = {C: (float(np.mean(acc[C])), -float(np.mean(loss[C]))) for C in path}
    else:
        raise TransferkitError(f"c_selection={selection!r}: use 'cv' or 'val'")
    best_C = max(scores, key=lambda c: scores[c])
    Ztr, basis = rowspace(z(Xtr))
    m = LogisticRegression(C=best_C, max_iter=3000).fit(Ztr, ytr)
    coef = m.coef_ if basis is None else (m.coef_ @ basis).astype(np.float32)
    info = {"C": best_C, "selection": selection, "scores": {str(c): s[0] for c, s in scores.items()}}
    return mean, std, coef, m.intercept_, m.classes_, info


def linear_head_from_probe(head, mean, std, coef, intercept, classes, n_classes):
    """Write a scikit-learn probe into ``head``, each class row at its label index.

    A binary probe (one row ``z``) becomes the rows ``-z/2, z/2`` (same softmax); classes
    absent from the training data get a large negative bias.
    """
    from ..model import set_linear_from_sklearn

    coef = np.asarray(coef, np.float32)
    intercept = np.asarray(intercept, np.float32)
    W = np.zeros((n_classes, coef.shape[1]), np.float32)
    b = np.full(n_classes, -1e4, np.float32)
    classes = np.asarray(classes)
    if coef.shape[0] == 1:
        W[classes[0]], W[classes[1]] = -coef[0] / 2, coef[0] / 2
        b[classes[0]], b[classes[1]] = -intercept[0] / 2, intercept[0] / 2
    else:
        W[classes], b[classes] = coef, intercept
    set_linear_from_sklearn(head, mean, std, W, b)


@register_strategy("extract")
class Extract(Strategy):
    """Frozen backbone + new head on its (cached) features."""

    Config = ExtractConfig

    def fit(self, ctx: FitContext) -> StrategyResult:
        from ...zoo import create_backbone
        from ..data import preprocessing_spec
        from ..model import new_classifier

        cfg = self.make_config()
        if cfg.head not in ("linear", "mlp"):
            raise TransferkitError(f"strategy 'extract': head={cfg.head!r}, use 'linear' or 'mlp'")
        n = len(ctx.train_ds.classes)
        t0 = time.perf_counter()
        backbone = create_backbone(ctx.backbone, pretrained=True, weights=ctx.weights)
        backbone.eval()
        prep = preprocessing_spec(ctx.train_ds, backbone.cfg, cfg.image_size)
        scale = (prep["lo"], prep["hi"]) if prep["modality"] == "array" else None
        Xtr, ytr = embed_dataset(ctx.train_ds, backbone, ctx, cfg.features, cfg.image_size, scale)
        Xva = yva = None
        if ctx.val_ds is not None and len(ctx.val_ds):
            Xva, yva = embed_dataset(ctx.val_ds, backbone, ctx, cfg.features, cfg.image_size,
                                     scale)
        t_feat = time.perf_counter() - t0
        spec = {"type": cfg.head, "in_features": int(Xtr.shape[1]), "num_classes": n,
                "dropout": 0.0 if cfg.head == "linear" else cfg.dropout}
        if cfg.head == "mlp":
            spec["hidden"] = [int(h) for h in cfg.hidden]
        from ..trainer import seed_everything

        # the head's initial weights must not depend on how much of the global RNG the feature
        # extraction used (a DataLoader draws from it; a cache hit does not)
        seed_everything(ctx.seed)
        model = new_classifier(backbone, spec)
        for p in model.backbone.parameters():
            p.requires_grad_(False)
        t1 = time.perf_counter()
        history, info = [], {}
        if cfg.head == "linear":
            mean, std, coef, icpt, classes, info = fit_linear_probe(
                Xtr, ytr, Xva, yva, tuple(cfg.Cs), cfg.c_selection, ctx.seed)
            linear_head_from_probe(model.head, mean, std, coef, icpt, classes, n)
            trained = int(np.asarray(coef).size + np.asarray(icpt).size)
        else:
            history, trained = self._fit_mlp(model.head, cfg, ctx, Xtr, ytr, Xva, yva)
        t_train = time.perf_counter() - t1
        metrics = {}
        if Xva is not None:
            metrics = _head_metrics(model.head, Xva, yva, n)
        metrics["train_accuracy"] = _head_metrics(model.head, Xtr, ytr, n)["accuracy"]
        return StrategyResult(
            model=model.eval(),
            head_spec=spec,
            preprocessing=prep,
            history=history,
            metrics=metrics,
            trained_params=trained,
            timings={"features_s": round(t_feat, 3), "train_s": round(t_train, 3)},
            info={"config": _jsonable(cfg), **info, "n_train_features": int(len(Xtr))},
        )

    def _fit_mlp(self, head, cfg, ctx, Xtr, ytr, Xva, yva):
        import torch

        from ..callbacks import CheckpointCallback, EarlyStopping, ProgressCallback
        from ..trainer import Trainer

        head[0].set(Xtr.mean(0), Xtr.std(0))
        tds = torch.utils.data.TensorDataset(torch.from_numpy(Xtr), torch.from_numpy(ytr).long())
        train_loader = torch.utils.data.DataLoader(tds, batch_size=cfg.batch_size, shuffle=True)
        val_loader = None
        if Xva is not None:
            vds = torch.utils.data.TensorDataset(torch.from_numpy(Xva), torch.from_numpy(yva).long())
            val_loader = torch.utils.data.DataLoader(vds, batch_size=256)
        cbs = []
        if ctx.progress:
            cbs.append(ProgressCallback("mlp head"))
        if cfg.patience and val_loader is not None:
            cbs.append(EarlyStopping(cfg.patience, "val_loss"))
        if ctx.checkpoint_dir:
            cbs.append(CheckpointCallback(ctx.checkpoint_dir, {"strategy": "extract",
                                                               **_jsonable(cfg)}))
        trainer = Trainer(
            head,
            torch.nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing),
            lambda m: torch.optim.AdamW(m.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay),
            callbacks=cbs, device=ctx.device, precision=cfg.precision, seed=ctx.seed,
        )
        trainer.fit(train_loader, val_loader, cfg.epochs, resume=ctx.resume)
        head.cpu().eval()
        return trainer.state.history, trainer.trainable_params()


def _head_metrics(head, X, y, n):
    import torch

    from ..trainer import classification_metrics

    head = head.cpu().eval()
    with torch.no_grad():
        logits = head(torch.from_numpy(X))
        loss = float(torch.nn.functional.cross_entropy(logits, torch.from_numpy(y).long()))
    m = classification_metrics(y, logits.argmax(1).numpy(), n)
    m["loss"] = loss
    return m


def _jsonable(cfg) -> dict:
    import dataclasses

    d = dataclasses.asdict(cfg)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
