"""Peer configurations (skada 0.6.0, ADAPT 0.4.5) for the shallow DA benchmark.

Each entry is ``fn(estimator, est_name, Xs, ys, Xt, seed=0) -> predictions on Xt`` (or None
when the peer has no such method or the estimator cannot take sample weights); ``seed`` is
passed to the peers' randomised methods (Subspace Alignment's randomised PCA). Settings follow
/work/shared/notes/peers.md: LR ``set_fit_request(sample_weight=True)`` for skada reweighting,
KLIEP ``gamma='scale'``, Subspace Alignment ``n_components=80``; the rest are defaults.
Peers are imported lazily, only in the benchmark environment.
"""

from __future__ import annotations

import numpy as np


def _sd(Xs, Xt):
    return np.r_[np.ones(len(Xs), dtype=int), -np.ones(len(Xt), dtype=int)]


def _skada(factory, reweight=False):
    def run(est, est_name, Xs, ys, Xt, seed=0):
        if reweight:
            if est_name != "lr":
                return None
            est = est.set_fit_request(sample_weight=True)
        pipe = factory(est, seed)
        X = np.vstack([Xs, Xt])
        y = np.r_[ys, -np.ones(len(Xt), dtype=int)]
        pipe.fit(X, y, sample_domain=_sd(Xs, Xt))
        return pipe.predict(Xt, sample_domain=-np.ones(len(Xt), dtype=int))

    return run


def _adapt(factory, reweight=False):
    def run(est, est_name, Xs, ys, Xt, seed=0):
        if reweight and est_name != "lr":
            return None
        model = factory(est, Xt, seed)
        model.fit(Xs, ys)
        return model.predict(Xt)

    return run


def _skada_table():
    import skada

    return {
        "coral": _skada(lambda e, s: skada.CORAL(e)),
        "sa": _skada(lambda e, s: skada.SubspaceAlignment(e, n_components=80, random_state=s)),
        "tca": _skada(lambda e, s: skada.TransferComponentAnalysis(e)),
        "kmm": _skada(lambda e, s: skada.KMMReweight(e), reweight=True),
        "kliep": _skada(lambda e, s: skada.KLIEPReweight(e, gamma="scale"), reweight=True),
        "kliep_scale": _skada(lambda e, s: skada.KLIEPReweight(e, gamma="scale"),
                              reweight=True),
        "domain_classifier": _skada(lambda e, s: skada.DiscriminatorReweight(e), reweight=True),
    }


def _adapt_table():
    from adapt import feature_based as fb
    from adapt import instance_based as ib

    def kw(seed):
        return {"verbose": 0, "random_state": seed}

    return {
        "coral": _adapt(lambda e, Xt, s: fb.CORAL(e, Xt=Xt, **kw(s))),
        "sa": _adapt(lambda e, Xt, s: fb.SA(e, Xt=Xt, n_components=80, **kw(s))),
        "tca": _adapt(lambda e, Xt, s: fb.TCA(e, Xt=Xt, **kw(s))),
        "kmm": _adapt(lambda e, Xt, s: ib.KMM(e, Xt=Xt, **kw(s)), reweight=True),
        "kmm_adapt": _adapt(lambda e, Xt, s: ib.KMM(e, Xt=Xt, **kw(s)), reweight=True),
        "kliep": _adapt(lambda e, Xt, s: ib.KLIEP(e, Xt=Xt, **kw(s)), reweight=True),
        "domain_classifier": _adapt(lambda e, Xt, s: ib.IWC(e, Xt=Xt, **kw(s)), reweight=True),
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
