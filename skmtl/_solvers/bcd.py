"""Working-set block coordinate descent for the squared loss.

For feature-separable penalties the coefficients of one feature across all
tasks, ``W[:, j]``, form a block. The squared loss's Hessian in that block is
diagonal (each task has its own ``w_t``), with entries
``H_tj = sum_{e in t} c_e (x_ej - m_tj)^2``; a block step is the penalty's
row update (:func:`~skmtl._solvers.penalties._rows.row_update`) with those
curvatures.

Three epoch kernels share the row update:

* ``residual``: dense ``X`` (Fortran order is fastest), keeps the residual
  of every labelled entry (``full``: the ``(n, T)`` residual when every
  label is present, contiguous dot products and axpys);
* ``csc``: sparse ``X``, residual plus a per-task offset so that centring
  never densifies a column;
* ``gram``: when rows far outnumber features, works on ``X_t^T C_t X_t``
  (one ``p x p`` matrix shared by all tasks when every label is present),
  keeping ``QW`` up to date by axpys, or, on a wide shared Gram with a
  near-full support, computing each gradient from ``W`` by dot products
  (:func:`_epoch_gram_dot`; ``QW`` recomputed for the certificate).

Intercepts are exact: features and targets are centred per task on the fly
(``m_tj``, the task's weighted feature means), never by copying ``X``.

:class:`BCDSolver` is the one driver for a fit, a regularization path and
CV: it builds its per-problem state once (feature means, curvatures or the
Gram matrix, a column-major copy of ``X``, the residual) and keeps it in
step with ``W`` from one ``solve`` to the next, so a path costs only its
epochs. The outer loop (Python) computes the full gradient and the stopping
certificate: the duality gap (compared with ``tol * sum_e c_e y_e^2`` as in
scikit-learn) where the penalty has one, else the norm of the per-feature
stationarity violations (compared with ``tol`` times the gradient norm at
``W = 0``). As in scikit-learn's coordinate descent, the fit stops only
when the certificate holds and the last epoch moved no coefficient by more
than ``tol`` times the largest one (every epoch kernel returns its largest
violation, update and coefficient); epochs return to the certificate as
soon as their updates are that small. The inner loop (numba) runs epochs
over a working set: the support plus the worst violators, doubling each
outer iteration, or taking every violator at once when the support fills
the last set (near-full supports; when that set will be every feature and
the full Gram pays, the full Gram is built right after the working-set
solve, before the next certificate, which then needs no product with
``X``). When the working set's rows outnumber
its ``k`` features, its subproblem is solved on its ``k x k`` Gram matrix
(per task when labels are missing), so inner epochs cost ``O(k^2 T)``
instead of ``O(n k T)``, as long as that Gram costs a few epochs at most;
a set of every feature is solved on the full Gram when ``n >= p`` and
``p <= 40 T``.
The working set, its pending epochs and the update ratio form a
:class:`_Run`, returned when ``max_iter`` stops a solve so that a warm
start can continue it exactly.
"""

import copy

import numpy as np
import scipy.sparse as sp
from numba import njit

from ._block_gram import block_grams, sorted_blocks
from ._dots import dots_with_rows
from .design import DesignOperator, centred_sq_colsums, cross_product
from .penalties._base import RowPenalty
from .penalties._rows import CODE_L21, _l21_violations, row_update
from .penalties._sparsity import ElasticNet, _elastic_net_quadratic_gap
from .result import SolverResult

#: the working-set Gram grows to every feature while the rows it lacks are
#: at most ``WS_GRAM_EXTEND * T`` (see ``BCDSolver._ws_gram_extends``)
WS_GRAM_EXTEND = 8
#: with every label present, a working set is solved on its own Gram while
#: that Gram's new rows number at most ``WS_GRAM_NEW_PER_TASK * T`` (see
#: ``BCDSolver._ws_gram_pays``)
WS_GRAM_NEW_PER_TASK = 32
#: once the support fills (90% of) a working set of at least this many
#: features, the next one takes every violator instead of doubling (see
#: ``BCDSolver._choose_ws_size``)
WS_JUMP_MIN = 32
#: a shared Gram of at least this many features runs the dot-product epoch
#: kernel (:func:`_epoch_gram_dot`), which keeps no ``QW``, once the support
#: (at the epoch's start) covers at least ``GRAM_DOT_MIN_SUPPORT`` of the
#: features: it computes every visited feature's gradient, where the axpy
#: kernel pays only for the features that move (0.67x its time per moving
#: feature)
GRAM_DOT_MIN_FEATURES = 128
GRAM_DOT_MIN_SUPPORT = 0.8
#: with every label present, ``n >= p`` and ``p <= FULL_GRAM_PER_TASK * T``,
#: a working set of every feature is solved on the full Gram (see
#: ``BCDSolver._full_gram_pays``); above ``FULL_GRAM_ANY_SUPPORT_PER_TASK *
#: T`` features only when at least a ``FULL_GRAM_MIN_VIOLATORS`` fraction
#: of them violates the optimality conditions (a support about to fill)
FULL_GRAM_PER_TASK = 40
FULL_GRAM_ANY_SUPPORT_PER_TASK = 30
FULL_GRAM_MIN_VIOLATORS = 0.75


@njit(cache=True)
def _epoch_residual(X, row_ptr, entry_task, c, r, W, H, xmean, ws, code, params):
    T = W.shape[0]
    n = X.shape[0]
    g = np.empty(T)
    w_old = np.empty(T)
    w_new = np.empty(T)
    delta = np.empty(T)
    max_viol = d_w_max = w_max = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        g[:] = 0.0
        for i in range(n):
            xij = X[i, j]
            if xij != 0.0:
                for e in range(row_ptr[i], row_ptr[i + 1]):
                    g[entry_task[e]] -= c[e] * r[e] * xij
        for t in range(T):
            w_old[t] = W[t, j]
        max_viol = max(max_viol, row_update(code, params, w_old, g, H[:, j], w_new))
        changed = False
        centred = False
        for t in range(T):
            delta[t] = w_new[t] - w_old[t]
            d_w_max = max(d_w_max, abs(delta[t]))
            w_max = max(w_max, abs(w_new[t]))
            if delta[t] != 0.0:
                changed = True
                if xmean[t, j] != 0.0:
                    centred = True
        if not changed:
            continue
        for i in range(n):
            xij = X[i, j]
            if xij != 0.0 or centred:
                for e in range(row_ptr[i], row_ptr[i + 1]):
                    t = entry_task[e]
                    if delta[t] != 0.0:
                        r[e] -= delta[t] * (xij - xmean[t, j])
        for t in range(T):
            W[t, j] = w_new[t]
    return max_viol, d_w_max, w_max


@njit(cache=True, fastmath={"contract"})
def _column_axpys(X, j, mj, delta, R):
    """``R[:, t] -= (X[:, j] - mj) delta[t]`` for the ``t`` with ``delta[t] !=
    0``, four columns per pass where four in a row change (each ``X`` value
    is loaded once for four updates; measured 21 -> 15 ms per epoch at
    n=5000, T=20, 1870 features). A zero ``delta[t]`` in a group of four
    leaves its column exactly as it was (``X`` is finite)."""
    n, T = R.shape
    t = 0
    while t < T:
        if t + 4 <= T and (
            delta[t] != 0.0 or delta[t + 1] != 0.0
            or delta[t + 2] != 0.0 or delta[t + 3] != 0.0
        ):  # fmt: skip
            d0, d1, d2, d3 = delta[t], delta[t + 1], delta[t + 2], delta[t + 3]
            for i in range(n):
                x = X[i, j] - mj
                R[i, t] -= x * d0
                R[i, t + 1] -= x * d1
                R[i, t + 2] -= x * d2
                R[i, t + 3] -= x * d3
            t += 4
        elif t + 4 <= T:
            t += 4
        else:
            dt = delta[t]
            if dt != 0.0:
                for i in range(n):
                    R[i, t] -= (X[i, j] - mj) * dt
            t += 1


@njit(cache=True)
def _epoch_full(X, s, k, R, W, H, m, ws, code, params, uniform):
    """Epoch when every label is present: ``c_(i,t) = s_i k_t`` and ``R`` is
    the ``(n, T)`` Fortran-ordered residual, so the block gradient is ``T``
    contiguous dot products and the update ``T`` axpys (no per-entry
    indexing). ``uniform``: every ``s_i`` is ``s_0`` (no sample weights), the
    dot products skip ``s``.

    No fast-math flags here (nor on the other epochs): numba compiles the
    helpers a kernel calls with that kernel's flags, so one epoch's flags
    reached :func:`row_update`, shared by every epoch, and its bits
    depended on which kernel a fresh cache compiled first. The helpers
    that want flags carry their own (:func:`dots_with_rows`,
    :func:`_column_axpys`)."""
    T = W.shape[0]
    g = np.empty(T)
    w_old = np.empty(T)
    w_new = np.empty(T)
    delta = np.empty(T)
    Rt = R.T  # (T, n), row-major: the residual's columns as rows
    xs = np.empty(0 if uniform else X.shape[0])
    max_viol = d_w_max = w_max = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        if uniform:
            dots_with_rows(X[:, j], Rt, g)
        else:
            for i in range(xs.shape[0]):
                xs[i] = X[i, j] * s[i]
            dots_with_rows(xs, Rt, g)
        for t in range(T):
            g[t] = -k[t] * (g[t] * s[0] if uniform else g[t])
            w_old[t] = W[t, j]
        max_viol = max(max_viol, row_update(code, params, w_old, g, H[:, j], w_new))
        changed = False
        for t in range(T):
            dt = delta[t] = w_new[t] - w_old[t]
            d_w_max = max(d_w_max, abs(dt))
            w_max = max(w_max, abs(w_new[t]))
            if dt != 0.0:
                W[t, j] = w_new[t]
                changed = True
        if changed:
            _column_axpys(X, j, m[j], delta, R)
    return max_viol, d_w_max, w_max


