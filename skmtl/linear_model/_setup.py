"""Validated data to solver objects: the design operator and the datafit.

``_PenalizedLinearRegression.fit`` and ``MultiTaskLogisticRegression.fit``
build the same pair inline; the regularization path and the CV estimators
build it here, for the full data and for each fold's training rows.
"""

import numpy as np

from .._solvers.datafits import get_datafit_class
from .._solvers.design import DesignOperator
from .._validation import as_float64_X, make_task_data

__all__ = ["make_problem", "gradient_at_zero"]


def make_problem(X, data, task_weights, loss="squared", column_stats=None):
    """Build ``(op, datafit)`` for ``X`` (validated) and ``data`` (``TaskData``).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Validated design; converted to float64 (sparse stays sparse).
    data : TaskData
        Labelled entries (targets already in the datafit's encoding: ``{-1,
        +1}`` for the logistic loss).
    task_weights : ndarray of shape (n_tasks,)
        Checked task weights ``w_t``.
    loss : {"squared", "logistic"}
        Name of the datafit (see ``skmtl._solvers.datafits.DATAFITS``).
    column_stats : tuple of ndarray, default=None
        ``X``'s column ``(min, max, sum)`` from input validation
        (``validate_X(..., return_column_stats=True)``), handed to the
        design operator so that ``X`` is not read again for them.

    Returns
    -------
    X : float64 design
    op : DesignOperator
    datafit : Quadratic or Logistic

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl._validation import make_task_data
    >>> from skmtl.linear_model._setup import make_problem
    >>> Y = np.array([[1.0, np.nan], [2.0, 3.0], [0.0, 1.0]])
    >>> X, op, df = make_problem(np.eye(3), make_task_data(Y), np.ones(2))
    >>> op.n_entries, df.task_c.round(6).tolist()
    (5, [1.0, 1.0])
    """
    datafit_cls = get_datafit_class(loss)
    Xf = as_float64_X(X)
    if Xf is not X:
        column_stats = None  # (computed for float64 X only)
    X = Xf
    T = data.n_tasks
    c = data.entry_weights(task_weights)
    # every label, no sample weights: c is n copies of one per-task row,
    # which the operator reads instead of c
    row = data.tiled_weight_row(task_weights)
    tiled = None if row is None else (c, row)
    if data.lazy_layout:
        # every label present: the index arrays are built (once, by ``data``)
        # only if a solver reads them
        op = DesignOperator(
            X, None, None, None, T, column_stats=column_stats, entries=data,
            tiled_weights=tiled,
        )  # fmt: skip
        datafit = datafit_cls(data.y, c, None, T, entries=data)
        return X, op, datafit
    op = DesignOperator(
        X, data.row_ptr, data.entry_row, data.entry_task, T, column_stats=column_stats,
        tiled_weights=tiled,
    )  # fmt: skip
    datafit = datafit_cls(data.y, c, data.entry_task, T)
    return X, op, datafit


def gradient_at_zero(op, datafit, fit_intercept=True):
    """Datafit gradient ``G0`` (n_tasks, n_features) at ``W = 0`` with optimal
    intercepts, and those intercepts."""
    b0 = datafit.intercepts_at_zero(fit_intercept)
    f0 = b0[datafit.entry_task]
    return op.rmatvec(datafit.derivative(f0)), b0


def subset_task_data(Y2, rows, sample_weight=None, task_names=None):
    """``TaskData`` of the rows ``rows`` of a checked ``(n, T)`` target array."""
    sw = None if sample_weight is None else np.asarray(sample_weight)[rows]
    return make_task_data(Y2[rows], sw, task_names)
