"""Products with the design matrix over labelled entries only.

A multi-task linear model predicts entry ``e = (i, t)`` as ``x_i . w_t``.
:class:`DesignOperator` computes all those predictions at once
(``matvec``) and the adjoint ``G[t] = sum_{e in t} d_e x_i`` (``rmatvec``),
choosing the cheapest route:

* ``"blas"``: most cells of ``Y`` are labelled. Two BLAS products with the
  ``(n, T)`` layout, the floor for one gradient.
* ``"rows"``: few labels per row (per-task data). numba loops over each row's
  entries, ``O(n_entries * p)``, with no ``n x T`` work array.

Dense (C or Fortran order) and CSR/CSC input are supported without copying
dense ``X``.
"""

import numpy as np
import scipy.sparse as sp
from numba import njit

from ._dots import dots_with_rows


# reassociation lets LLVM vectorise the dot product (2-4x faster; the sum's
# order, like BLAS's, is then not the sequential one)
@njit(cache=True, fastmath={"reassoc"})
def _matvec_dense_c(X, row_ptr, entry_task, W, out):
    n, p = X.shape
    for i in range(n):
        for e in range(row_ptr[i], row_ptr[i + 1]):
            t = entry_task[e]
            s = 0.0
            for j in range(p):
                s += X[i, j] * W[t, j]
            out[e] = s


@njit(cache=True)
def _matvec_dense_f(X, row_ptr, entry_task, W, out):
    n, p = X.shape
    out[:] = 0.0
    for j in range(p):
        for i in range(n):
            xij = X[i, j]
            if xij != 0.0:
                for e in range(row_ptr[i], row_ptr[i + 1]):
                    out[e] += xij * W[entry_task[e], j]


@njit(cache=True)
def _rmatvec_dense_c(X, row_ptr, entry_task, d, G):
    n, p = X.shape
    G[:] = 0.0
    for i in range(n):
        for e in range(row_ptr[i], row_ptr[i + 1]):
            de = d[e]
            if de != 0.0:
                t = entry_task[e]
                for j in range(p):
                    G[t, j] += de * X[i, j]


@njit(cache=True)
def _rmatvec_dense_f(X, row_ptr, entry_task, d, G):
    n, p = X.shape
    G[:] = 0.0
    for j in range(p):
        for i in range(n):
            xij = X[i, j]
            if xij != 0.0:
                for e in range(row_ptr[i], row_ptr[i + 1]):
                    G[entry_task[e], j] += d[e] * xij


@njit(cache=True)
def _matvec_csr(data, indices, indptr, row_ptr, entry_task, W, out):
    n = indptr.shape[0] - 1
    for i in range(n):
        for e in range(row_ptr[i], row_ptr[i + 1]):
            t = entry_task[e]
            s = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                s += data[k] * W[t, indices[k]]
            out[e] = s


@njit(cache=True)
def _rmatvec_csr(data, indices, indptr, row_ptr, entry_task, d, G):
    n = indptr.shape[0] - 1
    G[:] = 0.0
    for i in range(n):
        for e in range(row_ptr[i], row_ptr[i + 1]):
            de = d[e]
            if de != 0.0:
                t = entry_task[e]
                for k in range(indptr[i], indptr[i + 1]):
                    G[t, indices[k]] += de * data[k]


#: ``X`` entries from which :func:`cross_product` runs ``(X^T D)^T``
CROSS_PRODUCT_TRANSPOSED_MIN = 2**20