@njit(cache=True)
def _epoch_csc(
    data, indices, indptr, row_ptr, entry_task, c, rs, off, W, H, xmean, ws, code,
    params,
):  # fmt: skip
    # true residual of entry e is rs[e] + off[task(e)]
    T = W.shape[0]
    g = np.empty(T)
    w_old = np.empty(T)
    w_new = np.empty(T)
    delta = np.empty(T)
    max_viol = d_w_max = w_max = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        g[:] = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            xij = data[k]
            for e in range(row_ptr[i], row_ptr[i + 1]):
                t = entry_task[e]
                g[t] -= c[e] * (rs[e] + off[t]) * xij
        for t in range(T):
            w_old[t] = W[t, j]
        max_viol = max(max_viol, row_update(code, params, w_old, g, H[:, j], w_new))
        changed = False
        for t in range(T):
            delta[t] = w_new[t] - w_old[t]
            d_w_max = max(d_w_max, abs(delta[t]))
            w_max = max(w_max, abs(w_new[t]))
            if delta[t] != 0.0:
                changed = True
        if not changed:
            continue
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            xij = data[k]
            for e in range(row_ptr[i], row_ptr[i + 1]):
                t = entry_task[e]
                if delta[t] != 0.0:
                    rs[e] -= delta[t] * xij
        for t in range(T):
            off[t] += delta[t] * xmean[t, j]
            W[t, j] = w_new[t]
    return max_viol, d_w_max, w_max


@njit(cache=True)
def _epoch_gram(Q, slot, k, XtY, QW, W, ws, code, params):
    T, p = W.shape
    g = np.empty(T)
    h = np.empty(T)
    w_old = np.empty(T)
    w_new = np.empty(T)
    max_viol = d_w_max = w_max = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        for t in range(T):
            g[t] = QW[t, j] - XtY[t, j]
            h[t] = k[t] * Q[slot[t], j, j]
            w_old[t] = W[t, j]
        max_viol = max(max_viol, row_update(code, params, w_old, g, h, w_new))
        for t in range(T):
            dt = w_new[t] - w_old[t]
            d_w_max = max(d_w_max, abs(dt))
            w_max = max(w_max, abs(w_new[t]))
            if dt != 0.0:
                kd = k[t] * dt
                q = slot[t]
                for m in range(p):
                    QW[t, m] += kd * Q[q, j, m]
                W[t, j] = w_new[t]
    return max_viol, d_w_max, w_max


@njit(cache=True)
def _epoch_gram_dot(Q, k, XtY, W, ws, code, params):
    """:func:`_epoch_gram` on one shared Gram ``Q`` ``(p, p)`` (task ``t``'s
    Hessian ``k_t Q``) without ``QW``: each feature's gradient ``k_t Q[j] .
    W[t] - XtY[t, j]`` is computed from the current ``W`` as dot products,
    four tasks at a time (each ``Q[j, m]`` loaded once for four products).
    No stores but ``W``'s: faster than the ``T`` axpys into ``QW`` on wide
    Grams (measured per epoch, every feature active: 0.14 against 0.21 ms
    at p = 400, T = 10; 0.054 against 0.079 at p = 200; the same at p =
    50). The caller recomputes ``QW`` when it needs it. No fast-math flags
    (see :func:`_epoch_full`)."""
    T, p = W.shape
    g = np.empty(T)
    h = np.empty(T)
    w_old = np.empty(T)
    w_new = np.empty(T)
    max_viol = d_w_max = w_max = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        dots_with_rows(Q[j], W, g)
        for t in range(T):
            g[t] = k[t] * g[t] - XtY[t, j]
            h[t] = k[t] * Q[j, j]
            w_old[t] = W[t, j]
        max_viol = max(max_viol, row_update(code, params, w_old, g, h, w_new))
        for t in range(T):
            d_w_max = max(d_w_max, abs(w_new[t] - w_old[t]))
            w_max = max(w_max, abs(w_new[t]))
            W[t, j] = w_new[t]
    return max_viol, d_w_max, w_max


@njit(cache=True)
def _support_size(W):
    """Number of non-zero columns of ``W`` (T, p), without allocating."""
    T, p = W.shape
    k = 0
    for j in range(p):
        for t in range(T):
            if W[t, j] != 0.0:
                k += 1
                break
    return k


@njit(cache=True)
def _gram_epochs(
    Q, slot, k, XtY, QW, W, ws, code, params, budget, target, update_tol,
    both, dot_support,
):  # fmt: skip
    """Up to ``budget`` cyclic :func:`_epoch_gram` epochs over ``ws`` in one
    call, with the stopping rule of the Python loops they replace: after
    each epoch stop when its largest violation is at most ``target`` *and*
    (``both``) / *or* its update ratio ``max |dW| / max |W|`` at most
    ``update_tol``. Returns early, before an epoch, once the support has
    ``dot_support`` features (``np.inf``: never), for the caller to go on
    with :func:`_gram_dot_epochs`. Returns ``(epochs, ratio of the last
    epoch (inf without one), finished)``.

    (Each loop calls one epoch kernel only; no epoch kernel carries
    fast-math flags, see :func:`_epoch_full`.)
    """
    used = 0
    ratio = np.inf
    while used < budget and _support_size(W) < dot_support:
        v, dw, wm = _epoch_gram(Q, slot, k, XtY, QW, W, ws, code, params)
        used += 1
        ratio = dw / wm if wm > 0 else 0.0
        small_v, small_r = v <= target, ratio <= update_tol
        if (small_v and small_r) if both else (small_v or small_r):
            return used, ratio, True
    return used, ratio, False


@njit(cache=True)
def _gram_dot_epochs(
    Q, k, XtY, W, ws, code, params, budget, target, update_tol, dot_support
):  # fmt: skip
    """:func:`_gram_epochs` by :func:`_epoch_gram_dot` (shared Gram ``Q``
    ``(p, p)``, no ``QW``), the *or* rule, while the support at an epoch's
    start has at least ``dot_support`` features (the choice of
    ``BCDSolver._epoch``); returns early, before an epoch, once it has
    fewer. Returns ``(epochs, ratio of the last epoch (inf without one),
    finished)``."""
    used = 0
    ratio = np.inf
    while used < budget and _support_size(W) >= dot_support:
        v, dw, wm = _epoch_gram_dot(Q, k, XtY, W, ws, code, params)
        used += 1
        ratio = dw / wm if wm > 0 else 0.0
        if v <= target or ratio <= update_tol:
            return used, ratio, True
    return used, ratio, False


@njit(cache=True)
def _support(W):
    """The non-zero columns of ``W`` (T, p), as
    ``np.flatnonzero(np.any(W != 0, axis=0))``."""
    T, p = W.shape
    support = np.empty(p, dtype=np.int64)
    k = 0
    for j in range(p):
        for t in range(T):
            if W[t, j] != 0.0:
                support[k] = j
                k += 1
                break
    return support[:k].copy()


@njit(cache=True)
def _outer_stats(W, viol):
    """``(support, n_viol, vmax)`` of the outer loop in one call: the
    non-zero columns of ``W`` (:func:`_support`), the number of violations
    ``> 0`` and their maximum (NaN if any is NaN, as ``ndarray.max``)."""
    support = _support(W)
    n_viol = 0
    vmax = viol[0] if viol.shape[0] else -np.inf
    for j in range(viol.shape[0]):
        v = viol[j]
        if v > 0.0:
            n_viol += 1
        if vmax == vmax and (v > vmax or v != v):
            vmax = v
    return support, n_viol, vmax


@njit(cache=True)
def _violators_outside(visited, viol):
    """Does a feature outside ``visited`` (distinct indices) have a violation
    ``> 0``? (``np.any(viol[outside] > 0)``, without the mask.)"""
    inside = np.zeros(viol.shape[0], dtype=np.bool_)
    for j in visited:
        inside[j] = True
    for j in range(viol.shape[0]):
        if not inside[j] and viol[j] > 0.0:
            return True
    return False


