"""Masked per-task metrics and scorers.

Every metric here compares ``Y_true`` and ``Y_pred`` of shape
``(n_samples, n_tasks)`` on the labelled entries only (NaN or ``None`` in
``Y_true`` means "no label"), task by task, and then aggregates over tasks.
Because missing labels are skipped, these metrics and the scorers built from
them work in ``GridSearchCV`` and ``cross_validate`` with NaN in ``Y``.
"""

import numpy as np
from sklearn.metrics import make_scorer

__all__ = [
    "explained_variance_score",
    "make_multitask_scorer",
    "mean_squared_error",
    "nmse_score",
    "per_task_scorers",
    "per_task_scores",
    "r2_score",
    "accuracy_score",
]

_AGGREGATES = ("mean", "min", "median", "max", "raw_values")


def _as_2d(a, name):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {a.shape}.")
    return a


def _check_pair(Y_true, Y_pred, sample_weight):
    Yt = _as_2d(Y_true, "Y_true")
    Yp = _as_2d(Y_pred, "Y_pred")
    if Yt.shape != Yp.shape:
        raise ValueError(
            f"Y_true and Y_pred have different shapes: {Yt.shape} vs {Yp.shape}."
        )
    if sample_weight is None:
        sw = np.ones(Yt.shape[0])
    else:
        sw = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if sw.shape[0] != Yt.shape[0]:
            raise ValueError("sample_weight has the wrong length.")
    return Yt, Yp, sw


def _aggregate(values, aggregate):
    if aggregate not in _AGGREGATES:
        raise ValueError(
            f"Unknown aggregate {aggregate!r}; expected one of {_AGGREGATES}."
        )
    if aggregate == "raw_values":
        return values
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return np.nan
    return float(getattr(np, aggregate)(finite))


def _per_task(Y_true, Y_pred, sample_weight, fn):
    Yt, Yp, sw = _check_pair(Y_true, Y_pred, sample_weight)
    out = np.full(Yt.shape[1], np.nan)
    for t in range(Yt.shape[1]):
        m = ~np.isnan(Yt[:, t])
        if not m.any():
            continue
        if np.isnan(Yp[m, t]).any():
            raise ValueError(f"Y_pred has NaN on labelled entries of task {t}.")
        w = sw[m]
        if w.sum() <= 0:
            continue
        out[t] = fn(Yt[m, t], Yp[m, t], w)
    return out


def _wmean(a, w):
    return np.sum(w * a) / np.sum(w)


def _mse(y, p, w):
    return _wmean((y - p) ** 2, w)


def _var(y, w):
    return _wmean((y - _wmean(y, w)) ** 2, w)


def _r2(y, p, w):
    sst = _var(y, w)
    sse = _mse(y, p, w)
    if sst == 0:
        return 1.0 if sse == 0 else 0.0
    return 1.0 - sse / sst


def _nmse(y, p, w):
    var = _var(y, w)
    sse = _mse(y, p, w)
    if var == 0:
        return 0.0 if sse == 0 else np.inf
    return sse / var


def _evs(y, p, w):
    var = _var(y, w)
    res_var = _var(y - p, w)
    if var == 0:
        return 1.0 if res_var == 0 else 0.0
    return 1.0 - res_var / var


def _acc(y, p, w):
    return _wmean((y == p).astype(np.float64), w)


_METRICS = {
    "r2": (_r2, True),
    "mse": (_mse, False),
    "neg_mse": (_mse, False),
    "nmse": (_nmse, False),
    "explained_variance": (_evs, True),
    "accuracy": (_acc, True),
}


def per_task_scores(Y_true, Y_pred, metric="r2", *, sample_weight=None):
    """Score each task on its labelled entries.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True targets, NaN where a task has no label.
    Y_pred : array-like of the same shape
        Predictions.
    metric : {"r2", "mse", "nmse", "explained_variance", "accuracy"}
        The metric.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    scores : ndarray of shape (n_tasks,)
        NaN for a task with no label in ``Y_true``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import per_task_scores
    >>> Y = np.array([[1.0, np.nan], [2.0, 1.0], [3.0, 3.0]])
    >>> P = np.array([[1.0, 9.0], [2.0, 1.0], [3.0, 2.0]])
    >>> per_task_scores(Y, P, "mse")
    array([0. , 0.5])
    """
    if metric not in _METRICS:
        raise ValueError(
            f"Unknown metric {metric!r}; expected one of {sorted(_METRICS)}."
        )
    return _per_task(Y_true, Y_pred, sample_weight, _METRICS[metric][0])


