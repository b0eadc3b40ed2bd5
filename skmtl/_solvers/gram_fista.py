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
from numba import njit

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

    def lipschitz(self, n_iter=4, seed=0):
        """Largest task curvature ``max_t k_t lambda_max(Q_t)``: the largest
        Ritz value of ``n_iter`` Lanczos steps per task (a lower bound, much
        closer than as many power iterations; :func:`_lanczos_top`; 4 steps:
        ~97% on Gaussian designs, 6 steps 99.6%, with the same iterations
        on ``bench_malsar``'s problems), slightly enlarged; the step search
        corrects the rest."""
        Q, k = self.Q, self.k
        if Q.shape[0] == 1:  # one Gram shared by every task
            k = np.array([float(np.max(k))])
        Q = np.ascontiguousarray(Q)
        lam = _lanczos_top(Q, np.asarray(k, float), n_iter, seed)
        return 1.05 * max(lam, 1e-12)


@njit(cache=True)
def _start_vector(v, t, seed):
    """A pseudo-random start vector for task ``t`` in ``v`` (uniform on
    ``[-1/2, 1/2)``, splitmix64 of ``seed`` and the entry's index: no
    generator object, the same vector at every call)."""
    p = v.size
    for i in range(p):
        z = np.uint64(seed) + np.uint64(t * p + i + 1) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        v[i] = float(z >> np.uint64(11)) * 2.0**-53 - 0.5


@njit(cache=True, fastmath={"reassoc", "contract"})
def _lanczos_top(Q, k, n_iter, seed):
    """``max_t k_t theta_t``, ``theta_t`` the largest Ritz value of
    ``n_iter`` Lanczos steps on ``Q[t]`` from a pseudo-random vector
    (:func:`_start_vector`; a lower bound of ``lambda_max(Q[t])``). One
    task at a time: its Gram stays in cache for all its steps. A Krylov
    space exhausted early (a zero or low-rank Gram) gives that task's exact
    eigenvalues. The largest eigenvalue of the tridiagonal is found by
    bisection on its Sturm counts."""
    T = k.size
    p = Q.shape[1]
    best = 0.0
    v = np.empty(p)
    v_prev = np.empty(p)
    r = np.empty(p)
    diag = np.empty(n_iter)
    off = np.empty(n_iter)
    for t in range(T):
        q = Q[t]
        _start_vector(v, t, seed)
        norm = 0.0
        for i in range(p):
            norm += v[i] * v[i]
        norm = np.sqrt(norm)
        if norm == 0.0:
            continue
        for i in range(p):
            v[i] = v[i] / norm
            v_prev[i] = 0.0
        b_prev = 0.0
        m = 0
        for j in range(n_iter):
            a = 0.0
            for i in range(p):
                row = q[i]
                s = 0.0
                for c in range(p):
                    s += row[c] * v[c]
                r[i] = s
                a += s * v[i]
            b = 0.0
            for i in range(p):
                r[i] -= a * v[i] + b_prev * v_prev[i]
                b += r[i] * r[i]
            b = np.sqrt(b)
            diag[j] = a
            off[j] = b
            m = j + 1
            if not b > 1e-12 * max(abs(a), 1e-300):
                break  # the Krylov space is exhausted: the Ritz values are exact
            for i in range(p):
                v_prev[i] = v[i]
                v[i] = r[i] / b
            b_prev = b
        # the largest eigenvalue of the tridiagonal, if it can beat ``best``:
        # Gershgorin bounds, then bisection on Sturm counts (the number of
        # eigenvalues below x); ``lo`` stays below it (never above lambda_max)
        if not k[t] > 0.0:
            continue
        lo = diag[0]
        hi = diag[0]
        for i in range(m):
            rad = (off[i - 1] if i > 0 else 0.0) + (off[i] if i < m - 1 else 0.0)
            lo = min(lo, diag[i] - rad)
            hi = max(hi, diag[i] + rad)
        lo = max(lo, best / k[t])  # (below best: this task cannot raise it)
        pivmin = 1e-300 + 1e-30 * max(abs(lo), abs(hi))
        x = lo  # first probe: is any eigenvalue above best / k_t?
        while hi - lo > 1e-12 * max(abs(lo), abs(hi)):
            below = 0
            d = 1.0
            for i in range(m):
                d = diag[i] - x - (off[i - 1] ** 2 / d if i > 0 else 0.0)
                if abs(d) < pivmin:
                    d = -pivmin
                if d < 0.0:
                    below += 1
            if below == m:  # every eigenvalue below x
                hi = x
            else:
                lo = x
            x = 0.5 * (lo + hi)
        best = max(best, k[t] * lo)
    return best


