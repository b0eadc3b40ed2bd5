"""Masked per-task metrics and scorers.

Every metric here compares ``Y_true`` and ``Y_pred`` of shape
``(n_samples, n_tasks)`` on the labelled entries only (NaN or ``None`` in
``Y_true`` means "no label"), task by task, and then aggregates over tasks.
Because missing labels are skipped, these metrics and the scorers built from
them work in ``GridSearchCV`` and ``cross_validate`` with NaN in ``Y``.

Where a task's score is not defined it is NaN with an
``UndefinedMetricWarning`` (as scikit-learn): R², explained variance and
normalised MSE of a task with fewer than two labels, ROC AUC of a task whose
labels hold one class. Aggregates skip NaN tasks. A scorer warns when a task
has no label at all in the data it scores (a cross-validation test fold
without that task), and raises when no task has one.
"""

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import roc_auc_score as _sk_roc_auc
from sklearn.metrics._scorer import _BaseScorer

__all__ = [
    "accuracy_score",
    "explained_variance_score",
    "log_loss",
    "make_multitask_scorer",
    "mean_squared_error",
    "nmse_score",
    "per_task_scorers",
    "per_task_scores",
    "r2_score",
    "roc_auc_score",
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


def _undefined(name, n_labels):
    warnings.warn(
        f"{name} is not well-defined for a task with fewer than two labels "
        f"(got {n_labels}); its score is NaN.",
        UndefinedMetricWarning,
        stacklevel=5,
    )
    return np.nan


def _r2(y, p, w):
    if y.size < 2:
        return _undefined("R^2", y.size)
    sst = _var(y, w)
    sse = _mse(y, p, w)
    if sst == 0:
        return 1.0 if sse == 0 else 0.0
    return 1.0 - sse / sst


def _nmse(y, p, w):
    if y.size < 2:
        return _undefined("The normalised MSE", y.size)
    var = _var(y, w)
    sse = _mse(y, p, w)
    if var == 0:
        return 0.0 if sse == 0 else np.inf
    return sse / var


def _evs(y, p, w):
    if y.size < 2:
        return _undefined("Explained variance", y.size)
    var = _var(y, w)
    res_var = _var(y - p, w)
    if var == 0:
        return 1.0 if res_var == 0 else 0.0
    return 1.0 - res_var / var


def _equal(a, b):
    """Elementwise ``a == b`` of two label arrays (vectorised unless object)."""
    a, b = np.asarray(a), np.asarray(b)
    for kinds in ("iufb", "US"):
        if a.dtype.kind in kinds and b.dtype.kind in kinds:
            return np.asarray(a == b, dtype=bool)
    if b.ndim == 0:
        return np.array([v == b for v in a], dtype=bool)
    return np.array([u == v for u, v in zip(a, b, strict=True)], dtype=bool)


def _acc(y, p, w):
    if y.dtype.kind in "iufb" and np.asarray(p).dtype.kind in "iufb":
        return _wmean((y == p).astype(np.float64), w)
    return _wmean(_equal(y, p).astype(np.float64), w)


def _roc_auc(z, s, w):
    if z.all() or not z.any():
        warnings.warn(
            "ROC AUC is not defined for a task whose labels hold one class; "
            "its score is NaN.",
            UndefinedMetricWarning,
            stacklevel=5,
        )
        return np.nan
    return float(_sk_roc_auc(z, s, sample_weight=w))


def _log_loss(z, p, w):
    if np.any((p < 0) | (p > 1)):
        raise ValueError(
            "log_loss needs probabilities of the positive class in [0, 1] "
            "(predict_proba), got values outside."
        )
    eps = np.finfo(np.float64).eps
    p = np.clip(p, eps, 1 - eps)
    return _wmean(-np.where(z, np.log(p), np.log1p(-p)), w)


# name -> (per-task function, greater is better, kind); kind: "float" compares
# numbers, "label" compares labels, "binary" scores the positive class
_METRICS = {
    "r2": (_r2, True, "float"),
    "mse": (_mse, False, "float"),
    "neg_mse": (_mse, False, "float"),
    "nmse": (_nmse, False, "float"),
    "explained_variance": (_evs, True, "float"),
    "accuracy": (_acc, True, "label"),
    "roc_auc": (_roc_auc, True, "binary"),
    "log_loss": (_log_loss, False, "binary"),
    "neg_log_loss": (_log_loss, False, "binary"),
}


def _check_metric(metric):
    if metric not in _METRICS:
        raise ValueError(
            f"Unknown metric {metric!r}; expected one of {sorted(_METRICS)}."
        )


def _as_2d_labels(a, name):
    """2-D labels: numeric arrays keep their dtype (NaN = missing), anything
    else becomes an object array (None or NaN = missing)."""
    a = np.asarray(a)
    if a.dtype.kind not in "iufb":
        a = a.astype(object)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {a.shape}.")
    return a


def _missing(column):
    from .neural_network._labels import missing_label_mask

    return missing_label_mask(column)


def _per_task_labels(Y_true, Y_pred, sample_weight):
    """Accuracy-style comparison of labels (object arrays, None missing)."""
    Yt = _as_2d_labels(Y_true, "Y_true")
    Yp = _as_2d_labels(Y_pred, "Y_pred")
    if Yt.shape != Yp.shape:
        raise ValueError(
            f"Y_true and Y_pred have different shapes: {Yt.shape} vs {Yp.shape}."
        )
    sw = np.ones(Yt.shape[0]) if sample_weight is None else np.asarray(sample_weight)
    out = np.full(Yt.shape[1], np.nan)
    for t in range(Yt.shape[1]):
        m = ~_missing(Yt[:, t])
        if m.any() and sw[m].sum() > 0:
            out[t] = _acc(Yt[m, t], Yp[m, t], sw[m])
    return out


def _scores_2d(Y_score):
    """Scores of the positive class, ``(n, T)``: ``predict_proba``'s list of
    ``(n, 2)`` arrays becomes its second columns."""
    if isinstance(Y_score, list | tuple) and all(np.ndim(p) == 2 for p in Y_score):
        return np.column_stack(
            [np.asarray(p, dtype=np.float64)[:, -1] for p in Y_score]
        )
    return _as_2d(Y_score, "Y_score")


def _positive(values, t, classes):
    """Boolean "is the positive class" of one task's labelled ``values``."""
    if classes is not None:
        cls = np.asarray(classes[t], dtype=object)
        if cls.shape != (2,):
            raise ValueError(f"classes[{t}] must hold the task's two labels.")
        pos = _equal(values, cls[1])
        unknown = ~(pos | _equal(values, cls[0]))
        if unknown.any():
            bad = values[np.flatnonzero(unknown)[0]]
            raise ValueError(
                f"Task {t} has label {bad!r} not in its classes {list(cls)}."
            )
        return pos
    try:
        uniq = np.unique(values)
    except TypeError as exc:
        raise ValueError(f"Task {t} mixes label types.") from exc
    if uniq.size > 2:
        raise ValueError(
            f"ROC AUC and log-loss here are binary, but task {t} has "
            f"{uniq.size} classes {list(uniq)[:5]}."
        )
    if uniq.size == 2:
        return _equal(values, uniq[1])
    only = uniq[0]
    if isinstance(only, bool | np.bool_ | int | float | np.integer | np.floating):
        if only in (0, -1):
            return np.zeros(values.shape[0], dtype=bool)
        if only == 1:
            return np.ones(values.shape[0], dtype=bool)
    raise ValueError(
        f"Task {t} has one label ({only!r}) here, so which class is positive "
        "is unknown: pass classes (each task's two labels, positive second)."
    )


def _per_task_binary(Y_true, Y_score, sample_weight, fn, classes):
    Yt = _as_2d_labels(Y_true, "Y_true")
    S = _scores_2d(Y_score)
    if Yt.shape != S.shape:
        raise ValueError(
            f"Y_true and Y_score have different shapes: {Yt.shape} vs {S.shape}."
        )
    if classes is not None and len(classes) != Yt.shape[1]:
        raise ValueError(f"classes has {len(classes)} entries for {Yt.shape[1]} tasks.")
    sw = np.ones(Yt.shape[0]) if sample_weight is None else np.asarray(sample_weight)
    sw = np.asarray(sw, dtype=np.float64).reshape(-1)
    if sw.shape[0] != Yt.shape[0]:
        raise ValueError("sample_weight has the wrong length.")
    out = np.full(Yt.shape[1], np.nan)
    for t in range(Yt.shape[1]):
        m = ~_missing(Yt[:, t])
        if not m.any() or sw[m].sum() <= 0:
            continue
        s = S[m, t]
        if not np.all(np.isfinite(s)):
            raise ValueError(f"Y_score has NaN or inf on labelled entries of task {t}.")
        out[t] = fn(_positive(Yt[m, t], t, classes), s, sw[m])
    return out


def per_task_scores(Y_true, Y_pred, metric="r2", *, sample_weight=None, classes=None):
    """Score each task on its labelled entries.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True targets, NaN (or None) where a task has no label.
    Y_pred : array-like of the same shape, or list of (n_samples, 2) arrays
        Predictions; for "roc_auc" scores of the positive class
        (``decision_function`` or probabilities), for "log_loss"
        probabilities of the positive class (``predict_proba``'s list of
        ``(n, 2)`` arrays is accepted as is).
    metric : {"r2", "mse", "nmse", "explained_variance", "accuracy", \
"roc_auc", "log_loss"}
        The metric.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    classes : list of array-like of shape (2,), default=None
        "roc_auc" and "log_loss" only: each task's two labels, the positive
        class second (a classifier's ``classes_``). Default: the greater of
        the task's two labels is positive.

    Returns
    -------
    scores : ndarray of shape (n_tasks,)
        NaN for a task with no label in ``Y_true``, or whose score is not
        defined (with an ``UndefinedMetricWarning``, see the module doc).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import per_task_scores
    >>> Y = np.array([[1.0, np.nan], [2.0, 1.0], [3.0, 3.0]])
    >>> P = np.array([[1.0, 9.0], [2.0, 1.0], [3.0, 2.0]])
    >>> per_task_scores(Y, P, "mse")
    array([0. , 0.5])
    """
    _check_metric(metric)
    fn, _, kind = _METRICS[metric]
    if kind == "binary":
        return _per_task_binary(Y_true, Y_pred, sample_weight, fn, classes)
    if kind == "label":
        return _per_task_labels(Y_true, Y_pred, sample_weight)
    return _per_task(Y_true, Y_pred, sample_weight, fn)


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
    return _aggregate(
        per_task_scores(Y_true, Y_pred, "accuracy", sample_weight=sample_weight),
        aggregate,
    )


def roc_auc_score(
    Y_true, Y_score, *, sample_weight=None, aggregate="mean", classes=None
):
    """Per-task ROC AUC on labelled entries, aggregated over tasks.

    Each task is a binary problem with its own two labels. A task whose
    labels hold one class scores NaN (with a warning) and is left out of the
    aggregate.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True labels, NaN or None where a task has no label.
    Y_score : array-like of shape (n_samples, n_tasks) or list of (n_samples, 2)
        Scores of the positive class: ``decision_function``, probabilities,
        or ``predict_proba``'s list.
    sample_weight : array-like of shape (n_samples,), default=None
    aggregate : {"mean", "min", "median", "max", "raw_values"}, default="mean"
    classes : list of array-like of shape (2,), default=None
        Each task's labels, positive second; default: the greater label.

    Returns
    -------
    score : float or ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import roc_auc_score
    >>> Y = np.array([[0, 1], [1, np.nan], [1, 0], [0, 0]])
    >>> S = np.array([[0.1, 0.9], [0.8, 0.5], [0.7, 0.4], [0.6, 0.5]])
    >>> roc_auc_score(Y, S, aggregate="raw_values")
    array([1., 1.])
    """
    return _aggregate(
        per_task_scores(
            Y_true, Y_score, "roc_auc", sample_weight=sample_weight, classes=classes
        ),
        aggregate,
    )


def log_loss(Y_true, Y_prob, *, sample_weight=None, aggregate="mean", classes=None):
    """Per-task mean logistic loss on labelled entries, aggregated over tasks.

    ``-[z log p + (1 - z) log(1 - p)]`` with ``z`` 1 for the positive class
    and ``p`` its predicted probability (clipped to ``[eps, 1 - eps]``).
    Lower is better.

    Parameters
    ----------
    Y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True labels, NaN or None where a task has no label.
    Y_prob : array-like of shape (n_samples, n_tasks) or list of (n_samples, 2)
        Probabilities of the positive class, or ``predict_proba``'s list.
    sample_weight : array-like of shape (n_samples,), default=None
    aggregate : {"mean", "min", "median", "max", "raw_values"}, default="mean"
    classes : list of array-like of shape (2,), default=None
        Each task's labels, positive second; default: the greater label.

    Returns
    -------
    loss : float or ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import log_loss
    >>> Y = np.array([["a", "x"], ["b", None], ["b", "y"]], dtype=object)
    >>> P = np.array([[0.5, 0.5], [0.5, 0.9], [0.5, 0.5]])
    >>> round(log_loss(Y, P), 4)  # log 2 for both tasks
    0.6931
    """
    return _aggregate(
        per_task_scores(
            Y_true, Y_prob, "log_loss", sample_weight=sample_weight, classes=classes
        ),
        aggregate,
    )


def _estimator_classes(estimator):
    """Each task's ``classes_`` as a list (a single-task classifier's too)."""
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        return None
    if isinstance(classes, list | tuple):
        return [np.asarray(c) for c in classes]
    classes = np.asarray(classes)
    return [classes] if classes.ndim == 1 else list(classes)


def _response(estimator, X, metric):
    """What ``metric`` scores: predictions, scores or probabilities."""
    kind = _METRICS[metric][2]
    if kind != "binary":
        return estimator.predict(X)
    if metric == "roc_auc" and hasattr(estimator, "decision_function"):
        return estimator.decision_function(X)
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"Scoring by {metric!r} needs an estimator with predict_proba"
            f"{' or decision_function' if metric == 'roc_auc' else ''}; "
            f"{type(estimator).__name__} has none."
        )
    proba = estimator.predict_proba(X)
    if isinstance(proba, list | tuple):
        return proba
    proba = np.asarray(proba)
    if proba.ndim == 2 and proba.shape[1] == 2:  # one task, scikit-learn's form
        return proba[:, [1]]
    return proba


