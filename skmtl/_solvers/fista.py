"""Accelerated proximal gradient (FISTA) with adaptive restart and step search.

Works for any datafit (squared, logistic) and any penalty (its prox). Each
iteration costs two products with ``X`` over the labelled entries: one
``matvec`` at the new point (for the step-size check) and one ``rmatvec``
(the gradient); predictions at the extrapolated point come from linearity,
``X y_k = X x_k + beta (X x_k - X x_{k-1})``, at no extra product.

* Step search: the step starts from a power-iteration estimate of the
  Lipschitz constant, is lengthened a little (``L *= 0.9``) at each
  iteration and shortened whenever the sufficient-decrease condition fails
  (backtracking), so it follows the local curvature and an underestimate is
  safe.
* Adaptive restart (O'Donoghue & Candès, 2015): momentum is reset when it
  points against the last step.
* Stopping: the duality gap (checked every few iterations, with no extra
  product: its dual point comes from the last gradient, see
  :meth:`ResidualSmooth.gap`) for penalties that have one, compared with
  ``tol * datafit.scale``; otherwise the proximal-gradient residual
  ``L ||x_{k+1} - y_k||`` compared with ``tol`` times the gradient norm at 0.
* Non-convex penalties run without momentum (monotone proximal gradient,
  which converges to a stationary point).
* Composite penalties (``penalty.n_parts > 1``) optimise the stacked parts
  ``Z = [P; Q]``; the design seen by the parts is ``[X, X]``.
"""

import numpy as np
from numba import njit

from .design import subtract_task_offsets, task_sums
from .fista_loop import check_finite, run_fista
from .penalties._base import Penalty, RowPenalty
from .penalties._rows import prox_rows
from .result import SolverResult


@njit(cache=True)
def _subtract_outer(G, xmean, sums):
    """``G -= xmean * sums[:, None]`` in place (no temporaries)."""
    T, p = G.shape
    for t in range(T):
        st = sums[t]
        for j in range(p):
            G[t, j] -= xmean[t, j] * st


@njit(cache=True)
def _zero_sum_dual(d, c, a, entry_task):
    """``theta = -d - a[task] c`` in one pass (``a``: the per-task shift
    that zeroes ``theta``'s per-task sums)."""
    out = np.empty(d.shape[0])
    for e in range(d.shape[0]):
        out[e] = -d[e] - a[entry_task[e]] * c[e]
    return out


@njit(cache=True)
def _extrapolated(new, old, beta):
    """``new + beta (new - old)`` in one pass (1-d)."""
    out = np.empty(new.shape[0])
    for e in range(new.shape[0]):
        out[e] = new[e] + beta * (new[e] - old[e])
    return out


@njit(cache=True)
def _column_steps(step, s):
    """``clip(step s_j^2, 1e-300, 1e300)``: per-feature prox steps kept
    within float64 (features near 1e±150 would under/overflow ``s^2``; a
    step of 1e-300 is the identity to rounding)."""
    out = np.empty(s.shape[0])
    for j in range(s.shape[0]):
        out[j] = min(max(step * s[j] * s[j], 1e-300), 1e300)
    return out


@njit(cache=True)
def _scaled_prox_rows(code, params, V, step, s):
    """``prox_rows(code, params, V s, steps) / s`` with the per-feature
    steps of :func:`_column_steps`: the prox of a row penalty on the scaled
    variable in one call (four numpy calls and two temporaries before)."""
    T, p = V.shape
    Vs = np.empty((T, p))
    for t in range(T):
        for j in range(p):
            Vs[t, j] = V[t, j] * s[j]
    out = prox_rows(code, params, Vs, _column_steps(step, s))
    for t in range(T):
        for j in range(p):
            out[t, j] /= s[j]
    return out


@njit(cache=True)
def _step_sq(x_new, y, b_new, b):
    """``||x_new - y||^2 + ||b_new - b||^2`` (the squared step length)."""
    n, m = x_new.shape
    sq = 0.0
    for i in range(n):
        for j in range(m):
            d = x_new[i, j] - y[i, j]
            sq += d * d
    for t in range(b_new.shape[0]):
        d = b_new[t] - b[t]
        sq += d * d
    return sq


