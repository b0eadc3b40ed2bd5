"""Per-task sufficient statistics of a chunked dask array or DataFrame.

For the squared loss everything a solver needs is a sum over rows. For each
chunk of rows, and each task ``t`` (rows labelled for ``t``, weights ``s_i``):

* ``G_full = sum_{rows with every label} s_i x_i x_i^T`` (one ``p x p``
  matrix shared by all tasks) and, only when the chunk has rows with a
  missing label, ``G_part[t] = sum_{other rows labelled for t} s_i x_i
  x_i^T``; the raw Gram of task ``t`` is ``G_full + G_part[t]``;
* ``Sx[t] = sum s_i x_i``, ``Sxy[t] = sum s_i y_it x_i``, ``sy[t]``,
  ``syy[t]``, ``sw[t] = sum s_i`` and the label count.

Chunks are reduced on the cluster by a tree of additions (``split_every``
partial sums per node), so only one set of statistics, of size
``O(T p^2)``, ever reaches the client; ``X`` is never gathered. With
``folds`` (row boundaries of contiguous folds), each chunk's rows are
split by fold and every statistic gets a leading fold axis: K-fold CV then
needs one pass (training statistics = total minus the fold's).

Task weights and the objective's ``1/n_t`` normalisation are applied after
the reduction (:meth:`TaskStatistics.gram_state`).
"""

import numpy as np

#: Largest Gram state (bytes, over tasks and folds) built on the client.
MAX_GRAM_BYTES = 2**31

_KEYS = ("G_full", "G_part", "Sx", "Sxy", "sy", "syy", "sw", "count")


def _f64(A):
    return np.asarray(A, dtype=np.float64)


def _chunk_stats(Xb, Yb, wb, offset, bounds, n_tasks):
    """Statistics of one chunk of rows (runs on a worker).

    ``X`` stays in its dtype until the rows a product needs are taken (then
    float64, for accurate sums over many chunks): the fully labelled rows
    once for the shared Gram, the other rows once, grouped by task.
    """
    Xb = np.asarray(Xb)
    n, p = Xb.shape
    if Xb.dtype.kind not in "fiub":
        raise ValueError(f"X must be numeric, got dtype {Xb.dtype}.")
    if Xb.dtype.kind == "f" and not np.all(np.isfinite(Xb)):
        raise ValueError("Input X contains NaN or infinity.")
    Y = np.asarray(Yb, dtype=np.float64).reshape(n, -1)
    if Y.shape[1] != n_tasks:
        raise ValueError(f"Y chunk has {Y.shape[1]} columns, expected {n_tasks}.")
    if np.isinf(Y).any():
        raise ValueError(
            "Y contains infinity. Use NaN to mark a missing label; labels must "
            "be finite."
        )
    unit = wb is None
    if unit:
        s = np.ones(n)
    else:
        s = np.asarray(wb, dtype=np.float64).reshape(-1)
        if s.shape[0] != n:
            raise ValueError("sample_weight and X have different numbers of rows.")
        if not np.all(np.isfinite(s)):
            raise ValueError("sample_weight contains NaN or infinity.")
        if np.any(s < 0):
            raise ValueError("Negative values in sample_weight are not allowed.")
    F = len(bounds) - 1
    fold = np.searchsorted(bounds, offset + np.arange(n), side="right") - 1
    T = n_tasks
    out = {
        "G_full": np.zeros((F, p, p)),
        "G_part": None,
        "Sx": np.zeros((F, T, p)),
        "Sxy": np.zeros((F, T, p)),
        "sy": np.zeros((F, T)),
        "syy": np.zeros((F, T)),
        "sw": np.zeros((F, T)),
        "count": np.zeros((F, T), dtype=np.int64),
    }
    M = ~np.isnan(Y)
    for f in np.unique(fold):
        if fold[0] == fold[-1]:  # the whole chunk is in one fold: no copies
            Xf, Mf, Yf, sf = Xb, M, Y, s
        else:
            rows = fold == f
            Xf, Mf, Yf, sf = Xb[rows], M[rows], Y[rows], s[rows]
        # labelled entries (row, task) with weight s_row
        r_e, t_e = np.nonzero(Mf)
        s_e = sf[r_e]
        y_e = Yf[r_e, t_e]
        out["sy"][f] = np.bincount(t_e, weights=s_e * y_e, minlength=T)
        out["syy"][f] = np.bincount(t_e, weights=s_e * y_e * y_e, minlength=T)
        out["sw"][f] = np.bincount(t_e, weights=s_e, minlength=T)
        out["count"][f] = np.bincount(t_e, minlength=T)
        full = Mf.all(axis=1)
        if full.any():  # rows with every label: one Gram for every task
            Xs = _f64(Xf if full.all() else Xf[full])
            ss = sf if full.all() else sf[full]
            Ys = Yf if full.all() else Yf[full]
            if unit:  # symmetric rank-k update, no scaled copy of the chunk
                out["G_full"][f] = Xs.T @ Xs
            else:
                out["G_full"][f] = Xs.T @ (Xs * ss[:, None])
            out["Sx"][f] += ss @ Xs
            out["Sxy"][f] += (Ys * ss[:, None]).T @ Xs
        if not full.all():
            if out["G_part"] is None:  # rows missing a label: a Gram per task
                check_gram_size(p, T, F)
                out["G_part"] = np.zeros((F, T, p, p))
            # entries of the other rows, grouped by task: one gather of X
            part = ~full[r_e]
            order = np.argsort(t_e[part], kind="stable")
            rows, tasks = r_e[part][order], t_e[part][order]
            Xe = _f64(Xf[rows])
            se, ye = sf[rows], Yf[rows, tasks]
            bounds_t = np.searchsorted(tasks, np.arange(T + 1))
            for t in range(T):
                a, b = bounds_t[t], bounds_t[t + 1]
                if b > a:
                    Xt, st = Xe[a:b], se[a:b]
                    if unit:
                        out["G_part"][f, t] = Xt.T @ Xt
                    else:
                        out["G_part"][f, t] = Xt.T @ (Xt * st[:, None])
                    out["Sx"][f, t] += st @ Xt
                    out["Sxy"][f, t] += (st * ye[a:b]) @ Xt
    return out


