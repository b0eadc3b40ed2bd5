"""Validated data to solver objects: the design operator and the datafit.

``_PenalizedLinearRegression.fit`` and ``MultiTaskLogisticRegression.fit``
build the same pair inline; the regularization path and the CV estimators
build it here, for the full data and for each fold's training rows.
"""

import numpy as np

from .._solvers.datafits import DATAFITS
from .._solvers.design import DesignOperator
from .._validation import as_float64_X, make_task_data

__all__ = ["make_problem", "optimal_intercepts_at_zero", "gradient_at_zero"]


def make_problem(X, data, task_weights, loss="squared"):
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
    if loss not in DATAFITS:
        raise ValueError(f"Unknown loss {loss!r}; expected one of {sorted(DATAFITS)}.")
    X = as_float64_X(X)
    T = data.n_tasks
    c = data.entry_weights(task_weights)
    op = DesignOperator(X, data.row_ptr, data.entry_row, data.entry_task, T)
    datafit = DATAFITS[loss](data.y, c, data.entry_task, T)
    return X, op, datafit


def optimal_intercepts_at_zero(datafit, fit_intercept=True):
    """Per-task intercepts minimising the datafit at ``W = 0`` (exactly).

    Squared loss: the weighted label mean. Logistic loss (labels in {-1, +1}):
    ``log(q / (1 - q))`` with ``q`` the weighted share of positives (a task
    with a single class gets a large finite value instead of infinity).
    """
    T = datafit.n_tasks
    if not fit_intercept:
        return np.zeros(T)
    if getattr(datafit, "exact_intercept", False):
        return datafit.optimal_intercept(np.zeros_like(datafit.y))
    pos = np.bincount(
        datafit.entry_task, weights=datafit.c * (datafit.y > 0), minlength=T
    )
    q = np.clip(pos / datafit.task_c, 1e-12, 1 - 1e-12)
    return np.log(q / (1.0 - q))


def gradient_at_zero(op, datafit, fit_intercept=True):
    """Datafit gradient ``G0`` (n_tasks, n_features) at ``W = 0`` with optimal
    intercepts, and those intercepts."""
    b0 = optimal_intercepts_at_zero(datafit, fit_intercept)
    f0 = b0[datafit.entry_task]
    return op.rmatvec(datafit.derivative(f0)), b0


def subset_task_data(Y2, rows, sample_weight=None, task_names=None):
    """``TaskData`` of the rows ``rows`` of a checked ``(n, T)`` target array."""
    sw = None if sample_weight is None else np.asarray(sample_weight)[rows]
    return make_task_data(Y2[rows], sw, task_names)