def cross_product(X, D):
    """``D^T X`` for dense ``X`` ``(n, p)`` and ``D`` ``(n, T)``: shape
    ``(T, p)``, C-contiguous.

    On large ``X`` it runs as ``(X^T D)^T``: OpenBLAS is faster with the long
    side as the product's rows (one thread, Fortran ``X`` and ``D``:
    n=5000, p=2000, T=20 14.4 -> 12.5 ms; n=50000, p=100, T=10 5.9 -> 5.1
    ms; n=100000, p=20, T=4 0.72x). Below about a million entries the two
    orders are within 10% either way, and the direct one is kept.

    >>> import numpy as np
    >>> X, D = np.arange(6.0).reshape(3, 2), np.ones((3, 1))
    >>> cross_product(X, D)
    array([[6., 9.]])
    """
    if X.shape[0] * X.shape[1] >= CROSS_PRODUCT_TRANSPOSED_MIN:
        return np.ascontiguousarray((X.T @ D).T)
    return D.T @ X


@njit(cache=True)
def task_sums(v, entry_task, n_tasks):
    """``np.bincount(entry_task, weights=v, minlength=n_tasks)`` (the same
    sums in the same order), without bincount's per-call overhead."""
    out = np.zeros(n_tasks)
    for e in range(v.shape[0]):
        out[entry_task[e]] += v[e]
    return out


@njit(cache=True)
def full_task_sums(V):
    """Column sums of a row-major ``(n, T)`` ``V``: :func:`task_sums` of
    ``V.reshape(-1)`` over the full layout (the same sums in the same order),
    without reading ``entry_task``."""
    n, T = V.shape
    out = np.zeros(T)
    # four tasks at a time in registers: four independent chains of adds
    # (each still down the rows, in order), not a store and a load of out[t]
    # per entry (latency-bound: 2x the time at T = 5)
    t4 = T - T % 4
    for t in range(0, t4, 4):
        a0 = a1 = a2 = a3 = 0.0
        for i in range(n):
            a0 += V[i, t]
            a1 += V[i, t + 1]
            a2 += V[i, t + 2]
            a3 += V[i, t + 3]
        out[t], out[t + 1], out[t + 2], out[t + 3] = a0, a1, a2, a3
    for t in range(t4, T):
        a0 = 0.0
        for i in range(n):
            a0 += V[i, t]
        out[t] = a0
    return out


@njit(cache=True)
def tiled_rows(v, n):
    """``np.tile(v, n)``: ``n`` copies of ``v`` end to end (the row-major
    ``(n, T)`` entries of per-task values), in one pass (numpy's broadcast
    fill of a ``(n, T)`` array costs 4x as much at ``T = 5``)."""
    T = v.shape[0]
    out = np.empty(n * T)
    for i in range(n):
        for t in range(T):
            out[i * T + t] = v[t]
    return out


def full_entry_layout(n, T):
    """Index arrays of an ``(n, T)`` problem with every cell labelled.

    ``(row_ptr, entry_row, entry_task, task_ptr, task_entries)`` of the
    row-major entries ``e = i T + t`` (see ``TaskData``): what
    ``_label_entries`` gives for targets without NaN.

    Examples
    --------
    >>> from skmtl._solvers.design import full_entry_layout
    >>> row_ptr, entry_row, entry_task, task_ptr, task_entries = full_entry_layout(2, 3)
    >>> entry_row.tolist(), entry_task.tolist()
    ([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2])
    >>> row_ptr.tolist(), task_ptr.tolist(), task_entries.tolist()
    ([0, 3, 6], [0, 2, 4, 6], [0, 3, 1, 4, 2, 5])
    """
    rows = np.arange(n, dtype=np.int64)
    tasks = np.arange(T, dtype=np.int64)
    row_ptr = np.arange(n + 1, dtype=np.int64) * T
    entry_row = np.repeat(rows, T)
    entry_task = np.tile(tasks, n)
    task_ptr = np.arange(T + 1, dtype=np.int64) * n
    task_entries = (tasks[:, None] + T * rows[None, :]).reshape(-1)
    return row_ptr, entry_row, entry_task, task_ptr, task_entries


@njit(cache=True)
def subtract_task_offsets(f, offsets, entry_task):
    """``f -= offsets[entry_task]`` in place, without a gathered temporary."""
    for e in range(f.shape[0]):
        f[e] -= offsets[entry_task[e]]