class _CentredDesign:
    """``X`` with each task's rows centred on the task's weighted feature
    means, without copying ``X``: ``f_e = (x_i - m_t) . w_t``.

    With a free intercept, running the solver in this parametrisation
    (``b'_t = b_t + m_t . w_t``) is an exact change of variables that removes
    the coupling between intercept and features (the main source of
    ill-conditioning on uncentred data).
    """

    def __init__(self, op, xmean, task):
        self.op, self.xmean, self.task = op, xmean, task
        self.n_tasks, self.n_features = op.n_tasks, op.n_features

    def matvec(self, W):
        f = self.op.matvec(W)  # a new array: updated in place
        subtract_task_offsets(f, (self.xmean * W).sum(axis=1), self.task)
        return f

    def rmatvec(self, d, sums=None):
        """``X_c^T d``; ``sums``: ``d``'s per-task sums when known."""
        if sums is None:
            sums = task_sums(np.ascontiguousarray(d), self.task, self.n_tasks)
        G = self.op.rmatvec(d)  # a new array: updated in place
        _subtract_outer(G, self.xmean, sums)
        return G


class _PartsDesign:
    """The design of stacked parts: ``Z = [P; Q; ...]`` predicts with the sum
    of the parts, and every part gets the same gradient."""

    def __init__(self, op, n_parts):
        self.op, self.n_parts = op, n_parts
        self.n_tasks, self.n_features = op.n_tasks * n_parts, op.n_features

    def matvec(self, Z):
        T = self.op.n_tasks
        return self.op.matvec(Z.reshape(self.n_parts, T, -1).sum(axis=0))

    def rmatvec(self, d, sums=None):
        G = self.op.rmatvec(d) if sums is None else self.op.rmatvec(d, sums)
        return np.tile(G, (self.n_parts, 1))


class _ScaledDesign:
    """``X D`` for a diagonal ``D = diag(s)`` (``s`` per feature, or a
    scalar): the design seen by the scaled variable ``U = W D^{-1}``."""

    def __init__(self, op, s):
        self.op, self.s = op, s
        self.n_tasks, self.n_features = op.n_tasks, op.n_features

    def matvec(self, U):
        return self.op.matvec(U * self.s)

    def rmatvec(self, d, sums=None):
        """``sums`` (``d``'s per-task sums) goes to a centred design."""
        G = self.op.rmatvec(d) if sums is None else self.op.rmatvec(d, sums)
        G *= self.s  # a new array from the products
        return G


