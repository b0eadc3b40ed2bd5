"""FISTA on the Gram form of the squared loss (no ``X``).

The squared loss of a multi-task linear model with exact intercepts is a
quadratic in ``W`` given by per-task statistics: ``F(W) = 1/2 sum_t (k_t
w_t^T Q_t w_t - 2 w_t . XtY_t) + yy / 2`` with centred Grams ``Q_t`` (see
:meth:`skmtl._solvers.bcd.BCDSolver.from_statistics` for the state). This
solver runs :func:`~skmtl._solvers.fista.solve_fista`'s method (step search,
adaptive restart, monotone steps for non-convex penalties, stacked parts for
composite penalties, the same certificates) with the gradient ``k_t Q_t w_t
- XtY_t``: each iteration costs ``O(T p^2)``, independent of ``n``. It
serves the non-separable penalties when the data are only known through
their statistics (fits on dask collections).
"""

import numpy as np

from .bcd import quadratic_gap
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


def solve_fista_gram(state, penalty, Z0, *, max_iter=1000, tol=1e-4, gap_freq=10,
                     verbose=0):  # fmt: skip
    """Minimise ``F(W) + penalty`` on the statistics ``state`` from ``Z0``
    (the solver variable: ``W`` or the stacked parts). Returns a
    :class:`~skmtl._solvers.result.SolverResult` (intercepts from the means)."""
    quad = _GramQuadratic(state)
    n_parts = penalty.n_parts
    accelerate = penalty.convex
    use_gap = penalty.has_gap

    def smooth(Z, QW=None):
        W = penalty.combine(Z)
        if QW is None:
            QW = quad.QW(W)
        F = quad.value(W, QW) + penalty.smooth_value(Z)
        G = QW - quad.XtY
        if n_parts > 1:
            G = np.tile(G, (n_parts, 1))
        sg = penalty.smooth_grad(Z)
        if sg is not None:
            G = G + sg
        return F, G, QW

    L = quad.lipschitz() * n_parts + penalty.smooth_lipschitz
    L_floor = 1e-6 * L
    g_scale = max(float(np.linalg.norm(quad.XtY)) * np.sqrt(n_parts), 1e-300)
    gap_scale = quad.yy
    x = np.array(Z0, dtype=np.float64, copy=True)
    y = x.copy()
    QW_x = QW_y = None  # Gram products at x and y (y's by linearity)
    t = 1.0
    obj_x = None
    gap = np.nan
    residual = np.inf
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        _, G, QW_y = smooth(y, QW_y)
        L = max(L * 0.9, L_floor)
        while True:
            x_new = penalty.prox(y - G / L, 1.0 / L)
            diff = x_new - y
            QW_new = quad.QW(penalty.combine(x_new))
            sq = float(np.sum(diff * diff))
            # the curvature along the step (Bregman divergence), exact for
            # the quadratic loss and free of cancellation (as solve_fista)
            curv = 0.5 * float(np.sum(penalty.combine(diff) * (QW_new - QW_y)))
            curv += penalty.smooth_bregman(x_new, y)
            if curv <= 0.5 * L * sq:
                break
            L *= 2.0
            if not np.isfinite(L):
                raise FloatingPointError(
                    "FISTA's step search diverged (non-finite Lipschitz "
                    "estimate): rescale the features."
                )
        residual = L * np.sqrt(sq)
        if not accelerate:
            obj_new = quad.value(penalty.combine(x_new), QW_new)
            obj_new += penalty.smooth_value(x_new) + penalty.nonsmooth_value(x_new)
            if obj_x is not None and obj_new > obj_x + 1e-13 * abs(obj_x):
                y, QW_y, t = x, QW_x, 1.0
                continue
            obj_x = obj_new
        if float(np.sum((y - x_new) * (x_new - x))) > 0:
            t = 1.0
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_new
        y = x_new + beta * (x_new - x)
        # the gradient at y without a product: QW is linear in W
        QW_y = QW_new if QW_x is None else QW_new + beta * (QW_new - QW_x)
        x, QW_x, t = x_new, QW_new, t_new
        # a check costs about one iteration here: also check at iterations
        # 4 and 8 (loose tolerances stop early)
        early = it < gap_freq and it % 4 == 0
        if use_gap and (it % gap_freq == 0 or early or it == max_iter):
            W = penalty.combine(x)
            Wx = float(np.sum(W * quad.XtY))
            rr = quad.yy - 2 * Wx + float(np.sum(W * QW_new))
            gap, primal = quadratic_gap(rr, x, quad.XtY - QW_new, penalty)
            if verbose:
                print(f"[fista-gram] iter {it}: gap {gap:.3e}")
            if gap <= tol * gap_scale:
                converged = True
                break
        elif not use_gap and residual <= tol * g_scale:
            converged = True
            break
    W = penalty.combine(x)
    if converged and use_gap:
        objective = primal  # at x, from the last gap check
    else:
        objective = quad.value(W, quad.QW(W)) + penalty.value(x)
    intercept = state["ymean"] - np.sum(state["xmean"] * W, axis=1)
    return SolverResult(x, intercept, it, gap, converged, objective, residual,
                        penalty=penalty)  # fmt: skip