@njit(cache=True)
def _gather_entries(F, entry_row, entry_task, out):
    """``out = F[entry_row, entry_task]`` (numpy's fancy indexing costs
    several times this loop on the sizes of a solver iteration)."""
    for e in range(out.shape[0]):
        out[e] = F[entry_row[e], entry_task[e]]


@njit(cache=True)
def _scatter_entries(d, entry_row, entry_task, D):
    """``D[entry_row, entry_task] = d``."""
    for e in range(d.shape[0]):
        D[entry_row[e], entry_task[e]] = d[e]


class DesignOperator:
    """Entry-wise products with ``X`` for a multi-task problem.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features), float64
    row_ptr, entry_row, entry_task : ndarray of int64
        The labelled entries, in row-major order (see ``TaskData``).
    n_tasks : int
    mode : {"auto", "blas", "rows"}
    column_stats : tuple of ndarray, default=None
        ``X``'s :func:`column_min_max_sum`, when already computed (by input
        validation); else computed on first use by :meth:`column_stats`.
    entries : object, default=None
        With ``row_ptr``, ``entry_row`` and ``entry_task`` all None, every
        cell is labelled and the three arrays are read from ``entries`` (a
        ``TaskData``), or built by :func:`full_entry_layout`, on first use:
        the full-data solvers' BLAS products never need them.
    tiled_weights : tuple, default=None
        ``(c, v)`` when the entry weights ``c`` of an every-label problem are
        ``n`` copies of the per-task row ``v`` (no sample weights:
        ``c_(i,t) = w_t / n``), as :func:`tiled_rows` builds them. Then
        :meth:`factored_weights` and :meth:`uniform_rows` read ``v``, not the
        ``(n, T)`` weights (same results, bit for bit).
    """

    def __init__(
        self, X, row_ptr, entry_row, entry_task, n_tasks, mode="auto",
        column_stats=None, entries=None, tiled_weights=None,
    ):  # fmt: skip
        self.n_samples, self.n_features = X.shape
        self.n_tasks = n_tasks
        self._row_ptr = row_ptr
        self._entry_row = entry_row
        self._entry_task = entry_task
        self._entries = entries
        if entry_task is None:
            self.n_entries = self.n_samples * n_tasks
        else:
            self.n_entries = entry_task.shape[0]
        self.full = self.n_entries == self.n_samples * n_tasks
        if mode == "auto":
            density = self.n_entries / max(1, self.n_samples * n_tasks)
            mode = "blas" if (density >= 0.3 or n_tasks == 1) else "rows"
        self.mode = mode
        self.sparse = sp.issparse(X)
        if self.sparse and mode == "rows":
            X = sp.csr_array(X) if not X.format == "csr" else X
            X.sort_indices()
        self.X = X
        if column_stats is not None:
            # computed by input validation on this very X (its finite check)
            self._column_stats = column_stats
        self._tiled_weights = tiled_weights
        self._uniform_s = None  # the row factor known to be constant

    def _layout(self):
        if self._entry_task is None:
            src = self._entries
            if src is None:
                src = full_entry_layout(self.n_samples, self.n_tasks)
                self._row_ptr, self._entry_row, self._entry_task = src[:3]
            else:
                self._row_ptr = src.row_ptr
                self._entry_row = src.entry_row
                self._entry_task = src.entry_task
        return self._row_ptr, self._entry_row, self._entry_task

    @property
    def row_ptr(self):
        """Entries of row ``i``: ``row_ptr[i]:row_ptr[i + 1]``."""
        return self._layout()[0]

    @property
    def entry_row(self):
        """Row of each entry."""
        return self._layout()[1]

    @property
    def entry_task(self):
        """Task of each entry."""
        return self._layout()[2]

    def matvec(self, W):
        """Predictions ``x_i . w_t`` for every entry (no intercept)."""
        if self.mode == "blas":
            F = self.X @ W.T
            F = np.asarray(F)
            if self.full:
                return np.ascontiguousarray(F).reshape(-1)
            out = np.empty(self.n_entries)
            _gather_entries(
                np.ascontiguousarray(F, dtype=np.float64), self.entry_row,
                self.entry_task, out,
            )  # fmt: skip
            return out
        out = np.empty(self.n_entries)
        W = np.ascontiguousarray(W, dtype=np.float64)
        if self.sparse:
            X = self.X
            _matvec_csr(
                X.data, X.indices, X.indptr, self.row_ptr, self.entry_task, W, out
            )
        elif self.X.flags.c_contiguous:
            _matvec_dense_c(self.X, self.row_ptr, self.entry_task, W, out)
        else:
            _matvec_dense_f(self.X, self.row_ptr, self.entry_task, W, out)
        return out

    def rmatvec(self, d):
        """``G[t] = sum_{e in task t} d_e x_{row(e)}``, shape (n_tasks, n_features)."""
        if self.mode == "blas":
            if self.full:
                D = d.reshape(self.n_samples, self.n_tasks)
            else:
                D = np.zeros((self.n_samples, self.n_tasks))
                _scatter_entries(
                    np.ascontiguousarray(d, dtype=np.float64), self.entry_row,
                    self.entry_task, D,
                )  # fmt: skip
            if self.sparse:
                return np.asarray(self.X.T @ D).T.copy()
            return cross_product(self.X, D)
        G = np.empty((self.n_tasks, self.n_features))
        d = np.ascontiguousarray(d, dtype=np.float64)
        if self.sparse:
            X = self.X
            _rmatvec_csr(
                X.data, X.indices, X.indptr, self.row_ptr, self.entry_task, d, G
            )
        elif self.X.flags.c_contiguous:
            _rmatvec_dense_c(self.X, self.row_ptr, self.entry_task, d, G)
        else:
            _rmatvec_dense_f(self.X, self.row_ptr, self.entry_task, d, G)
        return G

    def column_stats(self):
        """``(min, max, sum)`` of each column of a dense float64 ``X`` with
        rows (:func:`column_min_max_sum`), computed once: the offset-column
        check and the curvatures' scaling both read them."""
        stats = getattr(self, "_column_stats", None)
        if stats is None:
            stats = self._column_stats = column_min_max_sum(self.X)
        return stats

    def tiled_row(self, c):
        """The per-task row ``v`` when ``c`` is the tiled entry weights this
        operator was given (``n`` copies of ``v``: ``c_(i,t) = v_t``), else
        None."""
        tiled = self._tiled_weights
        return tiled[1] if tiled is not None and tiled[0] is c else None

    def targets_product(self, y):
        """``(mu, XtD)``, ``XtD = X^T (Y - mu)`` of shape ``(T, p)``, when
        input validation computed it in its pass over this very ``X``
        (:func:`column_stats_and_targets`) for the every-label targets
        ``y`` (flat, row-major: the same first and last rows), else None."""
        prod = getattr(getattr(self, "_column_stats", None), "targets", None)
        if prod is None or not self.full or self.sparse:
            return None
        mu, XtD, first, last = prod
        T = self.n_tasks
        if (
            XtD.shape != (T, self.n_features)
            or y.shape != (self.n_samples * T,)
            # (np.array_equal's values, fewer steps: the shapes match here)
            or not (first == y[:T]).all()
            or not (last == y[y.size - T :]).all()
        ):
            return None
        return mu, XtD

    def task_groups(self):
        """``(order, ptr)``: the entries sorted by task (stable, so each
        task's rows keep their order), task ``t``'s entries being
        ``order[ptr[t]:ptr[t + 1]]``. Computed once (a linear-time sort)."""
        groups = getattr(self, "_task_groups", None)
        if groups is None:
            task = self.entry_task
            # small integer keys make numpy's stable sort a radix sort
            keys = task.astype(np.int16) if self.n_tasks < 2**15 else task
            order = np.argsort(keys, kind="stable").astype(np.int64)
            ptr = np.zeros(self.n_tasks + 1, dtype=np.int64)
            np.cumsum(np.bincount(task, minlength=self.n_tasks), out=ptr[1:])
            groups = self._task_groups = (order, ptr)
        return groups

    def task_means(self, c, task_sums):
        """Weighted feature means per task, ``m_t = sum_e c_e x_i / sum_e c_e``.

        When every row is labelled for every task and the weights factor as
        ``c_(i,t) = s_i k_t`` (always, unless sample weights differ between
        tasks), every task has the same mean ``X^T s / sum(s)``: one
        matrix-vector product instead of ``T``.
        """
        if self.n_tasks > 1:
            factors = self.factored_weights(c, task_sums)
            if factors is not None:
                s, k = factors
                if (
                    getattr(self, "_column_stats", None) is not None
                    and s.size
                    and self.uniform_rows(s)
                ):
                    # equal row weights: the column sums already computed
                    m = self._column_stats[2] / self.n_samples
                else:
                    m = np.asarray(self.X.T @ s).ravel() / s.sum()
                # every task's row is m (np.tile's Python steps cost more)
                out = np.empty((self.n_tasks, m.shape[0]))
                out[:] = m
                return out
        return self.rmatvec(c) / task_sums[:, None]

    def factored_weights(self, c, task_sums):
        """``(s, k)`` with ``c_(i,t) = s_i k_t`` when every row is labelled for
        every task and the entry weights factor so (sample weights times task
        weights do; Newton weights of the logistic loss do not), else None.

        ``s`` is the column of the task with the largest total weight.
        """
        if not self.full:
            return None
        # the solvers of one fit ask several times for the same weights
        cached = getattr(self, "_factored", None)
        if (
            cached is not None
            and cached[0] is c
            and cached[1].shape == np.shape(task_sums)
            and (cached[1] == task_sums).all()  # (np.array_equal, fewer steps)
        ):
            return cached[2]
        factors = self._factor_weights(c, task_sums)
        self._factored = (c, np.array(task_sums, copy=True), factors)
        return factors

    def uniform_rows(self, s):
        """``np.all(s == s[0])`` for a non-empty row factor ``s`` of
        :meth:`factored_weights`, without reading ``s`` when it came from
        tiled weights (then it is constant)."""
        if s is self._uniform_s:
            return True
        return bool(np.all(s == s[0]))

    def _factor_weights(self, c, task_sums):
        tiled = self._tiled_weights
        if tiled is not None and tiled[0] is c and self.n_samples:
            # c is n copies of the row v: every row gives the same deviation
            # and the same largest weight as the first, and the column of
            # task t_star is v[t_star] throughout
            v = tiled[1]
            t_star = int(np.argmax(task_sums))
            s = np.full(self.n_samples, v[t_star])
            k = task_sums / task_sums[t_star]
            dev, top = _factor_deviation(v.reshape(1, -1), s[:1], k)
            if dev > 1e-12 * top:
                return None
            if v[t_star] == v[t_star]:  # (NaN differs from itself)
                self._uniform_s = s
            return s, k
        C = c.reshape(self.n_samples, self.n_tasks)
        t_star = int(np.argmax(task_sums))
        s = np.ascontiguousarray(C[:, t_star])
        k = task_sums / task_sums[t_star]
        # one numba pass, no (n, T) temporaries
        dev, top = _factor_deviation(C, s, k)
        if dev > 1e-12 * top:
            return None
        return s, k