class _ScaledPenalty:
    """The penalty as a function of ``U = W / s`` (``s`` per feature where
    the penalty is ``column_scalable``, else a scalar).

    Its prox is the penalty's prox in the diagonal metric ``diag(s^-2)``:
    ``prox_{h(. s), tau}(V) = prox_{h, tau s^2}(V s) / s``, exact, so the
    solver minimises the same objective on a well-conditioned variable.
    """

    def __init__(self, penalty, s):
        self.penalty, self.s = penalty, s
        self.per_feature = np.ndim(s) > 0
        self.n_parts = penalty.n_parts
        self.convex = penalty.convex
        self.has_gap = penalty.has_gap
        self.smooth_lipschitz = penalty.smooth_lipschitz * float(np.max(s * s))
        self.zero = None
        if self.per_feature:
            self.zero = s == 0  # constant features: W[:, j] stays 0
        self.all_kept = self.per_feature and not self.zero.any()
        # (static facts of the class: its prox is prox_rows of its code; it
        # has no smooth part)
        cls = type(penalty)
        self.row_code = self.row_params = None
        if isinstance(penalty, RowPenalty) and cls.prox_cols is RowPenalty.prox_cols:
            self.row_code, self.row_params = penalty.code, penalty.params
        self.no_smooth = cls.smooth_grad is Penalty.smooth_grad
        # (the last scalar-scaled prox: its result U and the penalty's own
        # output U s, see value)
        self._last_prox = None

    def unscale(self, U):
        return U * self.s

    def scale(self, W):
        if not self.per_feature:
            return W / self.s
        out = np.zeros_like(W)
        keep = ~self.zero
        out[:, keep] = W[:, keep] / self.s[keep]
        return out

    def combine(self, U):
        return self.penalty.combine(U)

    def smooth_value(self, U):
        return self.penalty.smooth_value(U * self.s)

    def smooth_grad(self, U):
        if self.no_smooth:
            return None
        g = self.penalty.smooth_grad(U * self.s)
        return None if g is None else g * self.s

    def smooth_bregman(self, U_new, U):
        return self.penalty.smooth_bregman(U_new * self.s, U * self.s)

    def nonsmooth_value(self, U):
        return self.penalty.nonsmooth_value(U * self.s)

    def value(self, U):
        last = self._last_prox
        if last is not None and last[0] is U:
            # U is the last prox's result prox(V s) / s (scalar s): the
            # penalty at that prox's own output (U s to rounding), whose value
            # the penalty may remember (the trace norm: no second SVD)
            return self.penalty.value(last[1])
        return self.penalty.value(U * self.s)

    def prox(self, V, step):
        s = self.s
        if not self.per_feature:
            out = self.penalty.prox(V * s, min(max(step * s * s, 1e-300), 1e300))
            U = out / s
            self._last_prox = (U, out)
            return U
        # per-feature steps, kept within float64 (features near 1e±150 would
        # under/overflow s^2; a step of 1e-300 is the identity to rounding)
        if self.all_kept:  # no constant feature: no masked copies
            if self.row_code is not None:
                return _scaled_prox_rows(self.row_code, self.row_params, V, step, s)
            return self.penalty.prox_cols(V * s, _column_steps(step, s)) / s
        out = np.zeros_like(V)
        keep = ~self.zero
        sk = s[keep]
        steps = np.clip(step * sk * sk, 1e-300, 1e300)
        out[:, keep] = self.penalty.prox_cols(V[:, keep] * sk, steps) / sk
        return out


def feature_scaling(op, datafit, penalty, fit_intercept, xmean=None):
    """Per-feature scale ``s`` of the solver variable (``W = U s``).

    ``1 / sqrt(m_j)`` with ``m_j`` the curvature of the objective along
    feature ``j`` (the largest over tasks of the datafit's, plus the
    penalty's smooth part): a Jacobi preconditioner, exact for
    ``column_scalable`` penalties (a diagonal change of variables of ``W``'s
    columns). Other penalties get one scalar (the largest ``m_j``), which is
    exact for any penalty. A constant feature (no curvature, centred away by
    the intercept) gets ``s_j = 0``: its coefficients stay 0.
    """
    from .design import centred_sq_colsums

    T, p = op.n_tasks, op.n_features
    if xmean is None:
        xmean = (
            op.task_means(datafit.c, datafit.task_c)
            if fit_intercept
            else np.zeros((T, p))
        )
    S, a = centred_sq_colsums(op.X, op, datafit.c, xmean)
    # curvature m_j = curvature * a_j^2 * max_t S_tj (+ smooth part), kept
    # as a_j * sqrt(.) so that it neither overflows nor underflows
    Smax = np.max(S, axis=0) * datafit.curvature if T else np.zeros(p)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        root = a * np.sqrt(Smax)  # sqrt of the datafit curvature
        m = root * root + penalty.smooth_lipschitz
        s = np.where(m > 0, 1.0 / np.sqrt(m), 0.0)
        s = np.where(np.isfinite(root) & (m > 0) & ~np.isfinite(m), 1.0 / root, s)
    s = np.minimum(s, 1e300)  # subnormal columns
    if penalty.column_scalable:
        return s
    pos = s[s > 0]
    return float(pos.min()) if pos.size else 1.0