@njit(cache=True)
def _l21_certificate(rr, W, V, params):
    """The outer loop's certificate for the l21 / elastic-net penalty in one
    call: ``(viol, gap, primal, support, n_viol, vmax)``, the values of
    ``penalty.kkt_violation(W, -V)``, :func:`quadratic_gap` (the penalty's
    one-pass ``quadratic_gap``) and :func:`_outer_stats` (the same
    kernels)."""
    viol = _l21_violations(params, W, -V)
    gap, primal = _elastic_net_quadratic_gap(rr, W, V, params[0], params[1])
    support, n_viol, vmax = _outer_stats(W, viol)
    return viol, gap, primal, support, n_viol, vmax


def _fused_certificate(penalty):
    """Does :func:`_l21_certificate` give ``penalty``'s certificate (the
    l21 / elastic-net penalty with its own violation and gap methods)?"""
    cls = type(penalty)
    return (
        penalty.code == CODE_L21
        and isinstance(penalty, ElasticNet)
        and cls.kkt_violation is RowPenalty.kkt_violation
        and cls.quadratic_gap is ElasticNet.quadratic_gap
    )


@njit(cache=True)
def _centre_gram(G, scale, msum, ma, mb):
    """``G <- scale G - msum ma mb^T`` in place (the same operations, in the
    same order, as ``scale * G - msum * np.outer(ma, mb)``, without the two
    ``(ka, kb)`` temporaries); returns ``G``."""
    ka, kb = G.shape
    for i in range(ka):
        for j in range(kb):
            G[i, j] = scale * G[i, j] - msum * (ma[i] * mb[j])
    return G


@njit(cache=True, error_model="numpy")
def _centre_targets_full(Y, C, task_c, fit_intercept, with_cy=False):
    """``(ymean, yc, yy, cy)`` of row-major ``(n, T)`` targets ``Y`` and entry
    weights ``C`` (every label present): each task's weighted mean (around
    its first label, exact for constant targets; zero without intercept),
    the centred targets as a flat row-major array, ``sum c yc^2`` and, with
    ``with_cy``, the weighted centred targets ``c * yc`` (flat, the same
    products as numpy's; else an empty array). The sums run down the rows,
    in the order of numpy's ``sum(axis=0)``."""
    n, T = Y.shape
    ymean = np.zeros(T)
    if fit_intercept:
        # four tasks at a time in registers (each sum still down the rows,
        # in order): independent chains of adds, not a store and a load of
        # sums[t] per entry
        sums = np.zeros(T)
        t4 = T - T % 4
        for t in range(0, t4, 4):
            a0 = a1 = a2 = a3 = 0.0
            y0, y1, y2, y3 = Y[0, t], Y[0, t + 1], Y[0, t + 2], Y[0, t + 3]
            for i in range(n):
                a0 += C[i, t] * (Y[i, t] - y0)
                a1 += C[i, t + 1] * (Y[i, t + 1] - y1)
                a2 += C[i, t + 2] * (Y[i, t + 2] - y2)
                a3 += C[i, t + 3] * (Y[i, t + 3] - y3)
            sums[t], sums[t + 1], sums[t + 2], sums[t + 3] = a0, a1, a2, a3
        for t in range(t4, T):
            a0 = 0.0
            y0 = Y[0, t]
            for i in range(n):
                a0 += C[i, t] * (Y[i, t] - y0)
            sums[t] = a0
        for t in range(T):
            ymean[t] = Y[0, t] + sums[t] / task_c[t]
    yc = np.empty(n * T)
    cy = np.empty(n * T if with_cy else 0)
    yy = 0.0
    if with_cy:
        # (one loop per flag: the store of c yc rides on the chain of yy's adds)
        for i in range(n):
            for t in range(T):
                v = Y[i, t] - ymean[t]
                yc[i * T + t] = v
                cv = C[i, t] * v
                cy[i * T + t] = cv
                yy += cv * v
    else:
        for i in range(n):
            for t in range(T):
                v = Y[i, t] - ymean[t]
                yc[i * T + t] = v
                yy += C[i, t] * v * v
    return ymean, yc, yy, cy


def _epoch_gram_python(Q, slot, k, XtY, QW, W, ws, penalty):
    """:func:`_epoch_gram` for a penalty whose row math is Python
    (``row_update`` and ``kkt_violation``): for penalties defined outside
    skmtl; correct but slow (one Python call per feature)."""
    max_viol = d_w_max = w_max = 0.0
    for j in ws:
        g = QW[:, j] - XtY[:, j]
        h = k * Q[slot, j, j]
        w_old = W[:, j].copy()
        v = penalty.kkt_violation(w_old[:, None], g[:, None])
        max_viol = max(max_viol, float(np.asarray(v).ravel()[0]))
        w_new = np.asarray(penalty.row_update(w_old, g, h), dtype=np.float64)
        dt = w_new - w_old
        d_w_max = max(d_w_max, float(np.max(np.abs(dt), initial=0.0)))
        w_max = max(w_max, float(np.max(np.abs(w_new), initial=0.0)))
        if np.any(dt != 0):
            QW += (k * dt)[:, None] * Q[slot, j, :]
            W[:, j] = w_new
    return max_viol, d_w_max, w_max


def quadratic_gap(rr, W, V, penalty, dn=None):
    """Duality gap of ``1/2 sum_e c_e r_e^2 + penalty(W)``.

    ``rr = sum c r^2``, ``V = X^T (c r)`` (minus the gradient). The dual
    point is ``theta = s c r``, rescaled into the dual ball (``s < 1``) when
    the penalty has no ridge part. With ``r y = r r + <W, V>`` (centred
    ``y = r + X W``) the gap is ``(1 - s)^2 rr / 2`` plus the penalty's
    Fenchel-Young term at ``s V``: a sum of non-negative terms, so it does
    not cancel to 0 (or below) while the coefficients are still off, as
    ``primal - dual`` does once it falls to the primal's rounding level.
    Returns ``(gap, primal)``; a penalty may compute them in one pass
    (its ``quadratic_gap(rr, W, V)``, the same terms). ``dn``: the dual norm
    of ``V`` when the caller knows it (or a value that gives the same
    scaling).
    """
    if penalty.quadratic_gap is not None:
        return penalty.quadratic_gap(rr, W, V)
    primal = 0.5 * rr + penalty.value(W)
    s = 1.0
    if penalty.mu <= 0:
        dn = penalty.dual_norm(V) if dn is None else dn
        s = 1.0 if dn <= penalty.lam else penalty.lam / dn
    gap = 0.5 * (1.0 - s) ** 2 * rr + penalty.fenchel_young(W, s * V)
    return gap, primal


class _Block:
    """Epochs pending on one working set ``ws``: at most ``left`` more,
    ended early when the largest violation reaches ``target`` (or the
    updates are small), run on the working set's own Gram matrix
    (``in_gram_space``) or as residual epochs."""

    def __init__(self, ws, target, in_gram_space):
        self.ws, self.target, self.in_gram_space = ws, target, in_gram_space
        self.left = 200 if in_gram_space else 10


class _Run:
    """Everything a working-set run carries from one epoch to the next
    besides ``W``: the working-set size, the pending :class:`_Block`, the
    last epoch's update ratio ``max |dW| / max |W|`` (0 before any epoch:
    then the certificate alone decides, as in scikit-learn's first check)
    and the features it ``visited``, the Gram switch and the random order's
    generator. ``key`` names the
    problem and penalty it belongs to."""

    def __init__(self, key):
        self.key = key
        self.started = False
        self.ws_size = 10
        self.block = None
        self.ratio = 0.0
        self.mode = None
        self.rng = None
        self.visited = None
        self.n_viol = 0

    @classmethod
    def resume_or_start(cls, resume, key):
        """A copy of ``resume`` when it belongs to ``key``, else a new run."""
        if resume is None or resume.key != key:
            return cls(key)
        run = copy.copy(resume)
        if resume.block is not None:
            run.block = copy.copy(resume.block)
        run.rng = copy.deepcopy(resume.rng)
        return run


#: flop rate of the per-task Gram products (BLAS, one per task) over that of
#: a numba pass over the labelled entries (measured 15-25x at p = 28-50)
_TASK_GRAM_SPEEDUP = 16


def _use_gram(X, op, T, n_slots):
    if sp.issparse(X):
        return False
    p = X.shape[1]
    n_per_task = op.n_entries / T
    # per-task Grams (n_slots = T) make a Gram epoch n_t / p times cheaper than
    # a residual one and cost a few passes over X (BLAS): they pay as soon as
    # tasks have p rows; one shared Gram needs n >= 4 p
    min_rows = p if n_slots > 1 else 4 * p
    return n_per_task >= min_rows and n_slots * p * p * 8 <= 2**28


def _gram_costs_many_gradients(X, op, T, n_slots):
    """Does the full Gram cost more than ~10 full gradients?

    Gram: ``n_slots * (rows per slot) * p^2``; a full gradient:
    ``n_entries * p``. With every label present the ratio is ``p / T``;
    per-task Grams run at BLAS speed (:data:`_TASK_GRAM_SPEEDUP`).
    """
    p = X.shape[1]
    rows_per_slot = X.shape[0] if n_slots == 1 else op.n_entries / T
    cost = n_slots * rows_per_slot * p * p
    if n_slots > 1:
        cost /= _TASK_GRAM_SPEEDUP
    return cost > 10 * op.n_entries * p