def _scorer_signature(y_true, y_pred, *, sample_weight=None):
    """The parameters of the multi-task scorers, as scikit-learn's metadata
    routing reads them from a scorer's score function (``sample_weight`` can
    be requested with ``set_score_request``). Never called."""
    raise NotImplementedError  # pragma: no cover


class _MultiTaskScorer(_BaseScorer):
    """``scorer(estimator, X, Y, sample_weight=None)`` of a masked metric.

    Scores the whole ``Y`` (aggregated over tasks), or one task (``task``).
    Warns naming the tasks without any label in the scored data, raises
    when no task has one; error metrics are negated (greater is better).
    A scikit-learn scorer (``_BaseScorer``), so ``set_score_request`` and
    metadata routing work as for ``make_scorer``'s scorers.
    """

    def __init__(self, metric, aggregate="mean", task=None, n_tasks=None):
        greater = _METRICS[metric][1]
        super().__init__(_scorer_signature, 1 if greater else -1, {}, "predict")
        self.metric = metric
        self.aggregate = aggregate
        self.task = task
        self.n_tasks = n_tasks

    def __repr__(self):
        what = f"task={self.task}" if self.task is not None else self.aggregate
        return f"multitask_scorer({self.metric!r}, {what})"

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        return self._masked_score(estimator, X, y_true, kwargs.get("sample_weight"))

    def _masked_score(self, estimator, X, y_true, sample_weight):
        Yt = _as_2d_labels(y_true, "Y_true")
        if self.n_tasks is not None and Yt.shape[1] != self.n_tasks:
            raise ValueError(
                f"Per-task scorer built for {self.n_tasks} tasks got Y_true of "
                f"shape {Yt.shape}."
            )
        fn, greater, kind = _METRICS[self.metric]
        Y_pred = _response(estimator, X, self.metric)
        classes = _estimator_classes(estimator) if kind == "binary" else None
        scores = per_task_scores(
            Yt, Y_pred, self.metric, sample_weight=sample_weight, classes=classes
        )
        labelled = np.array([(~_missing(Yt[:, t])).any() for t in range(Yt.shape[1])])
        sign = 1.0 if greater else -1.0
        if self.task is not None:
            if not labelled[self.task]:
                warnings.warn(
                    f"Scoring {self.metric!r}: task {self.task} has no label in "
                    "the scored data (a test fold without that task?); its score "
                    "is NaN. Use skmtl.model_selection.TaskStratifiedKFold as cv.",
                    UserWarning,
                    stacklevel=2,
                )
            return sign * float(scores[self.task])
        if not labelled.any():
            raise ValueError(
                f"Scoring {self.metric!r}: no task has a label in the scored data "
                "(an empty test fold?); the score would be NaN."
            )
        if not labelled.all():
            missing = np.flatnonzero(~labelled)
            warnings.warn(
                f"Scoring {self.metric!r}: {missing.size} of {labelled.size} "
                f"task(s) have no label in the scored data (tasks "
                f"{missing[:10].tolist()}); the score aggregates the other "
                f"{labelled.sum()}, so it is not comparable with other folds. Use "
                "skmtl.model_selection.TaskStratifiedKFold as cv, which keeps "
                "every task in every test fold where the data allow it.",
                UserWarning,
                stacklevel=2,
            )
        return sign * _aggregate(scores, self.aggregate)


