"""FISTA on the Gram form of the squared loss (no ``X``).

The squared loss of a multi-task linear model with exact intercepts is a
quadratic in ``W`` given by per-task statistics: ``F(W) = 1/2 sum_t (k_t
w_t^T Q_t w_t - 2 w_t . XtY_t) + yy / 2`` with centred Grams ``Q_t`` (see
:meth:`skmtl._solvers.bcd.BCDSolver.from_statistics` for the state). This
solver runs :func:`~skmtl._solvers.fista.solve_fista`'s loop
(:func:`~skmtl._solvers.fista_loop.run_fista`: step search, adaptive
restart, monotone steps for non-convex penalties, the same certificates) on
the smooth part :class:`GramSmooth`, stacked parts for composite penalties,
with the gradient ``k_t Q_t w_t - XtY_t``: each iteration costs
``O(T p^2)``, independent of ``n``. It serves the non-separable penalties
when the data are only known through their statistics (fits on dask
collections) and per-task data (see ``ProblemSolver._use_gram_fista``).
"""

import numpy as np

from .bcd import quadratic_gap
from .fista_loop import check_finite, run_fista
from .result import SolverResult


class _GramQuadratic:
    def __init__(self, state):
        self.Q, self.k = state["Q"], state["k"]
        self.XtY, self.yy = state["XtY"], float(state["yy"])

    def QW(self, W):
        if self.Q.shape[0] == 1:
            return self.k[:, None] * (W @ self.Q[0])
        return self.k[:, None] * np.matmul(self.Q, W[:, :, None])[:, :, 0]

    def value(self, W, QW):
        return 0.5 * (float(np.sum(W * QW)) - 2 * float(np.sum(W * self.XtY)) + self.yy)

    def lipschitz(self, n_iter=15, seed=0):
        """Largest task curvature ``max_t k_t lambda_max(Q_t)`` (power
        iteration, slightly enlarged; the step search corrects the rest)."""
        V = np.random.default_rng(seed).standard_normal(self.XtY.shape)
        lam = np.zeros(V.shape[0])
        for _ in range(n_iter):
            norm = np.linalg.norm(V, axis=1)
            norm[norm == 0] = 1.0
            V = self.QW(V / norm[:, None])
            lam = np.linalg.norm(V, axis=1)
        return 1.05 * max(float(lam.max()), 1e-12)


class GramSmooth:
    """The smooth part ``F(W)`` (``W = combine(Z)``) on per-task statistics
    for :func:`~.fista_loop.run_fista`. A point's state is its Gram product
    ``k_t Q_t w_t`` (the gradient is ``QW - XtY``; ``QW`` is linear in
    ``W``, so the extrapolated point's comes without a product). A gap
    check costs about one iteration here: it is also done at iterations 4
    and 8 (loose tolerances stop early)."""

    name = "fista-gram"
    early_checks = True

    def __init__(self, quad, penalty):
        self.quad, self.penalty = quad, penalty
        self.n_parts = penalty.n_parts
        self.g_scale = max(
            float(np.linalg.norm(quad.XtY)) * np.sqrt(self.n_parts), 1e-300
        )
        self.gap_scale = quad.yy

    def state(self, Z):
        return self.quad.QW(self.penalty.combine(Z))

    def gradient(self, y, QW_y):
        G = QW_y - self.quad.XtY
        if self.n_parts > 1:
            G = np.tile(G, (self.n_parts, 1))
        return G, QW_y

    def trial(self, x_new, y, QW_y, L):
        combine = self.penalty.combine
        diff = x_new - y
        QW_new = self.quad.QW(combine(x_new))
        sq = float(np.sum(diff * diff))
        # the curvature along the step (Bregman divergence), exact for the
        # quadratic loss and free of cancellation
        curv = 0.5 * float(np.sum(combine(diff) * (QW_new - QW_y)))
        return QW_new, sq, curv

    def extrapolate(self, QW_new, QW_x, beta):
        return QW_new + beta * (QW_new - QW_x)

    def objective(self, Z, QW):
        penalty = self.penalty
        obj = self.quad.value(penalty.combine(Z), QW)
        return obj + (penalty.smooth_value(Z) + penalty.nonsmooth_value(Z))

    def check_stalled(self, Z, QW):
        check_finite(self.objective(Z, QW), "objective")

    def gap(self, Z, QW):
        quad = self.quad
        W = self.penalty.combine(Z)
        Wx = float(np.sum(W * quad.XtY))
        rr = quad.yy - 2 * Wx + float(np.sum(W * QW))
        return quadratic_gap(rr, Z, quad.XtY - QW, self.penalty)


def solve_fista_gram(state, penalty, Z0, *, max_iter=1000, tol=1e-4, gap_freq=10,
                     verbose=0):  # fmt: skip
    """Minimise ``F(W) + penalty`` on the statistics ``state`` from ``Z0``
    (the solver variable: ``W`` or the stacked parts). Returns a
    :class:`~skmtl._solvers.result.SolverResult` (intercepts from the means)."""
    quad = _GramQuadratic(state)
    smooth = GramSmooth(quad, penalty)
    L = quad.lipschitz() * penalty.n_parts + penalty.smooth_lipschitz
    x = np.array(Z0, dtype=np.float64, copy=True)
    run = run_fista(
        smooth, penalty, x, smooth.state(x), L, max_iter=max_iter, tol=tol,
        gap_freq=gap_freq, use_gap=penalty.has_gap, verbose=verbose,
    )  # fmt: skip
    x = run.x
    W = penalty.combine(x)
    if run.converged and penalty.has_gap:
        objective = run.primal  # at x, from the last gap check
    else:
        objective = quad.value(W, quad.QW(W)) + penalty.value(x)
    intercept = state["ymean"] - np.sum(state["xmean"] * W, axis=1)
    res = SolverResult(x, intercept, run.n_iter, run.gap, run.converged, objective,
                       run.residual, penalty=penalty)  # fmt: skip
    res.stalled = run.stalled
    return res
