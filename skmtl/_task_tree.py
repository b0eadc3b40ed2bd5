"""Task hierarchies: validation, node groups, node weights, learning a tree.

A task tree is given either as a scipy linkage matrix (``(n_tasks - 1, 4)``,
as returned by :func:`scipy.cluster.hierarchy.linkage`) or as nested lists
of task indices (``[[0, 1, 2], [[3, 4], 5]]``: every task exactly once; a
list is a node whose children are its items). Internally a tree is a list
of nodes, children before parents (leaves first, the root last), each with
its set of tasks and a height in ``[0, 1]``:

* linkage: the merge distance divided by the root's (all heights 0 when the
  root's distance is 0);
* nested lists: the number of levels below the node divided by the root's
  (leaves 0, the root 1).

Node weights follow Kim & Xing (ICML 2010): with ``s_v = h_v`` and
``g_v = 1 - h_v`` at an internal node ``v``, a leaf weighs the product of
``s_m`` over its ancestors and an internal node ``g_v`` times the product
of ``s_m`` over its strict ancestors. The weights of the nodes above each
task sum to 1 (so every task is penalised as much as in a Lasso); nodes
merged low (similar tasks) get a large group weight, and the root weighs
``1 - h_root = 0``.
"""

from numbers import Integral

import numpy as np

__all__ = [
    "check_task_tree",
    "learn_task_tree",
    "tree_linkage",
    "tree_nodes",
    "tree_weights",
]


def _nested_nodes(tree, n_tasks):
    """``(groups, heights_in_levels, parents)`` of nested lists, children
    first (leaves are nodes ``0..n_tasks-1``)."""
    groups, levels, children = [], [], []
    seen = []

    def visit(node, depth):
        """Returns (tasks, level, node id or task id as ("leaf", t))."""
        if depth > 1000:
            raise ValueError("task_tree is nested too deeply.")
        if isinstance(node, (Integral, np.integer)) and not isinstance(node, bool):
            t = int(node)
            if not 0 <= t < n_tasks:
                raise ValueError(
                    f"task_tree names task {t}, but there are {n_tasks} tasks "
                    f"(indices 0..{n_tasks - 1})."
                )
            seen.append(t)
            return [t], 0, t
        if isinstance(node, (list, tuple)):
            if len(node) == 0:
                raise ValueError("task_tree has an empty node.")
            if len(node) == 1:  # a one-child list is the same node as its child
                return visit(node[0], depth + 1)
            tasks, level, kids = [], 0, []
            for child in node:
                ct, cl, cid = visit(child, depth + 1)
                tasks.extend(ct)
                level = max(level, cl + 1)
                kids.append(cid)
            groups.append(np.array(sorted(tasks), dtype=np.int64))
            levels.append(level)
            children.append(kids)
            return tasks, level, n_tasks + len(groups) - 1
        raise TypeError(
            "task_tree must be a linkage matrix or nested lists of task indices "
            f"(ints); found an item of type {type(node).__name__}."
        )

    visit(tree, 0)
    if sorted(seen) != list(range(n_tasks)):
        missing = sorted(set(range(n_tasks)) - set(seen))
        dup = sorted({t for t in seen if seen.count(t) > 1})
        raise ValueError(
            "task_tree must contain every task index exactly once; "
            f"missing {missing[:10]}, repeated {dup[:10]}."
        )
    leaves = [np.array([t], dtype=np.int64) for t in range(n_tasks)]
    heights = np.array([0.0] * n_tasks + [float(v) for v in levels])
    parents = np.full(n_tasks + len(groups), -1, dtype=np.int64)
    for k, kids in enumerate(children):
        parents[kids] = n_tasks + k
    return leaves + groups, heights, parents


def _linkage_nodes(Z, n_tasks):
    groups = [np.array([t], dtype=np.int64) for t in range(n_tasks)]
    heights = [0.0] * n_tasks
    parents = np.full(2 * n_tasks - 1, -1, dtype=np.int64)
    for k, (a, b, dist, _) in enumerate(Z):
        groups.append(np.sort(np.concatenate([groups[int(a)], groups[int(b)]])))
        heights.append(float(dist))
        parents[[int(a), int(b)]] = n_tasks + k
    return groups, np.array(heights), parents


def _is_linkage(task_tree):
    if not isinstance(task_tree, np.ndarray):
        return False
    return task_tree.ndim == 2 and task_tree.shape[1] == 4