@njit(cache=True)
def _factor_deviation(C, s, k):
    """``(max |C - s k^T|, max |C|)`` of a row-major ``(n, T)`` ``C``."""
    dev = top = 0.0
    n, T = C.shape
    for i in range(n):
        for t in range(T):
            x = C[i, t]
            dev = max(dev, abs(x - s[i] * k[t]))
            top = max(top, abs(x))
    return dev, top


@njit(cache=True)
def _centred_sq_colsums_dense(X, row_ptr, entry_task, c, xmean, inv_a, T):
    n, p = X.shape
    S = np.zeros((T, p))
    for i in range(n):
        for e in range(row_ptr[i], row_ptr[i + 1]):
            t = entry_task[e]
            ce = c[e]
            for j in range(p):
                z = (X[i, j] - xmean[t, j]) * inv_a[j]
                S[t, j] += ce * z * z
    return S


@njit(cache=True)
def _centred_sq_colsums_shared(X, s, m, inv_a, by_column):
    """``sum_i s_i ((x_ij - m_j) / a_j)^2``: one weight per row, one mean
    per feature (every label present, weights ``s_i k_t``); ``by_column``
    walks a Fortran-ordered ``X`` column by column."""
    n, p = X.shape
    S = np.zeros(p)
    if by_column:
        for j in range(p):
            mj = m[j]
            ia = inv_a[j]
            acc = 0.0
            for i in range(n):
                z = (X[i, j] - mj) * ia
                acc += s[i] * z * z
            S[j] = acc
    else:
        for i in range(n):
            si = s[i]
            for j in range(p):
                z = (X[i, j] - m[j]) * inv_a[j]
                S[j] += si * z * z
    return S


