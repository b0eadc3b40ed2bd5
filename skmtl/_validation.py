"""Input validation: ``(X, Y, sample_weight)`` to checked arrays and label entries.

The multi-task data contract (see ``DESIGN.md``): one ``X`` of shape
``(n_samples, n_features)`` and one ``Y`` of shape ``(n_samples, n_tasks)``
where NaN marks "no label for this task on this row".

Labelled cells of ``Y`` are called *entries*. They are stored CSR-like, in
row-major order (row ``i``'s entries are ``row_ptr[i]:row_ptr[i + 1]``), with
the task of each entry in ``entry_task``. Each task's entries are also listed
in ``task_ptr`` / ``task_entries`` so per-task loops never scan the ``n x T``
grid. Every solver works on this form, so a problem where each row has a
label for one task costs ``O(n)``, not ``O(n T)``.
"""

import numpy as np
import scipy.sparse as sp
from numba import njit
from sklearn import get_config
from sklearn.utils.validation import _check_sample_weight, check_array, validate_data

from ._solvers._memory import prefetch
from ._solvers.design import (
    column_min_max_sum,
    column_stats_and_targets,
    full_entry_layout,
    tiled_rows,
)

__all__ = [
    "TaskData",
    "check_targets",
    "check_task_weights",
    "make_task_data",
    "validate_X",
]


