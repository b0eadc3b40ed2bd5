"""The task structure a model learned: clusters, task correlation, tree."""

from dataclasses import dataclass

import numpy as np

__all__ = ["TaskStructure", "task_structure"]


def covariance_to_correlation(S):
    """``S_st / sqrt(S_ss S_tt)`` (NaN rows for a zero diagonal entry)."""
    S = np.asarray(S, dtype=np.float64)
    d = np.sqrt(np.clip(np.diag(S), 0.0, None))
    zero = d <= 1e-12 * max(d.max(initial=0.0), 1e-300)
    safe = np.where(zero, 1.0, d)
    R = np.clip(S / np.outer(safe, safe), -1.0, 1.0)
    np.fill_diagonal(R, 1.0)
    R[zero, :] = np.nan
    R[:, zero] = np.nan
    return R


def similarity_linkage(R, method="average"):
    """Linkage on the distance ``1 - R`` (NaN: the largest distance, 2)."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    T = R.shape[0]
    if T < 2:
        return np.zeros((0, 4))
    D = 1.0 - np.nan_to_num(R, nan=-1.0)
    D = np.clip((D + D.T) / 2, 0.0, 2.0)
    np.fill_diagonal(D, 0.0)
    return linkage(squareform(D, checks=False), method=method)


@dataclass
class TaskStructure:
    """What :func:`task_structure` returns.

    Attributes
    ----------
    kind : {"relationship", "clustered", "tree"}
        The model's learned structure.
    correlation : ndarray of shape (n_tasks, n_tasks)
        Task-by-task similarity in ``[-1, 1]``: the correlation matrix of
        ``task_covariance_`` ("relationship"), of ``cluster_matrix_``
        ("clustered"), or ``1 - d / d_max`` with ``d`` the cophenetic
        distance of the tree ("tree").
    linkage : ndarray of shape (n_tasks - 1, 4)
        A scipy linkage matrix for a dendrogram: the tree itself ("tree";
        nested lists are drawn with nodes of more than two children as
        successive merges at the node's height), else average linkage on
        ``1 - correlation``.
    clusters : ndarray of shape (n_tasks,) or None
        Hard task clusters: ``task_clusters_`` ("clustered"), or the
        linkage cut into ``n_clusters`` clusters (scipy's ``fcluster``,
        ``criterion="maxclust"``) when ``n_clusters`` is given; numbered
        from 0 by first appearance.
    task_names : ndarray of str

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskLinearRegression
    >>> from skmtl.inspection import task_structure
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> Y = X @ rng.normal(size=(4, 3)) + 0.1 * rng.normal(size=(60, 3))
    >>> s = task_structure(MultiTaskLinearRegression("tree", alpha=0.01).fit(X, Y))
    >>> s.kind, s.correlation.shape, s.linkage.shape
    ('tree', (3, 3), (2, 4))
    """

    kind: str
    correlation: np.ndarray
    linkage: np.ndarray
    clusters: np.ndarray | None
    task_names: np.ndarray


def _first_appearance(labels):
    order = {}
    for c in labels:
        order.setdefault(int(c), len(order))
    return np.array([order[int(c)] for c in labels], dtype=np.int64)


def task_structure(estimator, n_clusters=None):
    """Read the task structure learned by a fitted model.

    Works with models fitted with ``penalty="relationship"`` (reads
    ``task_covariance_``), ``"clustered"`` (``cluster_matrix_``,
    ``task_clusters_``) and ``"tree"`` (``task_tree_``), and with their CV
    estimators.

    Parameters
    ----------
    estimator : fitted estimator
        A :class:`skmtl.MultiTaskLinearRegression`,
        :class:`skmtl.MultiTaskLogisticRegression` or CV estimator fitted
        with one of these penalties.
    n_clusters : int, default=None
        Cut the tree (or the linkage of the correlation) into this many
        clusters for ``clusters``. Default: the model's own clusters for
        "clustered", none otherwise.

    Returns
    -------
    structure : TaskStructure

    Raises
    ------
    ValueError
        If the model learned no task structure (another penalty, or not
        fitted).

    See Also
    --------
    skmtl.plotting.plot_task_similarity : heatmap (``metric="learned"``).
    skmtl.plotting.plot_task_tree : dendrogram of ``structure.linkage``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskLinearRegression
    >>> from skmtl.inspection import task_structure
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 5))
    >>> W = rng.normal(size=(2, 5))[[0, 0, 1, 1]] + 0.05 * rng.normal(size=(4, 5))
    >>> Y = X @ W.T + 0.1 * rng.normal(size=(80, 4))
    >>> model = MultiTaskLinearRegression("relationship", alpha=0.01).fit(X, Y)
    >>> s = task_structure(model, n_clusters=2)
    >>> s.kind, s.clusters
    ('relationship', array([0, 0, 1, 1]))
    >>> bool(s.correlation[0, 1] > 0.9)
    True
    """
    from scipy.cluster.hierarchy import cophenet, fcluster
    from scipy.spatial.distance import squareform

    from .._task_tree import tree_linkage

    if hasattr(estimator, "task_covariance_"):
        kind = "relationship"
        R = covariance_to_correlation(estimator.task_covariance_)
        Z = similarity_linkage(R)
    elif hasattr(estimator, "cluster_matrix_"):
        kind = "clustered"
        R = covariance_to_correlation(estimator.cluster_matrix_)
        Z = similarity_linkage(R)
    elif hasattr(estimator, "task_tree_"):
        kind = "tree"
        T = len(estimator.coef_)
        Z = tree_linkage(estimator.task_tree_, T)
        if T > 1:
            d = squareform(cophenet(Z))
            top = d.max()
            R = 1.0 - d / top if top > 0 else np.ones((T, T))
        else:
            R = np.ones((1, 1))
    else:
        raise ValueError(
            "The model has no learned task structure: fit it with penalty="
            "'relationship', 'clustered' or 'tree' (found none of "
            "task_covariance_, cluster_matrix_, task_tree_)."
        )
    T = R.shape[0]
    clusters = None
    if n_clusters is not None:
        if not 1 <= int(n_clusters) <= T:
            raise ValueError(f"n_clusters must be in [1, {T}], got {n_clusters}.")
        if T == 1:
            clusters = np.zeros(1, dtype=np.int64)
        else:
            clusters = _first_appearance(
                fcluster(Z, int(n_clusters), criterion="maxclust")
            )
    elif kind == "clustered":
        clusters = np.asarray(estimator.task_clusters_).copy()
    names = getattr(estimator, "task_names_", None)
    if names is None:
        names = np.array([f"task{t}" for t in range(T)])
    return TaskStructure(kind, R, Z, clusters, np.asarray(names))
