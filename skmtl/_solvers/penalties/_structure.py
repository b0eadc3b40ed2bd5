"""Penalties that learn how the tasks are related, with ``W`` (tasks x
features): task-relationship learning and clustered multi-task learning.

Both are a minimum over a task-by-task matrix of a quadratic form in ``W``;
the inner minimum has a closed form in the singular values of ``W``, so each
penalty is a convex spectral function of ``W`` that the solvers use
directly (prox or gradient), and the learned matrix is read off the
solution.

* ``"relationship"`` (MTRL, Zhang & Yeung, UAI 2010)::

      alpha/2 min_{Omega PSD, tr Omega = 1} tr(W^T Omega^{-1} W) + beta/2 ||W||_F^2
    = alpha/2 ||W||_*^2 + beta/2 ||W||_F^2,

  attained at ``Omega = (W W^T)^{1/2} / tr((W W^T)^{1/2})`` (the task
  covariance). Exact prox on the singular values (a squared l1 norm plus a
  ridge); FISTA.

* ``"clustered"`` (convex relaxation of clustered MTL, Zhou, Chen & Ye,
  NIPS 2011; MALSAR's ``Least_CMTL`` / ``Logistic_CMTL``)::

      alpha eta (1 + eta) min_{M} tr(W^T (eta I + M)^{-1} W),
      tr M = k, 0 <= M <= I,   eta = beta / alpha.

  ``M`` shares the eigenvectors of ``W W^T``; its eigenvalues are
  ``m_i = clip(theta sigma_i - eta, 0, 1)`` (``sigma_i`` the singular values
  of ``W``, ``theta`` such that they sum to ``k``). The result is a smooth
  convex function of ``W`` whose gradient ``2 c (eta I + M)^{-1} W`` is
  ``2 (alpha + beta)``-Lipschitz; FISTA uses it as the smooth part.
"""

from numbers import Integral

import numpy as np

from ._base import Penalty


def _check_beta(cls, alpha, p, default_ratio):
    beta = p.get("beta")
    if beta is None:
        ratio = p.get("beta_ratio")
        ratio = default_ratio if ratio is None else float(ratio)
        beta = ratio * alpha
    beta = float(beta)
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0 for penalty {cls.__name__}, got {beta}.")
    return beta


class _SpectralStructure(Penalty):
    """Common plumbing: ``beta`` (or ``beta_ratio * alpha``) and the grid
    scale of penalties that are never zero-optimal (``alpha_max = inf``)."""

    hyperparameters = ("beta", "beta_ratio")
    default_beta_ratio = 0.0

    @classmethod
    def alpha_max(cls, G0, params=None):
        return np.inf  # quadratic growth at 0: W = 0 is optimal only if G0 = 0

    has_alpha_scale = True

    @classmethod
    def alpha_scale(cls, G0, lipschitz, params=None):
        """Top of an automatic ``alpha`` grid: where the penalty's largest
        curvature (per unit ``alpha``, :meth:`max_curvature`) is 10 times the
        datafit's (``lipschitz``): the coupled directions are tied, and the
        grid runs from there towards independent fits."""
        return 10.0 * lipschitz / cls.max_curvature(G0.shape[0], params or {})


# ------------------------------------------------------------------ MTRL


def squared_l1_prox(s, a, b):
    """``argmin_x 1/2 ||x - s||^2 + a/2 (sum x)^2 + b/2 ||x||^2``, ``x >= 0``,
    for ``s >= 0`` sorted decreasing."""
    if s.size == 0:
        return s.copy()
    csum = np.cumsum(s)
    k = np.arange(1, s.size + 1)
    S = csum / (1.0 + b + a * k)  # sum of x if the k largest are active
    ok = s > a * S
    if not ok.any():
        return np.zeros_like(s)
    m = int(np.flatnonzero(ok)[-1])
    return np.maximum(s - a * S[m], 0.0) / (1.0 + b)


def task_covariance(W):
    """``(W W^T)^{1/2} / tr((W W^T)^{1/2})``: MTRL's optimal ``Omega``
    (``I / n_tasks`` at ``W = 0``)."""
    T = W.shape[0]
    U, s, _ = np.linalg.svd(W, full_matrices=False)
    if s.size == 0 or s.sum() <= 0:
        return np.eye(T) / T
    Omega = (U * (s / s.sum())) @ U.T
    return 0.5 * (Omega + Omega.T)


