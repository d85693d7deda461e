"""Peer configurations (skada 0.6.0, ADAPT 0.4.5) for the shallow DA benchmark.

Each entry is ``fn(estimator, est_name, Xs, ys, Xt) -> predictions on Xt`` (or None when the
peer has no such method or the estimator cannot take sample weights). Settings follow
/work/shared/notes/peers.md: LR ``set_fit_request(sample_weight=True)`` for skada reweighting,
KLIEP ``gamma='scale'``, Subspace Alignment ``n_components=80``; the rest are defaults.
Peers are imported lazily, only in the benchmark environment.
"""

from __future__ import annotations

import numpy as np


def _sd(Xs, Xt):
    return np.r_[np.ones(len(Xs), dtype=int), -np.ones(len(Xt), dtype=int)]


def _skada(factory, reweight=False):
    def run(est, est_name, Xs, ys, Xt):
        if reweight:
            if est_name != "lr":
                return None
            est = est.set_fit_request(sample_weight=True)
        pipe = factory(est)
        X = np.vstack([Xs, Xt])
        y = np.r_[ys, -np.ones(len(Xt), dtype=int)]
        pipe.fit(X, y, sample_domain=_sd(Xs, Xt))
        return pipe.predict(Xt, sample_domain=-np.ones(len(Xt), dtype=int))

    return run


def _adapt(factory, reweight=False):
    def run(est, est_name, Xs, ys, Xt):
        if reweight and est_name != "lr":
            return None
        model = factory(est, Xt)
        model.fit(Xs, ys)
        return model.predict(Xt)

    return run


def _skada_table():
    import skada

    return {
        "coral": _skada(lambda e: skada.CORAL(e)),
        "sa": _skada(lambda e: skada.SubspaceAlignment(e, n_components=80)),
        "tca": _skada(lambda e: skada.TransferComponentAnalysis(e)),
        "kmm": _skada(lambda e: skada.KMMReweight(e), reweight=True),
        "kliep": _skada(lambda e: skada.KLIEPReweight(e, gamma="scale"), reweight=True),
        "domain_classifier": _skada(lambda e: skada.DiscriminatorReweight(e), reweight=True),
    }


def _adapt_table():
    from adapt import feature_based as fb
    from adapt import instance_based as ib

    kw = {"verbose": 0, "random_state": 0}
    return {
        "coral": _adapt(lambda e, Xt: fb.CORAL(e, Xt=Xt, **kw)),
        "sa": _adapt(lambda e, Xt: fb.SA(e, Xt=Xt, n_components=80, **kw)),
        "tca": _adapt(lambda e, Xt: fb.TCA(e, Xt=Xt, **kw)),
        "kmm": _adapt(lambda e, Xt: ib.KMM(e, Xt=Xt, **kw), reweight=True),
        "kliep": _adapt(lambda e, Xt: ib.KLIEP(e, Xt=Xt, **kw), reweight=True),
        "domain_classifier": _adapt(lambda e, Xt: ib.IWC(e, Xt=Xt, **kw), reweight=True),
    }


class _Lazy(dict):
    """Peers are imported on first use (so the module imports without them)."""

    _loaders = {"skada": _skada_table, "adapt": _adapt_table}

    def get(self, key, default=None):
        if key not in self and key in self._loaders:
            try:
                self[key] = self._loaders[key]()
            except ImportError:
                self[key] = {}
        return dict.get(self, key, default)


PEERS = _Lazy()
