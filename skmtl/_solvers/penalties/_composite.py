"""Composite (decomposition) models: ``W = P + Q``, one penalty per part.

The solver variable stacks the parts, ``Z = [P; Q]`` of shape
``(2 n_tasks, n_features)``; the datafit sees ``P + Q`` (the design is
``[X, X]``), the penalty is ``alpha N_1(P) + beta N_2(Q)``. Minimising over
the split is the infimal convolution of the two terms, whose conjugate is
the indicator of both dual balls, so the duality gap is available: the dual
point ``theta`` is feasible when ``N_1*(X^T theta) <= alpha`` and
``N_2*(X^T theta) <= beta`` (``dual_norm`` below is the larger ratio, with
``lam = 1``).
"""

import numpy as np

from ._base import Penalty
from ._sparsity import L1, L21
from ._spectral import Trace


class TaskGroupNorm(Penalty):
    """``alpha * sum_t ||W[t, :]||_2``: one group per task (outlier tasks)."""

    has_gap = True

    def nonsmooth_value(self, W):
        return self.alpha * float(np.sqrt(np.sum(W * W, axis=1)).sum())

    def prox(self, W, step):
        norms = np.sqrt(np.sum(W * W, axis=1))
        scale = np.maximum(0.0, 1.0 - step * self.alpha / np.maximum(norms, 1e-300))
        return W * scale[:, None]

    def dual_norm(self, V):
        return float(np.sqrt(np.sum(V * V, axis=1)).max()) if V.size else 0.0

    @classmethod
    def alpha_max(cls, G0, params=None):
        return float(np.sqrt(np.sum(G0 * G0, axis=1)).max())


class Composite(Penalty):
    """``alpha N_1(P) + beta N_2(Q)`` over ``W = P + Q``.

    Hyperparameters: ``beta`` (strength of the second part; None: equal to
    ``alpha``), or along a regularization path ``beta_ratio`` (``beta =
    beta_ratio * alpha`` at every ``alpha``; default 1).
    """

    n_parts = 2
    has_gap = True
    hyperparameters = ("beta", "beta_ratio")
    defaults = {"beta": None, "beta_ratio": 1.0}
    part_penalties = (None, None)

    def __init__(self, alpha, beta):
        self.alpha, self.beta = float(alpha), float(beta)
        if self.beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}.")
        first, second = self.part_penalties
        self.parts = (first(self.alpha), second(self.beta))
        self.lam = 1.0

    @classmethod
    def from_params(cls, alpha, n_tasks, params):
        p = cls.resolve(params)
        beta = p["beta"] if p["beta"] is not None else p["beta_ratio"] * alpha
        return cls(alpha, beta)

    def _parts(self, Z):
        T = Z.shape[0] // 2
        return Z[:T], Z[T:]

    def nonsmooth_value(self, Z):
        return sum(
            pen.value(Zk) for pen, Zk in zip(self.parts, self._parts(Z), strict=True)
        )

    def prox(self, Z, step):
        return np.vstack(
            [
                pen.prox(Zk, step)
                for pen, Zk in zip(self.parts, self._parts(Z), strict=True)
            ]
        )

    @property
    def column_scalable(self):
        return all(pen.column_scalable for pen in self.parts)

    def prox_cols(self, Z, steps):
        return np.vstack(
            [
                pen.prox_cols(Zk, steps)
                for pen, Zk in zip(self.parts, self._parts(Z), strict=True)
            ]
        )

    def dual_norm(self, V):
        ratios = []
        for pen in self.parts:
            dn = pen.dual_norm(V)
            ratios.append(dn / pen.lam if pen.lam > 0 else (np.inf if dn > 0 else 0))
        return float(max(ratios))

    @classmethod
    def alpha_max(cls, G0, params=None):
        ratio = float(cls.resolve(params)["beta_ratio"])
        first, second = cls.part_penalties
        second_max = second.alpha_max(G0)
        if ratio <= 0:
            return np.inf if second_max > 0 else first.alpha_max(G0)
        return max(first.alpha_max(G0), second_max / ratio)


class Dirty(Composite):
    """Dirty model (Jalali et al., NIPS 2010, with l21 for their l1,inf):
    ``alpha ||P||_{2,1} + beta ||Q||_1``: features shared by every task in
    ``P``, task-specific ones in ``Q``."""

    part_penalties = (L21, L1)
    part_names = ("shared", "specific")


class Robust(Composite):
    """Robust multi-task learning (Chen, Zhou & Ye, KDD 2011; MALSAR's
    ``Least_RMTL``): ``alpha ||L||_* + beta sum_t ||S[t, :]||_2``: a shared
    low-rank part and whole outlier tasks in ``S``."""

    part_penalties = (Trace, TaskGroupNorm)
    part_names = ("low_rank", "outlier")


class SparseLowRank(Composite):
    """Sparse + low rank (Chen, Liu & Ye, KDD 2010, penalised form):
    ``alpha ||P||_1 + beta ||Q||_*``."""

    part_penalties = (L1, Trace)
    part_names = ("sparse", "low_rank")