def check_task_tree(task_tree, n_tasks):
    """A validated copy of ``task_tree``: a float linkage matrix or nested
    lists of ints (raises ``ValueError`` / ``TypeError`` naming the problem).
    """
    from scipy.cluster.hierarchy import is_valid_linkage

    if isinstance(task_tree, np.ndarray) and task_tree.dtype != object:
        Z = np.asarray(task_tree, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != 4:
            raise ValueError(
                "task_tree as an array must be a scipy linkage matrix of shape "
                f"(n_tasks - 1, 4); got shape {Z.shape}."
            )
        if Z.shape[0] != n_tasks - 1:
            raise ValueError(
                f"task_tree is a linkage of {Z.shape[0] + 1} tasks, but there "
                f"are {n_tasks} tasks."
            )
        if not np.all(np.isfinite(Z)):
            raise ValueError("task_tree (linkage matrix) has NaN or inf.")
        if n_tasks > 1 and not is_valid_linkage(Z):
            raise ValueError(
                "task_tree is not a valid scipy linkage matrix (see "
                "scipy.cluster.hierarchy.is_valid_linkage)."
            )
        return Z.copy()
    if not isinstance(task_tree, (list, tuple)):
        raise TypeError(
            "task_tree must be None, a scipy linkage matrix or nested lists of "
            f"task indices; got {type(task_tree).__name__}."
        )
    _nested_nodes(task_tree, n_tasks)  # validates

    def copy(node):
        if isinstance(node, (list, tuple)):
            return [copy(c) for c in node]
        return int(node)

    return copy(task_tree)


def tree_nodes(task_tree, n_tasks):
    """``(groups, heights, parents)``: the task set of every node, children
    before parents (the ``n_tasks`` leaves first, the root last), its height
    normalised to ``[0, 1]`` and its parent's index (-1 for the root)."""
    tree = check_task_tree(task_tree, n_tasks)
    if _is_linkage(tree):
        groups, heights, parents = _linkage_nodes(tree, n_tasks)
    else:
        groups, heights, parents = _nested_nodes(tree, n_tasks)
    top = heights.max() if heights.size else 0.0
    heights = heights / top if top > 0 else np.zeros_like(heights)
    return groups, heights, parents


def tree_weights(heights, parents, n_tasks):
    """Kim & Xing's node weights (see the module docstring); nodes
    ``0..n_tasks-1`` are the leaves."""
    n = len(heights)
    weights = np.empty(n)
    for v in range(n):
        w = 1.0 if v < n_tasks else 1.0 - heights[v]
        u = parents[v]
        while u >= 0:
            w *= heights[u]
            u = parents[u]
        weights[v] = w
    return weights


def tree_linkage(task_tree, n_tasks):
    """A scipy linkage matrix of ``task_tree`` for drawing (nodes with more
    than two children become successive merges at the node's height)."""
    tree = check_task_tree(task_tree, n_tasks)
    if _is_linkage(tree):
        return tree
    groups, heights, _ = tree_nodes(tree, n_tasks)
    cluster_of = {t: t for t in range(n_tasks)}  # task -> current cluster id
    size = {t: 1 for t in range(n_tasks)}
    rows, next_id = [], n_tasks
    for v in range(n_tasks, len(groups)):
        ids = sorted({cluster_of[t] for t in groups[v]})
        cur = ids[0]
        for other in ids[1:]:
            s = size[cur] + size[other]
            rows.append([cur, other, heights[v], s])
            size[next_id] = s
            cur = next_id
            next_id += 1
        for t in groups[v]:
            cluster_of[t] = cur
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def learn_task_tree(W):
    """Average-linkage tree of the tasks from their coefficients ``W``.

    Distance between tasks ``s, t``: the correlation distance ``1 -
    corr(W[s], W[t])`` over features (scipy's ``"correlation"`` metric);
    a task whose coefficients are constant (or ``p < 2``) is at distance 1
    from every other task. Clustering: scipy's ``linkage(method="average")``.
    """
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import pdist

    W = np.asarray(W, dtype=np.float64)
    T = W.shape[0]
    if T < 2:
        return np.zeros((0, 4))
    with np.errstate(invalid="ignore", divide="ignore"):
        if W.shape[1] >= 2:
            d = pdist(W, "correlation")
        else:
            d = np.full(T * (T - 1) // 2, 1.0)
    d = np.where(np.isfinite(d), np.clip(d, 0.0, 2.0), 1.0)
    return linkage(d, method="average")
