"""Working-set block coordinate descent for the squared loss.

For feature-separable penalties (``l1``, ``l21``, ``elasticnet``,
``sparse_group``) the coefficients of one feature across all tasks,
``W[:, j]``, form a block. The squared loss's Hessian in that block is
diagonal (each task has its own ``w_t``), with entries
``H_tj = sum_{e in t} c_e (x_ej - m_tj)^2``; a block step uses
``max_t H_tj`` (exact when all tasks share rows and weights, as in
scikit-learn's ``MultiTaskLasso``) and the penalty's block prox. ``l1`` is
updated coordinate by coordinate with the exact ``H_tj``.

Three epoch kernels share the block update:

* ``residual``: dense ``X`` (Fortran order is fastest), keeps the residual
  of every labelled entry;
* ``csc``: sparse ``X``, residual plus a per-task offset so that centring
  never densifies a column;
* ``gram``: when rows far outnumber features, works on ``X_t^T C_t X_t``
  (one ``p x p`` matrix shared by all tasks when every label is present).

Intercepts are exact: features and targets are centred per task on the fly
(``m_tj``, the task's weighted feature means), never by copying ``X``.

The outer loop (Python) computes the full gradient, the duality gap (the
stopping certificate, compared with ``tol * sum_e c_e y_e^2`` as in
scikit-learn) and per-feature optimality violations; the inner loop (numba)
runs epochs over a working set: the features in the support plus the worst
violators, doubling in size each outer iteration. When the working set's
rows outnumber its ``k`` features, the subproblem is solved on its ``k x k``
Gram matrix (per task when labels are missing), so inner epochs cost
``O(k^2 T)`` instead of ``O(n k T)``, and the residual is updated once per
outer iteration with BLAS.
"""

import numpy as np
import scipy.sparse as sp
from numba import njit

from .design import DesignOperator
from .penalties import KIND_L1, KIND_SPARSE_GROUP


@njit(cache=True)
def _row_violation(w, g, kind, lam, mu, a, b):
    T = w.shape[0]
    if kind == KIND_L1:
        s = 0.0
        for t in range(T):
            if w[t] != 0.0:
                d = g[t] + lam * np.sign(w[t])
            else:
                d = max(abs(g[t]) - lam, 0.0)
            s += d * d
        return np.sqrt(s)
    wn = 0.0
    for t in range(T):
        wn += w[t] * w[t]
    wn = np.sqrt(wn)
    s = 0.0
    if kind == KIND_SPARSE_GROUP:
        if wn == 0.0:
            for t in range(T):
                z = max(abs(g[t]) - a, 0.0)
                s += z * z
            return max(np.sqrt(s) - b, 0.0)
        for t in range(T):
            if w[t] != 0.0:
                d = g[t] + a * np.sign(w[t]) + b * w[t] / wn
            else:
                d = max(abs(g[t]) - a, 0.0)
            s += d * d
        return np.sqrt(s)
    # l21 + mu/2 ||.||^2
    if wn == 0.0:
        for t in range(T):
            s += g[t] * g[t]
        return max(np.sqrt(s) - lam, 0.0)
    for t in range(T):
        d = g[t] + mu * w[t] + lam * w[t] / wn
        s += d * d
    return np.sqrt(s)


@njit(cache=True)
def _row_update(w, g, h, kind, lam, mu, a, b, out):
    T = w.shape[0]
    if kind == KIND_L1:
        for t in range(T):
            if h[t] <= 0.0:
                out[t] = 0.0
            else:
                z = w[t] - g[t] / h[t]
                out[t] = np.sign(z) * max(abs(z) - lam / h[t], 0.0)
        return
    L = 0.0
    for t in range(T):
        L = max(L, h[t])
    if L <= 0.0:
        for t in range(T):
            out[t] = 0.0
        return
    thresh = lam / L
    for t in range(T):
        z = w[t] - g[t] / L
        if kind == KIND_SPARSE_GROUP:
            z = np.sign(z) * max(abs(z) - a / L, 0.0)
        out[t] = z
    if kind == KIND_SPARSE_GROUP:
        thresh = b / L
    nrm = 0.0
    for t in range(T):
        nrm += out[t] * out[t]
    nrm = np.sqrt(nrm)
    scale = 0.0
    if nrm > thresh:
        scale = (1.0 - thresh / nrm) / (1.0 + mu / L)
    for t in range(T):
        out[t] *= scale


