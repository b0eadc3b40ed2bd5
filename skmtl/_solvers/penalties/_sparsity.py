"""Convex sparsity penalties on the rows of ``W``: l1, l21, elastic net,
sparse group. Each has a duality gap."""

import numpy as np
from numba import njit

from ._base import RowPenalty, col_norms
from ._rows import CODE_L1, CODE_L21, CODE_SPARSE_GROUP


def _check_ratio(l1_ratio):
    l1_ratio = float(l1_ratio)
    if not 0 <= l1_ratio <= 1:
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio}.")
    return l1_ratio


class L1(RowPenalty):
    """``alpha * sum_{t,j} |W_tj|``: independent sparsity per task.

    ``params = [alpha]``.
    """

    code = CODE_L1
    has_gap = True

    @property
    def params(self):
        return np.array([self.alpha])

    def nonsmooth_value(self, W):
        return self.alpha * float(np.abs(W).sum())

    def dual_norm(self, V):
        return float(np.max(np.abs(V))) if V.size else 0.0

    def fenchel_young(self, Z, U):
        # per entry |w| (alpha - |u|) + (|w| |u| - w u), both terms >= 0
        aw, au = np.abs(Z), np.abs(U)
        opposite = np.where(Z * U < 0, 2.0 * aw * au, 0.0)
        return float(np.sum(aw * np.maximum(self.alpha - au, 0.0) + opposite))

    @classmethod
    def alpha_max(cls, G0, params=None):
        return float(np.max(np.abs(G0)))


class ElasticNet(RowPenalty):
    """``alpha * l1_ratio * ||W||_{2,1} + alpha * (1 - l1_ratio) / 2 ||W||_F^2``.

    scikit-learn's ``MultiTaskElasticNet`` penalty; ``l1_ratio = 1`` is the
    ``l21`` penalty of ``MultiTaskLasso``. ``params = [lam, mu]`` with
    ``lam = alpha l1_ratio``, ``mu = alpha (1 - l1_ratio)``.
    """

    code = CODE_L21
    has_gap = True
    hyperparameters = ("l1_ratio",)
    defaults = {"l1_ratio": 0.5}

    def __init__(self, alpha, l1_ratio=0.5):
        self.alpha = float(alpha)
        self.l1_ratio = _check_ratio(l1_ratio)
        self.lam = self.alpha * self.l1_ratio
        self.mu = self.alpha * (1.0 - self.l1_ratio)

    @property
    def params(self):
        return np.array([self.lam, self.mu])

    def nonsmooth_value(self, W):
        return self.lam * float(col_norms(W).sum()) + 0.5 * self.mu * float(
            np.sum(W * W)
        )

    def dual_norm(self, V):
        return float(np.max(col_norms(V))) if V.size else 0.0

    def conjugate_value(self, V):
        excess = np.maximum(col_norms(V) - self.lam, 0.0)
        return float(np.sum(excess * excess)) / (2.0 * self.mu)

    def fenchel_young(self, Z, U):
        # per row, with a = ||w||, n = ||u||: the angle term a n - <w, u> =
        # a n / 2 ||w/a - u/n||^2, plus (mu a - (n - lam))^2 / (2 mu) when
        # n > lam (then mu > 0), else a (lam - n) + mu/2 a^2: all >= 0. A
        # zero row leaves the conjugate's (n - lam)_+^2 / (2 mu) only.
        lam, mu = self.lam, self.mu
        a = col_norms(Z)
        nz = a > 0
        excess = col_norms(U) - lam
        total = 0.0
        if mu > 0:
            e0 = np.maximum(excess[~nz], 0.0)
            total += float(e0 @ e0) / (2.0 * mu)
        a, e = a[nz], excess[nz]
        n = e + lam
        d = Z[:, nz] / a - U[:, nz] / np.where(n > 0, n, 1.0)
        angle = 0.5 * a * n * np.sum(d * d, axis=0)
        if mu > 0:
            rest = np.where(e > 0, (mu * a - e) ** 2 / (2.0 * mu), 0.0)
        else:
            rest = np.zeros_like(a)  # n <= lam up to rounding (dual ball)
        rest = np.where(e > 0, rest, a * np.maximum(-e, 0.0) + 0.5 * mu * a * a)
        return total + float(np.sum(angle + rest))

    def quadratic_gap(self, rr, W, V):
        """:func:`skmtl._solvers.bcd.quadratic_gap` for this penalty in one
        numba pass (the same terms as :meth:`fenchel_young`): ``(gap,
        primal)``."""
        W = np.ascontiguousarray(W, dtype=np.float64)
        V = np.ascontiguousarray(V, dtype=np.float64)
        return _elastic_net_quadratic_gap(rr, W, V, self.lam, self.mu)

    @classmethod
    def alpha_max(cls, G0, params=None):
        l1_ratio = cls.resolve(params).get("l1_ratio", 1.0)
        if l1_ratio <= 0:
            return np.inf
        return float(np.max(col_norms(G0))) / l1_ratio