def _add(a, b):
    if a is None:
        return None if b is None else b.copy()
    if b is None:
        return a
    return a + b


def _combine(*parts):
    """Sum of chunk statistics (a node of the reduction tree)."""
    out = dict(parts[0])
    for part in parts[1:]:
        for key in _KEYS:
            out[key] = _add(out[key], part[key])
    return out


def _compute(*objs):
    """Every computation of this package goes through here (tests check
    what reaches the client)."""
    import dask

    return dask.compute(*objs)


def as_dask_array(obj, name):
    """A dask array from a dask array, DataFrame or Series (with known chunk
    lengths: the lengths, not the data, are computed)."""
    import dask.array as da

    if isinstance(obj, da.Array):
        return obj
    if hasattr(obj, "to_dask_array"):
        return obj.to_dask_array(lengths=True)
    raise TypeError(f"{name} must be a dask array or DataFrame, got {type(obj)}.")


def align_rows(X, Y, sample_weight):
    """``(X, Y, w)`` as dask arrays with the same row chunks (``X``'s),
    ``X`` and ``Y`` with their columns in one chunk. ``Y`` and ``w`` may be
    numpy (they are small next to ``X``: ``n x T`` and ``n``)."""
    import dask.array as da

    X = as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D X, got {X.ndim} dimensions.")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes().")
    rows = X.chunks[0]
    X = X.rechunk({1: -1})

    def _rows(obj, name):
        if obj is None:
            return None
        if hasattr(obj, "__dask_graph__"):
            arr = as_dask_array(obj, name)
        else:
            arr = da.from_array(np.asarray(obj), chunks=-1)
        if arr.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and {name} have inconsistent numbers of samples: X has "
                f"{X.shape[0]} rows, {name} has {arr.shape[0]}."
            )
        chunks = (rows,) + tuple((s,) for s in arr.shape[1:])
        return arr.rechunk(chunks)

    return X, _rows(Y, "y"), _rows(sample_weight, "sample_weight")