class TaskData:
    """Labelled entries of a multi-task problem.

    Attributes
    ----------
    n_samples, n_tasks : int
        Shape of ``Y``.
    row_ptr : ndarray of shape (n_samples + 1,), int64
        Entries of row ``i`` are ``row_ptr[i]:row_ptr[i + 1]``.
    entry_row, entry_task : ndarray of shape (n_entries,), int64
        Row and task of each entry.
    y : ndarray of shape (n_entries,), float64
        Target of each entry.
    sample_weight : ndarray of shape (n_entries,), float64
        Sample weight of each entry's row.
    task_ptr, task_entries : ndarray, int64
        Entries of task ``t`` are ``task_entries[task_ptr[t]:task_ptr[t + 1]]``.
    task_counts : ndarray of shape (n_tasks,), int64
        Number of labelled rows per task.
    task_weight_sums : ndarray of shape (n_tasks,), float64
        ``n_t``: sum of sample weights over task ``t``'s labelled rows.
    unit_weights : bool
        Every sample weight is 1 (``sample_weight=None``).
    labels_finite : bool
        Every label is known to be finite (the targets' sum, read to look for
        NaN, was finite); False means "not checked", see
        :func:`check_labels_finite`.

    When every cell is labelled, the five index arrays may be passed as None:
    they are then the row-major layout of
    :func:`~skmtl._solvers.design.full_entry_layout`, built on first use
    (the full-data solvers never read them); so are the unit
    ``sample_weight`` when ``unit_weights`` (None given).
    """

    def __init__(
        self, n_samples, n_tasks, row_ptr, entry_row, entry_task, y, sample_weight,
        task_ptr, task_entries, task_counts, task_weight_sums, unit_weights=False,
        labels_finite=False,
    ):  # fmt: skip
        self.n_samples = n_samples
        self.n_tasks = n_tasks
        self._index = (row_ptr, entry_row, entry_task, task_ptr, task_entries)
        self.y = y
        self._sample_weight = sample_weight
        self.task_counts = task_counts
        self.task_weight_sums = task_weight_sums
        self.unit_weights = unit_weights
        self.labels_finite = labels_finite

    def __repr__(self):
        return (
            f"TaskData(n_samples={self.n_samples}, n_tasks={self.n_tasks}, "
            f"n_entries={self.n_entries}, unit_weights={self.unit_weights})"
        )

    def _layout(self):
        if self._index[0] is None:
            self._index = full_entry_layout(self.n_samples, self.n_tasks)
        return self._index

    @property
    def row_ptr(self):
        return self._layout()[0]

    @property
    def entry_row(self):
        return self._layout()[1]

    @property
    def entry_task(self):
        return self._layout()[2]

    @property
    def task_ptr(self):
        return self._layout()[3]

    @property
    def task_entries(self):
        return self._layout()[4]

    @property
    def sample_weight(self):
        if self._sample_weight is None:
            self._sample_weight = np.ones(self.n_entries)
        return self._sample_weight

    @property
    def lazy_layout(self):
        """The index arrays are not built yet (every cell is labelled)."""
        return self._index[0] is None

    @property
    def n_entries(self):
        return self.y.shape[0]

    @property
    def is_full(self):
        """True when every row has a label for every task."""
        return self.n_entries == self.n_samples * self.n_tasks

    def _unit_weight_scale(self, task_weights):
        # s_i = 1: c_e = w_t / (task t's count), exactly what the general
        # formula gives (rel = 1, sums = counts)
        scale = 1.0 / self.task_weight_sums
        if task_weights is not None:
            scale = scale * task_weights
        return scale

    def tiled_weight_row(self, task_weights=None):
        """The per-task row whose ``n_samples`` copies (row-major) are
        :meth:`entry_weights` when every cell is labelled and there are no
        sample weights; None otherwise (the weights then vary by row)."""
        if self.unit_weights and self.is_full and self.n_samples:
            return self._unit_weight_scale(task_weights)
        return None

    def entry_weights(self, task_weights=None):
        """Per-entry coefficient ``c_e = w_t s_i / n_t`` of the objective.

        Computed on each task's weights divided by their largest value (the
        ratio ``s_i / n_t`` does not change), so that tiny (even subnormal)
        weights give the same coefficients as their rescaled values instead
        of an overflow.
        """
        row = self.tiled_weight_row(task_weights)
        if row is not None:
            return tiled_rows(row, self.n_samples)
        if self.unit_weights:
            return self._unit_weight_scale(task_weights)[self.entry_task]
        sw = self.sample_weight
        if self.is_full and self.n_entries:
            # row-major (n, T) entries: column reductions, no gathers (the
            # same sums, in the same order, as the bincount below)
            S = sw.reshape(self.n_samples, self.n_tasks)
            top = S.max(axis=0)
            top[top <= 0] = 1.0
            rel = S / top
            scale = 1.0 / rel.sum(axis=0)
            if task_weights is not None:
                scale = scale * task_weights
            return (rel * scale).reshape(-1)
        task = self.entry_task
        top = self._task_max(sw)
        top[top <= 0] = 1.0
        rel = sw / top[task]
        sums = np.bincount(task, weights=rel, minlength=self.n_tasks)
        scale = 1.0 / sums
        if task_weights is not None:
            scale = scale * task_weights
        return rel * scale[task]

    def _task_max(self, values):
        """Largest of ``values`` (per entry) over each task's entries."""
        counts = np.diff(self.task_ptr)
        if values.size and np.all(counts > 0):
            # one reduction per task over its entries (``np.maximum.at``,
            # unbuffered, costs ~0.3 ms on 50,000 entries)
            return np.maximum.reduceat(values[self.task_entries], self.task_ptr[:-1])
        top = np.zeros(self.n_tasks)
        np.maximum.at(top, self.entry_task, values)
        return top

    def to_dense(self, values, fill=0.0):
        """Scatter per-entry ``values`` into an ``(n_samples, n_tasks)`` array."""
        out = np.full((self.n_samples, self.n_tasks), fill, dtype=np.float64)
        out[self.entry_row, self.entry_task] = values
        return out


#: the ``stats`` of :func:`validate_X` when the finite check of ``X`` was
#: left to the caller (``defer_finite``)
FINITE_PENDING = "finite check pending"