@njit(cache=True)
def _epoch_residual(X, row_ptr, entry_task, c, r, W, H, xmean, ws, kind, lam, mu, a, b):
    T = W.shape[0]
    n = X.shape[0]
    g = np.empty(T)
    w_old = np.empty(T)
    w_new = np.empty(T)
    delta = np.empty(T)
    max_viol = 0.0
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
        max_viol = max(max_viol, _row_violation(w_old, g, kind, lam, mu, a, b))
        _row_update(w_old, g, H[:, j], kind, lam, mu, a, b, w_new)
        changed = False
        centred = False
        for t in range(T):
            delta[t] = w_new[t] - w_old[t]
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
    return max_viol


@njit(cache=True, fastmath={"reassoc", "contract"})
def _epoch_full(X, s, k, R, W, H, m, ws, kind, lam, mu, a, b):
    """Epoch when every label is present: ``c_(i,t) = s_i k_t`` and ``R`` is
    the ``(n, T)`` Fortran-ordered residual, so the block gradient is ``T``
    contiguous dot products and the update ``T`` axpys (no per-entry
    indexing). Reassociation only reorders the dot products' sums."""
    T = W.shape[0]
    n = X.shape[0]
    g = np.empty(T)
    w_old = np.empty(T)
    w_new = np.empty(T)
    max_viol = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        for t in range(T):
            acc = 0.0
            for i in range(n):
                acc += X[i, j] * s[i] * R[i, t]
            g[t] = -k[t] * acc
            w_old[t] = W[t, j]
        max_viol = max(max_viol, _row_violation(w_old, g, kind, lam, mu, a, b))
        _row_update(w_old, g, H[:, j], kind, lam, mu, a, b, w_new)
        mj = m[j]
        for t in range(T):
            dt = w_new[t] - w_old[t]
            if dt != 0.0:
                for i in range(n):
                    R[i, t] -= (X[i, j] - mj) * dt
                W[t, j] = w_new[t]
    return max_viol


@njit(cache=True)
def _epoch_csc(
    data,
    indices,
    indptr,
    row_ptr,
    entry_task,
    c,
    rs,
    off,
    W,
    H,
    xmean,
    ws,
    kind,
    lam,
    mu,
    a,
    b,
):
    # true residual of entry e is rs[e] + off[task(e)]
    T = W.shape[0]
    g = np.empty(T)
    w_old = np.empty(T)
    w_new = np.empty(T)
    delta = np.empty(T)
    max_viol = 0.0
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
        max_viol = max(max_viol, _row_violation(w_old, g, kind, lam, mu, a, b))
        _row_update(w_old, g, H[:, j], kind, lam, mu, a, b, w_new)
        changed = False
        for t in range(T):
            delta[t] = w_new[t] - w_old[t]
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
    return max_viol


@njit(cache=True)
def _epoch_gram(Q, slot, k, XtY, QW, W, ws, kind, lam, mu, a, b):
    T, p = W.shape
    g = np.empty(T)
    h = np.empty(T)
    w_old = np.empty(T)
    w_new = np.empty(T)
    max_viol = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        for t in range(T):
            g[t] = QW[t, j] - XtY[t, j]
            h[t] = k[t] * Q[slot[t], j, j]
            w_old[t] = W[t, j]
        max_viol = max(max_viol, _row_violation(w_old, g, kind, lam, mu, a, b))
        _row_update(w_old, g, h, kind, lam, mu, a, b, w_new)
        for t in range(T):
            dt = w_new[t] - w_old[t]
            if dt != 0.0:
                kd = k[t] * dt
                q = slot[t]
                for m in range(p):
                    QW[t, m] += kd * Q[q, j, m]
                W[t, j] = w_new[t]
    return max_viol


@njit(cache=True)
def _weighted_sq_colsums_dense(X, row_ptr, entry_task, c, T):
    n, p = X.shape
    S = np.zeros((T, p))
    for i in range(n):
        for e in range(row_ptr[i], row_ptr[i + 1]):
            t = entry_task[e]
            ce = c[e]
            for j in range(p):
                S[t, j] += ce * X[i, j] * X[i, j]
    return S


def _weighted_sq_colsums(X, op, c, T):
    if sp.issparse(X):
        X2 = X.multiply(X).tocsr()
        return DesignOperator(X2, op.row_ptr, op.entry_row, op.entry_task, T).rmatvec(c)
    return _weighted_sq_colsums_dense(X, op.row_ptr, op.entry_task, c, T)