def lipschitz_estimate(op, datafit, fit_intercept, n_iter=8, seed=0):
    """Power-iteration estimate of the datafit gradient's Lipschitz constant.

    Per task (the problem is block-diagonal across tasks), on the centred
    design when the intercept is exact, on ``[X, 1]`` when it is a variable.
    A slight underestimate is corrected by the step search.
    """
    T, p = op.n_tasks, op.n_features
    task, c = datafit.entry_task, datafit.c
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((T, p))
    free_b = fit_intercept and not datafit.exact_intercept
    v0 = rng.standard_normal(T) if free_b else None
    lam = np.zeros(T)
    for _ in range(n_iter):
        norm_in = np.sqrt(np.sum(V * V, axis=1) + (v0**2 if free_b else 0.0))
        norm_in[norm_in == 0] = 1.0
        V /= norm_in[:, None]
        if free_b:
            v0 = v0 / norm_in
        u = op.matvec(V)
        if free_b:
            u += v0[task]
        elif fit_intercept:
            u -= (task_sums(c * u, task, T) / datafit.task_c)[task]
        d = c * u
        V = op.rmatvec(d)
        if free_b:
            v0 = task_sums(d, task, T)
        lam = np.sqrt(np.sum(V * V, axis=1) + (v0**2 if free_b else 0.0))
    return float(datafit.curvature * max(lam.max(), 1e-12))


def objective_gap(datafit, penalty, op, W, f):
    """Duality gap at ``W`` with predictions ``f`` (intercept included).

    ``theta = -F'(f)`` is the dual candidate; it is rescaled into the dual
    ball of the penalty's norm (or paired with the ridge part's conjugate).
    Valid when the intercept is optimal for ``W`` (``theta`` sums to 0 per
    task), which the solvers ensure before calling this.
    """
    loss, d = datafit.value_and_derivative(f)
    theta = -d
    V = op.rmatvec(theta)
    primal = loss + penalty.value(W)
    return primal - dual_value(datafit, penalty, theta, V), primal


def dual_value(datafit, penalty, theta, V):
    """The dual objective at ``theta`` (in ``F*``'s domain, zero per-task
    sums with an intercept) with ``V = X^T theta``: ``theta`` is rescaled
    into the dual ball of the penalty's norm (or paired with the ridge
    part's conjugate)."""
    if penalty.mu > 0:
        dual = datafit.dual_value(theta) - penalty.conjugate_value(V)
    else:
        dn = penalty.dual_norm(V)
        s = 1.0 if dn <= penalty.lam else penalty.lam / dn
        dual = datafit.dual_value(theta, s)
    return dual