class Relationship(_SpectralStructure):
    """``alpha/2 ||W||_*^2 + beta/2 ||W||_F^2`` = MTRL with the task
    covariance minimised out (see the module docstring). ``beta`` None:
    ``beta_ratio * alpha`` (default 0)."""

    defaults = {"beta": None, "beta_ratio": 0.0}
    fitted_attribute_names = ("task_covariance_",)

    def __init__(self, alpha, beta=0.0):
        self.alpha, self.beta = float(alpha), float(beta)
        self.lam = self.alpha

    @classmethod
    def from_params(cls, alpha, n_tasks, params):
        p = cls.resolve(params)
        return cls(alpha, _check_beta(cls, alpha, p, cls.defaults["beta_ratio"]))

    @classmethod
    def max_curvature(cls, n_tasks, params):
        r = cls.resolve(params)["beta_ratio"]
        # ||W||_*^2 <= n_tasks ||W||_F^2, equal for equal singular values
        return n_tasks + float(r)

    def nonsmooth_value(self, W):
        if W.size == 0:
            return 0.0
        s = np.linalg.svd(W, compute_uv=False)
        return 0.5 * self.alpha * float(s.sum()) ** 2 + 0.5 * self.beta * float(
            np.sum(s * s)
        )

    def prox(self, W, step):
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        x = squared_l1_prox(s, step * self.alpha, step * self.beta)
        k = int(np.count_nonzero(x))
        return (U[:, :k] * x[:k]) @ Vt[:k]

    def fitted_attributes(self, Z):
        return {"task_covariance_": task_covariance(Z)}


# ------------------------------------------------------------------ clustered


def cluster_eigenvalues(sigma, k, eta):
    """Eigenvalues ``m`` of the optimal relaxed cluster matrix: minimise
    ``sum sigma_i^2 / (eta + m_i)`` over ``0 <= m_i <= 1``, ``sum m_i = k``
    (water-filling ``m_i = clip(theta sigma_i - eta, 0, 1)``)."""
    sigma = np.asarray(sigma, dtype=np.float64)
    T = sigma.size
    pos = sigma > 0
    n_pos = int(pos.sum())
    m = np.zeros(T)
    if n_pos <= k:
        # every direction of W gets m = 1; the rest of the trace is spread
        # over the null directions (which do not change the value)
        m[pos] = 1.0
        if T > n_pos:
            m[~pos] = (k - n_pos) / (T - n_pos)
        return m

    # total(theta) = sum clip(theta sigma_i - eta, 0, 1) is piecewise linear
    # and non-decreasing, with breakpoints eta / sigma_i and (1 + eta) / sigma_i:
    # find the piece where it crosses k and solve exactly there
    sp = sigma[pos]
    knots = np.sort(np.concatenate([eta / sp, (1.0 + eta) / sp]))
    totals = np.clip(knots[:, None] * sp[None, :] - eta, 0.0, 1.0).sum(axis=1)
    j = int(np.searchsorted(totals, k))  # totals[j - 1] < k <= totals[j]
    if j == 0:
        theta = knots[0]
    else:
        t0, t1 = knots[j - 1], knots[j]
        f0, f1 = totals[j - 1], totals[j]
        theta = t0 + (k - f0) * (t1 - t0) / (f1 - f0) if f1 > f0 else t1
    return np.clip(theta * sigma - eta, 0.0, 1.0)


def cluster_labels(M, k):
    """Hard task clusters from the relaxed cluster matrix ``M``: k-means
    (10 starts, seed 0) on the rows of its top-``k`` eigenvectors, each row
    normalised to unit length (Ng, Jordan & Weiss, 2002); labels numbered in
    order of first appearance."""
    from sklearn.cluster import KMeans

    T = M.shape[0]
    if k >= T:
        return np.arange(T)
    if k == 1:
        return np.zeros(T, dtype=np.int64)
    evals, evecs = np.linalg.eigh(M)
    E = evecs[:, np.argsort(evals)[::-1][:k]]
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    E = E / np.where(norms > 0, norms, 1.0)
    raw = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(E)
    order = {}
    for c in raw:
        order.setdefault(int(c), len(order))
    return np.array([order[int(c)] for c in raw], dtype=np.int64)