# reassociation lets the loops vectorise; no ``nnan`` / ``ninf``: the sums
# must carry NaN and inf (input validation reads them as its finite check)
@njit(cache=True, fastmath={"reassoc", "nsz", "arcp", "contract"})
def _min_max_sum(x):
    """Minimum, maximum and sum of the contiguous vector ``x`` (at least one
    entry), four independent accumulators each: the reductions pipeline."""
    n = x.shape[0]
    m = n - n % 4
    a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = x[0]
    s0 = s1 = s2 = s3 = 0.0
    for i in range(0, m, 4):
        x0, x1, x2, x3 = x[i], x[i + 1], x[i + 2], x[i + 3]
        a0, a1, a2, a3 = min(a0, x0), min(a1, x1), min(a2, x2), min(a3, x3)
        b0, b1, b2, b3 = max(b0, x0), max(b1, x1), max(b2, x2), max(b3, x3)
        s0, s1, s2, s3 = s0 + x0, s1 + x1, s2 + x2, s3 + x3
    for i in range(m, n):
        x0 = x[i]
        a0, b0, s0 = min(a0, x0), max(b0, x0), s0 + x0
    return (
        min(min(a0, a1), min(a2, a3)),
        max(max(b0, b1), max(b2, b3)),
        ((s0 + s1) + (s2 + s3)),
    )