@njit(cache=True, fastmath={"reassoc", "contract"})
def _trial_per_task(Q, k, x_new, y, QW_y):
    """``(QW_new, sq, curv)`` of :meth:`GramSmooth.trial` for one Gram per
    task and a one-part penalty, in one pass: ``QW_new[t] = k_t Q_t
    x_new[t]``, ``sq = ||x_new - y||^2`` and ``curv = 1/2 <x_new - y, QW_new
    - QW_y>`` (the same sums as the numpy formulas, in another order)."""
    T, p = x_new.shape
    QW_new = np.empty((T, p))
    sq = 0.0
    curv = 0.0
    for t in range(T):
        q = Q[t]
        kt = k[t]
        for i in range(p):
            row = q[i]
            acc = 0.0
            for j in range(p):
                acc += row[j] * x_new[t, j]
            v = kt * acc
            QW_new[t, i] = v
            d = x_new[t, i] - y[t, i]
            sq += d * d
            curv += d * (v - QW_y[t, i])
    return QW_new, sq, 0.5 * curv


@njit(cache=True)
def _extrapolate(new, old, beta):
    """``new + beta (new - old)`` (2-d) in one pass."""
    out = np.empty(new.shape)
    for i in range(new.shape[0]):
        for j in range(new.shape[1]):
            out[i, j] = new[i, j] + beta * (new[i, j] - old[i, j])
    return out