def make_multitask_scorer(metric="r2", aggregate="mean"):
    """Scorer for ``GridSearchCV`` / ``cross_validate`` over ``Y`` with NaN.

    Parameters
    ----------
    metric : {"r2", "mse", "neg_mse", "nmse", "explained_variance", \
"accuracy", "roc_auc", "log_loss", "neg_log_loss"}
        Per-task metric. Error metrics ("mse", "nmse", "log_loss") are
        negated so that greater is better, as scikit-learn's scorers
        require. "roc_auc" scores ``decision_function`` (or
        ``predict_proba``), "log_loss" ``predict_proba``, each task against
        the estimator's ``classes_``.
    aggregate : {"mean", "min", "median", "max"}
        How per-task scores become one number. ``"min"`` of R² (or of the
        negated errors) is the worst task: select models that hurt no task.

    Returns
    -------
    scorer : callable ``scorer(estimator, X, Y, sample_weight=None)``
        Warns when a task has no label in the scored rows (it is left out of
        the aggregate), raises ``ValueError`` when no task has one.

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
    _check_metric(metric)
    if aggregate not in _AGGREGATES or aggregate == "raw_values":
        raise ValueError(
            f"Unknown aggregate {aggregate!r}; expected one of "
            f"{[a for a in _AGGREGATES if a != 'raw_values']}."
        )
    if not _METRICS[metric][1] and aggregate in ("min", "max"):
        # the worst task of an error metric is its largest error
        aggregate = "max" if aggregate == "min" else "min"
    return _MultiTaskScorer(metric, aggregate)


def per_task_scorers(metric, n_tasks, *, task_names=None):
    """One scorer per task, for ``cross_validate(scoring=...)``.

    ``make_multitask_scorer(metric, aggregate="raw_values")`` cannot be a
    scorer (scorers return one number); this returns a dict of scorers
    instead, one per task, each scoring that task on its labelled entries.
    A task with no label in a test fold scores NaN there, with a warning.

    Parameters
    ----------
    metric : {"r2", "mse", "neg_mse", "nmse", "explained_variance", \
"accuracy", "roc_auc", "log_loss", "neg_log_loss"}
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
    _check_metric(metric)
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
        f"{prefix}_{name}": _MultiTaskScorer(metric, task=t, n_tasks=n_tasks)
        for t, name in enumerate(task_names)
    }