class Clustered(_SpectralStructure):
    """Convex clustered MTL: ``alpha eta (1 + eta) tr(W^T (eta I + M)^{-1} W)``
    minimised over ``tr M = n_clusters``, ``0 <= M <= I``, ``eta = beta /
    alpha`` (see the module docstring). ``beta`` None: ``beta_ratio *
    alpha`` (default 0.1); ``alpha = 0`` leaves the ridge ``beta ||W||_F^2``.
    """

    hyperparameters = ("beta", "beta_ratio", "n_clusters")
    defaults = {"beta": None, "beta_ratio": 0.1, "n_clusters": None}
    fitted_attribute_names = ("cluster_matrix_", "task_clusters_")

    def __init__(self, alpha, beta, n_clusters):
        self.alpha, self.beta, self.k = float(alpha), float(beta), int(n_clusters)
        if self.alpha > 0 and self.beta <= 0:
            raise ValueError(
                "penalty='clustered' needs beta > 0 (eta = beta / alpha > 0 keeps "
                f"eta I + M invertible); got beta={beta}."
            )
        self.eta = self.beta / self.alpha if self.alpha > 0 else np.inf
        self.c = self.alpha * self.eta * (1.0 + self.eta) if self.alpha > 0 else 0.0
        self.smooth_lipschitz = 2.0 * (self.alpha + self.beta)
        self.lam = self.alpha

    @classmethod
    def from_params(cls, alpha, n_tasks, params):
        p = cls.resolve(params)
        k = p["n_clusters"]
        if k is None:
            k = min(2, n_tasks)
        if not isinstance(k, (Integral, np.integer)) or isinstance(k, bool):
            raise TypeError(f"n_clusters must be an int, got {k!r}.")
        if n_tasks == 1:
            k = 1  # a single task is one cluster whatever n_clusters says
        if not 1 <= k <= n_tasks:
            raise ValueError(
                f"n_clusters must be between 1 and the number of tasks "
                f"({n_tasks}), got {k}."
            )
        return cls(alpha, _check_beta(cls, alpha, p, cls.defaults["beta_ratio"]), k)

    @classmethod
    def max_curvature(cls, n_tasks, params):
        eta = cls.resolve(params)["beta_ratio"]
        return 2.0 * (1.0 + float(eta))  # 2 c / eta, within clusters

    def _spectrum(self, W):
        """``(U, s, Vt, m)``: the thin SVD of ``W`` and the eigenvalues ``m``
        (length ``n_tasks``) of the optimal ``M``, ``m[:r]`` along ``U``'s
        columns and the rest (equal) on their orthogonal complement. The
        last point's is cached: the solver asks for the value and the
        gradient at the same point."""
        last = getattr(self, "_last", None)
        if last is not None and last[0].shape == W.shape and np.array_equal(last[0], W):
            return last[1]
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        sigma = np.zeros(W.shape[0])
        sigma[: s.size] = s
        out = (U, s, Vt, cluster_eigenvalues(sigma, self.k, self.eta))
        self._last = (W.copy(), out)
        return out

    def smooth_value(self, W):
        if self.alpha == 0:
            return float(self.beta * np.sum(W * W))
        _, s, _, m = self._spectrum(W)
        return float(np.sum(self.c / (self.eta + m[: s.size]) * s * s))

    def smooth_grad(self, W):
        # 2 c (eta I + M)^{-1} W = 2 U diag(c s / (eta + m)) Vt
        if self.alpha == 0:
            return 2.0 * self.beta * W
        U, s, Vt, m = self._spectrum(W)
        return 2.0 * (U * (self.c * s / (self.eta + m[: s.size]))) @ Vt

    def nonsmooth_value(self, W):
        return 0.0

    def prox(self, W, step):
        return W

    def cluster_matrix(self, W):
        """The optimal relaxed cluster matrix ``M`` at ``W``."""
        T = W.shape[0]
        if self.alpha == 0:
            return np.eye(T) * (self.k / T)
        U, s, _, m = self._spectrum(W)
        r = s.size
        M = (U * m[:r]) @ U.T
        if T > r:
            M += m[r] * (np.eye(T) - U @ U.T)
        return 0.5 * (M + M.T)

    def fitted_attributes(self, Z):
        M = self.cluster_matrix(Z)
        return {"cluster_matrix_": M, "task_clusters_": cluster_labels(M, self.k)}