@njit(cache=True, fastmath={"reassoc", "nsz", "arcp", "contract"})
def _column_min_max_sum(X, by_column):
    """Per column of dense ``X``: minimum, maximum and sum, in one pass
    (``by_column`` walks a Fortran-ordered ``X`` column by column). A NaN or
    infinite entry makes its column's sum non-finite."""
    n, p = X.shape
    lo = np.empty(p)
    hi = np.empty(p)
    total = np.zeros(p)
    if by_column:
        for j in range(p):
            lo[j], hi[j], total[j] = _min_max_sum(X[:, j])
    else:
        lo[:] = X[0]
        hi[:] = X[0]
        for i in range(n):
            for j in range(p):
                x = X[i, j]
                lo[j] = min(lo[j], x)
                hi[j] = max(hi[j], x)
                total[j] += x
    return lo, hi, total


def column_min_max_sum(X):
    """``(min, max, sum)`` of each column of a dense float64 ``X`` with at
    least one row: one pass over ``X`` and no temporary of its size (numpy's
    ``max(abs(X))``, ``ptp`` and ``mean`` are one pass and one temporary
    each). The sums are finite exactly when the entries are and no column's
    sum overflows (the min and max of a column with NaN are unspecified)."""
    return _column_min_max_sum(X, bool(X.flags.f_contiguous))


