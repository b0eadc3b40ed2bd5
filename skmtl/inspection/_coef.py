"""Coefficient matrices of fitted models and their shared support."""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = ["selected_features"]


def _is_mlp(estimator):
    """Duck-typing: a fitted shared-trunk MLP (skmtl.neural_network)."""
    return (
        hasattr(estimator, "coefs_")
        and hasattr(estimator, "n_tasks_")
        and hasattr(estimator, "task_layer_sizes")
    )


def _check_fitted(estimator):
    if isinstance(estimator, BaseEstimator):
        check_is_fitted(estimator)


def get_coef(estimator_or_coef, *, name="estimator"):
    """``(n_tasks, n_features)`` float array from a fitted estimator or array.

    A fitted estimator must expose ``coef_``; a 1-D ``coef_`` (or array) is
    one task. Raises ``TypeError`` naming the missing attribute otherwise.
    """
    obj = estimator_or_coef
    if hasattr(obj, "fit") or not _is_array_like(obj):
        _check_fitted(obj)
        if not hasattr(obj, "coef_"):
            raise TypeError(
                f"{name} must be a (n_tasks, n_features) array or a fitted "
                f"linear estimator with a `coef_` attribute; got "
                f"{type(obj).__name__}, which has no `coef_`."
            )
        obj = obj.coef_
    if sp.issparse(obj):
        obj = obj.toarray()
    try:
        coef = np.asarray(obj, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Could not read a numeric coefficient array: {exc}") from exc
    if coef.ndim == 1:
        coef = coef.reshape(1, -1)
    if coef.ndim != 2:
        raise ValueError(
            f"Coefficients must have shape (n_tasks, n_features), got {coef.shape}."
        )
    if coef.size and not np.all(np.isfinite(coef)):
        raise ValueError("Coefficients contain NaN or infinity.")
    return coef


def _is_array_like(obj):
    return (
        sp.issparse(obj)
        or isinstance(obj, np.ndarray | list | tuple)
        or hasattr(obj, "__array__")
    )


def _n_task_hidden(task_layer_sizes):
    if task_layer_sizes is None:
        return 0
    return int(np.atleast_1d(np.asarray(task_layer_sizes)).size)


def mlp_head_vectors(estimator):
    """One vector per task from the first layer of its head.

    The first head layer of a skmtl MLP maps the shared representation (the
    output of ``transform``) to the head: ``coefs_[k]`` of shape
    ``(d, n_tasks * width)`` with task ``t``'s block in columns
    ``t * width:(t + 1) * width``. Without head hidden layers this block is
    the task's linear map on the representation (``width`` = outputs). For a
    softmax head (classifier), each block is centred over the task's own
    outputs first (softmax is invariant to a shift shared by all outputs).
    """
    _check_fitted(estimator)
    architecture = getattr(estimator, "architecture", "hard")
    depth = getattr(estimator, "task_head_depth", None)
    n_hidden = len(np.atleast_1d(getattr(estimator, "hidden_layer_sizes", ())))
    if architecture != "hard" or (
        depth is not None and np.any(np.asarray(depth) != n_hidden)
    ):
        raise ValueError(
            "Task vectors are read from the heads of a hard-sharing network "
            "whose heads all read the trunk's output; this one has "
            f"architecture={architecture!r}, task_head_depth={depth!r}. Compare "
            "tasks through their predictions instead (e.g. "
            "skmtl.inspection.transfer_gain)."
        )
    coefs = estimator.coefs_
    T = int(estimator.n_tasks_)
    k = len(coefs) - 1 - _n_task_hidden(estimator.task_layer_sizes)
    W = np.asarray(coefs[k], dtype=np.float64)
    if W.ndim != 2 or W.shape[1] % T:
        raise ValueError(
            f"Unexpected MLP layout: first head layer has shape {W.shape} for "
            f"{T} tasks."
        )
    width = W.shape[1] // T
    blocks = [W[:, t * width : (t + 1) * width] for t in range(T)]
    classes = getattr(estimator, "classes_", None)
    if classes is not None and _n_task_hidden(estimator.task_layer_sizes) == 0:
        classes = [classes] if T == 1 and not isinstance(classes, list) else classes
        centred = []
        for t, B in enumerate(blocks):
            if classes[t] is None:  # a regression task of a mixed network
                centred.append(B)
                continue
            k_t = min(len(classes[t]), width)
            B = B[:, :k_t]
            centred.append(B - B.mean(axis=1, keepdims=True))
        blocks = centred
    return np.vstack([B.T.ravel() for B in blocks])


def task_vectors(estimator_or_coef):
    """Per-task parameter vectors used by :func:`task_similarity`."""
    if _is_mlp(estimator_or_coef):
        return mlp_head_vectors(estimator_or_coef)
    return get_coef(estimator_or_coef, name="estimator_or_coef")


def selected_features(estimator, tol=0.0, *, return_names=False):
    """Features kept by a model: the shared support of ``coef_``.

    Feature ``j`` is selected when its coefficient column across tasks,
    ``coef_[:, j]``, has Euclidean norm greater than ``tol``. For ``"l21"``
    models (:class:`~skmtl.MultiTaskLasso`, ``penalty="l21"``) a column is
    either all zero or not: this is the support the tasks share. For ``"l1"``
    models it is the union of the per-task supports.

    Parameters
    ----------
    estimator : fitted estimator with ``coef_``, or array-like of shape \
(n_tasks, n_features)
        The model (or its coefficients).
    tol : float, default=0.0
        Columns with norm ``<= tol`` count as zero.
    return_names : bool, default=False
        Return feature names instead of indices: ``feature_names_in_`` when
        the model was fitted on a DataFrame, else ``"x0"``, ``"x1"``, ...
        (scikit-learn's default names).

    Returns
    -------
    features : ndarray of int or of str
        Indices (or names) of the selected features, in increasing order.

    Raises
    ------
    TypeError
        If ``estimator`` has no ``coef_`` (e.g. an MLP).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.inspection import selected_features
    >>> coef = np.array([[1.0, 0.0, 2.0, 0.0],
    ...                  [0.5, 0.0, -1.0, 0.0]])
    >>> selected_features(coef)
    array([0, 2])
    >>> selected_features(coef, return_names=True)
    array(['x0', 'x2'], dtype=object)
    """
    tol = float(tol)
    if tol < 0:
        raise ValueError(f"tol must be non-negative, got {tol}.")
    coef = get_coef(estimator, name="estimator")
    idx = np.flatnonzero(np.linalg.norm(coef, axis=0) > tol)
    if not return_names:
        return idx
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        names = np.asarray([f"x{j}" for j in range(coef.shape[1])], dtype=object)
    return np.asarray(names, dtype=object)[idx]