def check_gram_size(p, n_tasks, n_folds=1):
    """Raise a clear error when the per-task Gram matrices are too large."""
    nbytes = 8.0 * n_folds * n_tasks * p * p
    if nbytes > MAX_GRAM_BYTES:
        raise ValueError(
            f"Fitting on dask data builds per-task Gram matrices (n_folds x "
            f"n_tasks x p x p = {n_folds} x {n_tasks} x {p} x {p} floats, "
            f"{nbytes / 2**30:.1f} GiB), above the limit skmtl._dask."
            f"MAX_GRAM_BYTES = {MAX_GRAM_BYTES / 2**30:.0f} GiB. The dask route "
            "is for tall data: p up to a few thousand (a few hundred with many "
            "tasks or CV folds). Reduce the features, or fit in memory on a "
            "sample of the rows."
        )


def reduce_statistics(X, Y, sample_weight=None, *, folds=None, split_every=8):
    """Statistics of dask ``(X, Y, sample_weight)``, reduced on the cluster.

    Parameters
    ----------
    X : dask array of shape (n, p)
    Y : dask array of shape (n,) or (n, T), NaN for a missing label
    sample_weight : dask array of shape (n,) or None
    folds : array of int or None
        Boundaries ``0 = b_0 < ... < b_K = n`` of contiguous row folds.
    split_every : int
        Fan-in of the reduction tree.

    Returns
    -------
    list of TaskStatistics, one per fold (one element without ``folds``).
    """
    from dask import delayed

    X, Y, w = align_rows(X, Y, sample_weight)
    n, p = X.shape
    T = 1 if Y.ndim == 1 else Y.shape[1]
    if T == 0:
        raise ValueError("Y has no task (0 columns).")
    bounds = np.array([0, n] if folds is None else folds, dtype=np.int64)
    # one shared Gram when every row has every label; T of them otherwise
    # (checked on the worker that first meets a row with a missing label)
    check_gram_size(p, 1, len(bounds) - 1)
    xb = X.to_delayed().ravel()
    yb = Y.to_delayed().ravel()
    wb = [None] * len(xb) if w is None else list(w.to_delayed().ravel())
    offsets = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]])
    stat = delayed(_chunk_stats, pure=True)
    parts = [
        stat(x, y, s, int(o), bounds, T)
        for x, y, s, o in zip(xb, yb, wb, offsets, strict=True)
    ]
    combine = delayed(_combine, pure=True)
    while len(parts) > 1:
        parts = [
            combine(*parts[i : i + split_every])
            for i in range(0, len(parts), split_every)
        ]
    (raw,) = _compute(parts[0])
    return [
        TaskStatistics(
            **{k: (None if raw[k] is None else raw[k][f]) for k in _KEYS},
            n_samples=int(bounds[f + 1] - bounds[f]),
        )
        for f in range(len(bounds) - 1)
    ]