def validate_X(
    estimator, X, *, reset, accept_sparse=("csr", "csc"), return_column_stats=False,
    targets=None, defer_finite=False,
):  # fmt: skip
    """Check ``X`` (finite, numeric, 2-D) and record or check its features.

    With ``reset=True`` (in ``fit``) sets ``n_features_in_`` and
    ``feature_names_in_``; with ``reset=False`` (in ``predict``) checks them.
    float32 and float64 are kept; anything else becomes float64. Sparse input
    stays sparse.

    A plain C- or Fortran-ordered float ndarray with finite values takes a
    direct path (the same checks and fitted attributes, without
    scikit-learn's generic dispatch, which costs ~0.3 ms a call); anything
    else, and every error, goes through :func:`sklearn.utils.validation.validate_data`.

    With ``return_column_stats=True`` returns ``(X, stats)``: ``stats`` is
    each column's ``(min, max, sum)``
    (:func:`~skmtl._solvers.design.column_min_max_sum`) when the direct
    path checked a float64 ``X`` with them (one pass over
    ``X`` serves the finite check and the solvers' column statistics),
    else None. With ``targets`` (the raw ``Y``, unchecked), that pass also
    computes ``X``'s product with them where it can
    (:func:`~skmtl._solvers.design.column_stats_and_targets`: its
    ``targets``), for the squared-loss solvers' first gradient.

    With ``defer_finite`` (and ``return_column_stats``, no ``targets``) a
    plain float64 ``X`` is not read: ``stats`` is :data:`FINITE_PENDING`,
    and the caller must check that ``X`` is finite before any solver uses
    it (:meth:`~skmtl._solvers.dispatch.ProblemSolver.solve` does, from the
    per-task Grams' pass over ``X`` where they cover every row).
    """
    plain, stats = _plain_float_X(
        estimator, X, reset, return_column_stats, targets=targets,
        defer_finite=defer_finite,
    )  # fmt: skip
    if plain:
        if reset:
            estimator.n_features_in_ = X.shape[1]
            if hasattr(estimator, "feature_names_in_"):
                del estimator.feature_names_in_
    else:
        X = validate_data(
            estimator,
            X,
            reset=reset,
            accept_sparse=list(accept_sparse),
            dtype=[np.float64, np.float32],
            ensure_min_samples=1,
        )
    return (X, stats) if return_column_stats else X


def _plain_float_X(estimator, X, reset, want_stats=False, targets=None,
                   defer_finite=False):  # fmt: skip
    """``(plain, stats)``: is ``X`` a 2-D float32/float64 ndarray (not a
    subclass), non-empty and finite (or ``assume_finite``), whose features
    need no name check? Then ``validate_data`` would return it unchanged and
    only set (``reset``) or check ``n_features_in_``. ``stats``: the column
    statistics of a float64 ``X`` when ``want_stats`` (they serve as the
    finite check; with ``targets``, their product with ``X`` too where
    :func:`~skmtl._solvers.design.column_stats_and_targets` takes them),
    else None."""
    if not (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in _FLOAT_DTYPES
        and X.shape[0] >= 1
        and X.shape[1] >= 1
    ):
        return False, None
    if not reset and (
        hasattr(estimator, "feature_names_in_")
        or getattr(estimator, "n_features_in_", None) != X.shape[1]
    ):
        return False, None  # validate_data warns or raises
    # a finite sum means finite entries (NaN and inf propagate); an overflow
    # of finite values falls back to scikit-learn's exact check
    assume_finite = get_config()["assume_finite"]
    stats = None
    if want_stats and X.dtype == np.float64:
        if defer_finite and targets is None:
            # (the caller checks, unless told to assume finite input)
            return True, (None if assume_finite else FINITE_PENDING)
        if targets is None:
            stats = column_min_max_sum(X)
        else:
            stats = column_stats_and_targets(X, targets)
        finite = assume_finite or bool(np.isfinite(stats[2]).all())
    else:
        finite = assume_finite or bool(np.isfinite(np.sum(X, dtype=np.float64)))
    return (True, stats) if finite else (False, None)


_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def task_names_from(Y):
    """Column names of a DataFrame ``Y`` (pandas or dask), the name of a
    Series, or None."""
    columns = getattr(Y, "columns", None)
    if columns is not None:
        return np.asarray([str(c) for c in columns], dtype=object)
    name = getattr(Y, "name", None)
    if name is not None and getattr(Y, "ndim", 2) == 1:
        return np.asarray([str(name)], dtype=object)
    return None


