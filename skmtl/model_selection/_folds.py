"""The folds of a CV estimator: which splitter, what it is given, checks.

Every CV estimator (:class:`MultiTaskLassoCV` and the others) gets its folds
here, so they all treat ``cv`` and ``groups`` alike:

* ``cv=None`` or an int: for regression, :class:`TaskStratifiedKFold` when
  ``Y`` has missing labels and ``KFold`` otherwise (as scikit-learn); for
  classification, always :class:`TaskStratifiedKFold` stratified by class
  (scikit-learn's classifiers use ``StratifiedKFold``), which keeps both
  classes of every task in every training set where the data allow it.
* The splitter is given the user's ``y`` (original labels, a DataFrame's
  task names) and ``groups`` (so ``GroupKFold`` works).
* For classification, a fold whose training rows hold a single class of
  some task is rejected with an error naming the fold, the task and the
  class, as ``fit`` rejects such data: fitting it would run the intercept
  off to infinity and make that fold's held-out loss decide the selection.
"""

import numbers

import numpy as np

from ._cv_common import default_cv
from ._split import TaskStratifiedKFold

__all__ = ["cv_folds"]


def _task_label(task_names, t):
    if task_names is None:
        return f"task {t}"
    return f"task {t} ({task_names[t]!r})"


def _check_fold_classes(Y2, folds, classes, task_names):
    """Raise when a fold's training rows miss a task or one of its classes."""
    for k, (train, _) in enumerate(folds):
        Ytr = Y2[train]
        has_pos = (Ytr == 1.0).any(axis=0)
        has_neg = (Ytr == -1.0).any(axis=0)
        for t in np.flatnonzero(~(has_pos & has_neg)):
            name = _task_label(task_names, t)
            if not has_pos[t] and not has_neg[t]:
                what = "has no label"
            else:
                present = classes[t][1] if has_pos[t] else classes[t][0]
                present = present.item() if hasattr(present, "item") else present
                what = f"has only one class ({present!r})"
            raise ValueError(
                f"CV fold {k}: {name} {what} in the fold's training rows, so "
                "no classifier can be fitted there (fit rejects such data "
                "too). Use skmtl.model_selection.TaskStratifiedKFold as cv "
                "(the default for cv=None or an int), which keeps both classes "
                "of every task in every training set where the data allow it."
            )


def cv_folds(cv, X, y, Y2, groups=None, *, classes=None, task_names=None):
    """List of ``(train, test)`` row indices of a CV estimator's folds.

    Parameters
    ----------
    cv : None, int, splitter or iterable
        The estimator's ``cv`` parameter.
    X : array-like or sparse matrix
        Validated features (only passed to the splitter).
    y : array-like
        The targets as the user gave them (passed to the splitter).
    Y2 : ndarray of shape (n_samples, n_tasks)
        Validated targets, NaN for missing labels; for classification the
        +-1 codes of the datafit.
    groups : array-like of shape (n_samples,), default=None
        Group labels passed to the splitter's ``split``.
    classes : list of ndarray, default=None
        Each task's two labels (classification only; the second is +1).
    task_names : sequence of str, default=None
        Used in error messages.

    Returns
    -------
    folds : list of (ndarray, ndarray)
    """
    classification = classes is not None
    if classification and (
        cv is None or (isinstance(cv, numbers.Integral) and not isinstance(cv, bool))
    ):
        n_splits = 5 if cv is None else int(cv)
        splitter = TaskStratifiedKFold(n_splits, stratify_classes=True)
    else:
        splitter = default_cv(cv, Y2)
    folds = list(splitter.split(X, y, groups))
    if classification:
        _check_fold_classes(Y2, folds, classes, task_names)
    return folds
