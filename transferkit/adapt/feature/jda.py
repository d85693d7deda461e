"""Joint Distribution Adaptation (Long et al., 2013) and Balanced DA (Wang et al., 2017).

Like :class:`~transferkit.adapt.feature.tca.TCA` but the MMD matrix also matches the
class-conditional means, using target pseudo-labels refined over ``n_iter`` rounds:
``M = (1 - mu) M0 + mu sum_c Mc`` (JDA: equal weights; BDA: ``mu`` given or estimated from
proxy A-distances, ``mu='auto'``). Each ``Mc`` is a rank-one product of class-mean
differences, so memory stays O(n m + m^2).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier

from .._base import MASKED
from .._registry import register
from .tca import TCA, l2_rows, mmd_directions, solve_components


def _balance_factor(Z, s, t, ys, yt_hat, seed):
    """BDA's ``mu = 1 - dA / (dA + sum_c dA_c)`` from proxy A-distances (clipped to [0, 1])."""
    from ..distances import proxy_a_distance

    d0 = max(proxy_a_distance(Z[s], Z[t], cv=2, seed=seed), 0.0)
    dc = 0.0
    for c in np.unique(ys):
        a, b = s[ys == c], t[yt_hat == c]
        if len(a) >= 4 and len(b) >= 4:
            dc += max(proxy_a_distance(Z[a], Z[b], cv=2, seed=seed), 0.0)
    if d0 + dc <= 0:
        return 0.5
    return float(np.clip(1 - d0 / (d0 + dc), 0.0, 1.0))


@register("jda")
class JDA(TCA):
    """Joint Distribution Adaptation (marginal + class-conditional MMD, pseudo-labels).

    Parameters are those of :class:`TCA` (``form`` included), plus ``n_iter`` (pseudo-label
    rounds, default 10) and ``estimator`` (classifier for the pseudo-labels; default 1-NN as in
    the paper).
    """

    needs_labels = True
    _mu_balance = None

    def __init__(self, n_components=100, mu=1.0, kernel="linear", gamma="median",
                 n_kernel_components=500, approx="nystroem", normalize=True, random_state=0,
                 n_iter=10, estimator=None, form="primal"):
        super().__init__(n_components=n_components, mu=mu, kernel=kernel, gamma=gamma,
                         n_kernel_components=n_kernel_components, approx=approx,
                         normalize=normalize, random_state=random_state, form=form)
        self.n_iter = n_iter
        self.estimator = estimator

    def _balance(self, Z, s, t, ys, yt_hat):
        return 0.5

    def _fit(self, X, y, sample_domain):
        Phi, R = self._fit_map(X)
        s, t = np.flatnonzero(sample_domain > 0), np.flatnonzero(sample_domain < 0)
        ys = np.asarray(y)[s]
        if np.any(ys == MASKED):
            keep = ys != MASKED
            s, ys = s[keep], ys[keep]
        est = clone(self.estimator) if self.estimator is not None else KNeighborsClassifier(1)
        yt_hat, Z = None, None
        self.balance_ = []
        for it in range(int(self.n_iter) + 1):
            groups, weights = [(s, t)], [1.0]
            if yt_hat is not None:
                b = self._balance(Z, s, t, ys, yt_hat)
                self.balance_.append(b)
                weights = [1.0 - b]
                for c in np.unique(ys):
                    tc = t[yt_hat == c]
                    if len(tc):
                        groups.append((s[ys == c], tc))
                        weights.append(b)
                if len(groups) == 1:
                    weights = [1.0]
            D, G = mmd_directions(Phi, groups)
            self.components_ = solve_components(Phi, D, weights, G, self.mu, self.n_components)
            Z = Phi @ self.components_
            if self.normalize:
                Z = l2_rows(Z)
            if it == self.n_iter:
                break
            yt_new = est.fit(Z[s], ys).predict(Z[t])
            if yt_hat is not None and np.array_equal(yt_new, yt_hat):
                break
            yt_hat = yt_new
        if R is not None:
            self.components_ = R @ self.components_
        self.n_iter_ = it
        self.pseudo_labels_ = yt_hat


@register("bda")
class BDA(JDA):
    """Balanced Distribution Adaptation: ``mu`` weighs conditional vs marginal MMD.

    ``balance='auto'`` estimates it each round from proxy A-distances; a float fixes it.
    """

    def __init__(self, n_components=100, mu=1.0, kernel="linear", gamma="median",
                 n_kernel_components=500, approx="nystroem", normalize=True, random_state=0,
                 n_iter=10, estimator=None, balance="auto", form="primal"):
        super().__init__(n_components=n_components, mu=mu, kernel=kernel, gamma=gamma,
                         n_kernel_components=n_kernel_components, approx=approx,
                         normalize=normalize, random_state=random_state, n_iter=n_iter,
                         estimator=estimator, form=form)
        self.balance = balance

    def _balance(self, Z, s, t, ys, yt_hat):
        if self.balance == "auto":
            return _balance_factor(Z, s, t, ys, yt_hat, self.random_state)
        return float(self.balance)
