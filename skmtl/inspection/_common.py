"""Shared helpers: targets, task names, folds, scoring names."""

from numbers import Integral

import numpy as np
from sklearn.utils import _safe_indexing

from .._validation import check_targets
from ..metrics import per_task_scores

# name -> (metric of per_task_scores, sign making greater better)
SCORINGS = {
    "r2": ("r2", 1.0),
    "explained_variance": ("explained_variance", 1.0),
    "accuracy": ("accuracy", 1.0),
    "neg_mse": ("mse", -1.0),
    "mse": ("mse", 1.0),
    "nmse": ("nmse", 1.0),
}
LOWER_IS_BETTER = ("mse", "nmse")


def check_scoring(scoring):
    if scoring not in SCORINGS:
        raise ValueError(
            f"Unknown scoring {scoring!r}; expected one of {sorted(SCORINGS)}."
        )
    return scoring


def score_tasks(Y_true, Y_pred, scoring, sample_weight=None):
    """Per-task scores (NaN for a task with no label in ``Y_true``)."""
    metric, sign = SCORINGS[scoring]
    Y_pred = np.asarray(Y_pred, dtype=np.float64).reshape(Y_true.shape)
    return sign * per_task_scores(Y_true, Y_pred, metric, sample_weight=sample_weight)


def targets_and_names(X, Y):
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    Y2, is_1d, names = check_targets(Y, n)
    if names is None:
        names = np.asarray([f"task{t}" for t in range(Y2.shape[1])], dtype=object)
    return Y2, is_1d, np.asarray(names, dtype=object)


def make_folds(cv, X, Y2):
    """List of ``(train, test)`` index pairs.

    An int uses :class:`skmtl.model_selection.TaskStratifiedKFold` (shuffled,
    ``random_state=0``), which keeps every task in every training fold.
    """
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2, got {cv}.")
        from ..model_selection import TaskStratifiedKFold

        splitter = TaskStratifiedKFold(int(cv), shuffle=True, random_state=0)
        return list(splitter.split(X, Y2))
    if hasattr(cv, "split"):
        return list(cv.split(X, Y2))
    try:
        folds = [(np.asarray(tr), np.asarray(te)) for tr, te in cv]
    except TypeError as exc:
        raise ValueError(
            f"cv must be an int, a splitter with `split` or an iterable of "
            f"(train, test) index arrays; got {cv!r}."
        ) from exc
    if not folds:
        raise ValueError("cv produced no split.")
    return folds


def rows(X, idx):
    return _safe_indexing(X, idx)


def sub_weight(sample_weight, idx):
    return None if sample_weight is None else sample_weight[idx]


def check_sample_weight(sample_weight, n):
    if sample_weight is None:
        return None
    sw = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if sw.shape[0] != n:
        raise ValueError(f"sample_weight has {sw.shape[0]} entries for {n} samples.")
    return sw