class ResidualSmooth:
    """The smooth part ``datafit(X W^T + b)`` of :func:`solve_fista` for
    :func:`~.fista_loop.run_fista`, on the scaled variable (``op`` and
    ``penalty`` scaled; ``op_model`` and ``original_penalty`` for the
    duality gap, on ``W``). A point's state is ``(f, b)``: its predictions
    without the intercept and its intercept (exact: the optimal one for
    ``f``; free: a variable with its own gradient step)."""

    name = "fista"

    def __init__(self, op, op_model, datafit, penalty, original_penalty,
                 fit_intercept, *, g_scale, gap_scale, xmean=None):  # fmt: skip
        self.g_scale, self.gap_scale = g_scale, gap_scale
        self.op, self.op_model, self.datafit = op, op_model, datafit
        self.penalty, self.original_penalty = penalty, original_penalty
        self.task, self.T = datafit.entry_task, op_model.n_tasks
        self.fit_intercept = fit_intercept
        self.exact_b = fit_intercept and datafit.exact_intercept
        self.free_b = fit_intercept and not self.exact_b
        self.xmean = xmean  # the uncentred design's task means (exact_b)
        s = penalty.s
        self.inv_s = np.where(s > 0, 1.0 / np.where(s > 0, s, 1.0), 0.0)
        self.last = None  # the last gradient's (d, G, sums of d): the gap's dual point
        self.centre = None  # (theta, X^T theta) inside F*'s domain (lazy)

    @staticmethod
    def check_due(it, gap_freq):
        return it % gap_freq == 0

    def gradient(self, y, ys):
        datafit = self.datafit
        # a state, or an extrapolated one (f, b, f_old, beta) whose predictions
        # f + beta (f - f_old) the derivative's pass computes
        fy, by, f_old, beta = ys if len(ys) == 4 else (*ys, None, 0.0)
        if self.exact_b:
            if f_old is not None:
                fy, f_old = _extrapolated(fy, f_old, beta), None
            by = datafit.optimal_intercept(fy)
        # gb: b's gradient, the per-task sums of d that the centred design needs
        fyb, d, gb, aux = datafit.shifted_derivative(fy, by, self.free_b, f_old, beta)
        G = self.op.rmatvec(d, gb) if self.free_b else self.op.rmatvec(d)
        self.last = (d, G, gb)
        return G, (fyb, d, by, gb, aux)

    def trial(self, x_new, y, ctx, L):
        fyb, d, by, gb, aux = ctx
        f_new = self.op.matvec(x_new)
        if self.free_b:
            b_new = by - gb / L
        else:
            b_new = self.datafit.optimal_intercept(f_new) if self.exact_b else by
        sq = _step_sq(x_new, y, b_new, b_new if not self.free_b else by)
        curv = self.datafit.bregman(f_new, fyb, d, b_new, aux)
        return (f_new, b_new), sq, curv

    def extrapolate(self, new, old, beta):
        """The state at ``new + beta (new - old)``: its predictions are left
        to the derivative's pass (see :meth:`gradient`)."""
        (f_new, b_new), (fx, bx) = new, old
        return f_new, _extrapolated(b_new, bx, beta), fx, beta

    def objective(self, x, state):
        f, b = state
        return self.datafit.value(f, b) + self.penalty.value(x)

    def check_stalled(self, x, state):
        f, b = state
        F = self.datafit.value(f, b) + self.penalty.smooth_value(x)
        check_finite(F, "objective")

    def gap(self, x, state):
        """``(gap, primal)`` at ``x``, with no product: the dual point is
        made from the last gradient's derivative ``d`` (at the extrapolated
        point that gave ``x``), whose ``X^T`` is that gradient.

        ``theta = -d`` is shifted per task by a multiple of ``c`` so that
        its per-task sums are 0 (the intercept's dual constraint): on the
        centred design that leaves ``X^T theta`` unchanged, on ``X`` it
        moves it by the task means. Where ``F*`` has a bounded domain
        (logistic: ``theta_e y_e / c_e`` in [0, 1]) and the shift leaves
        it, ``theta`` is moved per task towards a fixed point inside the
        domain (:meth:`~.datafits.Logistic.dual_centre`, its ``X^T`` from
        one product at the first check). ``theta`` is then feasible and the
        gap a true bound on the suboptimality of ``x``."""
        fx, bx = state
        datafit, task, T = self.datafit, self.task, self.T
        # (the scaled penalty at x: the original one at W = x s)
        primal = datafit.value(fx, bx) + self.penalty.value(x)
        d, G, gsum = self.last
        V = -G[:T] * self.inv_s
        if not self.fit_intercept:
            theta = -d
        else:
            c, task_c = datafit.c, datafit.task_c
            if gsum is None:  # (d's sums: the free intercept's gradient)
                gsum = task_sums(d, task, T)
            a = -gsum / np.where(task_c > 0, task_c, 1.0)
            theta = _zero_sum_dual(d, c, a, task)
            if self.exact_b:  # sum_e a_t c_e x_e = a_t task_c m_t
                V = V - (a * task_c)[:, None] * self.xmean
            if self.centre is None:
                centre = datafit.dual_centre()
                if centre is not None:
                    self.centre = (centre, self.op_model.rmatvec(centre))
            if self.centre is not None:
                lam = datafit.dual_mix(theta, self.centre[0])
                if lam.any():
                    theta = (1.0 - lam[task]) * theta + lam[task] * self.centre[0]
                    V = (1.0 - lam)[:, None] * V + lam[:, None] * self.centre[1]
        dual = dual_value(datafit, self.original_penalty, theta, V)
        return primal - dual, primal


