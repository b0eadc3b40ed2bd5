"""Penalties on the coefficient matrix ``W`` of shape ``(n_tasks, n_features)``.

Each penalty is ``smooth(W) + nonsmooth(W)``. ``nonsmooth`` is
``lam * N(W) + mu / 2 ||W||_F^2`` with ``N`` a norm whose dual norm is
computable (so the duality gap is available), or a term with a cheap prox.
``smooth`` (the task-graph Laplacian term) goes into the gradient.

Every penalty gives ``value``, ``prox`` (of the nonsmooth part),
``smooth_value`` / ``smooth_grad``, an optimality measure
(``kkt_violation`` per feature for the feature-separable ones, or the duality
gap through ``dual_norm``), and ``alpha_max``: the smallest ``alpha`` for
which ``W = 0`` is optimal, given the datafit gradient ``G0`` at ``W = 0``.

Feature-separable penalties (the ones block coordinate descent can use) also
give ``bcd_params``: a kind code and weights read by the numba kernels in
:mod:`skmtl._solvers.bcd`.

A new penalty is one class here and one line in :data:`PENALTIES`.
"""

import numpy as np
from numba import njit

# kind codes understood by the numba block coordinate descent kernels
KIND_L1, KIND_L21, KIND_SPARSE_GROUP = 0, 1, 2


def _col_norms(W):
    return np.sqrt(np.sum(W * W, axis=0))


def _group_shrink(Z, thresh):
    """Block soft-thresholding of each feature column ``Z[:, j]``."""
    norms = _col_norms(Z)
    scale = np.maximum(0.0, 1.0 - thresh / np.maximum(norms, 1e-300))
    return Z * scale


def _soft(Z, thresh):
    return np.sign(Z) * np.maximum(np.abs(Z) - thresh, 0.0)


@njit(cache=True)
def _sparse_group_dual_row(v, a, b):
    """Smallest ``nu`` with ``||ST(v, nu a)||_2 <= nu b`` (bisection)."""
    vmax = 0.0
    for x in v:
        vmax = max(vmax, abs(x))
    if vmax == 0.0:
        return 0.0
    if a == 0.0:
        s = 0.0
        for x in v:
            s += x * x
        return np.sqrt(s) / b
    hi = vmax / a
    if b == 0.0:
        return hi
    lo = 0.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        s = 0.0
        for x in v:
            z = abs(x) - mid * a
            if z > 0.0:
                s += z * z
        if np.sqrt(s) > mid * b:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * hi:
            break
    return hi


@njit(cache=True)
def _sparse_group_dual_norm(V, a, b):
    out = 0.0
    for j in range(V.shape[1]):
        out = max(out, _sparse_group_dual_row(np.ascontiguousarray(V[:, j]), a, b))
    return out


class Penalty:
    """Base class: no smooth part, no gap, not separable."""

    separable = False
    lam = 0.0
    mu = 0.0

    def smooth_value(self, W):
        return 0.0

    def smooth_grad(self, W):
        return None

    smooth_lipschitz = 0.0

    def value(self, W):
        return self.smooth_value(W) + self.nonsmooth_value(W)

    def dual_norm(self, V):
        """Dual norm of ``N``; ``None`` when no gap is available."""
        return None

    def conjugate_value(self, V):
        """``h*(V)`` for ``h = lam N + mu/2 ||.||^2`` when ``mu > 0``."""
        raise NotImplementedError

    has_gap = False

    def kkt_violation(self, W, G):
        """Per-feature distance of ``-G[:, j]`` to the subdifferential."""
        raise NotImplementedError


class L1(Penalty):
    """``alpha * sum_{t,j} |W_tj|``: independent sparsity per task."""

    separable = True
    has_gap = True

    def __init__(self, alpha):
        self.alpha = float(alpha)
        self.lam = self.alpha

    def nonsmooth_value(self, W):
        return self.alpha * float(np.abs(W).sum())

    def prox(self, W, step):
        return _soft(W, step * self.alpha)

    def dual_norm(self, V):
        return float(np.max(np.abs(V))) if V.size else 0.0

    def kkt_violation(self, W, G):
        dist = np.where(
            W != 0,
            np.abs(G + self.alpha * np.sign(W)),
            np.maximum(np.abs(G) - self.alpha, 0.0),
        )
        return np.sqrt(np.sum(dist * dist, axis=0))

    @staticmethod
    def alpha_max(G0, l1_ratio=None):
        return float(np.max(np.abs(G0)))

    @property
    def bcd_params(self):
        return KIND_L1, self.alpha, 0.0, 0.0, 0.0


class ElasticNet(Penalty):
    """``alpha * l1_ratio * ||W||_{2,1} + alpha * (1 - l1_ratio) / 2 ||W||_F^2``.

    scikit-learn's ``MultiTaskElasticNet`` penalty; ``l1_ratio = 1`` is the
    ``l21`` penalty of ``MultiTaskLasso`` (joint feature selection).
    """

    separable = True
    has_gap = True

    def __init__(self, alpha, l1_ratio=1.0):
        self.alpha = float(alpha)
        self.l1_ratio = float(l1_ratio)
        self.lam = self.alpha * self.l1_ratio
        self.mu = self.alpha * (1.0 - self.l1_ratio)

    def nonsmooth_value(self, W):
        return self.lam * float(_col_norms(W).sum()) + 0.5 * self.mu * float(
            np.sum(W * W)
        )

    def prox(self, W, step):
        return _group_shrink(W, step * self.lam) / (1.0 + step * self.mu)

    def dual_norm(self, V):
        return float(np.max(_col_norms(V))) if V.size else 0.0

    def conjugate_value(self, V):
        excess = np.maximum(_col_norms(V) - self.lam, 0.0)
        return float(np.sum(excess * excess)) / (2.0 * self.mu)

    def kkt_violation(self, W, G):
        G = G + self.mu * W
        norms = _col_norms(W)
        nz = norms > 0
        out = np.maximum(_col_norms(G) - self.lam, 0.0)
        if np.any(nz):
            D = G[:, nz] + self.lam * W[:, nz] / norms[nz]
            out[nz] = _col_norms(D)
        return out

    @staticmethod
    def alpha_max(G0, l1_ratio=1.0):
        if l1_ratio <= 0:
            return np.inf
        return float(np.max(_col_norms(G0))) / l1_ratio

    @property
    def bcd_params(self):
        return KIND_L21, self.lam, self.mu, 0.0, 0.0