def task_blocks(X, op):
    """``X``'s rows as a ``(T, n_t, k)`` view, task ``t``'s rows being
    ``[t n_t, (t + 1) n_t)`` (the labelled entries sorted by task are the
    first ``T n_t`` rows in order, each labelled once: per-task data of
    equal-sized tasks laid out by :func:`skmtl.stack_tasks`), or None.
    Per-task products then take one batched BLAS call, no loop over tasks.
    """
    if not isinstance(X, np.ndarray) or not X.flags.c_contiguous or not op.n_tasks:
        return None
    order, ptr = op.task_groups()
    rows = op.entry_row[order]
    sizes = np.diff(ptr)
    if (
        not rows.size or rows[0] != 0 or rows.size > X.shape[0]
        or not np.all(sizes == sizes[0]) or not np.all(np.diff(rows) == 1)
    ):  # fmt: skip
        return None
    return X[: rows.size].reshape(op.n_tasks, int(sizes[0]), X.shape[1])


def task_grams(X, op, c, xmean, task_c, X2=None, xmean2=None, d=None):
    """Centred per-task Grams ``Q_t = sum_{e in t} c_e x_i x_i^T - C_t m_t
    m_t^T``, shape ``(T, k, k)`` for ``X`` of shape ``(n, k)`` (all rows of
    the problem, any columns), ``xmean`` ``(T, k)``, ``task_c`` ``(T,)``.
    With ``X2`` ``(n, k2)`` and its means ``xmean2``: the cross blocks
    ``sum_{e in t} c_e x_i x2_i^T - C_t m_t m2_t^T``, ``(T, k, k2)``.

    One BLAS product per task on the task's rows: a slice of ``X`` when each
    task's rows are consecutive (as :func:`skmtl.stack_tasks` lays them out),
    else a gather of that task's rows only.

    With ``d`` (one value per entry, no ``X2``): ``(Q, XtD)``, ``XtD[t] =
    sum_{e in t} d_e x_i`` ``(T, k)`` from the Grams' own pass over ``X``
    when the tasks are equal-sized consecutive blocks of one weight each
    (:func:`task_blocks`), else ``XtD`` is None (the caller computes it).
    """
    T, k = op.n_tasks, X.shape[1]
    if X2 is None:
        X2, xmean2 = X, xmean
    centred = bool(np.any(xmean)) and bool(np.any(xmean2))
    # per-task data as stack_tasks lays it out: the entries are already in
    # task order (one pass checks it: no sort, no gathers)
    n_t = 0
    if X2 is X and isinstance(X, np.ndarray) and X.flags.c_contiguous:
        n_t = sorted_blocks(op.entry_row, op.entry_task, c, T)
    if n_t:
        order, first = None, c[::n_t]
        Xr = X[: T * n_t].reshape(T, n_t, k)
    else:
        order, ptr = op.task_groups()
        cs = c[order]
        # one weight per task (no sample weights): X_t^T X_t, no scaled copy
        first = cs[np.minimum(ptr[:-1], max(cs.size - 1, 0))] if cs.size else cs
        uniform = bool(np.all(cs == np.repeat(first, np.diff(ptr))))
        Xr = task_blocks(X, op) if X2 is X and uniform else None
    if Xr is not None:
        D = None if d is None else (d if order is None else d[order]).reshape(T, -1)
        Q, XtD = block_grams(Xr, first, D)
        if centred:
            Q -= task_c[:, None, None] * (xmean[:, :, None] * xmean[:, None, :])
        return Q if d is None else (Q, XtD)
    rows = op.entry_row[order]
    # consecutive rows per task: each task's rows are a slice
    contiguous = bool(np.all(np.diff(rows) == 1)) if rows.size else True
    Q = np.empty((T, k, X2.shape[1]))
    for t in range(T):
        a, b = ptr[t], ptr[t + 1]
        t_rows = slice(rows[a], rows[a] + b - a) if contiguous and b > a else rows[a:b]
        Xt = X[t_rows]
        X2t = Xt if X2 is X else X2[t_rows]
        if uniform:
            np.matmul(Xt.T, X2t, out=Q[t])
            Q[t] *= first[t]
        else:
            np.matmul(Xt.T, X2t * cs[a:b, None], out=Q[t])
        if centred:
            Q[t] -= task_c[t] * np.outer(xmean[t], xmean2[t])
    return Q if d is None else (Q, None)