def solve_fista(
    op,
    datafit,
    penalty,
    W0,
    b0=None,
    *,
    fit_intercept=True,
    max_iter=1000,
    tol=1e-4,
    gap_freq=10,
    verbose=0,
):
    """Minimise ``datafit(X W^T + b) + penalty(W)`` by FISTA.

    ``W0`` is the solver variable: ``(n_tasks, n_features)``, or the stacked
    parts of a composite penalty. Returns a :class:`SolverResult`.

    The iterations run on the scaled variable ``U = W / s`` (see
    :func:`feature_scaling`): one step length then fits every feature,
    however differently they are scaled, and the stopping residual is
    invariant to the features' units. The duality gap is computed on ``W``.
    """
    T = op.n_tasks
    task = datafit.entry_task
    exact_b = fit_intercept and datafit.exact_intercept
    free_b = fit_intercept and not exact_b
    use_gap = penalty.has_gap
    original_penalty = penalty

    xmean = op.task_means(datafit.c, datafit.task_c) if fit_intercept else None
    s = feature_scaling(op, datafit, penalty, fit_intercept, xmean)
    if free_b:
        op = _CentredDesign(op, xmean, task)
        if b0 is not None:
            b0 = np.asarray(b0, dtype=np.float64) + np.sum(
                xmean * penalty.combine(W0), axis=1
            )
    op_model = op  # predictions and the dual point live here (unscaled)
    op = _ScaledDesign(op, s)
    penalty = _ScaledPenalty(penalty, s)
    L = lipschitz_estimate(op, datafit, fit_intercept)
    if penalty.n_parts > 1:
        op = _PartsDesign(op, penalty.n_parts)
        L *= penalty.n_parts  # ||[X, X]||^2 = 2 ||X||^2
    L += penalty.smooth_lipschitz
    check_finite(L, "curvature estimate")
    x = penalty.scale(np.array(W0, dtype=np.float64, copy=True))
    bx = np.zeros(T) if b0 is None or not fit_intercept else np.array(b0, float)
    fx = op.matvec(x)
    if exact_b:
        bx = datafit.optimal_intercept(fx)
    elif free_b:
        bx = datafit.intercept_step(fx, bx)
    if free_b:
        bx = bx - np.sum(xmean * penalty.combine(penalty.unscale(x)), axis=1)

    # scale for the residual criterion: gradient norm at W = 0 (in the
    # scaled variable: invariant to the features' units)
    f0 = np.zeros_like(fx)
    b0_ = datafit.intercept_step(f0, np.zeros(T)) if fit_intercept else np.zeros(T)
    g0 = op.rmatvec(datafit.derivative(f0 + b0_[task]))
    g_scale = max(float(np.linalg.norm(g0)), 1e-300)
    gap_scale = datafit.scale(fit_intercept)

    smooth = ResidualSmooth(
        op, op_model, datafit, penalty, original_penalty, fit_intercept,
        g_scale=g_scale, gap_scale=gap_scale, xmean=xmean if exact_b else None,
    )  # fmt: skip
    run = run_fista(
        smooth, penalty, x, (fx, bx), L, max_iter=max_iter, tol=tol,
        gap_freq=gap_freq, use_gap=use_gap, verbose=verbose,
    )  # fmt: skip
    x, (fx, bx), it = run.x, run.state, run.n_iter
    gap, objective, residual = run.gap, run.primal, run.residual
    converged, stalled = run.converged, run.stalled
    if fit_intercept and exact_b:
        bx = datafit.optimal_intercept(fx)
    elif free_b:
        bx = datafit.intercept_step(fx, bx)
    W = penalty.unscale(x)
    if free_b and np.isfinite(objective):
        # the polished intercept lowers the primal: the gap (a bound from
        # the dual point of the last check) by as much
        polished = datafit.value(fx + bx[task]) + original_penalty.value(W)
        if polished < objective:
            gap -= objective - polished
            objective = polished
    if use_gap and not converged and not stalled:
        b_gap = bx
        gap, objective = objective_gap(
            datafit, original_penalty, op_model, W, fx + b_gap[task]
        )
        converged = gap <= tol * gap_scale
    if not np.isfinite(objective):
        objective = datafit.value(fx + bx[task]) + original_penalty.value(W)
    if free_b:
        bx = bx - np.sum(xmean * original_penalty.combine(W), axis=1)
    check_finite(W, "solution")
    check_finite(bx, "intercept")
    res = SolverResult(
        W, bx, it, gap, converged, objective, residual, penalty=original_penalty
    )
    res.stalled = stalled
    return res