def check_labels_finite(values):
    """Raise on an infinite label (NaN marks a missing one)."""
    if np.isinf(values).any():
        raise ValueError(
            "Y contains infinity. Use NaN to mark a missing label; labels must "
            "be finite."
        )


def check_targets(Y, n_samples=None, *, dtype=np.float64, copy=True, check_inf=True):
    """Turn ``Y`` into a 2-D float array with NaN for missing labels.

    Parameters
    ----------
    Y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Targets. ``None`` and NaN entries mean "no label".
    n_samples : int, default=None
        Expected number of rows (the length of ``X``).
    copy : bool, default=True
        Return a new array. With False, ``Y`` itself (or a view of it) when
        it already is a ``dtype`` array: the caller must not write into it
        (``fit`` only reads the labels, and a copy of a large, mostly-NaN
        per-task ``Y`` costs as much as the rest of the validation).
    check_inf : bool, default=True
        Raise on infinite entries. ``fit`` checks the labelled entries
        instead (:func:`check_labels_finite` on ``TaskData.y``: the same
        error, without a pass over every cell).

    Returns
    -------
    Y2 : ndarray of shape (n_samples, n_tasks), float64
        A new array with ``copy=True`` (the input is never modified).
    is_1d : bool
        Whether ``Y`` was one-dimensional.
    task_names : ndarray of str or None
        Column names when ``Y`` is a DataFrame (or a named Series).
    """
    if Y is None:
        raise ValueError(
            "This estimator requires y to be passed, but the target y is None."
        )
    task_names = task_names_from(Y)
    if sp.issparse(Y):
        raise TypeError(
            "Sparse Y is not supported: pass a dense array with NaN for missing labels."
        )
    try:
        Y2 = np.array(Y, dtype=dtype, copy=True if copy else None)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Y must be numeric (NaN or None for a missing label); got {exc}"
        ) from exc
    if Y2.ndim == 0:
        raise ValueError("Y must be 1-D or 2-D, got a scalar.")
    is_1d = Y2.ndim == 1
    if is_1d:
        Y2 = Y2.reshape(-1, 1)
    elif Y2.ndim == 2 and Y2.shape[1] == 1 and task_names is None:
        pass
    elif Y2.ndim != 2:
        raise ValueError(f"Y must be 1-D or 2-D, got an array of shape {Y2.shape}.")
    if n_samples is not None and Y2.shape[0] != n_samples:
        raise ValueError(
            f"X and Y have inconsistent numbers of samples: X has {n_samples} "
            f"rows, Y has {Y2.shape[0]}."
        )
    if Y2.shape[1] == 0:
        raise ValueError("Y has no task (0 columns).")
    if check_inf:
        check_labels_finite(Y2)
    return Y2, is_1d, task_names


def check_task_weights(task_weights, n_tasks, *, allow_zero=False):
    """Validate ``task_weights`` (finite, one per task, positive).

    ``allow_zero=True`` accepts zero weights (not all zero) where they
    mean something: in the ridge models a task without weight takes its
    coefficients from the task graph and its intercept from its own labels;
    in the MLP it does not train the network (one-hot weights give one
    task's gradient). In the penalised linear models a zero weight leaves
    the task's model undetermined, and is an error.
    """
    if task_weights is None:
        return np.ones(n_tasks)
    w = np.asarray(task_weights, dtype=np.float64)
    if w.ndim == 0:
        w = np.full(n_tasks, float(w))
    if w.shape != (n_tasks,):
        raise ValueError(
            f"task_weights must have one weight per task ({n_tasks}), got shape "
            f"{w.shape}."
        )
    if not np.all(np.isfinite(w)):
        raise ValueError("task_weights must be finite.")
    if np.any(w < 0):
        raise ValueError("task_weights must be non-negative.")
    if not np.any(w > 0):
        raise ValueError("task_weights must not all be zero.")
    zero = np.flatnonzero(w == 0)
    if zero.size and not allow_zero:
        # no loss term: nothing in the data determines the task's model (its
        # intercept is undefined), as with zero total sample weight
        raise ValueError(
            f"task_weights[{zero[0]}] is 0: a task without weight has no loss "
            "term, so nothing is learned for it. Give it a positive weight or "
            "drop its column from Y."
        )
    return w