def r2_score(Y_true, Y_pred, *, sample_weight=None, aggregate="mean"):
    """Per-task R² on labelled entries, aggregated over tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import r2_score
    >>> Y = np.array([[1.0, np.nan], [2.0, 1.0], [3.0, 3.0]])
    >>> r2_score(Y, Y)
    1.0
    """
    return _aggregate(
        per_task_scores(Y_true, Y_pred, "r2", sample_weight=sample_weight), aggregate
    )


def mean_squared_error(Y_true, Y_pred, *, sample_weight=None, aggregate="mean"):
    """Per-task mean squared error on labelled entries, aggregated over tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import mean_squared_error
    >>> mean_squared_error([[1.0, np.nan], [2.0, 4.0]], [[2.0, 0.0], [2.0, 2.0]])
    2.25
    """
    return _aggregate(
        per_task_scores(Y_true, Y_pred, "mse", sample_weight=sample_weight), aggregate
    )


def nmse_score(Y_true, Y_pred, *, sample_weight=None, aggregate="mean"):
    """Per-task normalised MSE (MSE / variance of the task's labels).

    Lower is better; predicting each task's mean gives 1.

    Examples
    --------
    >>> from skmtl.metrics import nmse_score
    >>> nmse_score([[1.0], [3.0]], [[2.0], [2.0]])
    1.0
    """
    return _aggregate(
        per_task_scores(Y_true, Y_pred, "nmse", sample_weight=sample_weight),
        aggregate,
    )


def explained_variance_score(Y_true, Y_pred, *, sample_weight=None, aggregate="mean"):
    """Per-task explained variance on labelled entries, aggregated over tasks.

    Examples
    --------
    A constant offset is not penalised (R² would be 0 here):

    >>> from skmtl.metrics import explained_variance_score
    >>> explained_variance_score([[1.0], [3.0]], [[2.0], [4.0]])
    1.0
    """
    return _aggregate(
        per_task_scores(
            Y_true, Y_pred, "explained_variance", sample_weight=sample_weight
        ),
        aggregate,
    )


def accuracy_score(Y_true, Y_pred, *, sample_weight=None, aggregate="mean"):
    """Per-task accuracy on labelled entries, aggregated over tasks.

    ``Y_true`` may be an object array with ``None`` for missing labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import accuracy_score
    >>> accuracy_score([[0, np.nan], [1, 1]], [[0, 0], [0, 1]])
    0.75
    """
    Yt = np.asarray(Y_true, dtype=object)
    Yp = np.asarray(Y_pred, dtype=object)
    if Yt.ndim == 1:
        Yt, Yp = Yt.reshape(-1, 1), Yp.reshape(-1, 1)
    if Yt.shape != Yp.shape:
        raise ValueError(
            f"Y_true and Y_pred have different shapes: {Yt.shape} vs {Yp.shape}."
        )
    sw = np.ones(Yt.shape[0]) if sample_weight is None else np.asarray(sample_weight)
    scores = np.full(Yt.shape[1], np.nan)
    for t in range(Yt.shape[1]):
        m = np.array([_is_label(v) for v in Yt[:, t]], dtype=bool)
        if m.any():
            hits = np.array(
                [a == b for a, b in zip(Yt[m, t], Yp[m, t], strict=True)], float
            )
            scores[t] = _wmean(hits, sw[m])
    return _aggregate(scores, aggregate)


def _is_label(v):
    if v is None:
        return False
    try:
        return not np.isnan(v)
    except TypeError:
        return True


_SCORE_FUNCS = {
    "r2": r2_score,
    "mse": mean_squared_error,
    "neg_mse": mean_squared_error,
    "nmse": nmse_score,
    "explained_variance": explained_variance_score,
    "accuracy": accuracy_score,
}