def quadratic_gap(rr, ry, W, V, penalty):
    """Duality gap of ``1/2 sum_e c_e r_e^2 + penalty(W)``.

    ``rr = sum c r^2``, ``ry = sum c r y`` (centred ``y`` with an intercept),
    ``V = X^T (c r)`` (minus the gradient). The dual point is ``theta = c r``,
    rescaled into the dual ball when the penalty has no ridge part.
    """
    primal = 0.5 * rr + penalty.value(W)
    if penalty.mu > 0:
        dual = ry - 0.5 * rr - penalty.conjugate_value(V)
    else:
        dn = penalty.dual_norm(V)
        s = 1.0 if dn <= penalty.lam else penalty.lam / dn
        dual = s * ry - 0.5 * s * s * rr
    return primal - dual, primal


class BCDResult:
    def __init__(self, W, intercept, n_iter, gap, converged, objective):
        self.coef = W
        self.intercept = intercept
        self.n_iter = n_iter
        self.gap = gap
        self.converged = converged
        self.objective = objective
        self.residual = np.nan


def _use_gram(X, op, T, n_slots):
    if sp.issparse(X):
        return False
    p = X.shape[1]
    n_per_task = op.n_entries / T
    return n_per_task >= 4 * p and n_slots * p * p * 8 <= 2**28


def _gram_costs_many_gradients(X, op, T, n_slots):
    """Does the full Gram cost more than ~10 full gradients?

    Gram: ``n_slots * (rows per slot) * p^2``; a full gradient:
    ``n_entries * p``. With every label present the ratio is ``p / T``.
    """
    p = X.shape[1]
    rows_per_slot = X.shape[0] if n_slots == 1 else op.n_entries / T
    return n_slots * rows_per_slot * p * p > 10 * op.n_entries * p