class L21(ElasticNet):
    """``alpha * sum_j ||W[:, j]||_2``: joint feature selection across tasks."""

    def __init__(self, alpha):
        super().__init__(alpha, 1.0)


class SparseGroup(Penalty):
    """``alpha * (l1_ratio ||W||_1 + (1 - l1_ratio) ||W||_{2,1})``.

    Sparse-group lasso: features shared across tasks (l21) with extra
    within-feature sparsity (l1).
    """

    separable = True
    has_gap = True

    def __init__(self, alpha, l1_ratio=0.5):
        self.alpha = float(alpha)
        self.l1_ratio = float(l1_ratio)
        self.lam = self.alpha
        self.a = self.alpha * self.l1_ratio
        self.b = self.alpha * (1.0 - self.l1_ratio)

    def nonsmooth_value(self, W):
        return self.a * float(np.abs(W).sum()) + self.b * float(_col_norms(W).sum())

    def prox(self, W, step):
        return _group_shrink(_soft(W, step * self.a), step * self.b)

    def dual_norm(self, V):
        V = np.asarray(V, dtype=np.float64)
        return float(_sparse_group_dual_norm(V, self.l1_ratio, 1.0 - self.l1_ratio))

    def kkt_violation(self, W, G):
        norms = _col_norms(W)
        out = np.maximum(_col_norms(_soft(G, self.a)) - self.b, 0.0)
        nz = norms > 0
        if np.any(nz):
            Wn, Gn = W[:, nz], G[:, nz]
            D = np.where(
                Wn != 0,
                Gn + self.a * np.sign(Wn) + self.b * Wn / norms[nz],
                np.maximum(np.abs(Gn) - self.a, 0.0),
            )
            out[nz] = _col_norms(D)
        return out

    @staticmethod
    def alpha_max(G0, l1_ratio=0.5):
        G0 = np.asarray(G0, dtype=np.float64)
        return float(_sparse_group_dual_norm(G0, l1_ratio, 1.0 - l1_ratio))

    @property
    def bcd_params(self):
        return KIND_SPARSE_GROUP, self.alpha, 0.0, self.a, self.b


class Trace(Penalty):
    """``alpha * ||W||_*`` (nuclear norm): tasks share a low-rank subspace."""

    has_gap = True

    def __init__(self, alpha):
        self.alpha = float(alpha)
        self.lam = self.alpha

    def nonsmooth_value(self, W):
        return self.alpha * float(np.linalg.svd(W, compute_uv=False).sum())

    def prox(self, W, step):
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        s = np.maximum(s - step * self.alpha, 0.0)
        k = int(np.count_nonzero(s))
        return (U[:, :k] * s[:k]) @ Vt[:k]

    def dual_norm(self, V):
        return float(np.linalg.norm(V, 2)) if V.size else 0.0

    @staticmethod
    def alpha_max(G0, l1_ratio=None):
        return float(np.linalg.norm(G0, 2))


class Graph(Penalty):
    """Task-graph smoothing, optionally with an l1 part.

    ``alpha * (1 - l1_ratio) / 2 * sum_{s<t} A_st ||w_s - w_t||^2
    + alpha * l1_ratio * ||W||_1``, where the first term equals
    ``alpha * (1 - l1_ratio) / 2 * tr(W^T L W)`` with ``L`` the graph
    Laplacian of ``A``. The quadratic part is smooth (it enters the gradient),
    the l1 part is handled by its prox. Stopping uses the proximal-gradient
    residual (no duality gap).
    """

    def __init__(self, alpha, laplacian, l1_ratio=0.0):
        self.alpha = float(alpha)
        self.l1_ratio = float(l1_ratio)
        self.laplacian = np.asarray(laplacian, dtype=np.float64)
        self.q = self.alpha * (1.0 - self.l1_ratio)
        self.a = self.alpha * self.l1_ratio
        lmax = np.linalg.eigvalsh(self.laplacian).max() if self.laplacian.size else 0
        self.smooth_lipschitz = self.q * max(float(lmax), 0.0)

    def smooth_value(self, W):
        return 0.5 * self.q * float(np.sum(W * (self.laplacian @ W)))

    def smooth_grad(self, W):
        return self.q * (self.laplacian @ W)

    def nonsmooth_value(self, W):
        return self.a * float(np.abs(W).sum())

    def prox(self, W, step):
        return _soft(W, step * self.a) if self.a > 0 else W

    @staticmethod
    def alpha_max(G0, l1_ratio=0.0):
        if l1_ratio <= 0:
            return np.inf
        return float(np.max(np.abs(G0))) / l1_ratio


PENALTIES = {
    "l1": L1,
    "l21": L21,
    "elasticnet": ElasticNet,
    "sparse_group": SparseGroup,
    "trace": Trace,
    "graph": Graph,
}
