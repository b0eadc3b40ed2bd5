"""The Bunch layout shared by the multi-task data loaders."""

import numpy as np
from sklearn.utils import Bunch


def tasks_bunch(X, y, task, task_names, feature_names, descr):
    """Build the loaders' Bunch from stacked rows and a row -> task index.

    ``Y[i, task[i]] = y[i]``; every other entry of ``Y`` is NaN.
    """
    n_tasks = len(task_names)
    Y = np.full((X.shape[0], n_tasks), np.nan)
    Y[np.arange(X.shape[0]), task] = y
    return Bunch(
        X=X,
        Y=Y,
        y=y,
        task=task,
        task_names=list(task_names),
        feature_names=list(feature_names),
        DESCR=descr,
    )


BUNCH_RETURNS_DOC = """\
    data : :class:`~sklearn.utils.Bunch`
        With the following attributes:

        X : ndarray of shape (n_samples, n_features), float64
            Features, rows grouped by task in task order.
        Y : ndarray of shape (n_samples, n_tasks), float64
            Targets in skmtl's form: ``Y[i, task[i]] = y[i]`` and NaN
            elsewhere (each row is labelled for its own task only).
        y : ndarray of shape (n_samples,)
            The target of each row.
        task : ndarray of shape (n_samples,), int64
            Task index of each row.
        task_names : list of str
            Name of each task.
        feature_names : list of str
            Name of each column of ``X``.
        DESCR : str
            Description of the dataset."""


def with_bunch_returns(func):
    """Decorator: put the Bunch description at ``{returns}`` in the docstring."""
    func.__doc__ = func.__doc__.replace("{returns}", BUNCH_RETURNS_DOC.lstrip())
    return func