class BCDSolver:
    """Working-set BCD on one squared-loss problem, reusable across penalties.

    Parameters
    ----------
    X : float64 ndarray or sparse matrix of shape (n, p)
    op : DesignOperator over ``X``'s labelled entries
    datafit : Quadratic
    fit_intercept : bool
    mode : {"auto", "residual", "gram"}
        ``"auto"`` picks the Gram mode when rows far outnumber features (for
        a path, ``path=True``, as soon as one shared Gram fits: it is
        amortised over every ``alpha``), else residual epochs, switching to
        the Gram mode if a single fit's support grows large.
    path : bool
        The solver will be called for many penalties (a path).
    column_major : array or sparse matrix, default=None
        A column-major copy of ``X`` (``Xc`` of another solver on the same
        ``X``) to reuse instead of copying ``X`` again.
    full_gram_switch : bool, default=False
        With ``mode="auto"``, solve a working set of every feature on the
        full Gram when it pays (:meth:`_full_gram_pays`). The fit's own
        solver turns it on (:class:`~.dispatch.ProblemSolver`); subproblem
        solvers (proximal Newton's) keep their modes.
    """

    def __init__(
        self, X, op, datafit, *, fit_intercept=True, mode="auto", path=False,
        column_major=None, full_gram_switch=False,
    ):  # fmt: skip
        if not datafit.supports_bcd:
            raise ValueError(
                f"Block coordinate descent needs the squared loss, not "
                f"{datafit.name!r}; use solver='fista'."
            )
        T, p = op.n_tasks, op.n_features
        self.X, self.op, self.datafit = X, op, datafit
        self.T, self.p = T, p
        self.fit_intercept = fit_intercept
        c, y = datafit.c, datafit.y
        self.c, self.task_c = c, datafit.task_c
        if fit_intercept:
            self.xmean = op.task_means(c, self.task_c)
        else:
            self.xmean = np.zeros((T, p))
        self.sparse = sp.issparse(X)
        # every label present and c_(i,t) = s_i k_t: one shared Gram, and the
        # (n, T) residual kernel
        self.factors = op.factored_weights(c, self.task_c)
        self.full = self.factors is not None and not self.sparse
        self.Xc = column_major
        self.switch_to_gram = False
        self.full_gram_switch = mode == "auto" and full_gram_switch
        if mode == "auto":
            n_slots = 1 if self.factors is not None else T
            gram_ok = _use_gram(X, op, T, n_slots)
            if path:
                # a path amortises one shared Gram over every alpha: it pays as
                # soon as p <= n (measured 5x faster than residual epochs at
                # n=1000, p=300, T=10), not only at n >= 4p as for one fit
                shared = self.full and p <= X.shape[0] and p * p * 8 <= 2**28
                mode = "gram" if gram_ok or shared else "residual"
            else:
                # When the Gram costs many full gradients, start with working
                # sets (each solved in its own small Gram) and build the full
                # Gram only if the support grows large.
                self.switch_to_gram = gram_ok and _gram_costs_many_gradients(
                    X, op, T, n_slots
                )
                mode = "gram" if gram_ok and not self.switch_to_gram else "residual"
        self.mode = mode
        self._cy = None  # c * yc, when the centring computed it
        if op.full and op.n_entries:
            # entries (i, t) in row-major order: one pass over the (n, T)
            # targets, no (n, T) temporaries; the shared Gram's X^T C y_c
            # reads c * yc, computed in the same pass
            self.ymean, self.yc, self.yy, cy = _centre_targets_full(
                y.reshape(-1, T), c.reshape(-1, T), self.task_c, fit_intercept,
                mode == "gram" and self.factors is not None,
            )  # fmt: skip
            self._cy = cy if cy.size else None
        else:
            task = self.task
            if fit_intercept:
                # mean around each task's first label: exact for constant targets
                first = np.zeros(T)
                first[task[::-1]] = y[::-1]
                sums = np.bincount(task, weights=c * (y - first[task]), minlength=T)
                self.ymean = first + sums / self.task_c
            else:
                self.ymean = np.zeros(T)
            self.yc = y - self.ymean[task]
            self.yy = float(np.dot(c, self.yc * self.yc))
        # X^T y_c from input validation's pass over X (every label, one
        # weight per task): the first gradient without a product with X
        self._xtyc = None
        prod = op.targets_product(y) if self.full else None
        if prod is not None and op.tiled_row(c) is not None:
            mu, XtD = prod
            # X^T (Y - ymean) = X^T (Y - mu) - (ymean - mu) sum_i x_i; mu is
            # the targets' mean, so the correction is small (zero ymean
            # without an intercept: the product with the targets themselves)
            self._xtyc = XtD - (self.ymean - mu)[:, None] * op.column_stats()[2]
        self._reset_lazy_state()
        if mode == "gram":
            self._build_gram()
        else:
            self._build_residual()

    # state ------------------------------------------------------------------
    @property
    def task(self):
        """Task of each entry (the datafit's; built on first use when every
        label is present, which the Gram and ``(n, T)`` kernels never need)."""
        return self.datafit.entry_task

    def gram_state(self):
        """The Gram-mode state as the dict of
        :func:`~skmtl._solvers.gram_fista.solve_fista_gram` (Gram mode only)."""
        keys = ("Q", "slot", "k", "XtY", "yy", "xmean", "ymean")
        return {key: getattr(self, key) for key in keys}

    def _build_gram(self):
        """Gram epochs' state at the current ``W``."""
        X, op, T = self.X, self.op, self.T
        c, xmean = self.c, self.xmean
        if sp.issparse(X):
            raise ValueError("Gram mode needs a dense X.")
        if self.factors is not None:
            # every task uses all rows: one Gram matrix, scaled per task
            row_s = self.factors[0]
            if op.uniform_rows(row_s):
                # symmetric rank-k update, no copy of X
                Q0, scale = X.T @ X, row_s[0]
            else:
                Q0, scale = X.T @ (X * row_s[:, None]), 1.0
            msum = row_s.sum()
            m = xmean[0]  # every task's mean is X^T s / sum(s) (zero without)
            self.Q = _centre_gram(Q0, scale, msum, m, m)[None]
            self.slot = np.zeros(T, dtype=np.int64)
            self.k = self.task_c / msum
            XtY = None
        else:
            # X^T C y_c from the Grams' pass over X when the kernel takes them
            self.Q, XtY = task_grams(X, op, c, xmean, self.task_c, d=c * self.yc)
            self.slot = np.arange(T, dtype=np.int64)
            self.k = np.ones(T)
        Xr = None if self.factors is not None or XtY is not None else task_blocks(X, op)
        if XtY is not None:
            self.XtY = XtY
        elif Xr is not None:  # one batched product
            d = (c * self.yc)[op.task_groups()[0]].reshape(T, -1, 1)
            self.XtY = np.matmul(Xr.transpose(0, 2, 1), d)[:, :, 0]
        elif self._V_zero is not None:
            # X^T C y_c is the residual epochs' first gradient (at W = 0,
            # every label present): not another pass over X
            self.XtY = self._V_zero
        elif self._xtyc is not None:  # (c_(i,t) = v_t)
            self.XtY = op.tiled_row(c)[:, None] * self._xtyc
        else:
            self.XtY = op.rmatvec(c * self.yc if self._cy is None else self._cy)
        self._cy = None  # (read once)
        self._sync_gram()

    @classmethod
    def from_statistics(cls, state, *, fit_intercept=True):
        """A Gram-mode solver built from reduced statistics, without ``X``.

        ``state`` is the dict of
        :meth:`skmtl._dask._stats.TaskStatistics.gram_state`: centred Grams
        ``Q`` (one shared slot or one per task), ``slot``, ``k`` (task
        ``t``'s Hessian is ``k_t Q[slot_t]``), ``XtY``, ``yy``, ``xmean``,
        ``ymean``: the state :meth:`_build_gram` computes from ``X``.
        """
        self = cls.__new__(cls)
        T, p = state["XtY"].shape
        self.X = self.op = self.datafit = None
        self.T, self.p = T, p
        self.fit_intercept = fit_intercept
        self.xmean, self.ymean = state["xmean"], state["ymean"]
        self.yy = float(state["yy"])
        self.sparse = self.full = self.switch_to_gram = self.full_gram_switch = False
        self.mode = "gram"
        self.Q, self.slot, self.k = state["Q"], state["slot"], state["k"]
        self.XtY = state["XtY"]
        self.factors = self.Xc = self._cy = self._xtyc = None
        self._reset_lazy_state()
        self._sync_gram()
        return self

    def _reset_lazy_state(self):
        """Coefficients at zero and the quantities built on first use (both
        constructors call this: one list of the solver's lazy state)."""
        self.W = np.zeros((self.T, self.p))
        self.H = None
        self._v0_norm = None
        self._fscale = None
        self._exact_state = False
        self._ws_gram_cache = None
        self._qw_stale = False  # QW behind W (dot-product Gram epochs)
        # the gradient X^T C y_c when residual epochs computed it at W = 0
        # (``_residual_is_yc``: the residual is still the centred targets)
        self._V_zero = None
        self._residual_is_yc = False

    def _sync_gram(self):
        W = self.W
        self._qw_stale = False
        if not np.any(W):
            self.QW = np.zeros((self.T, self.p))
        elif self.Q.shape[0] == 1:  # one symmetric Q: no (T, p, p) copy
            self.QW = self.k[:, None] * (W @ self.Q[0])
        else:  # one Gram per task: a batched product
            self.QW = self.k[:, None] * np.einsum("tij,tj->ti", self.Q, W)

    def _build_residual(self):
        X, T = self.X, self.T
        if self.Xc is not None:
            Xc = self.Xc
        elif self.sparse:
            Xc = sp.csc_array(X)
            Xc.sort_indices()
        elif X.flags.c_contiguous and not X.flags.f_contiguous and X.nbytes <= 2**28:
            # column access: a Fortran copy pays for itself after one epoch
            # (scikit-learn copies too); very large X is used as it is
            Xc = np.asfortranarray(X)
        else:
            Xc = X
        self.Xc = Xc
        if self.full:
            self.row_s = self.factors[0]
            self.k_full = self.task_c / self.row_s.sum()
            self.uniform_rows = self.op.uniform_rows(self.row_s)
        self.n_slots = 1 if self.full else T
        self._sync_residual()

    def _sync_residual(self):
        """Residual of the current ``W`` (entries in row-major order)."""
        W, op = self.W, self.op
        nonzero = bool(np.any(W))
        if nonzero:
            r = self.yc - (op.matvec(W) - np.sum(self.xmean * W, axis=1)[self.task])
        else:
            # (the (n, T) residual below is a copy of its own)
            r = self.yc if self.full else self.yc.copy()
        if self.full:
            # a copy: with one task a reshape is a view of yc, and the epochs
            # would overwrite the centred targets
            self.R = np.array(r.reshape(self.X.shape[0], self.T), order="F", copy=True)
            self._residual_is_yc = not nonzero
        elif self.sparse:
            self.rs = r
            self.off = np.zeros(self.T)
        else:
            self.r = r

    def set_coef(self, W):
        """Move the solver to ``W`` (a warm start)."""
        W = np.asarray(W, dtype=np.float64)
        if np.array_equal(W, self.W):
            return
        self.W = np.array(W, order="C", copy=True)
        if self.mode == "gram":
            self._sync_gram()
        else:
            self._sync_residual()

    def _state(self):
        """``(rr, V)`` at the current ``W``."""
        W = self.W
        if self.mode == "gram":
            if self._qw_stale:  # (after dot-product epochs)
                self._sync_gram()
            Wx = float(np.sum(W * self.XtY))
            rr = self.yy - 2 * Wx + float(np.sum(W * self.QW))
            if self.op is None or (rr > 1e-6 * self.yy and not self._exact_state):
                # (from reduced statistics there is no X to recompute with)
                return rr, self.XtY - self.QW
            # ``yy - 2 W.X^T y + W Q W`` has lost most of its digits (a good
            # fit, or a tight tol): one product with X gives the residual
            # itself, and a gap that does not cancel to 0 before the
            # coefficients are accurate
            shift = np.sum(self.xmean * W, axis=1)[self.task]
            r = self.yc - (self.op.matvec(W) - shift)
            cr = self.c * r
            return float(np.dot(cr, r)), self.op.rmatvec(cr)
        if self.full:
            # c_(i,t) = s_i k_t: V = k (R^T diag(s) X), one BLAS product on the
            # Fortran residual (no row-major copy)
            R = self.R
            if self.uniform_rows:
                SR, ks = R, self.k_full * self.row_s[0]
            else:
                SR, ks = R * self.row_s[:, None], self.k_full
            rr = float(np.dot(ks, np.einsum("it,it->t", SR, R)))
            if self._residual_is_yc and self._xtyc is not None:
                V = ks[:, None] * self._xtyc  # (validation's product)
            else:
                V = ks[:, None] * cross_product(self.Xc, SR)
            if self._residual_is_yc:
                self._V_zero = V  # X^T C y_c, kept for a switch to the Gram
            return rr, V
        if self.sparse:
            r = self.rs + self.off[self.task]
        else:
            r = self.r
        V = self.op.rmatvec(self.c * r)
        return float(np.dot(self.c, r * r)), V

    def _curvatures(self):
        """``H_tj = sum_{e in t} c_e (x_ej - m_tj)^2`` (centred squares, no
        cancellation on near-constant columns, no overflow)."""
        if self.H is None:
            S, a = centred_sq_colsums(self.X, self.op, self.c, self.xmean)
            with np.errstate(over="ignore"):
                self.H = S * (a * a)
        return self.H

    def _feature_scale(self):
        """``1 / sqrt(max_t H_tj)`` per feature (0 for a constant feature):
        multiplying gradients by it makes the stationarity residual
        invariant to the features' units."""
        if self._fscale is None:
            if self.mode == "gram":
                h = self.k[:, None] * np.diagonal(self.Q, axis1=1, axis2=2)[self.slot]
            else:
                h = self._curvatures()
            hmax = np.max(h, axis=0) if h.size else np.zeros(self.p)
            with np.errstate(divide="ignore"):
                self._fscale = np.where(hmax > 0, 1.0 / np.sqrt(hmax), 0.0)
        return self._fscale

    def _gradient_scale(self):
        """``||X^T C y D||_F``: the (feature-scaled) gradient norm at ``W =
        0`` with optimal intercepts, the scale of the stationarity
        certificate."""
        if self._v0_norm is None:
            V0 = self.XtY if self.mode == "gram" else self.op.rmatvec(self.c * self.yc)
            V0 = V0 * self._feature_scale()
            self._v0_norm = max(float(np.linalg.norm(V0)), 1e-300)
        return self._v0_norm

    # epochs ---------------------------------------------------------------
    def _epoch(self, ws, penalty):
        W = self.W
        self._residual_is_yc = False
        dot = self.mode == "gram" and self._dot_epochs(penalty)
        if self.mode == "gram" and self._qw_stale and not dot:
            self._sync_gram()
        if penalty.code is None:
            return _epoch_gram_python(
                self.Q, self.slot, self.k, self.XtY, self.QW, W, ws, penalty
            )
        code, params = penalty.code, penalty.params
        if self.mode == "gram":
            if dot:
                self._qw_stale = True
                return _epoch_gram_dot(self.Q[0], self.k, self.XtY, W, ws, code, params)
            return _epoch_gram(
                self.Q, self.slot, self.k, self.XtY, self.QW, W, ws, code, params
            )
        if self.H is None:
            self.H = self._curvatures()
        if self.full:
            return _epoch_full(
                self.Xc, self.row_s, self.k_full, self.R, W, self.H, self.xmean[0],
                ws, code, params, self.uniform_rows,
            )  # fmt: skip
        if self.sparse:
            Xc = self.Xc
            return _epoch_csc(
                Xc.data, Xc.indices, Xc.indptr, self.op.row_ptr, self.task, self.c,
                self.rs, self.off, W, self.H, self.xmean, ws, code, params,
            )  # fmt: skip
        return _epoch_residual(
            self.Xc, self.op.row_ptr, self.task, self.c, self.r, W, self.H,
            self.xmean, ws, code, params,
        )  # fmt: skip

    def _gram_epoch_run(self, ws, target, budget, penalty, update_tol):
        """The epochs of one working set in Gram mode (cyclic order, a numba
        penalty): :meth:`_epoch` until the largest violation is at most
        ``target`` or the update ratio at most ``update_tol``, at most
        ``budget`` epochs, run by :func:`_gram_epochs` and
        :func:`_gram_dot_epochs` (one numba call per run of epochs of one
        kind; ``QW`` recomputed before axpy epochs that follow dot-product
        ones). Returns ``(epochs, ratio of the last epoch, finished)``."""
        self._residual_is_yc = False
        code, params = penalty.code, penalty.params
        shared_dot = self.Q.shape[0] == 1 and self.p >= GRAM_DOT_MIN_FEATURES
        dot_support = GRAM_DOT_MIN_SUPPORT * self.p if shared_dot else np.inf
        used, ratio, finished = 0, np.inf, False
        while used < budget and not finished:
            left = budget - used
            if shared_dot and _support_size(self.W) >= dot_support:
                n, r, finished = _gram_dot_epochs(
                    self.Q[0], self.k, self.XtY, self.W, ws, code, params, left,
                    target, update_tol, dot_support,
                )  # fmt: skip
                self._qw_stale = self._qw_stale or n > 0
            else:
                if self._qw_stale:
                    self._sync_gram()
                n, r, finished = _gram_epochs(
                    self.Q, self.slot, self.k, self.XtY, self.QW, self.W, ws,
                    code, params, left, target, update_tol, False, dot_support,
                )  # fmt: skip
            if n:
                used, ratio = used + n, r
        return used, ratio, finished

    def _dot_epochs(self, penalty):
        """Gram epochs by :func:`_epoch_gram_dot` (one shared Gram of at
        least :data:`GRAM_DOT_MIN_FEATURES` features, a numba penalty)?
        ``QW`` is then recomputed (one BLAS product, ``T p^2``) only for a
        certificate, every few epochs."""
        return (
            self.Q.shape[0] == 1
            and self.p >= GRAM_DOT_MIN_FEATURES
            and penalty.code is not None
            and _support_size(self.W) >= GRAM_DOT_MIN_SUPPORT * self.p
        )

    def _full_gram_pays(self, n_viol):
        """Solve a working set of every feature on the full Gram (shared,
        every label present) rather than by residual epochs, ``n_viol``
        features violating the optimality conditions?

        The Gram costs ``n p^2 / 2`` flops at BLAS speed, about ``p / 9T``
        residual epochs (``2 n p T`` each, numba), and makes each epoch
        ``n / p`` times cheaper: it pays back within the 5-15 epochs a
        near-full support still needs when ``n >= p`` and ``p <= 40 T``
        (measured: n=500, p=200, T=10: 6.1 -> 4.4 ms to 1e-6; n=1000,
        p=400, T=10: unchanged to 15% faster; at p = 100 T, n=5000, p=2000,
        T=20, the Gram alone costs 9 epochs). Residual epochs update the
        residual only for the features that move, so above ``30 T``
        features the Gram is built only when three quarters of them or more
        violate (the support is about to fill): n=1000, p=400, T=10 at
        alpha_max/100, i.i.d. (259 of 400 violate at the switch, final
        support 228-253), 0.77-0.81x the time to 1e-6 on residual epochs;
        AR(1) rho 0 and 0.5 (all 400 violate, final support 376-399) keep
        the Gram, with which they are 1.37x faster; n=800, p=180, T=5
        (145 of 180 violate) keeps it too.
        """
        p, T = self.p, self.T
        return bool(
            self.full_gram_switch
            and self.full
            and self.mode != "gram"
            and p <= self.X.shape[0]
            and p <= FULL_GRAM_PER_TASK * T
            and (
                p <= FULL_GRAM_ANY_SUPPORT_PER_TASK * T
                or n_viol >= FULL_GRAM_MIN_VIOLATORS * p
            )
            and p * p * 8 <= 2**28
        )

    def _ws_gram_fits(self, k):
        """Gram of the working set pays when rows outnumber its features."""
        n_rows_slot = self.op.n_entries / self.n_slots
        return (
            n_rows_slot >= k / 2
            and self.n_slots * k * k * 8 <= 2**27
            and self.X.shape[0] * k * 8 <= 2**28
        )

    def _gram_block(self, Xa, Xb, ia, ib):
        """Centred Gram block between features ``ia`` and ``ib`` (columns
        ``Xa``, ``Xb`` of ``X``): ``(1, ka, kb)`` with every label present,
        else one block per task."""
        if self.full:
            s, m = self.row_s, self.xmean[0]
            if self.uniform_rows:
                # Xa.T @ Xa is a symmetric rank-k update, no scaled copy
                Q, scale = Xa.T @ Xb, s[0]
            else:
                Q, scale = Xa.T @ (Xb * s[:, None]), 1.0
            return _centre_gram(Q, scale, s.sum(), m[ia], m[ib])[None]
        return task_grams(
            Xa, self.op, self.c, self.xmean[:, ia], self.task_c,
            X2=None if Xb is Xa else Xb, xmean2=self.xmean[:, ib],
        )  # fmt: skip

    def _ws_gram_new(self, ws):
        """How many of ``ws``'s features the cached working-set Gram lacks."""
        if self._ws_gram_cache is None:
            return ws.size
        return int(np.count_nonzero(~np.isin(ws, self._ws_gram_cache[0])))

    def _ws_gram_extends(self, ws, use_working_set):
        """Solve on the Gram of every feature, too, when it is mostly
        computed already (the previous working set's): its new rows cost
        ``n k k_new`` flops, about ``k_new / 2T`` residual epochs (``2 n k
        T`` each), so only up to ``k_new <= 8 T`` (measured: extending 1128
        to 2000 features at T=20 cost 15 epochs' time; 126 to 200 at T=10
        saved epochs)."""
        if not use_working_set or self._ws_gram_cache is None:
            return False
        return self._ws_gram_new(ws) <= min(ws.size // 2, WS_GRAM_EXTEND * self.T)

    def _ws_gram_pays(self, ws):
        """With every label present, is the working set's Gram worth its
        cost? Its new rows cost ``n k k_new`` flops (``n k^2 / 2`` when it
        is rebuilt), about ``k_new / 9T`` residual epochs over the set (BLAS
        against numba), and save most of each of the 5-20 epochs a set
        needs: up to ``k_new = 32 T`` (about 4 epochs' time). Measured: on
        n=5000, p=2000, T=20, alpha_max / 100, a 1869-feature set's Gram
        (934 rows' cost, 47 T) took 0.45 s, more than the 5 residual epochs
        the set then needed; at 16 T, extending 178 to 356 features at T=10
        (n=1000, rho 0.9) fell back to residual epochs and the fit took 1.8x
        the epochs. Per-task Grams (labels missing) keep the earlier
        rule."""
        if not self.full:
            return True
        n_new = self._ws_gram_new(ws)
        cost_rows = n_new if n_new <= ws.size // 2 else ws.size / 2
        return cost_rows <= WS_GRAM_NEW_PER_TASK * self.T

    def _ws_gram(self, ws, Xw):
        """Centred Gram of the working set ``ws`` (columns ``Xw``).

        The previous working set's Gram is kept: a working set that mostly
        repeats it (supports settle, the set stops growing) only computes
        the rows of its new features, ``n k k_new`` instead of ``n k^2 / 2``.
        """
        n_new = self._ws_gram_new(ws)
        if n_new > ws.size // 2:
            Q = self._gram_block(Xw, Xw, ws, ws)
        else:
            old_ws, old_Q = self._ws_gram_cache
            pos = np.full(self.p, -1, dtype=np.int64)
            pos[old_ws] = np.arange(old_ws.size)
            where = pos[ws]
            kept = np.flatnonzero(where >= 0)
            Q = np.empty((old_Q.shape[0], ws.size, ws.size))
            Q[:, kept[:, None], kept] = old_Q[:, where[kept][:, None], where[kept]]
            if n_new:
                new = np.flatnonzero(where < 0)
                B = self._gram_block(Xw[:, new], Xw, ws[new], ws)
                Q[:, new, :] = B
                Q[:, :, new] = B.transpose(0, 2, 1)
        self._ws_gram_cache = (ws, Q)
        return Q

    def _solve_ws_in_gram_space(self, ws, V, target, budget, penalty, update_tol):
        """Solve the working-set subproblem on its Gram matrix (``k x k`` per
        task); the caller then updates the residual once with two BLAS
        products (:meth:`_update_residual`), or switches to the full Gram.

        Inner epochs cost ``O(k^2 T)`` instead of ``O(n k T)``: the
        subproblem's gradient is ``V0 - K_t Q_t (W - W0)``, kept up to date
        by the Gram kernel. Runs at most ``budget`` epochs, until the largest
        violation is at most ``target`` and the last epoch's largest update
        at most ``update_tol`` times the largest coefficient. Returns
        ``(epochs, update ratio of the last epoch, finished, (Xw, dW))``:
        the working set's columns and the change of its coefficients, for
        :meth:`_update_residual`.
        """
        T, W = self.T, self.W
        self._residual_is_yc = False
        k = ws.size
        Xw = self.Xc[:, ws]
        Xw = Xw.toarray() if sp.issparse(Xw) else np.asarray(Xw)
        Q = self._ws_gram(ws, Xw)
        if self.full:
            slot, kt = np.zeros(T, dtype=np.int64), self.k_full
        else:
            slot, kt = np.arange(T, dtype=np.int64), np.ones(T)
        Vw = np.ascontiguousarray(V[:, ws])
        QW = np.zeros((T, k))
        Wk = np.ascontiguousarray(W[:, ws])
        W0k = Wk.copy()
        local = np.arange(k, dtype=np.int64)
        code, params = penalty.code, penalty.params
        epochs, ratio, finished = 0, np.inf, False
        if self._cyclic:  # every epoch in one numba call
            epochs, ratio, finished = _gram_epochs(
                Q, slot, kt, Vw, QW, Wk, local, code, params, budget, target,
                update_tol, True, np.inf,
            )  # fmt: skip
        while epochs < budget and not finished:
            v, dw, wm = _epoch_gram(
                Q, slot, kt, Vw, QW, Wk, self._order(local), code, params
            )
            epochs += 1
            ratio = dw / wm if wm > 0 else 0.0
            if v <= target and ratio <= update_tol:
                finished = True
        dW = Wk - W0k
        W[:, ws] = Wk
        return epochs, ratio, finished, (Xw, dW)

    def _update_residual(self, ws, Xw, dW):
        """The residual after the coefficients of ``ws`` (columns ``Xw``)
        moved by ``dW`` (one BLAS product)."""
        T = self.T
        if self.full:
            # the product as (T, n), whose transpose has the Fortran
            # residual's layout: one temporary, not two (tall X: 2.6 against
            # 3.5 ms at n=50000, k=44, T=10; wide: the same)
            self.R -= (dW @ Xw.T).T
            shift = self.xmean[0, ws] @ dW.T
            if np.any(shift):
                self.R += shift
            return
        # (``task`` read only here: with every label present it would build
        # the per-entry layout, which the ``(n, T)`` path never reads)
        task = self.task
        op_ws = DesignOperator(
            np.ascontiguousarray(Xw), self.op.row_ptr, self.op.entry_row, task, T
        )
        shift = np.sum(self.xmean[:, ws] * dW, axis=1)
        if self.sparse:
            self.rs -= op_ws.matvec(dW)
            self.off += shift
        else:
            self.r -= op_ws.matvec(dW) - shift[task]

    def _switch_to_full_gram(self, run):
        """Continue in Gram mode on the full Gram (built now)."""
        self.mode, self.switch_to_gram = "gram", False
        run.mode = "gram"
        self._ws_gram_cache = None  # the full Gram replaces it
        self._build_gram()

    def _full_gram_ahead(self, run):
        """After a working-set solve: will the next working set be every
        feature, solved on the full Gram? Then the full Gram is built at
        once, before the certificate: in Gram mode the gradient costs
        ``T p^2`` flops, not a product with ``X`` (``n p T``), and the
        residual is not needed. This is the rule of :meth:`_choose_ws_size`
        (the support fills the set, and the support plus the violators
        cover every feature) with the violators of the last certificate
        standing in for the next one's.
        """
        visited = run.visited
        if (
            visited is None
            or visited.size >= self.p
            or not self._full_gram_pays(run.n_viol)
        ):
            return False
        support = _support_size(self.W)
        return (
            support >= max(0.9 * visited.size, WS_JUMP_MIN)
            and support + run.n_viol >= self.p
        )

    # driver -----------------------------------------------------------------
    def solve(
        self, penalty, W0=None, *, max_iter=1000, tol=1e-4, use_working_set=True,
        verbose=0, selection="cyclic", random_state=None, resume=None,
    ):  # fmt: skip
        """Minimise ``datafit + penalty`` from ``W0`` (default: the current
        ``W``, e.g. the previous point of a path).

        Stops when the certificate is met *and* the last epoch's largest
        coefficient update is at most ``tol`` times the largest coefficient
        (scikit-learn's coordinate descent rule: the certificate is only
        checked once the updates are small, and whenever they are), or
        after ``max_iter`` epochs.

        ``selection="random"`` visits the features of each epoch in a random
        order drawn from ``random_state`` (a ``numpy.random.RandomState``,
        seed or None), as scikit-learn's coordinate descent does.

        ``resume`` is the ``resume`` of a previous result that stopped on
        ``max_iter`` (None when it converged): when it comes from the same
        problem and ``W0`` is that result's ``coef``, the run continues
        where it stopped (same working set, same pending epochs), so that
        two solves of ``k`` epochs equal one of ``2k``.

        Returns a :class:`SolverResult`; its ``coef`` is a copy.
        """
        if selection not in ("cyclic", "random"):
            raise ValueError(
                f"selection should be 'cyclic' or 'random', got {selection!r}."
            )
        if not penalty.separable:
            raise ValueError(
                f"solver='bcd' needs a feature-separable penalty; "
                f"{type(penalty).__name__} is not. Use solver='fista' or 'auto'."
            )
        if penalty.code is None and self.mode != "gram":
            if self.sparse:
                raise ValueError(
                    "A penalty with Python row updates runs block coordinate "
                    "descent on dense X only; use solver='fista'."
                )
            self.mode, self.switch_to_gram = "gram", False
            self._build_gram()
        if W0 is not None:
            self.set_coef(W0)
        run = _Run.resume_or_start(resume, self._run_key(penalty))
        if selection == "random":
            if run.rng is None:
                from sklearn.utils import check_random_state

                run.rng = check_random_state(random_state)
            self._order = lambda ws: run.rng.permutation(ws).astype(np.int64)
        else:
            self._order = lambda ws: ws
        self._cyclic = selection == "cyclic"
        if run.mode == "gram" and self.mode != "gram" and self.switch_to_gram:
            self.mode, self.switch_to_gram = "gram", False  # as the run had
            self._build_gram()
        T, p = self.T, self.p
        use_gap = penalty.has_gap
        tol_scaled = tol * (self.yy if use_gap else self._gradient_scale())
        self._exact_state = tol < 1e-8
        n_iter = n_outer = 0
        gap = residual = np.nan
        converged = False
        stall = _StallMonitor()
        all_features = np.arange(p, dtype=np.int64)
        fast_ws = penalty.code is not None
        fused = use_gap and _fused_certificate(penalty)
        params = penalty.params if fused else None
        while True:
            V = None
            if run.block is None or n_iter >= max_iter:
                rr, V = self._state()
                if fused:  # one numba call
                    viol, gap, primal, *stats = _l21_certificate(
                        rr, self.W, np.ascontiguousarray(V), params
                    )
                    done = gap <= tol_scaled
                elif use_gap:
                    viol = penalty.kkt_violation(self.W, -V)
                    gap, primal = quadratic_gap(rr, self.W, V, penalty)
                    done = gap <= tol_scaled
                else:
                    viol = penalty.kkt_violation(self.W, -V)
                    primal = 0.5 * rr + penalty.value(self.W)
                    sv = viol * self._feature_scale()
                    residual = float(np.sqrt(np.sum(sv * sv)))
                    done = residual <= tol_scaled
                if verbose:
                    measure = (
                        f"gap {gap:.3e}" if use_gap else f"residual {residual:.3e}"
                    )
                    print(
                        f"[bcd] epoch {n_iter} (outer {n_outer}): objective "
                        f"{primal:.6e}, {measure}, update ratio {run.ratio:.3e}, "
                        f"working set {run.ws_size}, support "
                        f"{int(np.sum(np.any(self.W != 0, axis=0)))}"
                    )
                if done and run.ratio <= tol and self._others_settled(run, viol, tol):
                    converged = True
                    break
                if n_iter >= max_iter:
                    break
                if stall.no_progress(gap if use_gap else residual, run.ratio):
                    break
            if run.block is None:
                if fused:
                    support, n_viol, vmax = stats
                else:
                    support, n_viol, vmax = _outer_stats(
                        self.W, np.ascontiguousarray(viol, dtype=np.float64)
                    )
                run.n_viol = n_viol
                ws_size = self._choose_ws_size(run, support, n_viol)
                if (ws_size >= p and self._full_gram_pays(n_viol)) or (
                    self.switch_to_gram and (support.size > p // 4 or ws_size > p // 2)
                ):
                    # a large support, or a working set whose own Gram would cost a
                    # good part of the full one: build the full Gram now
                    self._switch_to_full_gram(run)
                    continue
                if use_working_set and p > ws_size:
                    score = viol.copy()
                    score[support] = np.inf
                    ws = np.sort(np.argpartition(-score, ws_size - 1)[:ws_size])
                    ws = ws.astype(np.int64)
                else:
                    ws = all_features
                target = 0.3 * float(vmax)
                # Gram epochs are cheap next to the outer full gradient: solve
                # the working set more tightly to save outer iterations.
                # Otherwise back to the outer loop (certificate, new working
                # set) when the working set is solved to ``target``, when the
                # updates are small, or after a few epochs: on collinear
                # features cyclic updates can keep per-feature violations from
                # dropping although the gap is below tolerance.
                in_gram_space = (
                    fast_ws
                    and self.mode != "gram"
                    and self._ws_gram_fits(ws.size)
                    and (ws.size < p or self._ws_gram_extends(ws, use_working_set))
                    and self._ws_gram_pays(ws)
                )
                run.block = _Block(ws, target, in_gram_space)
            block = run.block
            budget = min(max_iter - n_iter, block.left)
            moved = None
            if block.in_gram_space:
                if V is None:  # a resumed block: the gradient at the current W
                    V = self._state()[1]
                used, run.ratio, finished, moved = self._solve_ws_in_gram_space(
                    block.ws, V, 0.03 * block.target, budget, penalty, tol
                )
            elif self.mode == "gram" and fast_ws and self._cyclic:
                used, ratio, finished = self._gram_epoch_run(
                    block.ws, block.target, budget, penalty, tol
                )
                if used:
                    run.ratio = ratio
            else:
                used, finished = 0, False
                while used < budget:
                    v, dw, wm = self._epoch(self._order(block.ws), penalty)
                    used += 1
                    run.ratio = dw / wm if wm > 0 else 0.0
                    if v <= block.target or run.ratio <= tol:
                        finished = True
                        break
            n_iter += used
            block.left -= used
            run.visited = block.ws
            if finished or block.left == 0:
                run.block = None
                run.ws_size *= 2
                n_outer += 1
            if moved is not None:
                # (not when max_iter stops the fit here: no epoch would use it)
                if (
                    run.block is None
                    and n_iter < max_iter
                    and self._full_gram_ahead(run)
                ):
                    self._switch_to_full_gram(run)  # (the residual is not needed)
                else:
                    self._update_residual(block.ws, *moved)
        W = self.W.copy()
        if self.fit_intercept:
            intercept = self.ymean - np.sum(self.xmean * W, axis=1)
        else:
            intercept = np.zeros(T)
        result = SolverResult(W, intercept, n_iter, gap, converged, primal, residual)
        result.resume = None if converged else run
        result.stalled = stall.stalled
        return result

    def _choose_ws_size(self, run, support, n_viol):
        """Size of the next working set (stored in ``run.ws_size``), from the
        support and the number of violators."""
        p, T = self.p, self.T
        if not run.started:
            # first working set: twice the (warm-start) support plus the
            # violators, but no larger than a set whose Gram costs about
            # two full gradients (n k^2 <= 2 n p T); doubling up from 10
            # would spend one full gradient per doubling
            run.ws_size = max(
                10, 2 * support.size, min(n_viol, int(np.sqrt(2 * p * T)))
            )
            run.started = True
        else:
            # twice the support, growing only while violators are left out
            run.ws_size = max(
                10, 2 * support.size, min(run.ws_size, support.size + n_viol)
            )
            if run.visited is not None and support.size >= max(
                0.9 * run.visited.size, WS_JUMP_MIN
            ):
                # the support fills the last working set (near-full
                # supports): take every violator at once instead of
                # doubling, one outer iteration (a full gradient, a
                # larger Gram) per doubling. Small sets keep doubling:
                # their outer iterations are cheap, and on
                # ill-conditioned designs jumping early made default-tol
                # fits stop farther from the optimum.
                run.ws_size = max(run.ws_size, support.size + n_viol)
        return run.ws_size

    def _others_settled(self, run, viol, tol):
        """Would the features the last epoch did not visit (outside its
        working set) move by at most ``tol * max |W|``? Their next update is
        their stationarity violation over their curvature (exactly so for a
        zero row). With every feature visited this is scikit-learn's rule."""
        if run.visited is None or run.visited.size == self.p:
            return True
        viol = np.ascontiguousarray(viol, dtype=np.float64)  # (Python penalties)
        if not _violators_outside(run.visited, viol):
            return True  # (and no curvature pass over X is needed)
        outside = np.ones(self.p, dtype=bool)
        outside[run.visited] = False
        outside &= viol > 0  # the others would not move
        fs = self._feature_scale()[outside]
        step = float(np.max(viol[outside] * fs * fs, initial=0.0))
        return step <= tol * float(np.max(np.abs(self.W), initial=0.0))

    def _run_key(self, penalty):
        """What identifies a problem for :class:`_Run` (a resumed run
        continues only on the same problem and penalty)."""
        return (
            self.T, self.p, self.fit_intercept, self.yy, penalty.code,
            np.asarray(penalty.params).tobytes() if penalty.code is not None else
            id(penalty),
        )  # fmt: skip


class _StallMonitor:
    """Detects a fit that can make no more progress in floating point: the
    coefficients no longer move (updates within rounding of the largest one)
    and the certificate has not decreased over ``patience`` checks. This
    happens when ``tol`` asks for a gap below what float64 can resolve on
    the problem (e.g. ``tol=1e-14`` on 50000 rows); without it the fit would
    run to ``max_iter`` without changing."""

    patience = 5
    rounding_ratio = 64 * np.finfo(np.float64).eps

    def __init__(self):
        self.best = np.inf
        self.count = 0
        self.stalled = False

    def no_progress(self, measure, update_ratio):
        if update_ratio <= self.rounding_ratio and not measure < 0.999 * self.best:
            self.count += 1
        else:
            self.count = 0
        self.best = min(self.best, measure)
        self.stalled = self.count >= self.patience
        return self.stalled


def solve_bcd(
    X, op, datafit, penalty, W0, *, fit_intercept=True, max_iter=1000, tol=1e-4,
    use_working_set=True, mode="auto", verbose=0,
):  # fmt: skip
    """Minimise ``datafit (squared) + penalty`` by working-set BCD (one fit).

    Parameters
    ----------
    X : ndarray (float64) or scipy.sparse matrix of shape (n, p)
    op : DesignOperator over ``X``'s labelled entries
    datafit : Quadratic
    penalty : a separable penalty
    W0 : ndarray of shape (T, p), starting point (warm start)
    mode : {"auto", "residual", "gram"}

    Returns
    -------
    SolverResult with ``coef``, ``intercept``, ``n_iter`` (epochs), ``gap``.
    """
    solver = BCDSolver(X, op, datafit, fit_intercept=fit_intercept, mode=mode)
    return solver.solve(
        penalty, W0, max_iter=max_iter, tol=tol, use_working_set=use_working_set,
        verbose=verbose,
    )  # fmt: skip
