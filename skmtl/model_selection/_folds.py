"""The folds of a CV estimator: which splitter, what it is given, checks.

Every CV estimator (:class:`MultiTaskLassoCV` and the others) gets its folds
here, so they all treat ``cv`` and ``groups`` alike:

* ``cv=None`` or an int: for regression, :class:`TaskStratifiedKFold` when
  ``Y`` has missing labels and ``KFold`` otherwise (as scikit-learn); for
  classification, always :class:`TaskStratifiedKFold` stratified by class
  (scikit-learn's classifiers use ``StratifiedKFold``), which keeps both
  classes of every task in every training set where the data allow it.
* The splitter is given the user's ``y`` (original labels, a DataFrame's
  task names) and the metadata routed to it (``groups``, so ``GroupKFold``
  works): ``fit(X, y, sample_weight=None, **params)`` follows
  scikit-learn's metadata routing (:class:`SplitterRoutingMixin`), as
  ``LassoCV`` does.
* For classification, a fold whose training rows hold a single class of
  some task is rejected with an error naming the fold, the task and the
  class, as ``fit`` rejects such data: fitting it would run the intercept
  off to infinity and make that fold's held-out loss decide the selection.
"""

import numbers

import numpy as np
from sklearn.model_selection import check_cv
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)

from ._cv_common import default_cv
from ._split import TaskStratifiedKFold

__all__ = ["cv_folds", "SplitterRoutingMixin"]


class SplitterRoutingMixin:
    """Metadata routing of a CV estimator's ``fit(X, y, sample_weight=None,
    **params)``, by scikit-learn's rules (as ``LassoCV``): ``params`` (e.g.
    ``groups``) go to the splitter's ``split`` when metadata routing is
    enabled (``sklearn.set_config(enable_metadata_routing=True)``, and the
    splitter requests them: ``GroupKFold`` requests ``groups``); passing any
    while routing is disabled raises a ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> import sklearn
    >>> from sklearn.model_selection import GroupKFold
    >>> from skmtl import MultiTaskLassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> Y = X @ rng.normal(size=(3, 2)) + 0.5 * rng.normal(size=(40, 2))
    >>> groups = np.arange(40) % 4
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     cv = MultiTaskLassoCV(n_alphas=3, cv=GroupKFold(4))
    ...     cv.fit(X, Y, groups=groups).mse_path_.shape
    (3, 4)
    """

    def get_metadata_routing(self):
        """Get the metadata routing of this object: ``fit`` routes to the
        splitter's ``split`` (see scikit-learn's User Guide on metadata
        routing).

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
            The routing information.
        """
        return (
            MetadataRouter(owner=type(self).__name__)
            .add_self_request(self)
            .add(
                splitter=check_cv(self.cv),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )

    def _split_params(self, sample_weight, params):
        """The metadata of ``fit(**params)`` routed to ``split`` (``{}``
        without routing; any ``params`` then raise)."""
        _raise_for_params(params, self, "fit")
        if not _routing_enabled():
            return {}
        routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
        return dict(routed.splitter.split)


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


def cv_folds(cv, X, y, Y2, split_params=None, *, classes=None, task_names=None):
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
    split_params : dict, default=None
        Metadata for the splitter's ``split`` (``groups``), from
        :meth:`SplitterRoutingMixin._split_params`.
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
    folds = list(splitter.split(X, y, **(split_params or {})))
    if classification:
        _check_fold_classes(Y2, folds, classes, task_names)
    return folds