class TaskStatistics:
    """Per-task sums over rows (see the module docstring); ``+`` and ``-``
    combine row sets (training statistics of a fold = total - fold)."""

    def __init__(self, G_full, G_part, Sx, Sxy, sy, syy, sw, count, n_samples):
        self.G_full, self.G_part = G_full, G_part
        self.Sx, self.Sxy = Sx, Sxy
        self.sy, self.syy, self.sw, self.count = sy, syy, sw, count
        self.n_samples = n_samples

    @property
    def n_tasks(self):
        return self.Sx.shape[0]

    @property
    def n_features(self):
        return self.Sx.shape[1]

    def _op(self, other, sign):
        G_part = self.G_part
        if other.G_part is not None:
            other_part = sign * other.G_part
            G_part = other_part if G_part is None else G_part + other_part
        return TaskStatistics(
            self.G_full + sign * other.G_full, G_part,
            self.Sx + sign * other.Sx, self.Sxy + sign * other.Sxy,
            self.sy + sign * other.sy, self.syy + sign * other.syy,
            self.sw + sign * other.sw, self.count + sign * other.count,
            self.n_samples + sign * other.n_samples,
        )  # fmt: skip

    def __add__(self, other):
        return self._op(other, 1)

    def __sub__(self, other):
        return self._op(other, -1)

    def raw_gram(self, t):
        """``sum_{i labelled for t} s_i x_i x_i^T``."""
        if self.G_part is None:
            return self.G_full
        return self.G_full + self.G_part[t]

    def check_tasks(self, task_names=None, where=""):
        """Every task needs a label and a positive total weight."""
        for t in range(self.n_tasks):
            label = f"task {t}"
            if task_names is not None:
                label += f" ({task_names[t]!r})"
            if self.count[t] == 0:
                raise ValueError(
                    f"{label} has no labelled sample{where} (its Y column is all "
                    "NaN). Every task needs at least one label."
                )
            if self.sw[t] <= 0:
                raise ValueError(
                    f"{label} has zero total sample weight over its labelled "
                    f"rows{where}."
                )

    def gram_state(self, task_weights, fit_intercept):
        """The Gram-mode solver state (what ``BCDSolver`` builds from ``X``).

        Returns a dict: ``Q`` (slots, p, p) centred Grams (one shared slot
        when every row has every label), ``slot`` (T,), ``k`` (T,) with the
        task's Hessian ``k_t Q[slot_t]``, ``XtY`` (T, p) = ``X^T C y``
        centred, ``yy`` = ``sum_e c_e y_e^2`` centred, ``xmean``, ``ymean``.
        """
        T, p = self.n_tasks, self.n_features
        sw = self.sw
        k = np.asarray(task_weights, dtype=np.float64) / sw
        if fit_intercept:
            xmean = self.Sx / sw[:, None]
            ymean = self.sy / sw
        else:
            xmean, ymean = np.zeros((T, p)), np.zeros(T)
        shared = self.G_part is None or not np.any(self.G_part)
        if shared:
            Q = (self.G_full - sw[0] * np.outer(xmean[0], xmean[0]))[None]
            slot = np.zeros(T, dtype=np.int64)
        else:
            Q = np.empty((T, p, p))
            for t in range(T):
                Q[t] = self.raw_gram(t) - sw[t] * np.outer(xmean[t], xmean[t])
            slot = np.arange(T, dtype=np.int64)
        XtY = k[:, None] * (self.Sxy - sw[:, None] * xmean * ymean[:, None])
        yy = float(np.sum(k * (self.syy - sw * ymean**2)))
        return {
            "Q": Q, "slot": slot, "k": k, "XtY": XtY, "yy": max(yy, 0.0),
            "xmean": xmean, "ymean": ymean, "shared": shared,
        }  # fmt: skip

    def task_errors(self, coef, intercept):
        """``(sum_{i labelled t} s_i (y_it - x_i.w_t - b_t)^2, sw_t)`` per task:
        the weighted squared error of a model on these rows."""
        T = self.n_tasks
        err = np.empty(T)
        for t in range(T):
            w, b = coef[t], intercept[t]
            quad = float(w @ (self.raw_gram(t) @ w))
            err[t] = (
                self.syy[t] - 2 * b * self.sy[t] - 2 * float(w @ self.Sxy[t])
                + b * b * self.sw[t] + 2 * b * float(w @ self.Sx[t]) + quad
            )  # fmt: skip
        return np.maximum(err, 0.0), self.sw.copy()


def weighted_cv_error(stats, coef, intercept, task_weights):
    """The CV error of ``skmtl.model_selection._cv_common`` from a test
    fold's statistics: per-task weighted MSE, averaged with task weights over
    the tasks that have test labels (NaN if none)."""
    err, den = stats.task_errors(coef, intercept)
    has = den > 0
    if not has.any():
        return np.nan
    w = task_weights[has]
    return float((err[has] / den[has]) @ w / w.sum())


def check_y_dask(Y):
    """``(is_1d, n_tasks)`` of a dask ``Y`` (its values are not computed)."""
    ndim = getattr(Y, "ndim", None)
    if ndim not in (1, 2):
        raise ValueError(f"Y must be 1-D or 2-D, got {ndim} dimensions.")
    if ndim == 1:
        return True, 1
    return False, int(Y.shape[1])


__all__ = [
    "MAX_GRAM_BYTES",
    "TaskStatistics",
    "align_rows",
    "check_gram_size",
    "reduce_statistics",
    "weighted_cv_error",
]
