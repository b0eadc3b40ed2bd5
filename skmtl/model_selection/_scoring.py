"""``scoring`` of the CV estimators: select on a per-task metric.

By default the CV estimators select on their error path (``mse_path_``,
``log_loss_path_``: each task's mean loss, averaged over tasks), where tasks
with large targets decide. With ``scoring`` a per-task metric of
:mod:`skmtl.metrics` is computed instead, per fold and grid point, on each
task's labelled test entries, then aggregated over tasks (``"mean"``: the
mean weighted by the task weights, over the tasks with a defined score in
the fold; or the scorer's aggregate), and the grid point with the greatest
mean over folds (errors negated, as scikit-learn's scorers) is selected.
Normalised MSE (``"nmse"``) or R² give every task the same say whatever the
scale of its targets.

``scoring`` is a metric name (``"r2"``, ``"nmse"``, ``"mse"``,
``"explained_variance"`` for regression; ``"roc_auc"``, ``"log_loss"``,
``"accuracy"`` for classification) or a scorer made by
:func:`skmtl.metrics.make_multitask_scorer` or
:func:`skmtl.metrics.per_task_scorers` (then its aggregate, or its single
task, is used). Grid points are scored from their coefficients, without
building estimators.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import UndefinedMetricWarning

from .._solvers.datafits import get_datafit_class
from ..metrics import _METRICS, _aggregate, _MultiTaskScorer, per_task_scores

__all__ = ["check_cv_scoring", "path_scores"]


def check_cv_scoring(scoring, loss):
    """``(metric, aggregate, task)`` of ``scoring``, or None for the default."""
    if scoring is None:
        return None
    if isinstance(scoring, str):
        metric, aggregate, task = scoring, "mean", None
        if metric not in _METRICS:
            raise ValueError(
                f"Unknown scoring {scoring!r}; expected one of {sorted(_METRICS)} "
                "(the per-task metrics of skmtl.metrics) or a scorer from "
                "skmtl.metrics.make_multitask_scorer."
            )
    elif isinstance(scoring, _MultiTaskScorer):
        metric, aggregate, task = scoring.metric, scoring.aggregate, scoring.task
    else:
        raise TypeError(
            "scoring must be None, a metric name of skmtl.metrics or a scorer "
            "from skmtl.metrics.make_multitask_scorer / per_task_scorers (the "
            "grid is scored from coefficients, not through estimators); got "
            f"{scoring!r}."
        )
    kind = _METRICS[metric][2]
    datafit = get_datafit_class(loss)
    if kind not in datafit.metric_kinds:
        allowed = sorted(m for m, v in _METRICS.items() if v[2] in datafit.metric_kinds)
        raise ValueError(
            f"scoring={metric!r} does not apply to {datafit.estimator_kind}; use "
            f"one of {allowed}."
        )
    return metric, aggregate, task


def _over_tasks(per_task, task_weights, aggregate, task):
    if task is not None:
        return per_task[task]
    ok = np.isfinite(per_task)
    if not ok.any():
        return np.nan
    if aggregate == "mean":
        w = task_weights[ok]
        return float(per_task[ok] @ w / w.sum())
    return _aggregate(np.where(ok, per_task, np.nan), aggregate)


def path_scores(X_test, Y_test, sw_test, coefs, intercepts, task_weights, loss, spec):
    """Score (greater is better) of every grid point: shape ``(n_points,)``.

    ``Y_test`` is the datafit's encoding (``+-1`` codes for the logistic
    loss, the positive class being +1).
    """
    metric, aggregate, task = spec
    greater, kind = _METRICS[metric][1], _METRICS[metric][2]
    metric_input = get_datafit_class(loss).metric_input
    sign = 1.0 if greater else -1.0
    out = np.full(coefs.shape[0], np.nan)
    for a in range(coefs.shape[0]):
        F = X_test @ coefs[a].T
        F = np.asarray(F.toarray() if sp.issparse(F) else F) + intercepts[a]
        F = metric_input(F, kind)
        with warnings.catch_warnings():
            # undefined tasks (one label, one class) are NaN and left out
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            per_task = per_task_scores(Y_test, F, metric, sample_weight=sw_test)
        out[a] = sign * _over_tasks(per_task, task_weights, aggregate, task)
    return out
