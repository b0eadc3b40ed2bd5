"""How related do tasks look before any multi-task fit?"""

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold

from ..baselines import IndependentTasksRegressor
from ._common import check_scoring, rows, score_tasks, targets_and_names
from ._similarity import _METRICS, similarity_matrix

__all__ = ["TaskRelatedness", "task_relatedness"]


@dataclass
class TaskRelatedness:
    """Result of :func:`task_relatedness`.

    Attributes
    ----------
    coef_similarity : ndarray of shape (n_tasks, n_tasks) or None
        Similarity (``similarity`` metric) of the coefficients of the
        independent per-task models; None if the base estimator has no
        ``coef_``.
    transfer_matrix : ndarray of shape (n_tasks, n_tasks)
        ``transfer_matrix[s, t]``: score on task ``t``'s labelled rows of a
        model trained on task ``s``'s labelled rows. The diagonal is the
        cross-validated score within each task.
    coef : ndarray of shape (n_tasks, n_features) or None
        The independent models' coefficients.
    task_names : ndarray of str
    metric : str
        The score of ``transfer_matrix``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.inspection import TaskRelatedness
    >>> res = TaskRelatedness(coef_similarity=np.eye(2),
    ...                       transfer_matrix=np.array([[0.9, 0.8], [0.7, 0.9]]),
    ...                       coef=None, task_names=np.array(["a", "b"]),
    ...                       metric="r2")
    >>> res.transfer_matrix[0, 1]
    np.float64(0.8)
    """

    coef_similarity: np.ndarray | None
    transfer_matrix: np.ndarray
    coef: np.ndarray | None
    task_names: np.ndarray
    metric: str = "r2"

    def __repr__(self):
        names = [str(n) for n in self.task_names]
        T = len(names)
        head = f"TaskRelatedness(metric={self.metric!r}, n_tasks={T})"
        if T > 12:
            return (
                f"{head}\ntransfer_matrix and coef_similarity of shape ({T}, {T}); "
                "draw them with skmtl.plotting.plot_task_similarity"
            )
        lines = [head]
        blocks = [
            (
                "transfer_matrix (row: trained on, column: scored on; "
                "diagonal: within-task CV)",
                self.transfer_matrix,
            ),
            ("coef_similarity", self.coef_similarity),
        ]
        width = max(8, *(len(n) for n in names))
        for title, M in blocks:
            if M is None:
                continue
            lines.append(title + ":")
            lines.append(" " * width + "".join(f"{n:>{width + 1}}" for n in names))
            for name, row in zip(names, np.asarray(M), strict=True):
                cells = "".join(f"{v:>{width + 1}.3f}" for v in row)
                lines.append(f"{name:<{width}}{cells}")
        return "\n".join(lines)


def _task_rows(Y2, t):
    return np.flatnonzero(~np.isnan(Y2[:, t]))


def _within_task_cv(est, Xs, ys, cv, metric):
    n = ys.shape[0]
    k = min(int(cv), n)
    if k < 2:
        return np.nan
    pred = np.empty(n)
    for train, test in KFold(k, shuffle=True, random_state=0).split(np.zeros(n)):
        pred[test] = np.ravel(
            clone(est).fit(rows(Xs, train), ys[train]).predict(rows(Xs, test))
        )
    return float(score_tasks(ys[:, None], pred[:, None], metric)[0])


def task_relatedness(
    X, Y, *, estimator=None, cv=5, metric="r2", similarity="correlation"
):
    """How related the tasks look, from single-task models only.

    Run this before fitting a multi-task model: it needs no multi-task
    assumption. Two views:

    - **Coefficients**: one clone of ``estimator`` per task
      (:class:`~skmtl.baselines.IndependentTasksRegressor`); the similarity
      of their ``coef_`` rows (:func:`task_similarity`). Tasks with similar
      independent solutions are candidates for sharing.
    - **Transfer**: ``transfer_matrix[s, t]`` is the score on task ``t``'s
      labelled rows of a model trained on all of task ``s``'s labelled rows.
      The diagonal ``[t, t]`` is the ``cv``-fold cross-validated score within
      task ``t`` (``KFold(shuffle=True, random_state=0)``, fewer folds if the
      task has fewer rows). A row ``s`` whose off-diagonal entries come close
      to the diagonal means task ``s``'s model already predicts the others.
      Note that a per-task offset (intercept) difference lowers ``"r2"``
      even when the slopes agree.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    Y : array-like of shape (n_samples, n_tasks)
        Targets, NaN where a task has no label.
    estimator : regressor, default=None
        Single-task regressor; ``RidgeCV()`` when None.
    cv : int, default=5
        Folds of the within-task cross-validation (the diagonal).
    metric : {"r2", "explained_variance", "neg_mse", "mse", "nmse"}, \
default="r2"
        Score of the transfer matrix (per-task metric of
        :func:`skmtl.metrics.per_task_scores`).
    similarity : {"correlation", "cosine"}, default="correlation"
        Similarity of the coefficient rows.

    Returns
    -------
    result : TaskRelatedness
        With ``coef_similarity``, ``transfer_matrix``, ``coef``,
        ``task_names``, ``metric``.

    See Also
    --------
    transfer_gain : The gain of an actual multi-task model.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.inspection import task_relatedness
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> Y = np.column_stack([X @ [1.0, 2.0, 0.0], X @ [1.1, 1.9, 0.0],
    ...                      X @ [0.0, 0.0, 3.0]])
    >>> Y[:30, 0] = np.nan
    >>> res = task_relatedness(X, Y, similarity="cosine")
    >>> np.round(res.coef_similarity, 1) + 0.0
    array([[1., 1., 0.],
           [1., 1., 0.],
           [0., 0., 1.]])
    >>> bool(res.transfer_matrix[0, 1] > 0.9), bool(res.transfer_matrix[0, 2] < 0)
    (True, True)
    """
    metric = check_scoring(metric)
    if similarity not in _METRICS:
        raise ValueError(
            f"Unknown similarity {similarity!r}; expected one of {_METRICS}."
        )
    if estimator is None:
        from sklearn.linear_model import RidgeCV

        estimator = RidgeCV()
    Y2, _, names = targets_and_names(X, Y)
    indep = IndependentTasksRegressor(estimator).fit(X, Y2)
    T = Y2.shape[1]
    coef = sim = None
    if all(hasattr(e, "coef_") for e in indep.estimators_):
        coef = np.vstack([np.ravel(e.coef_) for e in indep.estimators_])
        sim = similarity_matrix(coef, similarity)
    task_rows = [_task_rows(Y2, t) for t in range(T)]
    M = np.empty((T, T))
    for s in range(T):
        for t in range(T):
            r = task_rows[t]
            if s == t:
                M[s, t] = _within_task_cv(estimator, rows(X, r), Y2[r, t], cv, metric)
            else:
                pred = indep.estimators_[s].predict(rows(X, r))
                M[s, t] = score_tasks(Y2[r, t][:, None], pred, metric)[0]
    return TaskRelatedness(
        coef_similarity=sim,
        transfer_matrix=M,
        coef=coef,
        task_names=names,
        metric=metric,
    )