#: at most this many tasks for the targets' product in the column
#: statistics' pass (:func:`column_stats_and_targets`): its numba dot
#: products run at about BLAS speed up to 10 tasks (0.19 against 0.28 ms at
#: n=10000, p=50, T=5; 0.28 against 0.31 at n=1000, p=400, T=10), not for
#: many (0.50 against 0.36 at T=16)
TARGETS_PASS_MAX_TASKS = 12
#: ... and at most this many target entries: every column's dot products
#: read the centred targets (``8 n T`` bytes) again, at cache speed only
#: while they stay in the core's cache (fits to tol 1e-2, product on / off:
#: 0.96 at n=25000, T=5; 1.02 at n=20000, T=10; 1.00 at n=50000, T=10,
#: where BLAS's own product is as fast)
TARGETS_PASS_MAX_ENTRIES = 2**17


class ColumnStats(tuple):
    """``(min, max, sum)`` of each column of ``X``
    (:func:`column_min_max_sum`), with ``targets``: None, or ``(mu, XtD,
    first, last)`` from :func:`column_stats_and_targets` (the targets'
    column means ``mu``, ``XtD = X^T (Y - mu)`` of shape ``(T, p)``, and
    ``Y``'s first and last rows, which identify the targets)."""

    targets = None


# the statistics are _column_min_max_sum's (the same _min_max_sum on the same
# columns: the same values, bit for bit)
@njit(cache=True, fastmath={"reassoc", "nsz", "arcp", "contract"})
def _column_stats_targets(X, Y):
    """Fortran-ordered ``X`` (n, p) and row-major targets ``Y`` (n, T):
    ``(lo, hi, total, mu, XtD)``, the column statistics of
    :func:`_column_min_max_sum` and ``XtD = X^T (Y - mu)``, ``mu`` the
    targets' column means (around their first row), from one read of each
    column of ``X`` (the products, four tasks at a time, reread it from the
    core's cache)."""
    n, p = X.shape
    T = Y.shape[1]
    mu = np.empty(T)
    for t in range(T):
        y0 = Y[0, t]
        acc = 0.0
        for i in range(n):
            acc += Y[i, t] - y0
        mu[t] = y0 + acc / n
    D = np.empty((T, n))  # the centred targets, one task per row
    for i in range(n):
        for t in range(T):
            D[t, i] = Y[i, t] - mu[t]
    lo = np.empty(p)
    hi = np.empty(p)
    total = np.zeros(p)
    G = np.empty((T, p))
    g = np.empty(T)
    for j in range(p):
        lo[j], hi[j], total[j] = _min_max_sum(X[:, j])
        dots_with_rows(X[:, j], D, g)
        for t in range(T):
            G[t, j] = g[t]
    return lo, hi, total, mu, G