@njit(cache=True)
def _elastic_net_quadratic_gap(rr, W, V, lam, mu):
    """``(gap, primal)`` of ``rr / 2 + lam ||W||_21 + mu / 2 ||W||_F^2``
    with the dual point ``s V`` (``s < 1`` rescales into the dual ball when
    ``mu = 0``): ``(1 - s)^2 rr / 2`` plus, per feature, the non-negative
    terms of :meth:`ElasticNet.fenchel_young`."""
    T, p = W.shape
    a = np.empty(p)
    nv = np.empty(p)
    l21 = sq = vmax = 0.0
    for j in range(p):
        sw = sv = 0.0
        for t in range(T):
            sw += W[t, j] * W[t, j]
            sv += V[t, j] * V[t, j]
        a[j] = np.sqrt(sw)
        nv[j] = np.sqrt(sv)
        l21 += a[j]
        sq += sw
        vmax = max(vmax, nv[j])
    primal = 0.5 * rr + lam * l21 + 0.5 * mu * sq
    s = 1.0
    if mu <= 0 and vmax > lam:
        s = lam / vmax
    total = 0.0
    for j in range(p):
        n = s * nv[j]
        e = n - lam
        aj = a[j]
        if aj == 0.0:
            if mu > 0 and e > 0:
                total += e * e / (2.0 * mu)
            continue
        inv_n = 1.0 / n if n > 0 else 1.0
        d2 = 0.0
        for t in range(T):
            d = W[t, j] / aj - s * V[t, j] * inv_n
            d2 += d * d
        total += 0.5 * aj * n * d2
        if e > 0:
            if mu > 0:
                total += (mu * aj - e) ** 2 / (2.0 * mu)
        else:
            total += aj * (-e) + 0.5 * mu * aj * aj
    return 0.5 * (1.0 - s) ** 2 * rr + total, primal


class L21(ElasticNet):
    """``alpha * sum_j ||W[:, j]||_2``: joint feature selection across tasks."""

    hyperparameters = ()
    defaults = {}

    def __init__(self, alpha):
        super().__init__(alpha, 1.0)


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
    """``max_j`` of :func:`_sparse_group_dual_row` over ``V``'s columns.

    A column whose soft-thresholded norm at the running maximum ``out`` is
    within ``out b`` has its value at most ``out`` (the norm minus ``nu b``
    decreases in ``nu``): one pass instead of a bisection. Columns are
    visited by decreasing upper bound ``min(max|v| / a, ||v|| / b)``, so
    that the maximum is found early and most columns are skipped.
    """
    T, p = V.shape
    bound = np.empty(p)
    for j in range(p):
        vmax = 0.0
        s = 0.0
        for t in range(T):
            x = V[t, j]
            vmax = max(vmax, abs(x))
            s += x * x
        u1 = vmax / a if a > 0.0 else np.inf
        u2 = np.sqrt(s) / b if b > 0.0 else np.inf
        bound[j] = min(u1, u2)
    out = 0.0
    for j in np.argsort(-bound):
        if bound[j] <= out:
            break  # every later column's value is at most its bound
        v = np.ascontiguousarray(V[:, j])
        if out > 0.0 and a > 0.0 and b > 0.0:
            s = 0.0
            for x in v:
                z = abs(x) - out * a
                if z > 0.0:
                    s += z * z
            if np.sqrt(s) <= out * b:
                continue
        out = max(out, _sparse_group_dual_row(v, a, b))
    return out


class SparseGroup(RowPenalty):
    """``alpha * (l1_ratio ||W||_1 + (1 - l1_ratio) ||W||_{2,1})``.

    Sparse-group lasso: features shared across tasks (l21) with extra
    within-feature sparsity (l1). ``params = [a, b]``, ``a = alpha
    l1_ratio``, ``b = alpha (1 - l1_ratio)``.
    """

    code = CODE_SPARSE_GROUP
    has_gap = True
    hyperparameters = ("l1_ratio",)
    defaults = {"l1_ratio": 0.5}

    def __init__(self, alpha, l1_ratio=0.5):
        self.alpha = float(alpha)
        self.l1_ratio = _check_ratio(l1_ratio)
        self.lam = self.alpha
        self.a = self.alpha * self.l1_ratio
        self.b = self.alpha * (1.0 - self.l1_ratio)

    @property
    def params(self):
        return np.array([self.a, self.b])

    def nonsmooth_value(self, W):
        return self.a * float(np.abs(W).sum()) + self.b * float(col_norms(W).sum())

    def dual_norm(self, V):
        V = np.asarray(V, dtype=np.float64)
        return float(_sparse_group_dual_norm(V, self.l1_ratio, 1.0 - self.l1_ratio))

    @classmethod
    def alpha_max(cls, G0, params=None):
        r = cls.resolve(params)["l1_ratio"]
        G0 = np.asarray(G0, dtype=np.float64)
        return float(_sparse_group_dual_norm(G0, r, 1.0 - r))