def make_multitask_scorer(metric="r2", aggregate="mean"):
    """Scorer for ``GridSearchCV`` / ``cross_validate`` over ``Y`` with NaN.

    Parameters
    ----------
    metric : {"r2", "mse", "neg_mse", "nmse", "explained_variance", "accuracy"}
        Per-task metric. Error metrics ("mse", "nmse") are negated so that
        greater is better, as scikit-learn's scorers require.
    aggregate : {"mean", "min", "median", "max"}
        How per-task scores become one number. ``"min"`` of R² (or of the
        negated errors) is the worst task: select models that hurt no task.

    Returns
    -------
    scorer : callable ``scorer(estimator, X, Y)``

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_val_score
    >>> from skmtl import MultiTaskLasso
    >>> from skmtl.metrics import make_multitask_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> Y = X[:, :2] + 0.1 * rng.normal(size=(60, 2))
    >>> Y[::3, 1] = np.nan
    >>> scorer = make_multitask_scorer("r2", aggregate="min")
    >>> scores = cross_val_score(MultiTaskLasso(alpha=0.01), X, Y, cv=3,
    ...                          scoring=scorer)
    >>> bool(scores.min() > 0.9)
    True
    """
    if metric not in _SCORE_FUNCS:
        raise ValueError(
            f"Unknown metric {metric!r}; expected one of {sorted(_SCORE_FUNCS)}."
        )
    if aggregate not in _AGGREGATES or aggregate == "raw_values":
        raise ValueError(
            f"Unknown aggregate {aggregate!r}; expected one of "
            f"{[a for a in _AGGREGATES if a != 'raw_values']}."
        )
    greater = _METRICS[metric][1]
    if not greater and aggregate in ("min", "max"):
        # the worst task of an error metric is its largest error
        aggregate = "max" if aggregate == "min" else "min"
    return make_scorer(
        _SCORE_FUNCS[metric], greater_is_better=greater, aggregate=aggregate
    )


def _single_task_score(Y_true, Y_pred, *, metric, task, n_tasks, sample_weight=None):
    Yt = np.asarray(Y_true, dtype=object if metric == "accuracy" else np.float64)
    Yp = np.asarray(Y_pred, dtype=object if metric == "accuracy" else np.float64)
    if Yt.ndim == 1:
        Yt, Yp = Yt.reshape(-1, 1), Yp.reshape(-1, 1)
    if Yt.shape[1] != n_tasks or Yp.shape != Yt.shape:
        raise ValueError(
            f"Per-task scorer built for {n_tasks} tasks got Y_true of shape "
            f"{Yt.shape} and Y_pred of shape {Yp.shape}."
        )
    return _SCORE_FUNCS[metric](
        Yt[:, [task]], Yp[:, [task]], sample_weight=sample_weight, aggregate="mean"
    )


def per_task_scorers(metric, n_tasks, *, task_names=None):
    """One scorer per task, for ``cross_validate(scoring=...)``.

    ``make_multitask_scorer(metric, aggregate="raw_values")`` cannot be a
    scorer (scorers return one number); this returns a dict of scorers
    instead, one per task, each scoring that task on its labelled entries.
    A task with no label in a test fold scores NaN there.

    Parameters
    ----------
    metric : {"r2", "mse", "neg_mse", "nmse", "explained_variance", "accuracy"}
        Per-task metric. Error metrics are negated (greater is better) and
        their keys start with ``"neg_"``.
    n_tasks : int
        Number of tasks (columns of ``Y``).
    task_names : sequence of str, default=None
        Used in the keys instead of ``task0``, ``task1``, ...

    Returns
    -------
    scorers : dict
        ``{"<metric>_<task>": scorer}``, in task order.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_validate
    >>> from skmtl import MultiTaskLasso
    >>> from skmtl.metrics import per_task_scorers
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> Y = X[:, :2] + 0.1 * rng.normal(size=(60, 2))
    >>> Y[::3, 1] = np.nan
    >>> scoring = per_task_scorers("r2", 2)
    >>> sorted(scoring)
    ['r2_task0', 'r2_task1']
    >>> res = cross_validate(MultiTaskLasso(alpha=0.01), X, Y, cv=3,
    ...                      scoring=scoring)
    >>> bool(res["test_r2_task1"].min() > 0.9)
    True
    """
    if metric not in _SCORE_FUNCS:
        raise ValueError(
            f"Unknown metric {metric!r}; expected one of {sorted(_SCORE_FUNCS)}."
        )
    if isinstance(n_tasks, bool) or not isinstance(n_tasks, int | np.integer):
        raise ValueError(f"n_tasks must be a positive integer, got {n_tasks!r}.")
    if n_tasks < 1:
        raise ValueError(f"n_tasks must be a positive integer, got {n_tasks!r}.")
    if task_names is None:
        task_names = [f"task{t}" for t in range(n_tasks)]
    task_names = [str(name) for name in task_names]
    if len(task_names) != n_tasks:
        raise ValueError(
            f"task_names has {len(task_names)} names for n_tasks={n_tasks}."
        )
    if len(set(task_names)) != n_tasks:
        raise ValueError("task_names must be unique.")
    greater = _METRICS[metric][1]
    prefix = metric if greater or metric.startswith("neg_") else f"neg_{metric}"
    return {
        f"{prefix}_{name}": make_scorer(
            _single_task_score,
            greater_is_better=greater,
            metric=metric,
            task=t,
            n_tasks=n_tasks,
        )
        for t, name in enumerate(task_names)
    }