class GramSmooth:
    """The smooth part ``F(W)`` (``W = combine(Z)``) on per-task statistics
    for :func:`~.fista_loop.run_fista`. A point's state is its Gram product
    ``k_t Q_t w_t`` (the gradient is ``QW - XtY``; ``QW`` is linear in
    ``W``, so the extrapolated point's comes without a product)."""

    name = "fista-gram"

    def __init__(self, quad, penalty):
        self.quad, self.penalty = quad, penalty
        self.n_parts = penalty.n_parts
        self.g_scale = max(
            float(np.linalg.norm(quad.XtY)) * np.sqrt(self.n_parts), 1e-300
        )
        self.gap_scale = quad.yy

    @staticmethod
    def check_due(it, gap_freq):
        """A gap check costs no product here (the gradient at ``x`` is
        known), only the penalty's value and dual norm: at most about one
        iteration (for the trace norm a quarter: one eigenvalue of a ``p x
        p`` matrix, the trace norm coming from the prox's SVD). So the gap
        is checked at every iteration from the second, then every ``it //
        6`` iterations (at most ``gap_freq``): the fit stops at most ~1/6
        of its iterations after the gap is small enough, checking at a
        fraction ``6 / it`` of the iterations once past the first dozen."""
        spacing = min(gap_freq, max(1, it // 6))
        return it >= 2 and it % spacing == 0

    def state(self, Z):
        W = self.penalty.combine(Z)
        if not W.any():  # (a cold start: no product)
            return np.zeros(W.shape)
        return self.quad.QW(W)

    def gradient(self, y, QW_y):
        G = QW_y - self.quad.XtY
        if self.n_parts > 1:
            G = np.tile(G, (self.n_parts, 1))
        return G, QW_y

    def trial(self, x_new, y, QW_y, L):
        quad = self.quad
        if self.n_parts == 1 and quad.Q.shape[0] > 1:
            # one pass: the products and both sums (per-task Grams)
            return _trial_per_task(quad.Q, quad.k, x_new, y, QW_y)
        combine = self.penalty.combine
        diff = x_new - y
        QW_new = self.quad.QW(combine(x_new))
        sq = float(np.sum(diff * diff))
        # the curvature along the step (Bregman divergence), exact for the
        # quadratic loss and free of cancellation
        curv = 0.5 * float(np.sum(combine(diff) * (QW_new - QW_y)))
        return QW_new, sq, curv

    def extrapolate(self, QW_new, QW_x, beta):
        return _extrapolate(QW_new, QW_x, beta)

    def objective(self, Z, QW):
        penalty = self.penalty
        obj = self.quad.value(penalty.combine(Z), QW)
        return obj + (penalty.smooth_value(Z) + penalty.nonsmooth_value(Z))

    def check_stalled(self, Z, QW):
        check_finite(self.objective(Z, QW), "objective")

    def gap_lower(self, Z, QW):
        """A lower bound of :meth:`gap` at ``Z`` (``-inf``: none) from the
        penalty's cheap lower bound ``lo`` of the dual norm: the gap is
        ``g(s) = (1 - s)^2 rr / 2 + h(W) - s <W, V>`` at ``s = min(1, lam /
        dn)`` (:func:`~.bcd.quadratic_gap` for a penalty without a ridge
        part), and ``dn >= lo`` puts ``s`` in ``[0, min(1, lam / lo)]``:
        the minimum of the quadratic ``g`` there bounds it from below (less
        a rounding margin). A check whose bound is above the target cannot
        pass; skipping it changes no decision of the loop."""
        pen = self.penalty
        if pen.mu > 0 or pen.n_parts != 1 or pen.quadratic_gap is not None:
            return -np.inf
        quad = self.quad
        V = quad.XtY - QW
        lo = pen.dual_norm_lower(V)
        if lo is None:
            return -np.inf
        self._lower_at = (Z, lo)
        wx = float(np.vdot(Z, quad.XtY))
        wq = float(np.vdot(Z, QW))
        rr, wv, h = quad.yy - 2 * wx + wq, wx - wq, pen.value(Z)
        s_hi = 1.0 if lo <= pen.lam else pen.lam / lo
        if rr > 0:
            s = min(max(1.0 + wv / rr, 0.0), s_hi)
        else:
            s = s_hi if wv > 0 else 0.0
        lower = 0.5 * (1.0 - s) ** 2 * max(rr, 0.0) + h - s * wv
        margin = 1e-12 * (abs(h) + abs(wv) + abs(wx) + abs(wq) + quad.yy)
        return lower - margin if np.isfinite(lower) else -np.inf

    _lower_at = (None, None)  # (Z, lo) of the last gap_lower

    def gap(self, Z, QW):
        """:func:`~.bcd.quadratic_gap` at ``Z``. Where the last lower bound
        of the dual norm (at this ``Z``) is below ``lam``, the penalty may
        certify ``dn <= lam`` (:meth:`Penalty.dual_norm_at_most`, cheaper
        than the norm): the dual point then needs no scaling, and the gap
        is the same number."""
        quad, pen = self.quad, self.penalty
        W = pen.combine(Z)
        Wx = float(np.sum(W * quad.XtY))
        rr = quad.yy - 2 * Wx + float(np.sum(W * QW))
        V = quad.XtY - QW
        at, lo = self._lower_at
        dn = None
        # (a bound well below lam: dn is likely below it too, and the test
        # pays; just below, dn is often above and the test would be wasted)
        if at is Z and lo <= 0.999 * pen.lam and pen.dual_norm_at_most(V, pen.lam):
            dn = pen.lam  # (any dn <= lam gives the scaling 1)
        return quadratic_gap(rr, Z, V, pen, dn=dn)


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