def _task_label(t, task_names):
    if task_names is not None:
        return f"task {t} ({task_names[t]!r})"
    return f"task {t}"


def _label_entries(Y):
    """The labelled (non-NaN) cells of ``Y`` in row-major order, in one
    counting pass and one filling pass (no ``n x T`` mask or index arrays):
    ``row_ptr``, ``entry_row``, ``entry_task``, ``y``, per-task ``counts``,
    ``task_ptr`` and ``task_entries`` (each task's entries, in row order).
    The counting pass counts each row's labels and sums their task indices
    without a branch (``v == v`` is false for NaN only: the loop
    vectorises), which gives a row with one label its task; the filling
    pass rescans only the rows with several labels (per-task data, one
    label a row, is read once). A C-ordered ``Y`` is read with its lines
    requested ahead (:func:`~skmtl._solvers._memory.prefetch`): the scan
    reads a mostly-NaN ``Y`` from memory."""
    flat = Y.reshape(-1) if Y.flags.c_contiguous else np.empty(0)
    return _scan_labels(Y, flat)


#: the label scan requests the cells this many entries ahead (16 KB)
_SCAN_AHEAD = 2048


@njit(cache=True)
def _scan_labels(Y, flat):
    """:func:`_label_entries`; ``flat`` is ``Y`` raveled when C-ordered
    (else empty: no requests ahead)."""
    n, T = Y.shape
    row_ptr = np.zeros(n + 1, dtype=np.int64)
    counts = np.zeros(T, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    ahead = flat.size == n * T
    for i in range(n):
        if ahead:  # (the lines of the cells _SCAN_AHEAD entries on)
            end = min((i + 1) * T + _SCAN_AHEAD, n * T)
            for q in range(i * T + _SCAN_AHEAD, end, 8):
                prefetch(flat, q)
        row = Y[i]
        k = 0
        s = 0
        for t in range(T):
            labelled = row[t] == row[t]
            k += labelled
            s += t * labelled
        row_ptr[i + 1] = row_ptr[i] + k
        if k == 1:  # s is the task of the one label
            last[i] = s
            counts[s] += 1
        elif k > 1:
            for t in range(T):
                if not np.isnan(row[t]):
                    counts[t] += 1
    m = row_ptr[n]
    entry_row = np.empty(m, dtype=np.int64)
    entry_task = np.empty(m, dtype=np.int64)
    y = np.empty(m)
    task_ptr = np.zeros(T + 1, dtype=np.int64)
    for t in range(T):
        task_ptr[t + 1] = task_ptr[t] + counts[t]
    pos = task_ptr[:T].copy()
    task_entries = np.empty(m, dtype=np.int64)
    for i in range(n):
        e = row_ptr[i]
        if row_ptr[i + 1] - e == 1:  # one label: its task is known
            t = last[i]
            entry_row[e] = i
            entry_task[e] = t
            y[e] = Y[i, t]
            task_entries[pos[t]] = e
            pos[t] += 1
            continue
        for t in range(T if row_ptr[i + 1] > e else 0):
            v = Y[i, t]
            if not np.isnan(v):
                entry_row[e] = i
                entry_task[e] = t
                y[e] = v
                task_entries[pos[t]] = e
                pos[t] += 1
                e += 1
    return row_ptr, entry_row, entry_task, y, counts, task_ptr, task_entries


def make_task_data(Y2, sample_weight=None, task_names=None):
    """Build :class:`TaskData` from a checked ``(n, T)`` target array.

    Raises ``ValueError`` if a task has no labelled row (or zero total weight),
    or if ``sample_weight`` is negative, non-finite or of the wrong length.
    """
    n, T = Y2.shape
    if sample_weight is not None:
        sw = np.asarray(sample_weight)
        if sw.ndim != 1 and sw.size != 1:
            raise ValueError(
                f"sample_weight must be 1-D with one weight per sample, got shape "
                f"{sw.shape}."
            )
        sw = _check_sample_weight(sample_weight, np.empty((n, 1)), dtype=np.float64)
        if not np.all(np.isfinite(sw)):
            raise ValueError("sample_weight contains NaN or infinity.")
        if np.any(sw < 0):
            raise ValueError("Negative values in sample_weight are not allowed.")
        sw = np.array(sw, dtype=np.float64)

    Y2 = np.asarray(Y2, dtype=np.float64)
    with np.errstate(all="ignore"):  # (inf - inf, overflow: the general path)
        # the first and last rows first: they decide per-task data (mostly
        # NaN) without a sum over all of Y
        total = np.nan
        if Y2.size > 0 and not np.isnan(Y2[0].sum() + Y2[-1].sum()):
            total = Y2.sum()
        no_nan = not np.isnan(total)
    if no_nan:
        # no NaN (a NaN cell makes the sum NaN): every cell is labelled, the
        # entries are the row-major cells and their index arrays are built
        # only if a solver asks for them (the full-data ones do not)
        row_ptr = entry_row = entry_task = task_ptr = task_entries = None
        y = np.array(Y2, order="C").reshape(-1)
        counts = np.full(T, n, dtype=np.int64)
    else:
        row_ptr, entry_row, entry_task, y, counts, task_ptr, task_entries = (
            _label_entries(Y2)
        )
    # (no NaN and at least one row: every task has n labels and, without
    # sample weights, the total weight n; the checks below cannot fail)
    every_label = no_nan and n > 0
    for t in () if every_label else np.flatnonzero(counts == 0):
        raise ValueError(
            f"{_task_label(t, task_names)} has no labelled sample (its Y column is "
            "all NaN). Every task needs at least one label; drop the column or "
            "add labels."
        )
    if sample_weight is None:
        ew = None  # ones, built on first use (TaskData.sample_weight)
        if entry_row is not None:
            ew = np.ones(entry_row.size)
        sums = counts.astype(np.float64)
    elif y.size == n * T:  # every label present: (n, T) row-major
        ew = np.repeat(sw, T)
        sums = ew.reshape(n, T).sum(axis=0)  # bincount's order
    else:
        ew = sw[entry_row]
        sums = np.bincount(entry_task, weights=ew, minlength=T)
    for t in () if every_label and sample_weight is None else np.flatnonzero(sums <= 0):
        raise ValueError(
            f"{_task_label(t, task_names)} has zero total sample weight over its "
            "labelled rows."
        )
    return TaskData(
        n_samples=n,
        n_tasks=T,
        row_ptr=row_ptr,
        entry_row=entry_row,
        entry_task=entry_task,
        y=np.ascontiguousarray(y, dtype=np.float64),
        sample_weight=ew,
        task_ptr=task_ptr,
        task_entries=task_entries,
        task_counts=counts.astype(np.int64),
        task_weight_sums=sums,
        unit_weights=sample_weight is None,
        # a finite sum: no NaN and no infinity (both propagate)
        labels_finite=bool(np.isfinite(total)),
    )


def as_float64_X(X):
    """float64 view or copy of a validated X (sparse stays sparse)."""
    if sp.issparse(X):
        return X.astype(np.float64, copy=False)
    return np.asarray(X, dtype=np.float64)


def check_array_X(X, return_column_stats=False):
    """Plain check of a 2-D finite X without estimator bookkeeping.

    With ``return_column_stats=True`` returns ``(X, stats)`` as
    :func:`validate_X` does: a plain float64 ndarray is checked by its
    column statistics (one pass serves the finite check and the solvers'
    column statistics), anything else (and every error) by scikit-learn's
    ``check_array``, with ``stats=None``.
    """
    if return_column_stats:
        plain, stats = _plain_float_X(None, X, True, want_stats=True)
        if plain:
            return X, stats
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    return (X, None) if return_column_stats else X
