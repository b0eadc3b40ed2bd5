"""Task graphs: validation, Laplacian and the "pull to the mean" graph.

A task graph is a symmetric, non-negative ``(n_tasks, n_tasks)`` adjacency
``A``. Graph-coupled models penalise

    coupling / 2 * sum_{s < t} A_st ||w_s - w_t||^2 = coupling / 2 * tr(W^T L W)

with ``L = D - A`` the graph Laplacian (``D`` the diagonal of degrees). Each
unordered pair of tasks counts once.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

__all__ = ["check_task_graph", "graph_laplacian", "mean_graph"]


def mean_graph(n_tasks):
    """Adjacency that pulls every task toward the mean of all tasks.

    ``A_st = 1 / n_tasks`` for ``s != t`` and ``A_tt = 0``. Since
    ``sum_{s < t} ||w_s - w_t||^2 = n_tasks * sum_t ||w_t - w_bar||^2``
    (``w_bar`` the mean of the ``w_t``), this graph gives exactly

        sum_{s < t} A_st ||w_s - w_t||^2 = sum_t ||w_t - w_bar||^2,

    the penalty of mean-regularized multi-task learning (Evgeniou & Pontil,
    2004). Its Laplacian is the centering matrix ``I - 11^T / n_tasks``.

    Parameters
    ----------
    n_tasks : int
        Number of tasks (at least 1).

    Returns
    -------
    A : ndarray of shape (n_tasks, n_tasks), float64
        The adjacency, zero on the diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl._graph import mean_graph, graph_laplacian
    >>> mean_graph(3) * 3
    array([[0., 1., 1.],
           [1., 0., 1.],
           [1., 1., 0.]])
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    >>> L = graph_laplacian(mean_graph(3))
    >>> bool(np.isclose(np.trace(W.T @ L @ W), ((W - W.mean(0)) ** 2).sum()))
    True
    """
    if not isinstance(n_tasks, Integral) or isinstance(n_tasks, bool) or n_tasks < 1:
        raise ValueError(f"n_tasks must be a positive integer, got {n_tasks!r}.")
    n_tasks = int(n_tasks)
    A = np.full((n_tasks, n_tasks), 1.0 / n_tasks)
    np.fill_diagonal(A, 0.0)
    return A


def graph_laplacian(A):
    """Graph Laplacian ``L = D - A`` of an adjacency matrix.

    Parameters
    ----------
    A : {array-like, sparse matrix} of shape (n_tasks, n_tasks)
        Symmetric non-negative adjacency (see :func:`check_task_graph`). The
        diagonal is ignored (a self-loop does not change ``L``).

    Returns
    -------
    L : ndarray of shape (n_tasks, n_tasks), float64
        Symmetric positive semi-definite; ``L @ ones == 0``.

    Examples
    --------
    >>> from skmtl._graph import graph_laplacian
    >>> graph_laplacian([[0, 2], [2, 0]])
    array([[ 2., -2.],
           [-2.,  2.]])
    """
    A = A.toarray() if sp.issparse(A) else np.array(A, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"The adjacency must be square, got shape {A.shape}.")
    A = A.copy()
    np.fill_diagonal(A, 0.0)
    return np.diag(A.sum(axis=1)) - A


def _edges_to_adjacency(edges, n_tasks):
    A = np.zeros((n_tasks, n_tasks))
    seen = set()
    for k, edge in enumerate(edges):
        if not isinstance(edge, (tuple, list, np.ndarray)) or len(edge) not in (2, 3):
            raise ValueError(
                "An edge list must hold (s, t) or (s, t, weight) items; item "
                f"{k} is {edge!r}. Pass an adjacency matrix as a numpy array or "
                "a scipy.sparse matrix."
            )
        s, t = edge[0], edge[1]
        for v in (s, t):
            if not isinstance(v, Integral) or isinstance(v, bool):
                raise ValueError(
                    f"Edge {k} ({edge!r}): task indices must be integers, got {v!r}."
                )
            if not 0 <= v < n_tasks:
                raise ValueError(
                    f"Edge {k} ({edge!r}): task index {int(v)} is out of range for "
                    f"{n_tasks} tasks (valid: 0 to {n_tasks - 1})."
                )
        s, t = int(s), int(t)
        weight = 1.0 if len(edge) == 2 else edge[2]
        if not isinstance(weight, Real) or isinstance(weight, bool):
            raise ValueError(
                f"Edge {k} ({edge!r}): the weight must be a real number, got "
                f"{weight!r}."
            )
        weight = float(weight)
        if not np.isfinite(weight):
            raise ValueError(f"Edge {k} ({edge!r}): the weight must be finite.")
        if weight < 0:
            raise ValueError(
                f"Edge {k} ({edge!r}): negative weight {weight}; task-graph weights "
                "must be non-negative."
            )
        key = (min(s, t), max(s, t))
        if key in seen:
            raise ValueError(
                f"Edge {key} is listed more than once (edges are undirected: "
                "(s, t) and (t, s) are the same edge). List each edge once."
            )
        seen.add(key)
        if s != t:
            A[s, t] = A[t, s] = weight
    return A


def check_task_graph(task_graph, n_tasks):
    """Validate a task graph and return its dense adjacency matrix.

    Parameters
    ----------
    task_graph : ndarray, sparse matrix, list of edges or None
        One of:

        - a symmetric, non-negative, finite ``(n_tasks, n_tasks)`` adjacency
          as a numpy array (or any object with ``__array__``, e.g. a
          DataFrame) or a scipy.sparse matrix/array. Symmetry is checked up
          to a relative ``1e-10`` and then enforced exactly;
        - a Python ``list`` or ``tuple`` of edges ``(s, t)`` (weight 1) or
          ``(s, t, weight)``, with integer task indices in
          ``[0, n_tasks)``. Edges are undirected: each pair may appear only
          once, in either order. A nested list is therefore always read as
          an edge list, never as a matrix;
        - ``None``: the mean graph, :func:`mean_graph`.

        Self-loops (diagonal entries, edges ``(t, t)``) are allowed but
        ignored: ``||w_t - w_t||^2 = 0``, so they do not change the penalty.
        They must still be finite and non-negative. Zero weights are allowed.
    n_tasks : int
        Number of tasks.

    Returns
    -------
    A : ndarray of shape (n_tasks, n_tasks), float64
        A new symmetric adjacency with a zero diagonal.

    Raises
    ------
    ValueError
        Wrong shape, NaN/inf, negative weight, asymmetric matrix, malformed,
        duplicated or out-of-range edge. The message names the problem.

    Examples
    --------
    >>> from skmtl._graph import check_task_graph
    >>> check_task_graph([(0, 1), (1, 2, 0.5)], n_tasks=3)
    array([[0. , 1. , 0. ],
           [1. , 0. , 0.5],
           [0. , 0.5, 0. ]])
    >>> import numpy as np
    >>> check_task_graph(np.array([[0, 1], [1, 0]]), n_tasks=2)
    array([[0., 1.],
           [1., 0.]])
    """
    if task_graph is None:
        return mean_graph(n_tasks)
    if isinstance(task_graph, (list, tuple)):
        return _edges_to_adjacency(task_graph, n_tasks)
    if sp.issparse(task_graph):
        A = task_graph.toarray()
    else:
        try:
            A = np.asarray(task_graph)
        except (TypeError, ValueError) as exc:  # pragma: no cover - exotic input
            raise ValueError(
                f"task_graph could not be read as a matrix: {exc}"
            ) from exc
    if A.dtype == object or not (np.issubdtype(A.dtype, np.number) or A.dtype == bool):
        raise ValueError(f"task_graph must be a numeric matrix, got dtype {A.dtype}.")
    A = np.array(A, dtype=np.float64)
    if A.shape != (n_tasks, n_tasks):
        raise ValueError(
            f"task_graph must have shape (n_tasks, n_tasks) = ({n_tasks}, "
            f"{n_tasks}) to match the {n_tasks} tasks of Y, got shape {A.shape}."
        )
    if not np.all(np.isfinite(A)):
        raise ValueError("task_graph contains NaN or infinity.")
    if np.any(A < 0):
        s, t = np.argwhere(A < 0)[0]
        raise ValueError(
            f"task_graph has a negative weight A[{s}, {t}] = {A[s, t]}; "
            "task-graph weights must be non-negative."
        )
    diff = np.abs(A - A.T)
    if np.any(diff > 1e-10 * max(np.abs(A).max(), np.finfo(float).tiny)):
        s, t = np.unravel_index(np.argmax(diff), A.shape)
        raise ValueError(
            f"task_graph must be symmetric: A[{s}, {t}] = {A[s, t]} but "
            f"A[{t}, {s}] = {A[t, s]}."
        )
    A = 0.5 * (A + A.T)
    np.fill_diagonal(A, 0.0)
    return A