def column_stats_and_targets(X, Y):
    """:func:`column_min_max_sum` of a dense float64 ``X`` as a
    :class:`ColumnStats`, whose ``targets`` also hold ``X^T (Y - mu)`` for
    the targets ``Y`` when ``X`` is Fortran-ordered and ``Y`` a row-major
    float64 ``(n, T)`` ndarray with at most
    :data:`TARGETS_PASS_MAX_TASKS` columns, at most
    :data:`TARGETS_PASS_MAX_ENTRIES` entries and no NaN in its first and last
    rows (else ``targets`` is None and only the statistics are computed).

    The product costs a few dot products per column of ``X`` while the
    column is in the core's cache: the squared-loss solvers' first
    gradient ``X^T C y_c`` then needs no pass over ``X`` of its own. ``Y``
    is not checked here (NaN or infinite labels make ``XtD`` meaningless;
    its users read it only for fully labelled, finite targets).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl._solvers.design import column_stats_and_targets
    >>> X = np.asfortranarray([[1.0, 2.0], [3.0, -1.0], [2.0, 0.5]])
    >>> Y = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 5.0]])
    >>> lo, hi, total = stats = column_stats_and_targets(X, Y)
    >>> total.tolist()
    [6.0, 1.5]
    >>> mu, XtD = stats.targets[:2]
    >>> bool(np.allclose(XtD, (Y - Y.mean(0)).T @ X))
    True
    """
    if (
        X.flags.f_contiguous
        and X.shape[0]
        and type(Y) is np.ndarray
        and Y.dtype == np.float64
        and Y.ndim == 2
        and Y.shape[0] == X.shape[0]
        and 1 <= Y.shape[1] <= TARGETS_PASS_MAX_TASKS
        and Y.size <= TARGETS_PASS_MAX_ENTRIES
        and Y.flags.c_contiguous
        # (a missing label in the first or last row: per-task data or labels
        # missing at random, which the product does not serve)
        and not np.isnan(Y[0].sum() + Y[-1].sum())
    ):
        lo, hi, total, mu, XtD = _column_stats_targets(X, Y)
        stats = ColumnStats((lo, hi, total))
        stats.targets = (mu, XtD, Y[0].copy(), Y[-1].copy())
        return stats
    return ColumnStats(column_min_max_sum(X))


def column_max_abs(X, op=None):
    """``max_i |X_ij|`` per column (dense or sparse); from ``op``'s cached
    column statistics when ``op`` is the design operator over ``X``."""
    if sp.issparse(X):
        return np.asarray(abs(X).max(axis=0).todense()).ravel().astype(np.float64)
    if not X.shape[0]:
        return np.zeros(X.shape[1])
    if X.dtype != np.float64:
        return np.max(np.abs(X), axis=0)
    cached = op is not None and op.X is X
    lo, hi, _ = op.column_stats() if cached else column_min_max_sum(X)
    # NaN-propagating, as np.max(np.abs(X)) is
    return np.maximum(-lo, hi)


def centred_sq_colsums(X, op, c, xmean):
    """Per-task curvature of each feature, ``sum_{e in t} c_e (x_ej - m_tj)^2``,
    returned as ``(S, a)`` with the curvature ``a_j^2 S_tj``.

    Computed on the column scaled by its largest magnitude ``a_j``, so that
    it neither overflows (values near 1e150) nor cancels (a near-constant
    column around 1e8: the centred squares are summed, not ``sum x^2 - n
    m^2``), for dense ``X``; sparse ``X`` (never centred in place) uses the
    scaled difference of moments.
    """
    T = op.n_tasks
    a = column_max_abs(X, op)
    a[~(a > 0)] = 1.0
    inv_a = 1.0 / a
    if sp.issparse(X):
        Xs = sp.csr_array(X) @ sp.diags_array(inv_a)
        X2 = Xs.multiply(Xs).tocsr()
        op2 = DesignOperator(X2, op.row_ptr, op.entry_row, op.entry_task, T)
        task_c = np.bincount(op.entry_task, weights=c, minlength=T)
        ms = xmean * inv_a
        S = np.maximum(op2.rmatvec(c) - task_c[:, None] * ms * ms, 0.0)
    else:
        task_c = np.bincount(op.entry_task, weights=c, minlength=T)
        factors = op.factored_weights(c, task_c)
        if factors is not None and np.all(xmean == xmean[:1]):
            # c_(i,t) = s_i k_t and one mean per feature: one pass over X,
            # not one per task
            s, k = factors
            S0 = _centred_sq_colsums_shared(
                X, s, np.ascontiguousarray(xmean[0]), inv_a,
                bool(X.flags.f_contiguous),
            )  # fmt: skip
            S = k[:, None] * S0
        else:
            S = _centred_sq_colsums_dense(
                X, op.row_ptr, op.entry_task, c, np.ascontiguousarray(xmean), inv_a, T
            )
    return S, a
