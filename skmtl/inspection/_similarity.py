"""Similarity of tasks from their fitted parameters."""

import numpy as np

from ._coef import task_vectors

__all__ = ["task_similarity"]

_METRICS = ("cosine", "correlation")
_ALL_METRICS = (*_METRICS, "learned")


def similarity_matrix(V, metric="cosine"):
    """``(T, T)`` cosine or correlation similarity of the rows of ``V``."""
    if metric not in _METRICS:
        raise ValueError(f"Unknown metric {metric!r}; expected one of {_METRICS}.")
    V = np.asarray(V, dtype=np.float64)
    row_scale = np.abs(V).max(axis=1) if V.shape[1] else np.zeros(V.shape[0])
    if metric == "correlation":
        V = V - V.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(V, axis=1)
    # zero rows, and rows that are constant up to rounding for "correlation"
    zero = norms <= 1e-12 * row_scale * np.sqrt(max(V.shape[1], 1))
    safe = np.where(zero, 1.0, norms)
    U = V / safe[:, None]
    S = np.clip(U @ U.T, -1.0, 1.0)
    np.fill_diagonal(S, 1.0)
    S[zero, :] = np.nan
    S[:, zero] = np.nan
    return S


def task_similarity(estimator_or_coef, metric="cosine"):
    """Similarity between tasks, from a fitted model's per-task parameters.

    Task ``t`` is represented by a vector ``v_t`` and the similarity of two
    tasks is the cosine of their vectors (``metric="cosine"``) or the Pearson
    correlation of their entries (``metric="correlation"``, the cosine after
    centring each vector on its mean).

    - Linear models (anything with ``coef_`` of shape ``(n_tasks,
      n_features)``) and arrays: ``v_t = coef_[t]``.
    - ``metric="learned"``: the structure a model learned with ``W``
      (``penalty="relationship"``, ``"clustered"``, ``"tree"``): the
      correlation matrix of ``task_covariance_`` or ``cluster_matrix_``, or
      the tree's cophenetic similarity (see
      :func:`skmtl.inspection.task_structure`).
    - skmtl MLPs (:class:`~skmtl.MultiTaskMLPRegressor`,
      :class:`~skmtl.MultiTaskMLPClassifier`): ``v_t`` is task ``t``'s first
      head layer, the weights that read the shared representation
      (``transform(X)``); with no head hidden layer (``task_layer_sizes=()``)
      this is the head's whole linear map. Classifier heads are centred over
      their outputs first, since softmax ignores a shift common to all
      outputs. Comparing heads is meaningful because they all read the same
      trunk.

    Parameters
    ----------
    estimator_or_coef : fitted estimator or array-like of shape \
(n_tasks, n_features)
        A fitted linear multi-task model, a fitted skmtl MLP, or a
        coefficient matrix (one row per task).
    metric : {"cosine", "correlation", "learned"}, default="cosine"
        Similarity measure, in ``[-1, 1]``.

    Returns
    -------
    similarity : ndarray of shape (n_tasks, n_tasks)
        Symmetric, with ones on the diagonal. A task whose vector is zero
        (for ``"correlation"``: constant) has no direction; its row and
        column, diagonal included, are NaN (undefined, rather than a
        misleading 0). Use ``np.nan_to_num`` for 0 instead.

    Raises
    ------
    TypeError
        If an estimator has neither ``coef_`` nor the MLP attributes
        (``coefs_``, ``n_tasks_``, ``task_layer_sizes``).
    ValueError
        For an unknown ``metric``.

    See Also
    --------
    task_relatedness : Relatedness estimated before any multi-task fit.
    skmtl.plotting.plot_task_similarity : Clustered heatmap of this matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.inspection import task_similarity
    >>> coef = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0], [0.0, 0.0]])
    >>> task_similarity(coef)
    array([[ 1.,  1.,  0., nan],
           [ 1.,  1.,  0., nan],
           [ 0.,  0.,  1., nan],
           [nan, nan, nan, nan]])
    """
    if metric not in _ALL_METRICS:
        raise ValueError(f"Unknown metric {metric!r}; expected one of {_ALL_METRICS}.")
    if metric == "learned":
        from ._structure import task_structure

        return task_structure(estimator_or_coef).correlation
    return similarity_matrix(task_vectors(estimator_or_coef), metric)