def solve_bcd(
    X,
    op,
    datafit,
    penalty,
    W0,
    *,
    fit_intercept=True,
    max_iter=1000,
    tol=1e-4,
    use_working_set=True,
    mode="auto",
    verbose=0,
):
    """Minimise ``datafit (squared) + penalty`` by working-set BCD.

    Parameters
    ----------
    X : ndarray (float64) or scipy.sparse matrix of shape (n, p)
    op : DesignOperator over ``X``'s labelled entries
    datafit : Quadratic
    penalty : a separable penalty (has ``bcd_params``)
    W0 : ndarray of shape (T, p), starting point (warm start)
    mode : {"auto", "residual", "gram"}

    Returns
    -------
    BCDResult with ``coef``, ``intercept``, ``n_iter`` (epochs), ``gap``.
    """
    T, p = W0.shape
    c, y, task = datafit.c, datafit.y, datafit.entry_task
    task_c = datafit.task_c
    if fit_intercept:
        xmean = op.task_means(c, task_c)
        ymean = np.bincount(task, weights=c * y, minlength=T) / task_c
    else:
        xmean = np.zeros((T, p))
        ymean = np.zeros(T)
    yc = y - ymean[task]
    tol_scaled = tol * float(np.dot(c, yc * yc))
    kind, lam, mu, a, b = penalty.bcd_params
    W = np.array(W0, dtype=np.float64, order="C", copy=True)

    switch_to_gram = False
    if mode == "auto":
        n_slots = 1 if op.full else T
        gram_ok = _use_gram(X, op, T, n_slots)
        # When the Gram costs many full gradients, start with working sets
        # (each solved in its own small Gram) and build the full Gram only if
        # the support grows large: a small support never repays it, a large
        # one needs it (every epoch then touches most features).
        switch_to_gram = gram_ok and _gram_costs_many_gradients(X, op, T, n_slots)
        mode = "gram" if gram_ok and not switch_to_gram else "residual"

    Q = slot = k = XtY = QW = yy = None

    def build_gram():
        """Gram epochs' state at the current ``W``."""
        nonlocal Q, slot, k, XtY, QW, yy
        if op.full:
            # every task uses all rows: one Gram matrix, scaled per task
            row_s = _full_row_weights(op, datafit)
            if np.all(row_s == row_s[0]):
                Q0 = row_s[0] * (X.T @ X)  # symmetric rank-k update, no copy of X
            else:
                Q0 = X.T @ (X * row_s[:, None])
            msum = row_s.sum()
            m = xmean[0]  # every task's mean is X^T s / sum(s) (zero without)
            Q0 -= msum * np.outer(m, m)
            Q = Q0[None]
            slot = np.zeros(T, dtype=np.int64)
            k = task_c / msum
        else:
            Q = np.empty((T, p, p))
            for t in range(T):
                ents = op_task_entries(op, t)
                Xt = X[op.entry_row[ents]]
                ct = c[ents]
                Qt = Xt.T @ (Xt * ct[:, None])
                Qt -= task_c[t] * np.outer(xmean[t], xmean[t])
                Q[t] = Qt
            slot = np.arange(T, dtype=np.int64)
            k = np.ones(T)
        XtY = op.rmatvec(c * yc)
        if not np.any(W):
            QW = np.zeros((T, p))
        elif op.full:  # one symmetric Q for all tasks: no (T, p, p) copy
            QW = k[:, None] * (W @ Q[0])
        else:
            QW = np.einsum("tij,tj->ti", Q, W)
        yy = float(np.dot(c, yc * yc))

    if mode == "gram":
        build_gram()
    else:
        H = None  # per-task column curvatures, built when residual epochs run
        if np.any(W):
            r = yc - (op.matvec(W) - np.sum(xmean * W, axis=1)[task])
        else:
            r = yc.copy()
        if sp.issparse(X):
            Xc = sp.csc_array(X)
            Xc.sort_indices()
            rs = r.copy()
            off = np.zeros(T)
        elif X.flags.c_contiguous and not X.flags.f_contiguous and X.nbytes <= 2**28:
            # column access: a Fortran copy pays for itself after one epoch
            # (scikit-learn copies too); very large X is used as it is
            Xc = np.asfortranarray(X)
        else:
            Xc = X
        full = op.full and not sp.issparse(X)
        if full:
            row_s = _full_row_weights(op, datafit)
            k_full = task_c / row_s.sum()
            uniform_rows = bool(np.all(row_s == row_s[0]))
            # entries are row-major, so r is the C-ordered (n, T) residual
            R = np.asfortranarray(r.reshape(X.shape[0], T))

    def state():
        """(rr, ry, V) at the current W."""
        if mode == "gram":
            G = QW - XtY
            Wx = np.sum(W * XtY)
            rr = yy - 2 * Wx + float(np.sum(W * QW))
            return rr, yy - Wx, -G
        if full:
            rr_e = np.ravel(R, order="C")
        elif sp.issparse(X):
            rr_e = rs + off[task]
        else:
            rr_e = r
        V = op.rmatvec(c * rr_e)
        return float(np.dot(c, rr_e * rr_e)), float(np.dot(c, rr_e * yc)), V

    if mode != "gram":
        n_slots = 1 if full else T
        n_rows_slot = op.n_entries / n_slots
        task_rows = [op.entry_row[np.flatnonzero(task == t)] for t in range(T)]

    def ws_gram_fits(k):
        """Gram of the working set pays when rows outnumber its features."""
        return (
            n_rows_slot >= k / 2
            and n_slots * k * k * 8 <= 2**27
            and X.shape[0] * k * 8 <= 2**28
        )

    def solve_ws_in_gram_space(ws, V, target, budget):
        """Solve the working-set subproblem on its Gram matrix (``k x k`` per
        task), then update the residual once with two BLAS products.

        Inner epochs cost ``O(k^2 T)`` instead of ``O(n k T)``: the
        subproblem's gradient is ``V0 - K_t Q_t (W - W0)``, kept up to date
        by the Gram kernel.
        """
        nonlocal W
        k = ws.size
        Xw = Xc[:, ws]
        Xw = Xw.toarray() if sp.issparse(Xw) else np.asarray(Xw)
        if full:
            m = xmean[0, ws]
            if uniform_rows:
                Q = row_s[0] * (Xw.T @ Xw)  # symmetric rank-k update, no scaled copy
            else:
                Q = Xw.T @ (Xw * row_s[:, None])
            Q = (Q - row_s.sum() * np.outer(m, m))[None]
            slot_, k_ = np.zeros(T, dtype=np.int64), k_full
        else:
            Q = np.empty((T, k, k))
            for t in range(T):
                Xt = Xw[task_rows[t]]
                ct = c[task == t]
                mt = xmean[t, ws]
                Q[t] = Xt.T @ (Xt * ct[:, None]) - task_c[t] * np.outer(mt, mt)
            slot_, k_ = np.arange(T, dtype=np.int64), np.ones(T)
        Vw = np.ascontiguousarray(V[:, ws])
        QW = np.zeros((T, k))
        Wk = np.ascontiguousarray(W[:, ws])
        W0k = Wk.copy()
        local = np.arange(k, dtype=np.int64)
        epochs = 0
        while epochs < min(budget, 200):
            v = _epoch_gram(Q, slot_, k_, Vw, QW, Wk, local, kind, lam, mu, a, b)
            epochs += 1
            if v <= target:
                break
        dW = Wk - W0k
        W[:, ws] = Wk
        if full:
            R[...] -= Xw @ dW.T - xmean[0, ws] @ dW.T
        else:
            op_ws = DesignOperator(
                np.ascontiguousarray(Xw), op.row_ptr, op.entry_row, task, T
            )
            shift = np.sum(xmean[:, ws] * dW, axis=1)
            if sp.issparse(X):
                rs[...] -= op_ws.matvec(dW)
                off[...] += shift
            else:
                r[...] -= op_ws.matvec(dW) - shift[task]
        return epochs

    ws_size = 10
    n_iter = 0
    n_outer = 0
    gap = np.inf
    converged = False
    all_features = np.arange(p, dtype=np.int64)
    while True:
        rr, ry, V = state()
        gap, primal = quadratic_gap(rr, ry, W, V, penalty)
        if verbose:
            print(
                f"[bcd] epoch {n_iter} (outer {n_outer}): objective {primal:.6e}, "
                f"gap {gap:.3e}"
            )
        if gap <= tol_scaled:
            converged = True
            break
        if n_iter >= max_iter:
            break
        viol = penalty.kkt_violation(W, -V)
        support = np.flatnonzero(np.any(W != 0, axis=0))
        n_viol = int(np.sum(viol > 0))
        if n_iter == 0:
            # first working set: the violators, but no larger than a set whose
            # Gram costs about two full gradients (n k^2 <= 2 n p T); doubling
            # up from 10 would spend one full gradient per doubling
            ws_size = max(10, min(n_viol, int(np.sqrt(2 * p * T))))
        else:
            # twice the support, growing only while violators are left outside
            ws_size = max(10, 2 * support.size, min(ws_size, support.size + n_viol))
        if switch_to_gram and (support.size > p // 4 or ws_size > p // 2):
            # a large support, or a working set whose own Gram would cost a
            # good part of the full one: build the full Gram now
            build_gram()
            mode, switch_to_gram = "gram", False
            continue
        if use_working_set and p > ws_size:
            if ws_size >= p:
                ws = all_features
            else:
                score = viol.copy()
                score[support] = np.inf
                ws = np.sort(np.argpartition(-score, ws_size - 1)[:ws_size])
                ws = ws.astype(np.int64)
        else:
            ws = all_features
        target = 0.3 * float(viol.max())
        if mode != "gram" and ws.size < p and ws_gram_fits(ws.size):
            # Gram epochs are cheap next to the outer full gradient: solve the
            # working set more tightly to save outer iterations
            n_iter += solve_ws_in_gram_space(ws, V, 0.03 * target, max_iter - n_iter)
            n_outer += 1
            ws_size *= 2
            continue
        # Back to the outer loop (gap check, new working set) when the working
        # set is solved to ``target`` or after a few epochs: on collinear
        # features cyclic updates can keep per-feature violations from
        # dropping although the gap is already below tolerance.
        inner_end = min(max_iter, n_iter + 10)
        if mode != "gram" and H is None:
            H = _weighted_sq_colsums(X, op, c, T) - task_c[:, None] * xmean**2
            H = np.maximum(H, 0.0)
        while n_iter < inner_end:
            if mode == "gram":
                v = _epoch_gram(Q, slot, k, XtY, QW, W, ws, kind, lam, mu, a, b)
            elif full:
                v = _epoch_full(
                    Xc, row_s, k_full, R, W, H, xmean[0], ws, kind, lam, mu, a, b
                )
            elif sp.issparse(X):
                v = _epoch_csc(
                    Xc.data,
                    Xc.indices,
                    Xc.indptr,
                    op.row_ptr,
                    task,
                    c,
                    rs,
                    off,
                    W,
                    H,
                    xmean,
                    ws,
                    kind,
                    lam,
                    mu,
                    a,
                    b,
                )
            else:
                v = _epoch_residual(
                    Xc, op.row_ptr, task, c, r, W, H, xmean, ws, kind, lam, mu, a, b
                )
            n_iter += 1
            if v <= target:
                break
        ws_size *= 2
    intercept = ymean - np.sum(xmean * W, axis=1) if fit_intercept else np.zeros(T)
    return BCDResult(W, intercept, n_iter, gap, converged, primal)


def _full_row_weights(op, datafit):
    """Row weights ``s_i`` with ``c_(i,t) = s_i k_t`` when every label is present.

    Taken from the task with the largest total weight (``k_t`` is then
    ``task_c[t] / s.sum()``).
    """
    t_star = int(np.argmax(datafit.task_c))
    C = datafit.c.reshape(op.n_samples, op.n_tasks)
    return np.ascontiguousarray(C[:, t_star])


def op_task_entries(op, t):
    return np.flatnonzero(op.entry_task == t)
